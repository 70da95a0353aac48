"""A message to a data subject, and what every notifier does with one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from gateway.subjects import SubjectKey


@dataclass(frozen=True, slots=True)
class Message:
    """One message to a data subject: a code or a notice, to the contact it is for."""

    request_id: uuid.UUID
    key: SubjectKey  # the recipient's data key: the outbox seals with it
    channel: str  # "sms" or "email", from the kind of contact
    recipient: str
    text: str
    # Why it is sent, for the log: "verification_code", "verification_notice", ...
    purpose: str = "verification_code"


class Notifier(Protocol):
    """Where messages to data subjects go (`GATEWAY_NOTIFIER`): the outbox, SMTP and an
    SMS webhook, or a plug-in `module:factory` that returns one of these."""

    async def send(self, message: Message) -> None:
        """Deliver (or queue) `message`; raise if it cannot be, so the caller can retry."""
        ...
