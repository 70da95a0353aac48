"""How one group commit reaches each database, as few round trips as it can.

A commit is always the same transaction: lock and read the head, let the log
chain the batch from it (`plan`), insert the entries and their refs, insert the
checkpoint if one is due, move the head, commit. Every request that logs waits
for it, so its latency is the log's cost on the read path:

- SQLite: on a sync `sqlite3` connection, inline on the event loop. A small batch
  commits in WAL mode in a few hundred microseconds, far less than aiosqlite's
  thread hand-offs for the same six statements. If another writer holds the
  database (BEGIN IMMEDIATE would wait), the transaction moves to a worker
  thread instead, so the event loop never waits for a lock another task of this
  loop may hold.
- PostgreSQL: one statement on the pooled asyncpg connection (data-modifying CTEs
  over `unnest`ed arrays), atomic on its own: the head moves only if it is where
  this process last saw it, and the rows go in only if it moved. A head moved by
  another process is read again and the batch chained anew: one chain across
  processes, in one round trip per commit.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import store
from audit.checkpoint import Checkpoint
from audit.entry import Entry


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch chained onto a head: what to write, and where the head moves."""

    entries: list[Entry]
    checkpoint: Checkpoint | None
    seq: int
    hash: str
    checkpoint_seq: int
    checkpoint_at: str | None


Plan = Callable[[store.Head], Batch | None]
WAL_CHECKPOINT_EVERY = 200


class Backend(Protocol):
    """How one database takes a group commit."""

    async def commit(self, plan: Plan) -> Batch | None:
        """Chain `plan` onto the head and write it in one transaction; None if it
        planned nothing."""

    async def close(self) -> None:
        """Release what the backend holds (a dedicated connection, say)."""


# The statements, written out (qmark style, for sqlite3).
SQL = {
    "head": "SELECT seq, hash, checkpoint_seq, checkpoint_at FROM audit_head WHERE id = 1",
    "entries": "INSERT INTO audit_entries (seq, at, actor, action, outcome, resource, orders, "
    "subjects, fields, grant_id, purpose, request_id, client, details, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "refs": "INSERT INTO audit_refs (kind, ref, seq) VALUES (?, ?, ?)",
    "checkpoint": "INSERT INTO audit_checkpoints (seq, head, at, key_id, signature) "
    "VALUES (?, ?, ?, ?, ?)",
    "move": "UPDATE audit_head SET seq = ?, hash = ?, checkpoint_seq = ?, checkpoint_at = ? "
    "WHERE id = 1",
}


def _rows(batch: Batch) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    return [store.entry_values(e) for e in batch.entries], store.ref_values(batch.entries)


def _head(row: Sequence[Any]) -> store.Head:
    return store.Head(int(row[0]), str(row[1]), int(row[2]), row[3])


def _checkpoint_values(cp: Checkpoint) -> tuple[Any, ...]:
    return (cp.seq, cp.head, cp.at, cp.key_id, cp.signature)


