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
- PostgreSQL: straight on the pooled asyncpg connection (`executemany` pipelines
  the rows), with the head row locked `FOR UPDATE` until commit: one chain across
  processes.
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


class Backend(Protocol):
    async def commit(self, plan: Plan) -> Batch | None: ...

    async def close(self) -> None: ...


# The statements, written out (qmark style); `_numbered` turns them into asyncpg's $n.
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


def _numbered(sql: str) -> str:
    parts = sql.split("?")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1)) + parts[-1]


def _rows(batch: Batch) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    return [store.entry_values(e) for e in batch.entries], store.ref_values(batch.entries)


def _head(row: Sequence[Any]) -> store.Head:
    return store.Head(int(row[0]), str(row[1]), int(row[2]), row[3])


def _checkpoint_values(cp: Checkpoint) -> tuple[Any, ...]:
    return (cp.seq, cp.head, cp.at, cp.key_id, cp.signature)


class SqliteBackend:
    def __init__(self, path: str) -> None:
        self._path = path
        self._sql = SQL
        self._inline = self._connect(busy_timeout_ms=0)
        self._threaded = self._connect(busy_timeout_ms=10_000)

    def _connect(self, busy_timeout_ms: int) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        return conn

    async def commit(self, plan: Plan) -> Batch | None:
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
        self._inline.close()
        self._threaded.close()


class PostgresBackend:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sql = {name: _numbered(sql) for name, sql in SQL.items()}

    async def commit(self, plan: Plan) -> Batch | None:
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            async with driver.transaction():
                batch = plan(_head(await driver.fetchrow(self._sql["head"] + " FOR UPDATE")))
                if batch is not None:
                    entries, refs = _rows(batch)
                    if entries:
                        await driver.executemany(self._sql["entries"], entries)
                    if refs:
                        await driver.executemany(self._sql["refs"], refs)
                    if batch.checkpoint is not None:
                        await driver.execute(
                            self._sql["checkpoint"], *_checkpoint_values(batch.checkpoint)
                        )
                    await driver.execute(
                        self._sql["move"],
                        batch.seq,
                        batch.hash,
                        batch.checkpoint_seq,
                        batch.checkpoint_at,
                    )
            return batch

    async def close(self) -> None:
        """The engine belongs to the caller."""


def backend_for(engine: AsyncEngine) -> Backend:
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return SqliteBackend(str(url.database))
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        return PostgresBackend(engine)
    raise ValueError(
        f"the audit log supports SQLite and PostgreSQL (asyncpg), not {url.drivername}"
    )
