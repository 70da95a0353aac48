"""Walking an existing store's tables: backfill (every row, once, resumable), follow
(rows the store's own system writes after), restore (the values put back).

Per batch, in an order that never loses a value: the records are sealed and
committed in the gateway's database first, then the tokens are written in the
existing store in one transaction, each row only if it still holds what was read,
then the walk's position is saved. A crash before the tokens leaves clear cells and
records for them: the batch is redone from the saved position, and each cell's record
is found again and sealed with what the cell holds then. A crash after the tokens and
before the position only redoes a batch that has nothing clear left.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.core.clock import Clock
from gateway.vault import store
from gateway.vault.existing import ExistingTable
from gateway.vault.sealing import Sealer, Work
from gateway.vault.store import Record, Walk
from gateway.vault.tokens import is_token

ROW_RETRIES = 3  # a row the store's own system keeps changing is left to the follower
# How far back the follower looks before its watermark: transactions of the store's
# own system that began earlier may commit after a later one was seen.
OVERLAP = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Step:
    """What a walk just did (for progress lines and for tests that crash a walk)."""

    table: str
    phase: str  # "sealed" (records committed) | "tokenised" (store committed) | "saved"
    batch: int
    rows: int


Progress = Callable[[Step], Awaitable[None] | None]


@dataclass(slots=True)
class Tally:
    rows_seen: int = 0
    cells_sealed: int = 0
    rows_tokenised: int = 0
    changed_meanwhile: int = 0  # rows left clear: the store kept changing them
    refused: int = 0  # restore: values of erased subjects (or of an erasure under way)
    batches: int = 0
    by_table: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, table: str, seen: int, sealed: int, tokenised: int, changed: int) -> None:
        self.rows_seen += seen
        self.cells_sealed += sealed
        self.rows_tokenised += tokenised
        self.changed_meanwhile += changed
        mine = self.by_table.setdefault(table, {"rows_seen": 0, "rows_tokenised": 0})
        mine["rows_seen"] += seen
        mine["rows_tokenised"] += tokenised


async def _report(progress: Progress | None, step: Step) -> None:
    if progress is not None:
        result = progress(step)
        if result is not None:
            await result


class Walker:
    """Batches over one system's tables, between the gateway's engine and the store's."""

    def __init__(
        self, engine: AsyncEngine, existing: AsyncEngine, sealer: Sealer, clock: Clock
    ) -> None:
        self._engine = engine
        self._existing = existing
        self._sealer = sealer
        self._clock = clock

    async def tokenise(
        self,
        et: ExistingTable,
        rows: list[dict[str, Any]],
        tally: Tally,
        batch: int,
        progress: Progress | None,
    ) -> None:
        """Seal the rows' clear cells, then write their tokens (rows that changed
        meanwhile are read again, a few times)."""
        todo = rows
        seen = len(rows)
        for _ in range(ROW_RETRIES):
            async with self._engine.begin() as conn:
                work = await self._sealer.seal_rows(conn, et, todo, self._clock.now())
            await _report(progress, Step(et.spec.name, "sealed", batch, len(work)))
            changed = await self._write(et, work)
            sealed = sum(len(w.now) for w in work)
            tally.add(et.spec.name, seen, sealed, len(work) - len(changed), 0)
            seen = 0
            await _report(progress, Step(et.spec.name, "tokenised", batch, len(work)))
            if not changed:
                return
            async with self._existing.connect() as conn:
                todo = await et.rows(conn, changed)
        tally.add(et.spec.name, 0, 0, 0, len(todo))

    async def _write(self, et: ExistingTable, work: list[Work]) -> list[int]:
        changed: list[int] = []
        if not work:
            return changed
        async with self._existing.begin() as conn:
            for item in work:
                if not await et.replace(conn, item.key, item.was, item.now):
                    changed.append(item.key)
        return changed

    async def walk(
        self,
        et: ExistingTable,
        purpose: str,
        state: Walk,
        batch_size: int,
        tally: Tally,
        progress: Progress | None,
        upto: int | None = None,
    ) -> Walk:
        """Every row beyond the walk's position, batch by batch, to the end (or to key
        `upto`: a follower's pass stops at the newest row it found at its start, else
        under a steady write rate it chases the new rows one batch after another and
        never reaches the other tables); the position is saved after each batch's
        tokens are written."""
        name = et.spec.name
        batch = 0
        while True:
            async with self._existing.connect() as conn:
                rows = await et.after(conn, state.last_key, batch_size)
            if upto is not None:
                rows = [r for r in rows if int(r[et.spec.key]) <= upto]
            if not rows:
                break
            batch += 1
            before = tally.cells_sealed
            await self.tokenise(et, rows, tally, batch, progress)
            state = replace(
                state,
                last_key=int(rows[-1][et.spec.key]),
                rows_seen=state.rows_seen + len(rows),
                cells_sealed=state.cells_sealed + tally.cells_sealed - before,
            )
            await self.save(name, purpose, state)
            await _report(progress, Step(name, "saved", batch, len(rows)))
        tally.batches += batch
        return state

    async def prune(self, et: ExistingTable, limit: int) -> int:
        """Records of rows the store no longer has (the order system deleted them):
        deleted, a slice of the table's records a call, going round. How many went."""
        name, system = et.spec.name, self._sealer.system
        state = await self.position(name, "prune") or Walk(
            None, None, 0, 0, self._clock.now(), None
        )
        async with self._engine.connect() as conn:
            keys = await store.bound_keys(conn, system, name, state.last_key, limit)
        async with self._existing.connect() as conn:
            missing = set(keys) - await et.present(conn, keys)
        gone = 0
        if missing:
            async with self._engine.begin() as conn:
                gone = await store.forget_rows(conn, system, name, missing)
        last = keys[-1] if len(keys) == limit else None  # None: round again from the start
        await self.save(
            name, "prune", replace(state, last_key=last, rows_seen=state.rows_seen + len(keys))
        )
        return gone

    async def restore(
        self, et: ExistingTable, batch_size: int, tally: Tally, progress: Progress | None
    ) -> None:
        """Put the table's values back, batch by batch: each row only if it still holds
        its tokens, then the records put back deleted (a crash between leaves records
        of clear cells, which the next backfill or follower pass deletes as stale)."""
        t, last = et.spec, None
        while True:
            async with self._existing.connect() as conn:
                rows = await et.after(conn, last, batch_size)
            if not rows:
                return
            last = int(rows[-1][t.key])
            tally.rows_seen += len(rows)
            carried = {r[c.column] for r in rows for c in t.cells if is_token(r[c.column])}
            async with self._engine.begin() as conn:
                found = await store.by_tokens(conn, self._sealer.system, carried)
            records = {r.token: r for r in found}
            put_back: list[str] = []
            async with self._existing.begin() as conn:
                for row in rows:
                    was, back = self._values_of(et, row, records, tally)
                    if back and await et.replace(conn, int(row[t.key]), was, back):
                        tally.cells_sealed += len(back)
                        tally.rows_tokenised += 1
                        put_back += was.values()
            async with self._engine.begin() as conn:
                await store.forget(conn, put_back)
            await _report(progress, Step(t.name, "restored", 0, len(rows)))

    def _values_of(
        self, et: ExistingTable, row: dict[str, Any], records: dict[str, Record], tally: Tally
    ) -> tuple[dict[str, str], dict[str, str]]:
        """A row's tokens and the values to put back for them. An erased subject's, or
        one whose erasure is under way (restricted), must not go back into the store."""
        was: dict[str, str] = {}
        back: dict[str, str] = {}
        for cell in et.spec.cells:
            record = records.get(row[cell.column])
            if (
                record is None
                or (record.dataset, record.column) != (cell.dataset, cell.column)
                or record.row_key not in {None, str(row[et.spec.key])}
            ):
                continue
            value = None if record.restricted else self._sealer.open(record)
            if value is None:
                tally.refused += 1
                continue
            back[cell.column] = value
            was[cell.column] = record.token
        return was, back

    async def position(self, name: str, purpose: str) -> Walk | None:
        async with self._engine.begin() as conn:
            return await store.walk(conn, self._sealer.system, name, purpose)

    async def save(self, name: str, purpose: str, state: Walk) -> None:
        async with self._engine.begin() as conn:
            await store.save_walk(
                conn, self._sealer.system, name, purpose, state, self._clock.now()
            )

    async def changed(
        self, et: ExistingTable, batch_size: int, tally: Tally, progress: Progress | None
    ) -> datetime | None:
        """The follower's second half: rows changed since its watermark (less the
        overlap), for stores whose map names a watermark column. The new watermark."""
        if et.spec.watermark is None:
            return None
        state = await self.position(et.spec.name, "follow")
        mark = None if state is None or state.last_mark is None else _naive(state.last_mark)
        since = datetime(1970, 1, 1) if mark is None else mark - OVERLAP
        after: int | None = None
        newest = mark
        batch = 0
        while True:
            async with self._existing.connect() as conn:
                rows = await et.changed_since(conn, since, after, batch_size)
            if not rows:
                break
            batch += 1
            await self.tokenise(et, rows, tally, batch, progress)
            last = rows[-1]
            since, after = _mark_of(last[et.spec.watermark]), int(last[et.spec.key])
            newest = since if newest is None or since > newest else newest
            if len(rows) < batch_size:
                break
        return None if newest is None else newest.replace(tzinfo=UTC)

    async def save_mark(self, name: str, mark: datetime | None) -> None:
        state = await self.position(name, "follow")
        state = state or Walk(None, None, 0, 0, self._clock.now(), None)
        await self.save(name, "follow", replace(state, last_mark=mark))


def _mark_of(value: Any) -> datetime:
    """A watermark as read (SQLite hands back text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _naive(mark: datetime) -> datetime:
    """A watermark as the store keeps it. It is the store's own time, in the store's
    zone, kept in the gateway's UTC column as it is: compared only with the store's."""
    return mark.replace(tzinfo=None)
