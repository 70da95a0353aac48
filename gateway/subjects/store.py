"""Data subjects, their own data keys, and the blind indexes that link orders to them.

No identifier is stored in clear: `subject_identifiers` holds a truncated keyed
blind index (to find candidates) and the value encrypted under the subject's data
key (to confirm a candidate). `subject_keys` holds the subject's data key wrapped
by a KEK; destroying it (crypto-shredding) makes every ciphertext of the subject
unreadable, identifiers included. `subject_links` holds what identity resolution
could not prove: two subjects that share an identifier and may be one person,
until a DPO confirms or rejects it.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.db import UtcDateTime, metadata
from gateway.core.readpath import Reader

data_subjects = Table(
    "data_subjects",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

subject_keys = Table(
    "subject_keys",
    metadata,
    Column(
        "subject_id", Uuid, ForeignKey("data_subjects.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("dek_version", Integer, nullable=False),
    Column("kek_version", Integer, nullable=False),
    # NULL once shredded: the data key is gone, and with it every ciphertext.
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("shredded_at", UtcDateTime, nullable=True),
    # Set when an erasure request is verified: from then on no role is shown the
    # subject's personal fields (restriction of processing, GDPR Art. 18).
    Column("restricted_since", UtcDateTime, nullable=True),
)

subject_identifiers = Table(
    "subject_identifiers",
    metadata,
    Column(
        "subject_id", Uuid, ForeignKey("data_subjects.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("kind", String(16), primary_key=True),
    Column("digest", LargeBinary(8), primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Index("ix_subject_identifiers_kind_digest", "kind", "digest"),
)

# Two subjects that may be one person: never merged silently. `subject_a` sorts before
# `subject_b`, so a pair is stored once. A confirmed link lets a request verified through
# one of them cover the other; a rejected one is kept so it is not asked again.
subject_links = Table(
    "subject_links",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("subject_a", Uuid, ForeignKey("data_subjects.id", ondelete="CASCADE"), nullable=False),
    Column("subject_b", Uuid, ForeignKey("data_subjects.id", ondelete="CASCADE"), nullable=False),
    # The identifier kinds the two share ("email", "phone,email"), never their values.
    Column("shared", String(32), nullable=False),
    Column("state", String(12), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("reason", Text, nullable=True),
    UniqueConstraint("subject_a", "subject_b"),
    Index("ix_subject_links_state_created_at", "state", "created_at"),
    Index("ix_subject_links_subject_b", "subject_b"),
)


@dataclass(frozen=True, slots=True)
class KeyRow:
    subject_id: uuid.UUID
    dek_version: int
    kek_version: int
    wrapped_key: bytes | None


@dataclass(frozen=True, slots=True)
class Candidate:
    subject_id: uuid.UUID
    value: bytes
    key: KeyRow
    restricted: bool = False  # an erasure of this subject is under way


async def lock_digest(conn: AsyncConnection, kind: str, digest: bytes) -> None:
    """Serialise linking of one blind index across processes (PostgreSQL; SQLite
    writers already hold the database lock from BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        # Stable across processes (unlike hash()): 15 bits of the kind, 32 of the digest.
        key = ((zlib.crc32(kind.encode()) & 0x7FFF) << 32) | int.from_bytes(digest[:4], "big")
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def candidates(reader: Reader, kind: str, digest: bytes) -> Sequence[Candidate]:
    """Records holding an identifier with this blind index (to be confirmed by value)."""
    rows = await reader.all(
        select(
            subject_identifiers.c.subject_id,
            subject_identifiers.c.value,
            subject_keys.c.dek_version,
            subject_keys.c.kek_version,
            subject_keys.c.wrapped_key,
            subject_keys.c.restricted_since,
        )
        .join(subject_keys, subject_keys.c.subject_id == subject_identifiers.c.subject_id)
        .where(subject_identifiers.c.kind == kind, subject_identifiers.c.digest == digest)
    )
    return [
        Candidate(
            r["subject_id"],
            r["value"],
            KeyRow(r["subject_id"], r["dek_version"], r["kek_version"], r["wrapped_key"]),
            r["restricted_since"] is not None,
        )
        for r in rows
    ]


async def insert_subject(
    conn: AsyncConnection, subject_id: uuid.UUID, key: KeyRow, now: datetime
) -> None:
    await conn.execute(insert(data_subjects).values(id=subject_id, created_at=now))
    await conn.execute(
        insert(subject_keys).values(
            subject_id=subject_id,
            dek_version=key.dek_version,
            kek_version=key.kek_version,
            wrapped_key=key.wrapped_key,
            created_at=now,
        )
    )


async def insert_identifier(
    conn: AsyncConnection, subject_id: uuid.UUID, kind: str, digest: bytes, value: bytes
) -> None:
    await conn.execute(
        insert(subject_identifiers).values(
            subject_id=subject_id, kind=kind, digest=digest, value=value
        )
    )


async def key_row(conn: AsyncConnection, subject_id: uuid.UUID) -> KeyRow | None:
    """A record's wrapped data key and its versions, or None; no key means shredded."""
    row = (
        await conn.execute(
            select(
                subject_keys.c.dek_version, subject_keys.c.kek_version, subject_keys.c.wrapped_key
            ).where(subject_keys.c.subject_id == subject_id)
        )
    ).first()
    return None if row is None else KeyRow(subject_id, *row)


async def shred(conn: AsyncConnection, subject_id: uuid.UUID, now: datetime) -> bool:
    result = await conn.execute(
        update(subject_keys)
        .where(subject_keys.c.subject_id == subject_id, subject_keys.c.wrapped_key.is_not(None))
        .values(wrapped_key=None, shredded_at=now)
    )
    return result.rowcount == 1


async def keys_to_rewrap(conn: AsyncConnection, active: int, limit: int) -> Sequence[KeyRow]:
    """Live data keys not yet under the active KEK; locked, skipping rows other workers hold."""
    query = (
        select(
            subject_keys.c.subject_id,
            subject_keys.c.dek_version,
            subject_keys.c.kek_version,
            subject_keys.c.wrapped_key,
        )
        .where(subject_keys.c.kek_version != active, subject_keys.c.wrapped_key.is_not(None))
        .order_by(subject_keys.c.subject_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [KeyRow(*row) for row in await conn.execute(query)]


async def set_wrapped_key(
    conn: AsyncConnection, row: KeyRow, wrapped: bytes, kek_version: int
) -> None:
    await conn.execute(
        update(subject_keys)
        .where(
            subject_keys.c.subject_id == row.subject_id,
            subject_keys.c.kek_version == row.kek_version,
        )
        .values(wrapped_key=wrapped, kek_version=kek_version)
    )


async def kek_versions_in_use(conn: AsyncConnection) -> dict[int, int]:
    """KEK version -> how many live data keys it wraps."""
    query = (
        select(subject_keys.c.kek_version, func.count())
        .where(subject_keys.c.wrapped_key.is_not(None))
        .group_by(subject_keys.c.kek_version)
    )
    return {int(version): int(count) for version, count in await conn.execute(query)}


async def restrict(conn: AsyncConnection, subject_id: uuid.UUID, now: datetime) -> None:
    """Restrict a record's processing from `now` (GDPR Art. 18), unless it already is."""
    await conn.execute(
        update(subject_keys)
        .where(subject_keys.c.subject_id == subject_id, subject_keys.c.restricted_since.is_(None))
        .values(restricted_since=now)
    )


async def created_at(conn: AsyncConnection, subject_id: uuid.UUID) -> datetime | None:
    """When a record was founded, or None if it does not exist."""
    query = select(data_subjects.c.created_at).where(data_subjects.c.id == subject_id)
    value: datetime | None = (await conn.execute(query)).scalar_one_or_none()
    return value


async def lift_restriction(conn: AsyncConnection, subject_id: uuid.UUID) -> None:
    """End the restriction of a record's processing."""
    await conn.execute(
        update(subject_keys)
        .where(subject_keys.c.subject_id == subject_id)
        .values(restricted_since=None)
    )


async def identifiers_of(conn: AsyncConnection, subject_id: uuid.UUID) -> Sequence[Any]:
    """A record's identifiers: kind, blind index and sealed value."""
    query = select(
        subject_identifiers.c.kind, subject_identifiers.c.digest, subject_identifiers.c.value
    ).where(subject_identifiers.c.subject_id == subject_id)
    return list(await conn.execute(query))


async def delete_identifiers(conn: AsyncConnection, subject_id: uuid.UUID) -> int:
    """Remove a record's blind-indexed identifiers; returns how many."""
    result = await conn.execute(
        delete(subject_identifiers).where(subject_identifiers.c.subject_id == subject_id)
    )
    return int(result.rowcount)


async def deciding_count(conn: AsyncConnection, subject_id: uuid.UUID, kinds: Sequence[str]) -> int:
    """How many identifiers of `kinds` the subject holds (its founding contacts)."""
    query = select(func.count()).where(
        subject_identifiers.c.subject_id == subject_id, subject_identifiers.c.kind.in_(kinds)
    )
    return int((await conn.execute(query)).scalar_one())


def ordered_pair(one: uuid.UUID, other: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (one, other) if str(one) < str(other) else (other, one)


async def add_candidate_link(
    conn: AsyncConnection, one: uuid.UUID, other: uuid.UUID, shared: Sequence[str], now: datetime
) -> bool:
    """Record that two subjects may be one person; False if the pair is already known."""
    first, second = ordered_pair(one, other)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(subject_links)
        .values(
            id=uuid.uuid4(),
            subject_a=first,
            subject_b=second,
            shared=",".join(sorted(shared)),
            state="candidate",
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["subject_a", "subject_b"])
    )
    result = await conn.execute(statement)
    return bool(result.rowcount)


async def confirmed_neighbours(
    conn: AsyncConnection, subject_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Subjects a DPO confirmed as the same person as any of `subject_ids`."""
    links = subject_links.c
    rows = await conn.execute(
        select(links.subject_a, links.subject_b).where(
            links.state == "confirmed",
            or_(links.subject_a.in_(subject_ids), links.subject_b.in_(subject_ids)),
        )
    )
    return {sid for row in rows for sid in row} - set(subject_ids)


async def is_restricted(conn: AsyncConnection, subject_id: uuid.UUID) -> bool:
    """Whether the record's processing is restricted (an erasure is under way)."""
    query = select(subject_keys.c.restricted_since).where(subject_keys.c.subject_id == subject_id)
    return (await conn.execute(query)).scalar_one_or_none() is not None


async def list_links(
    conn: AsyncConnection,
    state: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[Any]:
    """A page of links, in the order they were proposed."""
    links = subject_links.c
    conditions: list[Any] = []
    if state is not None:
        conditions.append(links.state == state)
    if after is not None:
        conditions.append(
            or_(
                links.created_at > after[0], and_(links.created_at == after[0], links.id > after[1])
            )
        )
    query = (
        select(subject_links).where(*conditions).order_by(links.created_at, links.id).limit(limit)
    )
    return list(await conn.execute(query))


async def get_link(conn: AsyncConnection, link_id: uuid.UUID, *, lock: bool = False) -> Any:
    """One link between two records, locked for a decision if asked."""
    query = select(subject_links).where(subject_links.c.id == link_id)
    if lock:
        query = query.with_for_update()
    return (await conn.execute(query)).first()


async def decide_link(
    conn: AsyncConnection, link_id: uuid.UUID, state: str, by: str, reason: str, now: datetime
) -> bool:
    """Confirm or reject a candidate link; False if it is no longer a candidate."""
    result = await conn.execute(
        update(subject_links)
        .where(subject_links.c.id == link_id, subject_links.c.state == "candidate")
        .values(state=state, decided_by=by, reason=reason, decided_at=now)
    )
    return result.rowcount == 1


# One check value per key: a KEK version's seals a random canary (AES-GCM: only the same
# key opens it), the blind-index key's is a keyed hash of a fixed label. A key that is
# well-formed but not the one this store was written with is found at start-up.
key_checks = Table(
    "key_checks",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


async def stored_checks(conn: AsyncConnection) -> dict[tuple[str, int], bytes]:
    rows = await conn.execute(select(key_checks.c.kind, key_checks.c.version, key_checks.c.value))
    return {(row.kind, row.version): row.value for row in rows}


async def add_check(
    conn: AsyncConnection, kind: str, version: int, value: bytes, now: datetime
) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(
        dialect.insert(key_checks)
        .values(kind=kind, version=version, value=value, created_at=now)
        .on_conflict_do_nothing(index_elements=["kind", "version"])
    )


async def sample_key(conn: AsyncConnection, kek_version: int) -> KeyRow | None:
    """One live data key wrapped under `kek_version`, to try the KEK on."""
    row = (
        await conn.execute(
            select(
                subject_keys.c.subject_id,
                subject_keys.c.dek_version,
                subject_keys.c.kek_version,
                subject_keys.c.wrapped_key,
            )
            .where(
                subject_keys.c.kek_version == kek_version, subject_keys.c.wrapped_key.is_not(None)
            )
            .limit(1)
        )
    ).first()
    return None if row is None else KeyRow(*row)


async def sample_identifier(conn: AsyncConnection) -> tuple[str, bytes, bytes, KeyRow] | None:
    """One identifier of a live subject, with its key row: to try the blind-index key on."""
    row = (
        await conn.execute(
            select(
                subject_identifiers.c.kind,
                subject_identifiers.c.digest,
                subject_identifiers.c.value,
                subject_keys.c.subject_id,
                subject_keys.c.dek_version,
                subject_keys.c.kek_version,
                subject_keys.c.wrapped_key,
            )
            .join(subject_keys, subject_keys.c.subject_id == subject_identifiers.c.subject_id)
            .where(subject_keys.c.wrapped_key.is_not(None))
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return row.kind, row.digest, row.value, KeyRow(*row[3:])
