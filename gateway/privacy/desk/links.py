"""Candidate links between records, for a DPO to confirm or reject.

Identity resolution never merges two records on its own (`SubjectKeys.link`,
`gateway.privacy.model.scope`): when an order's contacts point to a record founded with other
contacts, the two are kept apart and recorded as a candidate link. A DPO, who can read
the orders of both (their ids are listed) and ask the customer, decides. A confirmed
link makes a request verified through one record cover the other; a rejected one stays
rejected, so it is not asked again. Every list and decision is logged, with the reason.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import snapshot
from gateway import orders as order_records
from gateway import subjects as subject_records
from gateway.accesslog import AccessLog
from gateway.core.clock import Clock, utc_text
from gateway.core.cursors import TimeCursor
from gateway.core.errors import (
    FieldProblem,
    InvalidParameter,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from gateway.core.principal import Principal
from gateway.disclosure import PolicySet

STATES = ("candidate", "confirmed", "rejected")
ORDERS_SHOWN = 20
_NO_LINK = "no candidate link with this id"


class Links:
    """Candidate links between records: listed for a DPO, decided once, logged."""

    def __init__(
        self, engine: AsyncEngine, policy: PolicySet, audit: AccessLog, clock: Clock
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._audit = audit
        self._clock = clock

    async def _authorize(self, principal: Principal, act: str, resource: str) -> None:
        plan = self._policy.plan_for(principal.role)
        if plan is None or not plan.allows("subject_links", act):
            detail = f"role {principal.role!r} may not {act} subject links"
            await self._audit.denied(principal, f"subject_links.{act}", resource, 403, detail)
            raise PermissionDenied(detail)

    async def list(
        self,
        principal: Principal,
        state: str | None,
        limit: int,
        cursor: str | None,
        unread: tuple[FieldProblem, ...] = (),  # parameters the route could not read
    ) -> dict[str, Any]:
        await self._authorize(principal, "read", "subject_links")
        problems = list(unread)
        if state is not None and state not in STATES:
            problems.append(FieldProblem("state", "must be one of " + ", ".join(STATES)))
        if not 1 <= limit <= 100:  # noqa: PLR2004
            problems.append(FieldProblem("limit", "must be 1-100"))
        after = None
        if cursor is not None:
            try:
                after = TimeCursor.decode(cursor)
            except ValueError:
                problems.append(FieldProblem("cursor", "is not a cursor from a previous page"))
        if problems:
            raise InvalidParameter("invalid parameter(s)", problems)
        async with snapshot(self._engine) as conn:  # read only: blocks no writer
            rows = await subject_records.list_links(
                conn, state, limit + 1, None if after is None else (after.at, after.row_id)
            )
            page = rows[:limit]
            items = [await self._view(conn, row) for row in page]
        next_cursor = None
        if len(rows) > limit:
            next_cursor = TimeCursor(page[-1].created_at, page[-1].id).encode()
        await self._audit.record(
            principal.name,
            "subject_links.list",
            "subject_links",
            subjects=[s for row in page for s in (row.subject_a, row.subject_b)],
            details={"count": len(items), "state": state},
        )
        return {"items": items, "next_cursor": next_cursor}

    async def _view(self, conn: Any, row: Any) -> dict[str, Any]:
        return {
            "link_id": str(row.id),
            "state": row.state,
            "shared": row.shared.split(","),
            "records": [
                {
                    "pseudonym": self._audit.pseudonym(subject),
                    "order_ids": await order_records.order_ids_of(conn, subject, ORDERS_SHOWN),
                }
                for subject in (row.subject_a, row.subject_b)
            ],
            "created_at": utc_text(row.created_at),
            "decided_at": None if row.decided_at is None else utc_text(row.decided_at),
            "decided_by": row.decided_by,
            "reason": row.reason,
        }

    async def decide(
        self, principal: Principal, link_id: str, state: str, reason: str
    ) -> dict[str, Any]:
        """Confirm (`confirmed`) or reject (`rejected`) a candidate link, once."""
        key = _parse(link_id)
        action = "confirm" if state == "confirmed" else "reject"
        await self._authorize(principal, "manage", f"subject_links/{key}")
        now = self._clock.now()
        async with self._engine.begin() as conn:
            row = await subject_records.get_link(conn, key, lock=True)
            if row is None:
                raise NotFound(_NO_LINK)
            if not await subject_records.decide_link(conn, key, state, principal.name, reason, now):
                raise InvalidTransition(f"this link is already {row.state}")
        await self._audit.record(
            principal.name,
            f"subject_links.{action}",
            f"subject_links/{key}",
            subjects=[row.subject_a, row.subject_b],
            details={"reason": reason},
        )
        async with snapshot(self._engine) as conn:
            return await self._view(conn, await subject_records.get_link(conn, key))


def _parse(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(_NO_LINK) from None
