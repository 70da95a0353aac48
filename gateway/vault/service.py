"""The vault (mode 2 of fronting an existing store): its personal columns moved into
the gateway's encrypted records, tokens left in their place.

`Vault` runs the walks (backfill, follow, restore) between the gateway's database and
the store's, opens tokens for the read path, and finds what a privacy request needs
(`gateway.vault.requests`). Every walk is logged with its counts (never a value).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from gateway.accesslog import OPERATOR, AccessLog
from gateway.core.clock import Clock
from gateway.core.errors import ConfigurationError, InvalidTransition, Unavailable
from gateway.subjects import SubjectKeys
from gateway.systems import Connections, ConnectorFailed, async_url
from gateway.vault import store
from gateway.vault.existing import ExistingTable, unfit_columns
from gateway.vault.plan import VaultPlan
from gateway.vault.reads import VaultReads
from gateway.vault.sealing import Sealer, text_of
from gateway.vault.store import Walk
from gateway.vault.tokens import is_token
from gateway.vault.walks import Progress, Step, Tally, Walker


@dataclass(frozen=True, slots=True)
class Summary:
    """What a walk did, for the operator and the log (counts only)."""

    system: str
    purpose: str
    rows_seen: int
    cells: int  # sealed (backfill, follow) or put back (restore)
    rows_changed: int  # rows tokenised or restored
    left_clear: int  # rows the store kept changing meanwhile (follow picks them up)
    refused: int  # restore: cells of erased subjects, left as tokens
    clear_remaining: int  # rows still holding a clear personal value when it ended
    lag_seconds: float | None = None  # follow: the oldest clear row's age at the start

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Vault:
    """One gateway's vault over the systems its map lets it take over."""

    def __init__(
        self,
        engine: AsyncEngine,
        plans: Mapping[str, VaultPlan],
        connections: Connections,
        subjects: SubjectKeys,
        clock: Clock,
        log: AccessLog,
    ) -> None:
        self._engine = engine
        self.plans = dict(plans)
        self._connections = connections
        self._subjects = subjects
        self._clock = clock
        self._log = log

    def plan(self, system: str) -> VaultPlan:
        found = self.plans.get(system)
        if found is None:
            known = ", ".join(sorted(self.plans)) or "none"
            raise ConfigurationError(
                f"vault: {system!r} is no system with an [orders] mapping (systems: {known})"
            )
        return found

    def sealer(self, system: str) -> Sealer:
        return Sealer(system, self._subjects)

    def reads(self, system: str) -> VaultReads:
        """The read path's view of the system's vault (tokens opened, searches)."""
        return VaultReads(self._engine, self.plan(system), self.sealer(system))

    @asynccontextmanager
    async def existing(self, system: str) -> AsyncIterator[AsyncEngine]:
        """The store's engine, with the account that may write (`<key>.url`)."""
        try:
            url = async_url(self._connections.url(system))
            engine = create_async_engine(url, poolclass=NullPool)
        except ConnectorFailed as exc:
            raise Unavailable(f"the order store {system!r}: {exc.reason}") from None
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise ConfigurationError(
                f"the connection URL of {system!r} is not usable ({type(exc).__name__})"
            ) from None
        try:
            yield engine
        finally:
            await engine.dispose()

    async def check(self, system: str) -> list[str]:
        """Columns that cannot hold a token, named before anything is written."""
        plan = self.plan(system)
        async with self.existing(system) as engine:
            try:
                async with engine.connect() as conn:
                    return await conn.run_sync(unfit_columns, plan)
            except (SQLAlchemyError, OSError) as exc:
                raise Unavailable(
                    f"the order store {system!r} cannot be reached ({type(exc).__name__})"
                ) from None

    async def _refuse_unfit(self, system: str) -> None:
        problems = await self.check(system)
        if problems:
            raise InvalidTransition(
                "the vault cannot take these columns, so nothing was written: "
                + "; ".join(problems)
            )

    # --- walks ----------------------------------------------------------------------

    async def backfill(
        self, system: str, *, batch: int | None = None, progress: Progress | None = None
    ) -> Summary:
        """Move every table's personal cells into the vault, resuming where a crash left
        it; a finished backfill run again walks the tables again from the start."""
        plan = self.plan(system)
        await self._refuse_unfit(system)
        tally = Tally()
        async with self.existing(system) as existing:
            walker = Walker(self._engine, existing, self.sealer(system), self._clock)
            for t in plan.tables:
                et = ExistingTable(plan, t)
                state = await walker.position(t.name, "backfill")
                if state is None or state.finished_at is not None:
                    state = Walk(None, None, 0, 0, self._clock.now(), None)
                state = await walker.walk(
                    et, "backfill", state, batch or plan.batch, tally, progress
                )
                await walker.save(t.name, "backfill", replace(state, finished_at=self._clock.now()))
            remaining = await self._clear_remaining(plan, existing)
        summary = Summary(
            system,
            "backfill",
            tally.rows_seen,
            tally.cells_sealed,
            tally.rows_tokenised,
            tally.changed_meanwhile,
            0,
            remaining,
        )
        await self._log.record(
            OPERATOR, "vault.backfill", f"system:{system}", details=summary.as_json()
        )
        return summary

    async def follow_once(self, system: str, *, progress: Progress | None = None) -> Summary:
        """One pass of the follower: rows beyond the newest key seen, up to the newest
        key at the table's start (a pass ends however fast the store writes), and rows
        changed since the watermark where the map names one."""
        plan = self.plan(system)
        tally = Tally()
        async with self.existing(system) as existing:
            walker = Walker(self._engine, existing, self.sealer(system), self._clock)
            lag = await self._lag(plan, existing)
            for t in plan.tables:
                et = ExistingTable(plan, t)
                state = await walker.position(t.name, "follow")
                if state is None:
                    done = await walker.position(t.name, "backfill")
                    start = None if done is None or done.finished_at is None else done.last_key
                    state = Walk(start, None, 0, 0, self._clock.now(), None)
                async with existing.connect() as conn:
                    newest = await et.newest_key(conn)
                if newest is not None:  # rows written after this go to the next pass
                    state = await walker.walk(
                        et, "follow", state, plan.batch, tally, progress, upto=newest
                    )
                await walker.save(t.name, "follow", state)
                mark = await walker.changed(et, plan.batch, tally, progress)
                if mark is not None:
                    await walker.save_mark(t.name, mark)
            remaining = await self._clear_remaining(plan, existing)
        summary = Summary(
            system,
            "follow",
            tally.rows_seen,
            tally.cells_sealed,
            tally.rows_tokenised,
            tally.changed_meanwhile,
            0,
            remaining,
            lag,
        )
        if tally.cells_sealed:
            await self._log.record(
                OPERATOR, "vault.follow", f"system:{system}", details=summary.as_json()
            )
        return summary

    async def _clear_remaining(self, plan: VaultPlan, existing: AsyncEngine) -> int:
        async with existing.connect() as conn:
            return sum([await ExistingTable(plan, t).count_clear(conn) for t in plan.tables])

    async def _lag(self, plan: VaultPlan, existing: AsyncEngine) -> float | None:
        """How long the oldest row still holding a clear value has waited (by the
        orders' created time, or a table's watermark), in seconds; None if none waits."""
        oldest: datetime | None = None
        async with existing.connect() as conn:
            for t in plan.tables:
                found = await ExistingTable(plan, t).oldest_clear(conn)
                if found is not None and (oldest is None or found < oldest):
                    oldest = found
        if oldest is None:
            return None
        zone = plan.source.time_zone
        from zoneinfo import ZoneInfo

        at = oldest.replace(tzinfo=ZoneInfo(zone)) if oldest.tzinfo is None else oldest
        return max(0.0, (self._clock.now() - at.astimezone(UTC)).total_seconds())

    async def restore(self, system: str, *, progress: Progress | None = None) -> Summary:
        """Put every token's value back in its cell (for leaving the gateway). A cell of
        an erased subject keeps its token: its value is gone, and must stay gone."""
        plan = self.plan(system)
        sealer = self.sealer(system)
        restored = rows_done = refused = seen = 0
        async with self.existing(system) as existing:
            for t in plan.tables:
                et = ExistingTable(plan, t)
                last: int | None = None
                while True:
                    async with existing.connect() as conn:
                        rows = await et.after(conn, last, plan.batch)
                    if not rows:
                        break
                    last = int(rows[-1][t.key])
                    seen += len(rows)
                    carried = {r[c.column] for r in rows for c in t.cells if is_token(r[c.column])}
                    put_back: list[str] = []
                    async with self._engine.connect() as conn:
                        records = {r.token: r for r in await store.by_tokens(conn, system, carried)}
                    async with existing.begin() as conn:
                        for row in rows:
                            back: dict[str, str] = {}
                            was: dict[str, Any] = {}
                            for cell in t.cells:
                                record = records.get(row[cell.column])
                                if (
                                    record is None
                                    or (record.dataset, record.column)
                                    != (
                                        cell.dataset,
                                        cell.column,
                                    )
                                    or record.row_key not in {None, str(row[t.key])}
                                ):
                                    continue
                                value = sealer.open(record)
                                if value is None:
                                    refused += 1
                                    continue
                                back[cell.column] = value
                                was[cell.column] = record.token
                            if back and await et.replace(conn, int(row[t.key]), was, back):
                                restored += len(back)
                                rows_done += 1
                                put_back += was.values()
                    async with self._engine.begin() as conn:
                        await store.forget(conn, put_back)
                    await _step(progress, Step(t.name, "restored", 0, len(rows)))
        summary = Summary(system, "restore", seen, restored, rows_done, 0, refused, 0)
        await self._log.record(
            OPERATOR, "vault.restore", f"system:{system}", details=summary.as_json()
        )
        return summary


async def _step(progress: Progress | None, step: Step) -> None:
    if progress is not None:
        result = progress(step)
        if result is not None:
            await result


def clear_value(value: Any) -> bool:
    """Whether a cell holds a personal value in clear (not empty, not a token)."""
    return text_of(value) is not None and not is_token(value)
