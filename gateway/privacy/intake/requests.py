"""Data subject requests from the public: submit, prove the contact, follow the status.

Enumeration-safe by construction: every submission creates a request and answers
202 with an id and a status token, whether or not the contact and order match.
Only a match sends a code (through the notifier, after the answer has left); a
request that matched nobody holds no contact and can never be verified, and
answers every later call exactly like one that did.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import Outcome, snapshot
from gateway.accesslog import AccessLog
from gateway.core.clock import Clock, add_months, utc_text
from gateway.core.errors import CodeLocked, CodeRejected, InvalidTransition, NotFound, RateLimited
from gateway.privacy.execution import steps as step_records
from gateway.privacy.intake.limits import PUBLIC, Limits
from gateway.privacy.intake.lookup import match_contact
from gateway.privacy.intake.subject import seal_contact
from gateway.privacy.intake.verification import Verification
from gateway.privacy.model import store
from gateway.privacy.model.secrets import RequestSecrets
from gateway.privacy.model.states import Kind, State, check_move
from gateway.privacy.notify.message import Message, Notifier
from gateway.privacy.notify.notices import code_text
from gateway.privacy.notify.voice import Voice
from gateway.subjects import SubjectKeys
from gateway.vault import VaultPlan

log = logging.getLogger("gateway.privacy")
_NO_REQUEST = "no privacy request with this id and status token"


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


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """The settings that govern asking and proving (`GATEWAY_PRIVACY_*`)."""

    submit_per_hour: int
    codes_per_contact_per_hour: int
    verify_per_hour: int
    code_minutes: int
    code_max_failures: int
    pipl_days: int
    target_hours: float
    cooling_off_hours: float
    approval: str = "none"  # which verified requests wait for a DPO: none, erasure, all


class PrivacyRequests:
    """Asking and proving: submit a request, verify it with the code, follow it."""

    def __init__(
        self,
        engine: AsyncEngine,
        subjects: SubjectKeys,
        request_secrets: RequestSecrets,
        clock: Clock,
        log: AccessLog,
        notifier: Notifier,
        rules: IntakeRules,
        voice: Voice,
        vaulted: Mapping[str, VaultPlan] | None = None,
    ) -> None:
        self._vaulted = vaulted
        self._engine = engine
        self._subjects = subjects
        self._secrets = request_secrets
        self._clock = clock
        self._log = log
        self.notifier = notifier
        self._rules = rules
        self._voice = voice
        self.limits = Limits(engine, request_secrets, clock, log)
        self._verification = Verification(
            subjects,
            request_secrets,
            rules.cooling_off_hours,
            rules.target_hours,
            voice,
            approval=rules.approval,
        )

    # --- submit -----------------------------------------------------------------

    async def submit(
        self, kind: Kind, contact_kind: str, contact: str, order_ref: str, lang: str | None
    ) -> Submitted:
        s = self._rules
        await self.limits.enforce([self.limits.client("submit", s.submit_per_hour)])
        # One keyed hash of the contact as given, kept with the request (matched or not):
        # the erasure of the contact finds its traces by it.
        contact_key = self._secrets.limit_key("contact", f"{contact_kind}|{contact}")
        now = self._clock.now()
        request_id = uuid.uuid4()
        token, token_hash = self._secrets.new_token()
        code, code_hash = self._secrets.new_code(request_id)
        # Read-only, outside the write transaction: the lookup never holds the writer lock.
        async with snapshot(self._engine) as conn:
            match = await match_contact(
                conn, self._subjects, order_ref, contact_kind, contact, self._vaulted
            )
        send = False
        async with self._engine.begin() as conn:
            if match is not None:
                # Only codes actually sent count against a contact, so requests a stranger
                # makes with someone's phone and a wrong order cost that person nothing.
                sent = ("codes_sent", contact_key, s.codes_per_contact_per_hour)
                send = not await self.limits.count(conn, [sent])
            await store.insert_request(
                conn,
                {
                    "id": request_id,
                    "kind": kind.value,
                    "state": State.RECEIVED.value,
                    "lang": lang,
                    "subject_id": None if match is None else match.key.subject_id,
                    "order_id": None if match is None else match.order_id,
                    "contact_kind": contact_kind,
                    "contact_key": contact_key,
                    "contact_sealed": None
                    if match is None
                    else seal_contact(match.key, request_id, contact),
                    "token_hash": token_hash,
                    # Too many codes for this contact: the request waits like an unmatched
                    # one, and answers alike (no code, never verifiable).
                    "code_hash": code_hash if send else None,
                    "code_expires_at": now + timedelta(minutes=s.code_minutes),
                    "code_failures": 0,
                    "verification_failures": 0,
                    "received_at": now,
                    "updated_at": now,
                    "gdpr_deadline_at": add_months(now, 1),
                    "pipl_deadline_at": now + timedelta(days=s.pipl_days),
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
                **({} if send or match is None else {"code_withheld": "codes_sent limit"}),
            },
        )
        message = None
        if match is not None and send:
            message = Message(
                request_id,
                match.key,
                "sms" if contact_kind == "phone" else "email",
                contact,
                code_text(self._voice, lang, kind, code, s.code_minutes),
            )
        return Submitted(request_id, token, message)

    async def deliver(self, message: Message) -> None:
        """Send a code or notice after the answer left, and log whether it went (never the
        contact).

        Runs after the response: a failure cannot reach the caller (who would learn
        that the contact matched), so it is logged, and the subject may ask again.
        """
        details: dict[str, Any] = {"channel": message.channel, "purpose": message.purpose}
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

    async def deliver_all(self, messages: list[Message]) -> None:
        for message in messages:
            await self.deliver(message)

    # --- verify -----------------------------------------------------------------

    async def verify(
        self, request_id: str, token: str, code: str
    ) -> tuple[dict[str, Any], list[Message]]:
        """Check the code; on success fix the request's scope and start its clocks. Returns
        the public view and the notices to send to the other contacts, after the answer."""
        key = parse_request_id(request_id)
        now = self._clock.now()
        verified = None
        async with self._engine.begin() as conn:
            row = await self._authorised(conn, key, token, lock=True)
            if row.state != State.RECEIVED.value:
                raise InvalidTransition(f"this request is {row.state}, not awaiting a code")
            refusal = await self._check_code(conn, row, code, now)
            if refusal is None:
                check_move(row.state, State.VERIFIED)
                verified = await self._verification.apply(conn, row, now)
                await store.update_request(conn, key, State.RECEIVED.value, **verified.values)
        if verified is None:
            await self._refused(key, refusal)
        assert verified is not None  # noqa: S101 - _refused raises
        await self._log.record(
            PUBLIC,
            "privacy.verify",
            resource(key),
            subjects=verified.scope.subjects,
            details={
                "kind": row.kind,
                "restricted": row.kind == Kind.ERASURE.value,
                "scope": {
                    "by_contact": len(verified.scope.by_contact),
                    "by_link": len(verified.scope.by_link),
                    "split": verified.scope.split,
                },
                "notices": len(verified.notices),
                "state": verified.values["state"],
            },
        )
        sent = [verified.confirmation] if verified.confirmation else []
        return await self.status(request_id, token), [*sent, *verified.notices]

    async def _check_code(
        self, conn: Any, row: store.RequestRow, code: str, now: datetime
    ) -> Exception | None:
        """None if `code` is right; else the refusal, with the failure counted."""
        failures = int(row.code_failures)
        limit = self._rules.code_max_failures
        if failures >= limit:
            return CodeLocked("too many wrong codes: submit a new request to receive a new code")
        if row.code_expires_at is None or now >= row.code_expires_at:
            return CodeRejected("the code has expired: submit a new request")
        stored = await store.get_blob(conn, row.id, "code_hash")
        if self._secrets.code_matches(row.id, code, stored):
            return None
        failures += 1
        await store.update_request(conn, row.id, None, code_failures=failures, updated_at=now)
        # Wrong codes from one address, over all requests: counted, never refusing a right one.
        over = await self.limits.count(
            conn, [self.limits.client("wrong_code", self._rules.verify_per_hour)]
        )
        if over:
            return RateLimited("too many wrong codes from this address", self.limits.retry_after())
        left = limit - failures
        if left:
            return CodeRejected(f"wrong code; {left} attempt(s) left")
        return CodeLocked("too many wrong codes: submit a new request")

    async def _refused(self, key: uuid.UUID, refusal: Exception | None) -> None:
        reason = {CodeLocked: "locked", RateLimited: "rate_limited"}.get(
            type(refusal), "wrong_code"
        )
        await self._log.record(
            PUBLIC, "privacy.verify", resource(key), Outcome.DENIED, details={"reason": reason}
        )
        assert refusal is not None  # noqa: S101 - called for refusals only
        raise refusal

    async def _authorised(
        self, conn: Any, request_id: uuid.UUID, token: str, *, lock: bool = False
    ) -> store.RequestRow:
        row = await store.get_request(conn, request_id, lock=lock)
        if row is None or not self._secrets.token_matches(token, row.token_hash):
            raise NotFound(_NO_REQUEST)
        return row

    # --- coming back --------------------------------------------------------------

    async def follow(self, request_id: str, return_code: str) -> str:
        """Open a request with the return code its confirmation carried: once, before
        it expires. Issues a new status token (the message never held the old one), so
        the old token stops working: the code is the customer's way back, not a copy."""
        key = parse_request_id(request_id)
        now = self._clock.now()
        async with self._engine.begin() as conn:
            row = await store.get_request(conn, key, lock=True)
            stored = None if row is None else row.return_hash
            matches = self._secrets.return_matches(key, return_code, stored)
            until = None if row is None else row.return_expires_at
            over: list[str] = []
            if not matches or until is None or now >= until:
                refused = True
                # Wrong return codes count with wrong codes (a right one always works).
                wrong = self.limits.client("wrong_code", self._rules.verify_per_hour)
                over = await self.limits.count(conn, [wrong])
            else:
                refused = False
                token, token_hash = self._secrets.new_token()
                await store.update_request(
                    conn,
                    key,
                    None,
                    token_hash=token_hash,
                    return_hash=None,
                    return_expires_at=None,
                    updated_at=now,
                )
        if over:
            await self.limits.refuse(over)
        if refused:
            await self._log.record(
                PUBLIC, "privacy.follow", resource(key), Outcome.DENIED, details={}
            )
            raise NotFound("this return code was used already, has expired, or is not ours")
        await self._log.record(PUBLIC, "privacy.follow", resource(key))
        return token

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
        "cooling_off_until": _time(row.cooling_off_until),
        "awaiting_review": row.approval_required
        and row.approved_at is None
        and row.state == State.VERIFIED.value,
        "deadline_at": utc_text(deadline),
        "gdpr_deadline_at": utc_text(row.gdpr_deadline_at),
        "pipl_deadline_at": utc_text(row.pipl_deadline_at),
        "extension_reason": row.extension_reason,
        "rejection_reason": row.reject_reason,
        "steps_done": [
            {"step": name, "finished_at": utc_text(info["finished_at"])}
            for name, info in steps.items()
        ],
        "open_orders_erased": int(steps.get("orders", {}).get("open_orders", 0)),
        "certificate_available": has_certificate,
        "export_available": has_export,
    }
