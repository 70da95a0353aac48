"""Periodic housekeeping of privacy requests, run beside the workflow.

- Requests never verified in time become `expired` (and drop their sealed contact).
- The SLA sweep flags open requests `due_soon` within the lead time of their
  earliest deadline and `overdue` past it; every change of flag is logged once.
- Retained order records whose retention has ended are deleted, without anyone
  asking again; so are access exports past their download window and old
  rate-limit counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit import Outcome, snapshot
from gateway.accesslog import AccessLog
from gateway.core import ratelimits
from gateway.core.clock import Clock, utc_text
from gateway.orders import order_items, orders
from gateway.privacy.model import store
from gateway.privacy.model.states import OPEN, Deadlines, Sla, State, check_move

SWEEPER = "privacy-sweeper"
_RETENTION_BATCH = 500


@dataclass
class SweepReport:
    expired: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    retained_erased: int = 0
    exports_deleted: int = 0


class Sweeper:
    """The clocks of requests: SLA flags, expiry of unverified ones, retention, exports."""

    def __init__(
        self,
        engine: AsyncEngine,
        audit: AccessLog,
        clock: Clock,
        *,
        verify_hours: int,
        lead_hours: float,
    ) -> None:
        self._engine = engine
        self._audit = audit
        self._clock = clock
        self._verify_window = timedelta(hours=verify_hours)
        self._lead = timedelta(hours=lead_hours)

    async def sweep(self) -> SweepReport:
        report = SweepReport()
        await self._expire_and_flag(report)
        await self._retention(report)
        await self._exports(report)
        async with self._engine.begin() as conn:
            await ratelimits.forget_hits(conn, self._clock.now() - timedelta(hours=2))
        return report

    async def _expire_and_flag(self, report: SweepReport) -> None:
        """One short transaction per request: a worker holding one row never waits on
        (or deadlocks with) a sweep of all of them."""
        now = self._clock.now()
        async with snapshot(self._engine) as conn:
            rows = await store.open_requests(conn, OPEN)
        for row in rows:
            async with self._engine.begin() as conn:
                event = await self._sweep_one(conn, row, now, report)
            if event is not None:
                action, details = event
                await self._audit.record(
                    SWEEPER, action, f"privacy/{row.id}", Outcome.ALLOWED, details=details
                )

    async def _sweep_one(
        self, conn: AsyncConnection, row: store.RequestRow, now: datetime, report: SweepReport
    ) -> tuple[str, dict[str, str]] | None:
        if row.state == State.RECEIVED.value and now >= row.received_at + self._verify_window:
            check_move(row.state, State.EXPIRED)
            if not await store.update_request(
                conn,
                row.id,
                State.RECEIVED.value,
                state=State.EXPIRED.value,
                contact_sealed=None,
                contact_key=None,
                code_hash=None,
                sla="",
                updated_at=now,
            ):
                return None  # verified meanwhile
            report.expired += 1
            return "privacy.expire", {}
        deadlines = Deadlines(row.target_at, row.gdpr_deadline_at, row.pipl_deadline_at)
        flag = deadlines.sla(now, self._lead)
        if flag.value == row.sla or not await store.set_sla(conn, row.id, row.sla, flag.value):
            return None
        if flag is Sla.ON_TRACK:
            return None
        report.flagged[flag.value] = report.flagged.get(flag.value, 0) + 1
        return f"privacy.sla.{flag.value}", {
            "due_at": utc_text(deadlines.earliest()),
            "state": row.state,
        }

    async def _retention(self, report: SweepReport) -> None:
        now = self._clock.now()
        while True:
            async with self._engine.begin() as conn:
                due = [
                    (row.id, row.retention_rule)
                    for row in await conn.execute(
                        select(orders.c.id, orders.c.retention_rule)
                        .where(orders.c.retained_until <= now)
                        .limit(_RETENTION_BATCH)
                    )
                ]
                ids = [order_id for order_id, _ in due]
                if ids:
                    await conn.execute(delete(order_items).where(order_items.c.order_id.in_(ids)))
                    await conn.execute(delete(orders).where(orders.c.id.in_(ids)))
            if not due:
                return
            report.retained_erased += len(due)
            await self._audit.record(
                SWEEPER,
                "privacy.retention_end",
                "orders",
                orders=[str(i) for i in ids],
                details={"rules": sorted({rule for _, rule in due}), "count": len(due)},
            )

    async def _exports(self, report: SweepReport) -> None:
        now = self._clock.now()
        requests = store.privacy_requests
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(requests)
                .where(requests.c.export_expires_at <= now, requests.c.export_sealed.is_not(None))
                .values(export_sealed=None, updated_at=now)
                .returning(requests.c.id)
            )
            gone = [row.id for row in result]
        report.exports_deleted = len(gone)
        for request_id in gone:
            await self._audit.record(SWEEPER, "privacy.export_deleted", f"privacy/{request_id}")
