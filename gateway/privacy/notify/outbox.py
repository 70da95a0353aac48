"""Reading the default notifier's outbox back, for an operator relaying messages by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import snapshot
from gateway import subjects as subject_records
from gateway.core.clock import utc_text
from gateway.crypto import DecryptionFailed
from gateway.privacy.model import store
from gateway.privacy.notify.notifier import unseal
from gateway.subjects import SubjectKeys


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """One message as its recipient would get it; it holds their contact and any code."""

    created_at: datetime
    request_id: str | None
    channel: str
    to: str
    text: str

    def as_json(self) -> dict[str, str | None]:
        """The message as `privacy-gateway outbox --json` prints it."""
        return {
            "created_at": utc_text(self.created_at),
            "request_id": self.request_id,
            "channel": self.channel,
            "to": self.to,
            "text": self.text,
        }


async def read_outbox(
    engine: AsyncEngine, subjects: SubjectKeys, limit: int
) -> list[QueuedMessage]:
    """The newest `limit` messages that can still be read: an erased subject's are not."""
    shown = []
    async with snapshot(engine) as conn:  # read-only: no write lock on SQLite
        for row in await store.messages(conn, limit):
            key_row = await subject_records.key_row(conn, row.subject_id)
            if key_row is None or key_row.wrapped_key is None:
                continue  # erased: unreadable by design
            key = subjects.unwrap(key_row)
            try:
                recipient = unseal(key, "recipient", row.id, row.recipient)
                body = unseal(key, "body", row.id, row.body)
            except DecryptionFailed:
                continue
            request_id = None if row.request_id is None else str(row.request_id)
            shown.append(QueuedMessage(row.created_at, request_id, row.channel, recipient, body))
    return shown
