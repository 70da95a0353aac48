"""The DPO's view of data subject requests: list, hold, lift, reject, extend.

Role `dpo` manages (`privacy_requests, manage`); `auditor` may read the register
(`privacy_requests, read`). Every action names who took it and why, and is logged.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit import snapshot
from gateway import subjects as subject_records
from gateway.accesslog import AccessLog
from gateway.core.clock import Clock, add_months, utc_text
from gateway.core.cursors import TimeCursor
from gateway.core.errors import (
    FieldProblem,
    InvalidInput,
    InvalidParameter,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from gateway.core.principal import Principal
from gateway.disclosure import PolicySet
from gateway.privacy.desk.views import dpo_view
from gateway.privacy.execution import steps as step_records
from gateway.privacy.execution.documents import register_view
from gateway.privacy.intake.subject import open_contact
from gateway.privacy.model import chain as system_steps
from gateway.privacy.model import store
from gateway.privacy.model.states import FINAL, OPEN, Kind, Sla, State, check_move
from gateway.privacy.notify.message import Message, Notifier
from gateway.privacy.notify.notices import extension_text, rejection_text
from gateway.privacy.notify.voice import Voice
from gateway.subjects import SubjectKeys

MAX_EXTENSION_MONTHS = 2  # GDPR Art. 12(3)
# What the register lists unless asked for a state: all but requests that expired unverified.
LISTED = tuple(s.value for s in State if s is not State.EXPIRED)
log = logging.getLogger("gateway.privacy")


@dataclass(frozen=True, slots=True)
class RegisterQuery:
    """Filters and paging of the register: what the API's query and the console's
    inbox form both ask for."""

    state: str | None = None
    kind: str | None = None
    overdue: bool = False
    due_within_hours: float | None = None
    limit: int = 100
    cursor: str | None = None
    unread: tuple[FieldProblem, ...] = ()  # parameters the route could not read


MAX_PAGE = 1000
MAX_DUE_HOURS = 24 * 90


class Register:
    """The DPO's side of requests: the register and the moves a DPO makes."""

    def __init__(
        self,
        engine: AsyncEngine,
        policy: PolicySet,
        audit: AccessLog,
        clock: Clock,
        subjects: SubjectKeys,
        notifier: Notifier,
        voice: Voice,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._audit = audit
        self._clock = clock
        self._subjects = subjects
        self._notifier = notifier
        self._voice = voice

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def request_of(self, key: uuid.UUID) -> store.RequestRow:
        """A request as stored; NotFound when there is none."""
        async with snapshot(self._engine) as conn:
            row = await store.get_request(conn, key)
        if row is None:
            raise NotFound("no privacy request with this id")
        return row

    def _allow(self, principal: Principal, act: str) -> None:
        plan = self._policy.plan_for(principal.role)
        if plan is None or not plan.allows("privacy_requests", act):
            raise PermissionDenied(f"role {principal.role!r} may not {act} privacy requests")

    async def authorize(self, principal: Principal, act: str, resource: str) -> None:
        try:
            self._allow(principal, act)
        except PermissionDenied as exc:
            await self._audit.denied(principal, f"privacy.{act}", resource, 403, exc.detail)
            raise

    async def list(self, principal: Principal, q: RegisterQuery) -> dict[str, Any]:
        """A page of the register, oldest first. Requests never verified leave it once
        they expire (`state=expired` lists them): a stranger's guesses do not bury it."""
        await self.authorize(principal, "read", "privacy")
        problems = list(q.unread)
        if not 1 <= q.limit <= MAX_PAGE:
            problems.append(FieldProblem("limit", f"must be 1-{MAX_PAGE}"))
        if q.due_within_hours is not None and not 0 < q.due_within_hours <= MAX_DUE_HOURS:
            problems.append(
                FieldProblem("due_within_hours", f"must be more than 0 and at most {MAX_DUE_HOURS}")
            )
        if q.state is not None and q.state not in {s.value for s in State}:
            problems.append(
                FieldProblem("state", "must be one of " + ", ".join(s.value for s in State))
            )
        if q.kind is not None and q.kind not in {k.value for k in Kind}:
            problems.append(FieldProblem("kind", "must be erasure or access"))
        after = None
        if q.cursor is not None:
            try:
                after = TimeCursor.decode(q.cursor)
            except ValueError:
                problems.append(FieldProblem("cursor", "is not a cursor from a previous page"))
        if problems:
            raise InvalidParameter("invalid filter(s)", problems)
        due_before = None
        if q.due_within_hours is not None:
            due_before = self._clock.now() + timedelta(hours=q.due_within_hours)
        async with snapshot(self._engine) as conn:  # read only: blocks no writer
            rows = await store.list_requests(
                conn,
                states=[q.state] if q.state else (OPEN if due_before or q.overdue else LISTED),
                kind=q.kind,
                sla=[Sla.OVERDUE.value] if q.overdue else (),
                due_before=due_before,
                limit=q.limit + 1,
                after=None if after is None else (after.at, after.row_id),
            )
        page = rows[: q.limit]
        async with snapshot(self._engine) as conn:
            holds = await store.holds_of(conn, [row.id for row in page])
        await self._audit.record(
            principal.name, "privacy.list", "privacy", details={"count": len(page)}
        )
        more = len(rows) > q.limit
        return {
            "items": [dpo_view(row, holds.get(row.id, [])) for row in page],
            "next_cursor": TimeCursor(page[-1].received_at, page[-1].id).encode() if more else None,
        }

    async def get(self, principal: Principal, request_id: str) -> dict[str, Any]:
        key = _parse(request_id)
        await self.authorize(principal, "read", f"privacy/{key}")
        async with snapshot(self._engine) as conn:  # read only: blocks no writer
            row = await store.get_request(conn, key)
            steps = await step_records.done_steps(conn, key)
            holds = await store.holds_of(conn, [key])
            systems = await register_view(conn, key)
        if row is None:
            raise NotFound("no privacy request with this id")
        await self._audit.record(principal.name, "privacy.read", f"privacy/{key}")
        view = dpo_view(row, holds.get(key, []))
        view["steps_done"] = [
            {"step": n, "finished_at": utc_text(i["finished_at"])} for n, i in steps.items()
        ]
        view["systems"] = systems
        # Which systems the request waits for, so the DPO sees what holds it up.
        view["held_up_by"] = [p["system"] for p in systems if p["status"] != "done"]
        return view

    async def hold(self, principal: Principal, request_id: str, reason: str) -> dict[str, Any]:
        return await self._move(principal, request_id, "hold", State.ON_HOLD, reason)

    async def lift(self, principal: Principal, request_id: str, reason: str) -> dict[str, Any]:
        return await self._move(principal, request_id, "lift", None, reason)

    async def reject(self, principal: Principal, request_id: str, reason: str) -> dict[str, Any]:
        return await self._move(principal, request_id, "reject", State.REJECTED, reason)

    async def retry(self, principal: Principal, request_id: str, reason: str) -> dict[str, Any]:
        """Run a request blocked by repeated failed final searches again, once the DPO has
        dealt with what was found (e.g. erased the other record holding the subject's id)."""
        key = _parse(request_id)
        await self.authorize(principal, "manage", f"privacy/{key}")
        async with self._engine.begin() as conn:
            row = await store.get_request(conn, key, lock=True)
            if row is None:
                raise NotFound("no privacy request with this id")
            if row.blocked_reason is None:
                raise InvalidTransition("this request is not blocked")
            # Systems that failed are tried again at once, from a fresh count.
            await system_steps.retry_failed(conn, key, self._clock.now())
            await store.update_request(
                conn,
                key,
                None,
                blocked_reason=None,
                verification_failures=0,
                updated_at=self._clock.now(),
            )
        await self._audit.record(
            principal.name, "privacy.retry", f"privacy/{key}", details={"reason": reason}
        )
        return await self.get(principal, request_id)

    async def approve(self, principal: Principal, request_id: str, reason: str) -> dict[str, Any]:
        """GATEWAY_PRIVACY_APPROVAL: a verified request waiting for a DPO runs once
        approved; approving one that needs no approval, or twice, is refused."""
        key = _parse(request_id)
        await self.authorize(principal, "manage", f"privacy/{key}")
        now = self._clock.now()
        async with self._engine.begin() as conn:
            row = await store.get_request(conn, key, lock=True)
            if row is None:
                raise NotFound("no privacy request with this id")
            if not row.approval_required:
                raise InvalidTransition("this request does not wait for approval")
            if row.approved_at is not None:
                raise InvalidTransition("this request was approved already")
            if State(row.state) in FINAL:
                raise InvalidTransition(f"a request that is {row.state} cannot be approved")
            await store.update_request(
                conn,
                key,
                row.state,
                approved_by=principal.name,
                approved_at=now,
                approval_reason=reason,
                updated_at=now,
            )
        await self._audit.record(
            principal.name, "privacy.approve", f"privacy/{key}", details={"reason": reason}
        )
        return await self.get(principal, request_id)

    async def _move(
        self, principal: Principal, request_id: str, act: str, target: State | None, reason: str
    ) -> dict[str, Any]:
        key = _parse(request_id)
        await self.authorize(principal, "manage", f"privacy/{key}")
        now = self._clock.now()
        contact, key_row = None, None
        async with self._engine.begin() as conn:
            row = await store.get_request(conn, key, lock=True)
            if row is None:
                raise NotFound("no privacy request with this id")
            values: dict[str, Any] = {"updated_at": now}
            if target is State.REJECTED and row.subject_id is not None:
                # Read before the rejection destroys them: the subject is told why.
                contact = await store.get_blob(conn, key, "contact_sealed")
                key_row = await subject_records.key_row(conn, row.subject_id)
            if target is None:  # lift a hold: back to where it was
                if row.state != State.ON_HOLD.value or row.held_from is None:
                    raise InvalidTransition(f"a request that is {row.state} is not on hold")
                target = State(row.held_from)
                values |= {"held_from": None, "hold_reason": None, "hold_by": None, "held_at": None}
            elif target is State.ON_HOLD:
                values |= {
                    "held_from": row.state,
                    "hold_reason": reason,
                    "hold_by": principal.name,
                    "held_at": now,
                }
            else:
                values |= {
                    "reject_reason": reason,
                    "rejected_by": principal.name,
                    "contact_sealed": None,
                    "contact_key": None,
                    "code_hash": None,
                    "match_digests": None,
                    "export_sealed": None,
                }
            check_move(row.state, target, row.held_from)
            await _keep_history(conn, row, target, principal.name, reason, now)
            if target is State.REJECTED and row.kind == Kind.ERASURE.value:
                for subject_id in await store.scope_of(conn, row):
                    if not await store.open_erasures(conn, subject_id, key):
                        await subject_records.lift_restriction(conn, subject_id)
                        self._subjects.forget(subject_id)
            await store.update_request(conn, key, row.state, state=target.value, **values)
        details: dict[str, Any] = {"from": row.state, "to": target.value, "reason": reason}
        notified = None
        if target is State.REJECTED:
            # GDPR Art. 12(4), PIPL Art. 50: the reason, and where to turn if they disagree.
            text = rejection_text(self._voice, row.lang, reason)
            notified = await self._notify(row, key_row, contact, text)
            details["subject_notified"] = notified
        await self._audit.record(
            principal.name, f"privacy.{act}", f"privacy/{key}", details=details
        )
        view = await self.get(principal, request_id)
        if notified is not None:
            view["subject_notified"] = notified
        return view

    async def _notify(
        self, row: store.RequestRow, key_row: Any, sealed: bytes | None, text: str
    ) -> bool:
        """Tell the subject; a failure is the DPO's to see (`subject_notified`), not a 500."""
        if sealed is None or key_row is None or key_row.wrapped_key is None:
            return False
        subject_key = self._subjects.unwrap(key_row)
        contact = open_contact(subject_key, row.id, sealed)
        if contact is None:
            return False
        try:
            await self._notifier.send(
                Message(row.id, subject_key, _channel(row.contact_kind), contact, text)
            )
        except Exception as exc:  # any notifier's failure
            log.error("notifier failed with %s", type(exc).__name__)  # noqa: TRY400 - type only
            return False
        return True

    async def extend(
        self, principal: Principal, request_id: str, months: int, reason: str
    ) -> dict[str, Any]:
        """GDPR Art. 12(3): up to two more months, with reasons, told to the subject
        within the first month; so an extension is refused once that month is over."""
        key = _parse(request_id)
        await self.authorize(principal, "manage", f"privacy/{key}")
        if not 1 <= months <= MAX_EXTENSION_MONTHS:
            raise InvalidInput("invalid extension", [FieldProblem("months", "must be 1 or 2")])
        now = self._clock.now()
        async with self._engine.begin() as conn:
            row = await store.get_request(conn, key, lock=True)
            if row is None:
                raise NotFound("no privacy request with this id")
            if State(row.state) in FINAL:
                raise InvalidTransition(f"a request that is {row.state} cannot be extended")
            first_month_end = add_months(row.received_at, 1)
            if row.extension_reason is not None or now >= first_month_end:
                raise InvalidTransition(
                    "the deadline can be extended once, within the first month after receipt"
                )
            await store.update_request(
                conn,
                key,
                None,
                gdpr_deadline_at=add_months(row.received_at, 1 + months),
                extension_reason=reason,
                extended_by=principal.name,
                updated_at=now,
            )
            contact = await store.get_blob(conn, key, "contact_sealed")
            key_row = (
                await subject_records.key_row(conn, row.subject_id) if row.subject_id else None
            )
        text = extension_text(
            self._voice,
            row.lang,
            reason=reason,
            gdpr_before=row.gdpr_deadline_at,
            gdpr_after=add_months(row.received_at, 1 + months),
            pipl=row.pipl_deadline_at,
        )
        notified = await self._notify(row, key_row, contact, text)
        await self._audit.record(
            principal.name,
            "privacy.extend",
            f"privacy/{key}",
            details={"months": months, "reason": reason, "subject_notified": notified},
        )
        view = await self.get(principal, request_id)
        view["subject_notified"] = notified
        return view


async def _keep_history(
    conn: AsyncConnection, row: store.RequestRow, target: State, by: str, reason: str, at: datetime
) -> None:
    """A hold starts a record in the request's hold history; a lift, or a rejection of
    a held request, ends it. The request row keeps only the current hold."""
    if target is State.ON_HOLD:
        await store.start_hold(conn, row.id, held_from=row.state, by=by, reason=reason, at=at)
    elif row.state == State.ON_HOLD.value:
        ended_as = "rejected" if target is State.REJECTED else "lifted"
        await store.end_hold(conn, row.id, ended_as=ended_as, by=by, reason=reason, at=at)


def _channel(contact_kind: str | None) -> str:
    return "sms" if contact_kind == "phone" else "email"


def _parse(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("no privacy request with this id") from None
