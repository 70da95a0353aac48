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

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from gateway.accesslog import OPERATOR, AccessLog
from gateway.core.clock import Clock, utc_text
from gateway.core.errors import (
    ConfigurationError,
    FieldProblem,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
    Unavailable,
)
from gateway.core.principal import Principal
from gateway.core.readpath import ReadPool
from gateway.disclosure import PolicySet, WriteScope
from gateway.subjects import SubjectKeys
from gateway.systems import Connections, ConnectorFailed, async_url
from gateway.vault import issuing, store
from gateway.vault.existing import ExistingTable, unfit_columns
from gateway.vault.issuing import Issued
from gateway.vault.plan import VaultPlan
from gateway.vault.reads import VaultReads
from gateway.vault.sealing import Sealer
from gateway.vault.store import Walk
from gateway.vault.walks import Progress, Tally, Walker

# Records a follower pass checks against the store's rows (for rows it deleted).
PRUNE_SLICE = 2000


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
    # Cells holding a token this vault did not make for them (unknown, or copied from
    # another customer's cell): left as they are, opening nothing there.
    foreign_tokens: int = 0
    # Records of rows the order system deleted, deleted from the vault too.
    pruned: int = 0

    def as_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


async def unfit(plan: VaultPlan, url: str) -> list[str]:
    """The plan's columns that cannot hold a token, in the live store (read only)."""
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(unfit_columns, plan)
    except (SQLAlchemyError, OSError) as exc:
        return [f"vault: could not connect ({type(exc).__name__})"]
    finally:
        await engine.dispose()


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
        policy: PolicySet | None = None,
    ) -> None:
        self._policy = policy
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

    def reads(self, system: str, pool: ReadPool | None = None) -> VaultReads:
        """The read path's view of the system's vault (tokens opened, searches), reading
        through the read path's `pool` where given."""
        return VaultReads(self._engine, self.plan(system), self.sealer(system), pool)

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

    async def status(self, system: str) -> dict[str, Any]:
        """Where each walk is (position, counts, when), the records the vault holds for
        the system, and how many rows of its tables still hold a clear value."""
        plan = self.plan(system)
        async with self._engine.connect() as conn:
            walks = {
                f"{t.name}.{purpose}": found
                for t in plan.tables
                for purpose in ("backfill", "follow")
                if (found := await store.walk(conn, system, t.name, purpose)) is not None
            }
            records = await store.count_records(conn, system)
        async with self.existing(system) as existing:
            try:
                remaining: int | None = await self._clear_remaining(plan, existing)
            except (SQLAlchemyError, OSError):
                remaining = None  # the store out of reach: said, not guessed
        return {
            "system": system,
            "records": records,
            "clear_remaining": remaining,
            "walks": {
                name: {
                    "last_key": w.last_key,
                    "rows_seen": w.rows_seen,
                    "cells_sealed": w.cells_sealed,
                    "started_at": utc_text(w.started_at),
                    "finished_at": None if w.finished_at is None else utc_text(w.finished_at),
                }
                for name, w in walks.items()
            },
        }

    # --- the token API --------------------------------------------------------------

    async def issue_tokens(
        self,
        principal: Principal,
        system: str | None,
        channel: str,
        request_key: str,
        fields: dict[str, str],
    ) -> tuple[str, Issued]:
        """Tokens for an order system's values, for a principal that may write the
        channel's orders (as `POST /v1/orders` checks it); logged without the values."""
        try:
            self._may_write(principal, channel)
            key = self._one_system(system)
            plan = self.plan(key)
            sealer = self.sealer(key)
            try:
                async with self._engine.begin() as conn:
                    issued = await issuing.issue(
                        conn, sealer, plan, channel, request_key, fields, self._clock.now()
                    )
            except IntegrityError as exc:
                if not issuing.is_race(exc):
                    raise
                async with self._engine.begin() as conn:  # the same key, at the same time
                    issued = await issuing.issue(
                        conn, sealer, plan, channel, request_key, fields, self._clock.now()
                    )
        except (PermissionDenied, IdempotencyConflict, InvalidInput, ConfigurationError) as exc:
            status = {PermissionDenied: 403, IdempotencyConflict: 409}.get(type(exc), 422)
            await self._log.denied(principal, "vault.tokens", "vault", status, exc.detail)
            raise
        await self._log.record(
            principal.name,
            "vault.tokens",
            f"system:{key}",
            subjects=[issued.subject_id],
            details={"fields": sorted(fields), "created": issued.created, "channel": channel},
        )
        return key, issued

    def _may_write(self, principal: Principal, channel: str) -> None:
        plan = None if self._policy is None else self._policy.plan_for(principal.role)
        if plan is None or not plan.can_write_orders:
            raise PermissionDenied(f"role {principal.role!r} may not write orders")
        if plan.write_scope is WriteScope.CHANNEL and principal.channel != channel:
            raise PermissionDenied("this principal gets tokens for its own channel's orders only")

    def _one_system(self, system: str | None) -> str:
        if system is not None:
            if system not in self.plans:
                raise InvalidInput(
                    "no such system with an order mapping",
                    [FieldProblem("system", "names no system of the map with an [orders] mapping")],
                )
            return system
        if len(self.plans) != 1:
            raise InvalidInput(
                "name the system",
                [FieldProblem("system", "is needed: the map has several order stores")],
            )
        return next(iter(self.plans))

    # --- walks ----------------------------------------------------------------------

    async def backfill(
        self, system: str, *, batch: int | None = None, progress: Progress | None = None
    ) -> Summary:
        """Move every table's personal cells into the vault, resuming where a crash left
        it; a finished backfill run again walks the tables again from the start."""
        plan = self.plan(system)
        await self._refuse_unfit(system)
        tally = Tally()
        sealer = self.sealer(system)
        async with self.existing(system) as existing:
            walker = Walker(self._engine, existing, sealer, self._clock)
            for t in plan.tables:
                et = ExistingTable(plan, t)
                state = await walker.position(t.name, "backfill")
                if state is None or state.finished_at is not None:
                    state = Walk(None, None, 0, 0, self._clock.now(), None)
                state = await walker.walk(
                    et, "backfill", state, batch or plan.batch, tally, progress
                )
                await walker.save(t.name, "backfill", replace(state, finished_at=self._clock.now()))
            pruned = 0
            for t in plan.tables:
                pruned += await self._prune_all(walker, ExistingTable(plan, t), plan.batch)
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
            foreign_tokens=sealer.foreign,
            pruned=pruned,
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
        sealer = self.sealer(system)
        async with self.existing(system) as existing:
            walker = Walker(self._engine, existing, sealer, self._clock)
            lag = await self._lag(plan, existing)
            pruned = 0
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
                pruned += await walker.prune(et, PRUNE_SLICE)
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
            sealer.foreign,
            pruned,
        )
        if tally.cells_sealed:
            await self._log.record(
                OPERATOR, "vault.follow", f"system:{system}", details=summary.as_json()
            )
        return summary

    async def _prune_all(self, walker: Walker, et: ExistingTable, limit: int) -> int:
        gone = 0
        while True:
            gone += await walker.prune(et, limit)
            state = await walker.position(et.spec.name, "prune")
            if state is None or state.last_key is None:
                return gone

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
        an erased subject, or of one whose erasure is under way, keeps its token: its
        value is gone, or about to go, and must not come back."""
        plan = self.plan(system)
        tally = Tally()
        async with self.existing(system) as existing:
            walker = Walker(self._engine, existing, self.sealer(system), self._clock)
            for t in plan.tables:
                await walker.restore(ExistingTable(plan, t), plan.batch, tally, progress)
        summary = Summary(
            system,
            "restore",
            tally.rows_seen,
            tally.cells_sealed,  # here: values put back
            tally.rows_tokenised,  # here: rows restored
            0,
            tally.refused,
            0,
        )
        await self._log.record(
            OPERATOR, "vault.restore", f"system:{system}", details=summary.as_json()
        )
        return summary
