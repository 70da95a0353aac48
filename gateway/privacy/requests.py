"""Data subject requests from the public: submit, prove the contact, follow the status.

Enumeration-safe by construction: every submission creates a request and answers
202 with an id and a status token, whether or not the contact and order match.
Only a match sends a code (through the notifier, after the answer has left); a
request that matched nobody holds no contact and can never be verified, and
answers every later call exactly like one that did.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from audit.entry import Outcome
from audit.store import snapshot
from gateway.auditing.context import current_request
from gateway.auditing.recorder import AccessLog
from gateway.clock import Clock, utc_text
from gateway.errors import CodeLocked, CodeRejected, InvalidTransition, NotFound, RateLimited
from gateway.privacy import steps as step_records
from gateway.privacy import store
from gateway.privacy.lookup import match_contact
from gateway.privacy.notifier import Message, Notifier
from gateway.privacy.secrets import RequestSecrets
from gateway.privacy.states import Kind, State, add_months, check_move
from gateway.privacy.subject import restrict_and_fingerprint, seal_contact
from gateway.settings import Settings
from gateway.subjects.service import SubjectKeys

log = logging.getLogger("gateway.privacy")
PUBLIC = "data-subject"  # the actor of public calls: never a person's name
_NO_REQUEST = "no privacy request with this id and status token"
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Submitted:
    request_id: uuid.UUID
    status_token: str
    # Set only when a code is to be sent: the route sends it after answering.
    message: Message | None


def resource(request_id: uuid.UUID) -> str:
    return f"privacy/{request_id}"


def parse_request_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(_NO_REQUEST) from None


class PrivacyRequests:
    def __init__(
        self,
        engine: AsyncEngine,
        subjects: SubjectKeys,
        request_secrets: RequestSecrets,
        clock: Clock,
        log: AccessLog,
        notifier: Notifier,
        settings: Settings,
    ) -> None:
        self._engine = engine
        self._subjects = subjects
        self._secrets = request_secrets
        self._clock = clock
        self._log = log
        self.notifier = notifier
        self._settings = settings

    # --- rate limits ------------------------------------------------------------

    async def _limit(self, checks: list[tuple[str, bytes, int]]) -> None:
        """Count this call against each (scope, key, limit per hour); refuse past a limit.

        Keys are keyed hashes of an address or a contact. The counts commit even when
        refused: a caller hammering gets no free tries.
        """
        now = self._clock.now()
        window = now.replace(minute=0, second=0, microsecond=0)
        over = False
        async with self._engine.begin() as conn:
            for scope, key, limit in checks:
                count = await store.hit(conn, scope, key, window)
                over = over or count > limit
        if over:
            retry = max(1, math.ceil((window + HOUR - now).total_seconds()))
            await self._log.record(
                PUBLIC, "privacy.rate_limited", "privacy", Outcome.DENIED,
                details={"scopes": [scope for scope, _, _ in checks]},
            )  # fmt: skip
            raise RateLimited("too many requests; retry later", retry)

    def _client_checks(self, scope: str, limit: int) -> list[tuple[str, bytes, int]]:
        client = current_request().client
        key = self._secrets.limit_key("client", client or "unknown")
        return [(scope, key, limit)]

    # --- submit -----------------------------------------------------------------

    async def submit(
        self, kind: Kind, contact_kind: str, contact: str, order_ref: str
    ) -> Submitted:
        s = self._settings
        # One keyed hash of the contact as given, kept with the request (matched or
        # not): it limits submissions and verifications per contact alike.
        contact_key = self._secrets.limit_key("contact", f"{contact_kind}|{contact}")
        await self._limit(
            [
                *self._client_checks("submit", s.privacy_submit_per_hour),
                ("contact", contact_key, s.privacy_submit_per_contact_per_hour),
            ]
        )
        now = self._clock.now()
        request_id = uuid.uuid4()
        token, token_hash = self._secrets.new_token()
        code, code_hash = self._secrets.new_code(request_id)
        async with self._engine.begin() as conn:
            match = await match_contact(conn, self._subjects, order_ref, contact_kind, contact)
            await store.insert_request(
                conn,
                {
                    "id": request_id,
                    "kind": kind.value,
                    "state": State.RECEIVED.value,
                    "subject_id": None if match is None else match.key.subject_id,
                    "contact_kind": contact_kind,
                    "contact_key": contact_key,
                    "contact_sealed": None
                    if match is None
                    else seal_contact(match.key, request_id, contact),
                    "token_hash": token_hash,
                    "code_hash": None if match is None else code_hash,
                    "code_expires_at": now + timedelta(minutes=s.privacy_code_minutes),
                    "code_failures": 0,
                    "verification_failures": 0,
                    "received_at": now,
                    "updated_at": now,
                    "gdpr_deadline_at": add_months(now, 1),
                    "pipl_deadline_at": now + timedelta(days=s.privacy_pipl_days),
                    "sla": "",
                },
            )
        await self._log.record(
            PUBLIC,
            "privacy.submit",
            resource(request_id),
            subjects=[] if match is None else [match.key.subject_id],
            details={
                "kind": kind.value,
                "contact_kind": contact_kind,
                "matched": match is not None,
            },
        )
        message = None
        if match is not None:
            message = Message(
                request_id,
                match.key,
                "sms" if contact_kind == "phone" else "email",
                contact,
                _code_text(kind, code, s.privacy_code_minutes),
            )
        return Submitted(request_id, token, message)

    async def deliver(self, message: Message) -> None:
        """Send a code after the answer left, and log whether it went (never the contact).

        Runs after the response: a failure cannot reach the caller (who would learn
        that the contact matched), so it is logged, and the subject may ask again.
        """
        details: dict[str, Any] = {"channel": message.channel, "purpose": "verification_code"}
        outcome = Outcome.ALLOWED
        try:
            await self.notifier.send(message)
        except Exception as exc:  # any plug-in's failure
            log.error("notifier failed with %s", type(exc).__name__)  # noqa: TRY400 - type only
            details["error"] = type(exc).__name__
            outcome = Outcome.ERROR
        await self._log.record(
            PUBLIC,
            "privacy.notify",
            resource(message.request_id),
            outcome,
            subjects=[message.key.subject_id],
            details=details,
        )

    # --- verify -----------------------------------------------------------------

    async def verify(self, request_id: str, token: str, code: str) -> dict[str, Any]:
        s = self._settings
        await self._limit(self._client_checks("verify", s.privacy_verify_per_hour))
        key = parse_request_id(request_id)
        async with snapshot(self._engine) as conn:
            given = await self._authorised(conn, key, token)
        if given.contact_key is not None:
            await self._limit(
                [("verify", given.contact_key, s.privacy_verify_per_contact_per_hour)]
            )
        now = self._clock.now()
        async with self._engine.begin() as conn:
            row = await self._authorised(conn, key, token, lock=True)
            if row.state != State.RECEIVED.value:
                raise InvalidTransition(f"this request is {row.state}, not awaiting a code")
            failures = int(row.code_failures)
            if failures >= self._settings.privacy_code_max_failures:
                refusal: Exception = CodeLocked(
                    "too many wrong codes: submit a new request to receive a new code"
                )
            elif now >= row.code_expires_at:
                refusal = CodeRejected("the code has expired: submit a new request")
            elif not self._secrets.code_matches(key, code, await store.get_blob(
                conn, key, "code_hash"
            )):  # fmt: skip
                failures += 1
                await store.update_request(conn, key, None, code_failures=failures, updated_at=now)
                left = self._settings.privacy_code_max_failures - failures
                refusal = (
                    CodeRejected(f"wrong code; {left} attempt(s) left")
                    if left
                    else CodeLocked("too many wrong codes: submit a new request")
                )
            else:
                await self._mark_verified(conn, row, now)
                refusal = None  # type: ignore[assignment]
        if refusal is not None:
            await self._log.record(
                PUBLIC,
                "privacy.verify",
                resource(key),
                Outcome.DENIED,
                details={"reason": "locked" if isinstance(refusal, CodeLocked) else "wrong_code"},
            )
            raise refusal
        await self._log.record(
            PUBLIC,
            "privacy.verify",
            resource(key),
            subjects=[row.subject_id],
            details={"kind": row.kind, "restricted": row.kind == Kind.ERASURE.value},
        )
        return await self.status(request_id, token)

    async def _mark_verified(self, conn: Any, row: store.RequestRow, now: datetime) -> None:
        check_move(row.state, State.VERIFIED)
        digests = None
        if row.kind == Kind.ERASURE.value:
            # Restriction (GDPR Art. 18) from this moment: no role sees their fields.
            digests = await restrict_and_fingerprint(
                conn, self._subjects, self._secrets, row.subject_id, now
            )
        await store.update_request(
            conn,
            row.id,
            State.RECEIVED.value,
            state=State.VERIFIED.value,
            verified_at=now,
            target_at=now + timedelta(hours=self._settings.privacy_target_hours),
            code_hash=None,
            match_digests=digests,
            updated_at=now,
        )

    async def _authorised(
        self, conn: Any, request_id: uuid.UUID, token: str, *, lock: bool = False
    ) -> store.RequestRow:
        row = await store.get_request(conn, request_id, lock=lock)
        if row is None or not self._secrets.token_matches(token, row.token_hash):
            raise NotFound(_NO_REQUEST)
        return row

    # --- status -----------------------------------------------------------------

    async def status(self, request_id: str, token: str) -> dict[str, Any]:
        key = parse_request_id(request_id)
        async with snapshot(self._engine) as conn:  # read only: blocks no writer
            row = await self._authorised(conn, key, token)
            steps = await step_records.done_steps(conn, key)
            has_certificate = await store.get_blob(conn, key, "certificate") is not None
            has_export = await store.get_blob(conn, key, "export_sealed") is not None
        return public_view(row, steps, has_certificate, has_export)

    async def authorise(self, request_id: str, token: str) -> uuid.UUID:
        key = parse_request_id(request_id)
        async with snapshot(self._engine) as conn:  # read only: blocks no writer
            await self._authorised(conn, key, token)
        return key


def _code_text(kind: Kind, code: str, minutes: int) -> str:
    what_zh, what_en = (
        ("删除您的个人信息", "erase your personal data")
        if kind is Kind.ERASURE
        else ("获取您的个人信息副本", "send you a copy of your personal data")
    )
    return (
        f"您的验证码：{code}（{minutes}分钟内有效），用于确认请求：{what_zh}。"
        "请勿将验证码告诉任何人；如非本人操作，请忽略本消息。\n"
        f"Your code: {code} (valid {minutes} minutes), to confirm the request to {what_en}. "
        "Never share this code; if you did not ask, ignore this message."
    )


def _time(value: datetime | None) -> str | None:
    return None if value is None else utc_text(value)


def public_view(
    row: store.RequestRow,
    steps: dict[str, dict[str, Any]],
    has_certificate: bool,
    has_export: bool,
) -> dict[str, Any]:
    """What the subject may see: no hold reason or holder, no internal names."""
    deadline = min(row.gdpr_deadline_at, row.pipl_deadline_at)
    return {
        "request_id": str(row.id),
        "kind": row.kind,
        "state": row.state,
        "received_at": utc_text(row.received_at),
        "verified_at": _time(row.verified_at),
        "started_at": _time(row.started_at),
        "completed_at": _time(row.completed_at),
        "target_at": _time(row.target_at),
        "deadline_at": utc_text(deadline),
        "rejection_reason": row.reject_reason,
        "steps_done": [
            {"step": name, "finished_at": utc_text(info["finished_at"])}
            for name, info in steps.items()
        ],
        "certificate_available": has_certificate,
        "export_available": has_export,
    }
