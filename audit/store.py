"""The log's tables and the statements that read and append them.

- `audit_entries`: one row per entry, every field in its own column (lists and maps
  as canonical JSON text), plus the entry's hash. Verification rebuilds each
  entry's canonical bytes from these columns, so editing any column is caught.
- `audit_refs`: (kind, ref, seq) for the orders and subject pseudonyms an entry
  names, so filters by order or subject use an index instead of scanning.
- `audit_checkpoints`: the signed heads.
- `audit_head`: one row, the sequence number and hash of the last entry; every
  append locks it, which serialises appenders across processes.

The migration that creates them also makes the database refuse UPDATE and
DELETE on entries, refs and checkpoints (triggers), and any move of the head
other than forwards.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit.checkpoint import Checkpoint
from audit.entry import GENESIS_HASH, Draft, Entry

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False, index=True),
    Column("actor", String(100), nullable=False, index=True),
    Column("action", String(64), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("resource", String(200), nullable=False),
    Column("orders", Text, nullable=False),
    Column("subjects", Text, nullable=False),
    Column("fields", Text, nullable=False),
    Column("grant_id", String(64), nullable=True),
    Column("purpose", String(500), nullable=True),
    Column("request_id", String(64), nullable=True),
    Column("client", String(64), nullable=True),
    Column("details", Text, nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_refs = Table(
    "audit_refs",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("ref", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("head", String(64), nullable=False),
    Column("at", String(32), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("signature", String(100), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("checkpoint_seq", BigInteger, nullable=False),
    Column("checkpoint_at", String(32), nullable=True),
    CheckConstraint("id = 1", name="single_row"),
)

# Execution option of connections that only read the log, for a whole pass: one
# consistent snapshot (PostgreSQL: REPEATABLE READ; SQLite: a deferred transaction,
# which in WAL mode reads a snapshot and never blocks writers). An engine whose
# transactions begin IMMEDIATE on SQLite must begin these deferred instead.
SNAPSHOT_OPTION = "audit_snapshot"


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only connection that sees the log as of its first read."""
    async with engine.connect() as conn:
        options: dict[str, Any] = {SNAPSHOT_OPTION: True}
        if conn.dialect.name == "postgresql":
            options["isolation_level"] = "REPEATABLE READ"
        await conn.execution_options(**options)
        yield conn


HEAD_ROW = {"id": 1, "seq": 0, "hash": GENESIS_HASH.hex(), "checkpoint_seq": 0}
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Head:
    """The head row: the last entry's sequence number and hash, and the last checkpoint."""

    seq: int
    hash: str
    checkpoint_seq: int
    checkpoint_at: str | None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_values(e: Entry) -> tuple[Any, ...]:
    """An entry as a row of `audit_entries`, in column order."""
    return (
        e.seq,
        e.at,
        e.actor,
        e.action,
        e.outcome,
        e.resource,
        _json(list(e.orders)),
        _json(list(e.subjects)),
        _json(dict(e.fields)),
        e.grant,
        e.purpose,
        e.request_id,
        e.client,
        _json(dict(e.details)),
        e.hash,
    )


def ref_values(entries: Sequence[Entry]) -> list[tuple[str, str, int]]:
    """Rows of `audit_refs`: each order and subject an entry names."""
    refs = {("order", o, e.seq) for e in entries for o in e.orders}
    refs |= {("subject", s, e.seq) for e in entries for s in e.subjects}
    return sorted(refs)


def entry_from_row(row: Any) -> Entry:
    """An entry from a row of `audit_entries`."""
    return Entry(
        seq=int(row.seq),
        at=row.at,
        actor=row.actor,
        action=row.action,
        outcome=row.outcome,
        resource=row.resource,
        orders=tuple(json.loads(row.orders)),
        subjects=tuple(json.loads(row.subjects)),
        fields=json.loads(row.fields),
        grant=row.grant_id,
        purpose=row.purpose,
        request_id=row.request_id,
        client=row.client,
        details=json.loads(row.details),
        hash=row.hash,
    )


async def stream_chunks(
    conn: AsyncConnection, after: int = 0, until: int | None = None
) -> AsyncIterator[list[Entry]]:
    """Entries in sequence order, in chunks fetched by key: memory stays flat."""
    while True:
        condition = audit_entries.c.seq > after
        if until is not None:
            condition = and_(condition, audit_entries.c.seq <= until)
        query = select(audit_entries).where(condition).order_by(audit_entries.c.seq).limit(CHUNK)
        rows = (await conn.execute(query)).all()
        if rows:
            yield [entry_from_row(row) for row in rows]
        if len(rows) < CHUNK:
            return
        after = int(rows[-1].seq)


