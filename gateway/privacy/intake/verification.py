"""What proving a request's code does, inside the transaction that marks it verified.

1. Fix its scope (`gateway.privacy.model.scope`): the orders carrying the verified contact and
   the records a DPO confirmed as the same person, nothing else.
2. For an erasure: restrict processing of every record in scope at once (GDPR Art. 18),
   fingerprint the verified contact so the final search can find a stray copy after the
   keys are gone, and wait `cooling_off_hours` before running.
3. Prepare a notice, with a one-time objection code, for every *other* contact on file
   for those records: whoever really owns them learns of the request and can put it on
   hold for a DPO (`gateway.privacy.intake.objections`). The notices leave after the answer.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway import orders as order_records
from gateway import subjects as subject_records
from gateway.privacy.intake.subject import open_contact, seal_contact
from gateway.privacy.model import scope as scopes
from gateway.privacy.model import store
from gateway.privacy.model.secrets import RequestSecrets
from gateway.privacy.model.states import Kind, State
from gateway.privacy.notify.message import Message
from gateway.privacy.notify.notices import confirmation_text, objection_text
from gateway.privacy.notify.voice import Voice
from gateway.subjects import SubjectKey, SubjectKeys

TOO_WIDE = (
    "the verified contact covers more than {n} records: a DPO checks the scope before it runs"
)
NOTHING = scopes.Scope((), (), 0, False)

RETURN_VALID = timedelta(days=30)  # how long the confirmation's return code works


@dataclass(frozen=True, slots=True)
class Verified:
    values: dict[str, Any]  # what to write on the request row
    scope: scopes.Scope
    notices: list[Message] = field(default_factory=list)  # to the other contacts
    confirmation: Message | None = None  # to the verified contact: how to come back


class Verification:
    def __init__(
        self,
        subjects: SubjectKeys,
        request_secrets: RequestSecrets,
        cooling_off_hours: float,
        target_hours: float,
        voice: Voice,
        *,
        approval: str = "none",
    ) -> None:
        self._subjects = subjects
        self._secrets = request_secrets
        self._cooling = timedelta(hours=cooling_off_hours)
        self._target = timedelta(hours=target_hours)
        self._voice = voice
        self._approval = approval

    async def _key(self, conn: AsyncConnection, subject_id: uuid.UUID | None) -> SubjectKey | None:
        row = None if subject_id is None else await subject_records.key_row(conn, subject_id)
        if row is None or row.wrapped_key is None:
            return None
        return self._subjects.unwrap(row)

    async def apply(self, conn: AsyncConnection, row: store.RequestRow, now: datetime) -> Verified:
        erasure = row.kind == Kind.ERASURE.value
        matched = await self._key(conn, row.subject_id)
        sealed = await store.get_blob(conn, row.id, "contact_sealed")
        contact = None
        if matched is not None and sealed is not None:
            contact = open_contact(matched, row.id, sealed)
        values: dict[str, Any] = {
            "state": State.VERIFIED.value,
            "verified_at": now,
            "target_at": now + self._target,
            "code_hash": None,
            "updated_at": now,
        }
        if self._approval == "all" or (self._approval == "erasure" and erasure):
            values["approval_required"] = True  # whatever the scope: nothing runs unapproved
        kind = row.contact_kind
        if matched is None or contact is None or kind is None:  # erased since the code went
            return Verified(values, NOTHING)
        scope = await scopes.resolve(conn, self._subjects, kind, contact, now, erasure=erasure)
        await store.set_scope(
            conn,
            row.id,
            {**dict.fromkeys(scope.by_contact, "contact"), **dict.fromkeys(scope.by_link, "link")},
        )
        primary = await self._primary(conn, row, scope)
        if primary is not None and primary.subject_id != row.subject_id:
            # The request's own secrets live under the key of the record it now names.
            values |= {
                "subject_id": primary.subject_id,
                "contact_sealed": seal_contact(primary, row.id, contact),
            }
        if erasure:
            for subject_id in scope.subjects:
                await subject_records.restrict(conn, subject_id, now)
                self._subjects.forget(subject_id)
            values["match_digests"] = json.dumps(
                [
                    [
                        kind,
                        self._subjects.index(kind, contact).hex(),
                        self._secrets.match_digest(kind, contact),
                    ]
                ]
            )
            if self._cooling:
                values["cooling_off_until"] = now + self._cooling
        if scope.truncated:
            hold = {
                "held_from": State.VERIFIED.value,
                "reason": TOO_WIDE.format(n=scopes.MAX_SCOPE_SUBJECTS),
                "by": "privacy-gateway",
            }
            await store.start_hold(conn, row.id, **hold, at=now)
            values |= {
                "state": State.ON_HOLD.value,
                "held_from": hold["held_from"],
                "hold_reason": hold["reason"],
                "hold_by": hold["by"],
                "held_at": now,
            }
        notices = await self._notices(conn, row, (kind, contact), scope, values, now)
        code, code_hash = self._secrets.new_return_code(row.id)
        values |= {"return_hash": code_hash, "return_expires_at": now + RETURN_VALID}
        text = confirmation_text(self._voice, row.lang, Kind(row.kind), str(row.id), code)
        confirmation = Message(
            row.id, primary or matched, _channel(kind), contact, text, purpose="confirmation"
        )
        return Verified(values, scope, notices, confirmation)

    async def _primary(
        self, conn: AsyncConnection, row: store.RequestRow, scope: scopes.Scope
    ) -> SubjectKey | None:
        """The record in scope that holds the order the contact was matched on."""
        now_under = (
            None if row.order_id is None else await order_records.subject_of(conn, row.order_id)
        )
        for candidate in (now_under, *scope.subjects):
            if candidate is not None and candidate in scope.subjects:
                return await self._key(conn, candidate)
        return None

    async def _notices(
        self,
        conn: AsyncConnection,
        row: store.RequestRow,
        verified: tuple[str, str],
        scope: scopes.Scope,
        values: dict[str, Any],
        now: datetime,
    ) -> list[Message]:
        """A notice with an objection code for each other contact of the records in scope."""
        told: set[tuple[str, str]] = {verified}
        messages = []
        until = values.get("cooling_off_until")
        for subject_id in scope.subjects:
            key = await self._key(conn, subject_id)
            if key is None:
                continue
            for kind, value in sorted(
                await scopes.held_identifiers(conn, self._subjects, subject_id)
            ):
                if kind not in scopes.CONTACT_KINDS or (kind, value) in told:
                    continue
                told.add((kind, value))
                code, code_hash = self._secrets.new_objection_code()
                channel = _channel(kind)
                await store.insert_objection(
                    conn,
                    {
                        "code_hash": code_hash,
                        "request_id": row.id,
                        "channel": channel,
                        "created_at": now,
                    },
                )
                text = objection_text(self._voice, Kind(row.kind), verified[0], until, code)
                messages.append(
                    Message(row.id, key, channel, value, text, purpose="verification_notice")
                )
        return messages


def _channel(contact_kind: str) -> str:
    return "sms" if contact_kind == "phone" else "email"
