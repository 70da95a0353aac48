"""Reads and writes of the vault's tables (the gateway's own database)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import BigInteger, and_, cast, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.readpath import AsyncReader, Reader
from gateway.subjects import KeyRow, subject_keys
from gateway.vault.tables import vault_records, vault_walks

_IN_CHUNK = 500  # values per IN (...): well under every driver's parameter limit


@dataclass(frozen=True, slots=True)
class Record:
    """A vault record with its subject's wrapped key (None once shredded)."""

    token: str
    system: str
    dataset: str
    column: str
    row_key: str | None
    subject_id: uuid.UUID
    sealed: bytes
    key: KeyRow
    restricted: bool
    channel: str | None
    order_ref: str | None = None


def _columns() -> list[Any]:
    return [
        vault_records.c.token,
        vault_records.c.system,
        vault_records.c.dataset,
        vault_records.c.column_name,
        vault_records.c.row_key,
        vault_records.c.subject_id,
        vault_records.c.sealed,
        vault_records.c.channel,
        vault_records.c.order_ref,
        subject_keys.c.dek_version,
        subject_keys.c.kek_version,
        subject_keys.c.wrapped_key,
        subject_keys.c.restricted_since,
    ]


def _record(row: Any) -> Record:
    return Record(
        row.token,
        row.system,
        row.dataset,
        row.column_name,
        row.row_key,
        row.subject_id,
        bytes(row.sealed),
        KeyRow(row.subject_id, row.dek_version, row.kek_version, row.wrapped_key),
        row.restricted_since is not None,
        row.channel,
        row.order_ref,
    )


def _joined() -> Any:
    return select(*_columns()).select_from(
        vault_records.join(subject_keys, subject_keys.c.subject_id == vault_records.c.subject_id)
    )


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


async def by_tokens(conn: AsyncConnection, system: str, tokens: Collection[str]) -> list[Record]:
    return await read_tokens(AsyncReader(conn), system, tokens)


async def read_tokens(reader: Reader, system: str, tokens: Collection[str]) -> list[Record]:
    """The system's records of these tokens, through any reader (the read path's pool).
    Looked up by token alone (the primary key) and the system checked on the rows
    found: with `system = ?` in the query beside more than two tokens, SQLite's planner
    (it has no statistics) reads the records through the (system, kind, digest) index,
    every record of the system, at each read."""
    found: list[Record] = []
    for part in _chunks(sorted(tokens)):
        query = _joined().where(vault_records.c.token.in_(part))
        rows = [SimpleNamespace(**r) for r in await reader.all(query)]
        found += [_record(r) for r in rows if r.system == system]
    return found


async def by_cells(
    conn: AsyncConnection,
    system: str,
    dataset: str,
    columns: Sequence[str],
    row_keys: Sequence[str],
) -> list[Record]:
    """The records bound to these rows' cells of a table (a resumed batch finds its
    own). The columns are named so the cell's unique index serves the lookup whole:
    without them, its (system, table) prefix reads every record of the table."""
    found: list[Record] = []
    for part in _chunks(list(row_keys)):
        query = _joined().where(
            vault_records.c.system == system,
            vault_records.c.dataset == dataset,
            vault_records.c.column_name.in_(list(columns)),
            vault_records.c.row_key.in_(part),
        )
        found += [_record(r) for r in await conn.execute(query)]
    return found


async def of_subjects(conn: AsyncConnection, subjects: Collection[uuid.UUID]) -> list[Record]:
    found: list[Record] = []
    for part in _chunks(sorted(subjects, key=str)):
        query = _joined().where(vault_records.c.subject_id.in_(part))
        found += [_record(r) for r in await conn.execute(query)]
    return found


