"""Reading the log: search, verify, export (roles with `audit, read`: dpo, auditor).

Reading the log is itself logged, like any other access.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

import audit
from audit import Outcome, Report, export_lines, format_time
from gateway.accesslog import AccessLog
from gateway.core.clock import time_problem
from gateway.core.cursors import SeqCursor
from gateway.core.errors import FieldProblem, InvalidParameter, PermissionDenied
from gateway.core.principal import Principal
from gateway.disclosure import PolicySet

_PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")
_NAME = re.compile(r"^[A-Za-z0-9._: -]{1,128}$")  # `person:<hex>`, `app:<issuer>:<client>` too


@dataclass(frozen=True, slots=True)
class EventQuery:
    """A search of the log: the API's query parameters and the console's form alike."""

    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    order_id: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None
    cursor: str | None = None
    unread: tuple[FieldProblem, ...] = ()  # parameters the route could not read


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _text(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


class LogSearch:
    """Searching, exporting and verifying the log, for the roles the policy lets read it."""

    def __init__(
        self,
        engine: AsyncEngine,
        policy: PolicySet,
        log: AccessLog,
        *,
        default_page_size: int,
        max_page_size: int,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._log = log
        self._default_limit = default_page_size
        self._max_limit = max_page_size

    def _authorize(self, principal: Principal) -> None:
        plan = self._policy.plan_for(principal.role)
        if plan is None or not plan.allows("audit", "read"):
            raise PermissionDenied(f"role {principal.role!r} may not read the audit log")

    async def _denied_or(self, principal: Principal, action: str) -> None:
        try:
            self._authorize(principal)
        except PermissionDenied as exc:
            await self._log.denied(principal, action, "audit", 403, exc.detail)
            raise

    async def events(self, principal: Principal, q: EventQuery) -> EventPage:
        await self._denied_or(principal, "audit.search")
        filters, limit, before = self._check(q)
        async with audit.snapshot(self._engine) as conn:
            entries = await audit.query(conn, filters, limit + 1, before)
        more = len(entries) > limit
        entries = entries[:limit]
        await self._log.record(
            principal.name, "audit.search", "audit", details={"count": len(entries)}
        )
        return EventPage(
            items=[{**e.document(), "hash": e.hash} for e in entries],
            next_cursor=SeqCursor(entries[-1].seq).encode() if more else None,
        )

    def _check(self, q: EventQuery) -> tuple[audit.EventFilter, int, int | None]:
        problems = list(q.unread)
        limit = self._default_limit if q.limit is None else q.limit
        if not 1 <= limit <= self._max_limit:
            problems.append(FieldProblem("limit", f"must be between 1 and {self._max_limit}"))
        if q.outcome is not None and q.outcome not in {o.value for o in Outcome}:
            problems.append(FieldProblem("outcome", "must be allowed, denied or error"))
        for name, value in (("actor", q.actor), ("action", q.action)):
            if value is not None and not _NAME.fullmatch(value):  # `$` admits a final newline
                problems.append(FieldProblem(name, "must be a principal or action name"))
        order = None
        if q.order_id is not None:
            try:
                order = str(uuid.UUID(q.order_id))
            except ValueError:
                problems.append(FieldProblem("order_id", "must be an order id (a UUID)"))
        if q.subject is not None and not _PSEUDONYM.fullmatch(q.subject):
            problems.append(FieldProblem("subject", "must be a subject pseudonym (32 hex)"))
        for name, when in (("since", q.since), ("until", q.until)):
            problem = None if when is None else time_problem(when)
            if problem is not None:
                problems.append(FieldProblem(name, problem))
        before = None
        if q.cursor is not None:
            try:
                before = SeqCursor.decode(q.cursor).seq
            except ValueError:
                problems.append(FieldProblem("cursor", "is not a cursor from a previous page"))
        if problems:
            raise InvalidParameter("invalid audit search parameters", problems)
        filters = audit.EventFilter(
            actor=q.actor,
            action=q.action,
            outcome=q.outcome,
            order=order,
            subject=q.subject,
            since=None if q.since is None else format_time(q.since),
            until=None if q.until is None else format_time(q.until),
        )
        return filters, limit, before

    async def verify(self, principal: Principal) -> Report:
        await self._denied_or(principal, "audit.verify")
        report = await self._log.log.verify()
        await self._log.record(
            principal.name,
            "audit.verify",
            "audit",
            details={"ok": report.ok, "entries_checked": report.entries_checked},
        )
        return report

    async def export(
        self,
        principal: Principal,
        since: datetime | None,
        until: datetime | None,
        unread: tuple[FieldProblem, ...] = (),
    ) -> AsyncIterator[bytes]:
        """JSON Lines of the entries in the time range (a contiguous run of sequence
        numbers, so the slice verifies on its own) and their checkpoints."""
        await self._denied_or(principal, "audit.export")
        self._check(EventQuery(since=since, until=until, unread=unread))
        _, lines = await open_export(self._engine, self._log, principal.name, since, until)
        return lines


async def open_export(
    engine: AsyncEngine,
    log: AccessLog,
    actor: str,
    since: datetime | None,
    until: datetime | None,
) -> tuple[int, AsyncGenerator[bytes, None]]:
    """Log the export, then its lines: the entries in the time range (a contiguous run
    of sequence numbers, so the slice verifies on its own), up to the export's own
    entry when the range is open-ended. Returns how many entries it holds."""
    async with audit.snapshot(engine) as conn:
        bounds = await audit.seq_bounds(conn, _text(since), _text(until))
    first, last = bounds or (1, 0)
    logged = await log.record(
        actor, "audit.export", "audit", details={"since": _text(since), "until": _text(until)}
    )
    if until is None:
        first, last = (first if bounds else logged.seq), logged.seq
    lines = export_lines(engine, first, last, seal=log.log.seal, keys=log.log.public_keys)
    return max(0, last - first + 1), lines