async def checkpoints(
    conn: AsyncConnection, after: int = 0, until: int | None = None
) -> list[Checkpoint]:
    """Checkpoints in a range of sequence numbers (callers ask per chunk of entries)."""
    condition = audit_checkpoints.c.seq > after
    if until is not None:
        condition = and_(condition, audit_checkpoints.c.seq <= until)
    query = select(audit_checkpoints).where(condition).order_by(audit_checkpoints.c.seq)
    return [
        Checkpoint(int(r.seq), r.head, r.at, r.key_id, r.signature)
        for r in await conn.execute(query)
    ]


async def refs_between(conn: AsyncConnection, first: int, last: int) -> set[tuple[str, str, int]]:
    """The (kind, ref, seq) rows of entries `first`..`last`, to check them against entries."""
    query = select(audit_refs.c.kind, audit_refs.c.ref, audit_refs.c.seq).where(
        audit_refs.c.seq >= first, audit_refs.c.seq <= last
    )
    return {(k, r, int(q)) for k, r, q in await conn.execute(query)}


async def next_checkpoint(conn: AsyncConnection, after: int) -> Checkpoint | None:
    """The first checkpoint after sequence number `after`, if any."""
    query = (
        select(audit_checkpoints)
        .where(audit_checkpoints.c.seq > after)
        .order_by(audit_checkpoints.c.seq)
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return (
        None
        if row is None
        else Checkpoint(int(row.seq), row.head, row.at, row.key_id, row.signature)
    )


async def hash_at(conn: AsyncConnection, seq: int) -> str | None:
    """The stored hash of entry `seq` (the genesis hash for 0), or None."""
    if seq == 0:
        return GENESIS_HASH.hex()
    query = select(audit_entries.c.hash).where(audit_entries.c.seq == seq)
    return (await conn.execute(query)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Filters of a log search; times are entry time text (`format_time`)."""

    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    order: str | None = None
    subject: str | None = None
    since: str | None = None
    until: str | None = None


def _conditions(f: EventFilter) -> list[Any]:
    c = audit_entries.c
    conditions: list[Any] = []
    for column, value in ((c.actor, f.actor), (c.action, f.action), (c.outcome, f.outcome)):
        if value is not None:
            conditions.append(column == value)
    for kind, ref in (("order", f.order), ("subject", f.subject)):
        if ref is not None:
            refs = select(audit_refs.c.seq).where(
                audit_refs.c.kind == kind, audit_refs.c.ref == ref
            )
            conditions.append(c.seq.in_(refs))
    if f.since is not None:
        conditions.append(c.at >= f.since)
    if f.until is not None:
        conditions.append(c.at < f.until)
    return conditions


async def query(
    conn: AsyncConnection, f: EventFilter, limit: int, before: int | None
) -> list[Entry]:
    """Newest first; `before` is the sequence number the previous page ended at."""
    conditions = _conditions(f)
    if before is not None:
        conditions.append(audit_entries.c.seq < before)
    statement = (
        select(audit_entries)
        .where(and_(True, *conditions))
        .order_by(audit_entries.c.seq.desc())
        .limit(limit)
    )
    return [entry_from_row(row) for row in await conn.execute(statement)]


async def seq_bounds(
    conn: AsyncConnection, since: str | None, until: str | None
) -> tuple[int, int] | None:
    """First and last sequence numbers of entries in a time range (None if none)."""
    conditions = _conditions(EventFilter(since=since, until=until))
    statement = select(func.min(audit_entries.c.seq), func.max(audit_entries.c.seq)).where(
        and_(True, *conditions)
    )
    first, last = (await conn.execute(statement)).one()
    return None if first is None else (int(first), int(last))


_LENGTHS = {
    c.name: c.type.length
    for c in audit_entries.c
    if isinstance(c.type, String) and c.type.length is not None
}
_REF_LENGTH = 64  # audit_refs.ref


def draft_problem(draft: Draft) -> str | None:
    """Why `draft` could not be stored as an entry, or None: every bounded column checked
    against its length (cheap enough for every append; a draft whose details cannot be
    encoded is caught when its batch is written, see `AuditLog._write`)."""
    bounded = {
        "actor": draft.actor,
        "action": draft.action,
        "resource": draft.resource,
        "grant_id": draft.grant,
        "purpose": draft.purpose,
        "request_id": draft.request_id,
        "client": draft.client,
    }
    for column, value in bounded.items():
        limit = _LENGTHS[column]
        if value is not None and len(value) > limit:
            return f"{column} is longer than {limit} characters"
    if any(len(ref) > _REF_LENGTH for ref in (*draft.orders, *draft.subjects)):
        return "an order or subject reference is too long"
    return None
