"""How a data subject hears from the gateway: one-time codes and notices.

`Notifier` is the one interface. The default, `OutboxNotifier`, writes each
message to the `outbox` table, sealed under the subject's own data key (so an
erasure destroys it with everything else); `privacy-gateway outbox` shows it to
an operator trying the embedded default, and a relay can deliver it. Other
channels (SMTP, an SMS provider) are plug-ins: `GATEWAY_NOTIFIER=module:factory`
names a callable that takes the settings and returns a `Notifier`.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.core.clock import Clock
from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings
from gateway.crypto import decrypt_field, encrypt_field
from gateway.privacy.model import store
from gateway.privacy.notify.delivery import direct
from gateway.privacy.notify.message import Message, Notifier
from gateway.subjects import SubjectKey


def seal(key: SubjectKey, column: str, row_id: uuid.UUID, value: str) -> bytes:
    assert key.dek is not None  # noqa: S101 - messages go only to live subjects
    return encrypt_field(
        key.dek,
        value,
        table="outbox",
        column=column,
        row_id=row_id,
        dek_version=key.dek_version,
    )


def unseal(key: SubjectKey, column: str, row_id: uuid.UUID, sealed: bytes) -> str:
    assert key.dek is not None  # noqa: S101 - callers skip shredded subjects
    return decrypt_field(
        key.dek, sealed, table="outbox", column=column, row_id=row_id, dek_version=key.dek_version
    )


class OutboxNotifier:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def send(self, message: Message) -> None:
        message_id = uuid.uuid4()
        async with self._engine.begin() as conn:
            await store.insert_message(
                conn,
                {
                    "id": message_id,
                    "request_id": message.request_id,
                    "subject_id": message.key.subject_id,
                    "channel": message.channel,
                    "recipient": seal(message.key, "recipient", message_id, message.recipient),
                    "body": seal(message.key, "body", message_id, message.text),
                    "created_at": self._clock.now(),
                },
            )


def load_notifier(settings: Settings, engine: AsyncEngine, clock: Clock) -> Notifier:
    """The notifier `GATEWAY_NOTIFIER` names: `outbox` (default), `direct`, or
    `module:factory`."""
    name = settings.notifier
    if name == "outbox":
        return OutboxNotifier(engine, clock)
    if name == "direct":
        return direct(settings)
    module_name, _, attribute = name.partition(":")
    try:
        factory: Callable[[Settings], Notifier] = getattr(
            importlib.import_module(module_name), attribute
        )
    except (ImportError, AttributeError):
        raise ConfigurationError(
            f"GATEWAY_NOTIFIER: cannot load {name!r} (expected `outbox` or `module:factory`)"
        ) from None
    return factory(settings)