class SqliteBackend:
    """Group commits on a dedicated sync `sqlite3` connection in WAL mode."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._sql = SQL
        self._inline = self._connect(busy_timeout_ms=0)
        # Checkpointing the WAL writes and syncs the database file: not on the event
        # loop. The inline connection never does it; every so many commits a worker
        # thread does (PASSIVE: it never blocks writers or readers).
        self._inline.execute("PRAGMA wal_autocheckpoint=0")
        self._threaded = self._connect(busy_timeout_ms=10_000)
        self._since_checkpoint = 0

    def _connect(self, busy_timeout_ms: int) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        return conn

    async def commit(self, plan: Plan) -> Batch | None:
        """Chain `plan` onto the head and write it; None if it planned nothing."""
        self._since_checkpoint += 1
        if self._since_checkpoint >= WAL_CHECKPOINT_EVERY:
            self._since_checkpoint = 0
            await asyncio.to_thread(self._threaded.execute, "PRAGMA wal_checkpoint(PASSIVE)")
        try:
            self._inline.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            # Another writer holds the database: wait for it off the event loop.
            return await asyncio.to_thread(self._transaction, self._threaded, plan, True)
        return self._transaction(self._inline, plan, False)

    def _transaction(self, conn: sqlite3.Connection, plan: Plan, begin: bool) -> Batch | None:
        if begin:
            conn.execute("BEGIN IMMEDIATE")
        try:
            batch = plan(_head(conn.execute(self._sql["head"]).fetchone()))
            if batch is not None:
                entries, refs = _rows(batch)
                if entries:
                    conn.executemany(self._sql["entries"], entries)
                if refs:
                    conn.executemany(self._sql["refs"], refs)
                if batch.checkpoint is not None:
                    conn.execute(self._sql["checkpoint"], _checkpoint_values(batch.checkpoint))
                conn.execute(
                    self._sql["move"],
                    (batch.seq, batch.hash, batch.checkpoint_seq, batch.checkpoint_at),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return batch

    async def close(self) -> None:
        """Close the dedicated connection."""
        self._inline.close()
        self._threaded.close()


# One statement, one round trip, atomic in autocommit: move the head only if it is
# where this process last saw it, and insert the batch only if the head moved.
_PG_APPEND = """
WITH moved AS (
    UPDATE audit_head SET seq = $1, hash = $2, checkpoint_seq = $3, checkpoint_at = $4
    WHERE id = 1 AND seq = $5 AND hash = $6 AND checkpoint_seq = $30
    RETURNING 1
), entries AS (
    INSERT INTO audit_entries (seq, at, actor, action, outcome, resource, orders, subjects,
                               fields, grant_id, purpose, request_id, client, details, hash)
    SELECT * FROM unnest($7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[],
                         $12::text[], $13::text[], $14::text[], $15::text[], $16::text[],
                         $17::text[], $18::text[], $19::text[], $20::text[], $21::text[])
    WHERE EXISTS (SELECT 1 FROM moved)
), refs AS (
    INSERT INTO audit_refs (kind, ref, seq)
    SELECT * FROM unnest($22::text[], $23::text[], $24::bigint[])
    WHERE EXISTS (SELECT 1 FROM moved)
), checkpoints AS (
    INSERT INTO audit_checkpoints (seq, head, at, key_id, signature)
    SELECT * FROM unnest($25::bigint[], $26::text[], $27::text[], $28::text[], $29::text[])
    WHERE EXISTS (SELECT 1 FROM moved)
)
SELECT count(*) FROM moved
"""


class PostgresBackend:
    """Optimistic: the head this process last saw is assumed current. If another
    process moved it meanwhile, the statement changes nothing; the head is read
    again and the batch chained anew. The head row's lock serialises the UPDATEs,
    so two processes always build one chain."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._head: store.Head | None = None

    async def commit(self, plan: Plan) -> Batch | None:
        """Chain `plan` onto the head and write it in one statement; a head moved by another
        process is read again and the batch chained anew. None if it planned nothing."""
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            while True:
                if self._head is None:
                    self._head = _head(await driver.fetchrow(SQL["head"]))
                head = self._head
                batch = plan(head)
                if batch is None:
                    return None
                try:
                    moved = await driver.fetchval(_PG_APPEND, *_pg_args(head, batch))
                except BaseException:
                    self._head = None  # whatever happened, read the head again next time
                    raise
                if moved:
                    self._head = store.Head(
                        batch.seq, batch.hash, batch.checkpoint_seq, batch.checkpoint_at
                    )
                    return batch
                self._head = None  # another process appended: chain again from its head

    async def close(self) -> None:
        """The engine belongs to the caller."""


def _pg_args(head: store.Head, batch: Batch) -> list[Any]:
    entries, refs = _rows(batch)
    columns = [list(column) for column in zip(*entries, strict=True)] if entries else [[]] * 15
    ref_columns = [list(column) for column in zip(*refs, strict=True)] if refs else [[]] * 3
    cp = batch.checkpoint
    cp_columns = [[v] for v in _checkpoint_values(cp)] if cp is not None else [[]] * 5
    return [
        batch.seq,
        batch.hash,
        batch.checkpoint_seq,
        batch.checkpoint_at,
        head.seq,
        head.hash,
        *columns,
        *ref_columns,
        *cp_columns,
        head.checkpoint_seq,
    ]


def backend_for(engine: AsyncEngine) -> Backend:
    """The backend for this engine: SQLite files and PostgreSQL (asyncpg) are supported."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return SqliteBackend(str(url.database))
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        return PostgresBackend(engine)
    raise ValueError(
        f"the audit log supports SQLite and PostgreSQL (asyncpg), not {url.drivername}"
    )