async def count_records(conn: AsyncConnection, system: str) -> dict[str, int]:
    """The system's records: live, and erased (their subject's key destroyed)."""
    query = (
        select(vault_records.c.erased_at.is_(None), func.count())
        .where(vault_records.c.system == system)
        .group_by(vault_records.c.erased_at.is_(None))
    )
    found = {bool(live): int(count) for live, count in await conn.execute(query)}
    return {"live": found.get(True, 0), "erased": found.get(False, 0)}


async def insert_record(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(vault_records).values(**values))


async def reseal(
    conn: AsyncConnection, token: str, subject_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """A cell's record sealed again: the value in the cell changed before its token was
    written (a resumed batch), or a token API record is bound to its row."""
    await conn.execute(
        update(vault_records)
        .where(vault_records.c.token == token)
        .values(subject_id=subject_id, **values)
    )


async def bind(conn: AsyncConnection, token: str, row_key: str) -> bool:
    """Bind a token API's record to the first row that carries it."""
    result = await conn.execute(
        update(vault_records)
        .where(vault_records.c.token == token, vault_records.c.row_key.is_(None))
        .values(row_key=row_key)
    )
    return bool(result.rowcount)


async def bound_keys(
    conn: AsyncConnection, system: str, dataset: str, after: int | None, limit: int
) -> list[int]:
    """The row keys the table's records are bound to, in order, after `after`."""
    key = cast(vault_records.c.row_key, BigInteger)
    query = (
        select(key)
        .where(
            vault_records.c.system == system,
            vault_records.c.dataset == dataset,
            vault_records.c.row_key.is_not(None),
        )
        .group_by(key)
        .order_by(key)
        .limit(limit)
    )
    if after is not None:
        query = query.where(key > after)
    return [int(k) for (k,) in await conn.execute(query)]


async def forget_rows(
    conn: AsyncConnection, system: str, dataset: str, row_keys: Collection[int]
) -> int:
    """Delete the records of rows the store no longer has; how many went."""
    gone = 0
    for part in _chunks(sorted(str(k) for k in row_keys)):
        result = await conn.execute(
            vault_records.delete().where(
                vault_records.c.system == system,
                vault_records.c.dataset == dataset,
                vault_records.c.row_key.in_(part),
            )
        )
        gone += int(result.rowcount)
    return gone


async def forget(conn: AsyncConnection, tokens: Collection[str]) -> None:
    """Delete records whose values were put back in their cells (restore)."""
    for part in _chunks(sorted(tokens)):
        await conn.execute(vault_records.delete().where(vault_records.c.token.in_(part)))


async def rows_with(
    conn: AsyncConnection,
    system: str,
    cell: tuple[str, str],
    kind: str,
    digests: Collection[bytes],
) -> list[tuple[str, str | None]]:
    """(table, row key) of the records of the cell (table, column) whose identifier has
    one of these blind indexes."""
    if not digests:
        return []
    query = select(vault_records.c.dataset, vault_records.c.row_key).where(
        vault_records.c.system == system,
        vault_records.c.dataset == cell[0],
        vault_records.c.column_name == cell[1],
        vault_records.c.kind == kind,
        vault_records.c.digest.in_(list(digests)),
    )
    return [(r.dataset, r.row_key) for r in await conn.execute(query)]


async def by_order_ref(conn: AsyncConnection, order_ref: str) -> list[tuple[str, str, uuid.UUID]]:
    """(system, row key, subject) of vaulted orders rows numbered `order_ref`."""
    query = (
        select(vault_records.c.system, vault_records.c.row_key, vault_records.c.subject_id)
        .where(vault_records.c.order_ref == order_ref, vault_records.c.row_key.is_not(None))
        .distinct()
        .limit(20)
    )
    return [(r.system, r.row_key, r.subject_id) for r in await conn.execute(query)]


async def find_request(
    conn: AsyncConnection, system: str, channel: str, request_key: str
) -> list[Record]:
    query = _joined().where(
        vault_records.c.system == system,
        vault_records.c.channel == channel,
        vault_records.c.request_key == request_key,
    )
    return [_record(r) for r in await conn.execute(query)]


async def by_digests(conn: AsyncConnection, digests: Collection[tuple[str, bytes]]) -> list[Record]:
    """Records of any subject whose identifier has one of these (kind, blind index)."""
    found: list[Record] = []
    for part in _chunks(sorted(digests)):
        condition = or_(
            *(and_(vault_records.c.kind == k, vault_records.c.digest == d) for k, d in part)
        )
        found += [_record(r) for r in await conn.execute(_joined().where(condition))]
    return found


async def wipe(conn: AsyncConnection, tokens: Collection[str], now: datetime) -> None:
    """Records wiped as an erasure wipes them (their value belongs to the erased)."""
    for part in _chunks(sorted(tokens)):
        await conn.execute(
            update(vault_records)
            .where(vault_records.c.token.in_(part))
            .values(digest=None, kind=None, erased_at=now, sealed=b"")
        )


async def erase(
    conn: AsyncConnection, subjects: Collection[uuid.UUID], now: datetime
) -> dict[str, int]:
    """Mark the subjects' records erased and drop their blind indexes (their values are
    sealed under keys the erasure destroys): records by system."""
    counts: dict[str, int] = {}
    for part in _chunks(sorted(subjects, key=str)):
        query = (
            select(vault_records.c.system, func.count())
            .where(vault_records.c.subject_id.in_(part))
            .group_by(vault_records.c.system)
        )
        for system, count in await conn.execute(query):
            counts[system] = counts.get(system, 0) + int(count)
        await conn.execute(
            update(vault_records)
            .where(vault_records.c.subject_id.in_(part))
            .values(digest=None, kind=None, erased_at=now, sealed=b"")
        )
    return counts


async def still_open(conn: AsyncConnection, subjects: Collection[uuid.UUID]) -> int:
    """The subjects' records still holding a value or a blind index (for verification)."""
    total = 0
    for part in _chunks(sorted(subjects, key=str)):
        query = (
            select(func.count())
            .select_from(vault_records)
            .where(
                vault_records.c.subject_id.in_(part),
                or_(vault_records.c.digest.is_not(None), func.length(vault_records.c.sealed) > 0),
            )
        )
        total += int((await conn.execute(query)).scalar_one())
    return total


# --- walks ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Walk:
    last_key: int | None
    last_mark: datetime | None
    rows_seen: int
    cells_sealed: int
    started_at: datetime
    finished_at: datetime | None


async def walk(conn: AsyncConnection, system: str, dataset: str, purpose: str) -> Walk | None:
    query = select(vault_walks).where(
        and_(
            vault_walks.c.system == system,
            vault_walks.c.dataset == dataset,
            vault_walks.c.purpose == purpose,
        )
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return Walk(
        row.last_key,
        row.last_mark,
        row.rows_seen,
        row.cells_sealed,
        row.started_at,
        row.finished_at,
    )


async def save_walk(
    conn: AsyncConnection, system: str, dataset: str, purpose: str, state: Walk, now: datetime
) -> None:
    values = {
        "last_key": state.last_key,
        "last_mark": state.last_mark,
        "rows_seen": state.rows_seen,
        "cells_sealed": state.cells_sealed,
        "started_at": state.started_at,
        "finished_at": state.finished_at,
        "updated_at": now,
    }
    where = and_(
        vault_walks.c.system == system,
        vault_walks.c.dataset == dataset,
        vault_walks.c.purpose == purpose,
    )
    result = await conn.execute(update(vault_walks).where(where).values(**values))
    if not result.rowcount:
        await conn.execute(
            insert(vault_walks).values(system=system, dataset=dataset, purpose=purpose, **values)
        )


async def clear_walk(conn: AsyncConnection, system: str, dataset: str, purpose: str) -> None:
    await conn.execute(
        vault_walks.delete().where(
            vault_walks.c.system == system,
            vault_walks.c.dataset == dataset,
            vault_walks.c.purpose == purpose,
        )
    )
