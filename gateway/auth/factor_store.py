"""Second factors: the table and the statements that use it.

A factor row holds the principal's TOTP secret sealed under a KEK (never in
clear), a pending secret while a (re-)enrolment awaits its first code, the last
accepted time step (replay protection) and the failure count and lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    Table,
    Uuid,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.db import UtcDateTime, metadata

totp_factors = Table(
    "totp_factors",
    metadata,
    Column(
        "principal_id",
        Uuid,
        ForeignKey("principals.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("secret", LargeBinary, nullable=True),
    Column("secret_kek_version", Integer, nullable=True),
    Column("activated_at", UtcDateTime, nullable=True),
    Column("pending_secret", LargeBinary, nullable=True),
    Column("pending_kek_version", Integer, nullable=True),
    Column("pending_since", UtcDateTime, nullable=True),
    Column("last_step", BigInteger, nullable=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Each sealed secret column, and the column naming the KEK version that sealed it.
SEALED_COLUMNS = {"secret": "secret_kek_version", "pending_secret": "pending_kek_version"}


@dataclass(frozen=True, slots=True)
class FactorRow:
    principal_id: uuid.UUID
    secret: bytes | None
    secret_kek_version: int | None
    activated_at: datetime | None
    pending_secret: bytes | None
    pending_kek_version: int | None
    pending_since: datetime | None
    last_step: int | None
    failures: int
    locked_until: datetime | None


_FACTOR_COLUMNS = tuple(c for c in totp_factors.c if c.key != "updated_at")


async def lock_factor(conn: AsyncConnection, principal_id: uuid.UUID) -> FactorRow | None:
    """The principal's factor, locked for the rest of the transaction.

    PostgreSQL locks the row; SQLite writers already hold the database's write lock
    from BEGIN IMMEDIATE. Either way, two checks of one factor never interleave:
    a code is accepted once, and failures are counted without lost updates.
    """
    query = (
        select(*_FACTOR_COLUMNS)
        .where(totp_factors.c.principal_id == principal_id)
        .with_for_update()
    )
    row = (await conn.execute(query)).first()
    return None if row is None else FactorRow(*row)


async def read_factor(conn: AsyncConnection, principal_id: uuid.UUID) -> FactorRow | None:
    query = select(*_FACTOR_COLUMNS).where(totp_factors.c.principal_id == principal_id)
    row = (await conn.execute(query)).first()
    return None if row is None else FactorRow(*row)


async def ensure_factor(conn: AsyncConnection, principal_id: uuid.UUID, now: datetime) -> None:
    """Create the principal's (empty) factor row unless it exists; two first enrolments
    racing must not fail on the primary key."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(
        dialect_insert(totp_factors)
        .values(principal_id=principal_id, updated_at=now)
        .on_conflict_do_nothing(index_elements=["principal_id"])
    )


async def update_factor(
    conn: AsyncConnection, principal_id: uuid.UUID, now: datetime, **values: Any
) -> None:
    await conn.execute(
        update(totp_factors)
        .where(totp_factors.c.principal_id == principal_id)
        .values(updated_at=now, **values)
    )


async def delete_factor(conn: AsyncConnection, principal_id: uuid.UUID) -> bool:
    result = await conn.execute(
        delete(totp_factors).where(totp_factors.c.principal_id == principal_id)
    )
    return result.rowcount > 0


async def factors_to_rewrap(
    conn: AsyncConnection, target_version: int
) -> list[tuple[uuid.UUID, str, bytes, int]]:
    """(principal, column, sealed secret, KEK version) of every secret not under `target`."""
    found = []
    for column, version in SEALED_COLUMNS.items():
        query = (
            select(totp_factors.c.principal_id, totp_factors.c[column], totp_factors.c[version])
            .where(totp_factors.c[column].is_not(None))
            .where(totp_factors.c[version] != target_version)
            .with_for_update()
        )
        found += [(pid, column, sealed, kek) for pid, sealed, kek in await conn.execute(query)]
    return found


async def set_columns(
    conn: AsyncConnection, principal_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Change sealed secrets only: a rotation is not a use, so `updated_at` stays."""
    await conn.execute(
        update(totp_factors).where(totp_factors.c.principal_id == principal_id).values(**values)
    )


async def secret_kek_versions(conn: AsyncConnection) -> set[int]:
    versions: set[int] = set()
    for column, version in SEALED_COLUMNS.items():
        query = (
            select(totp_factors.c[version]).where(totp_factors.c[column].is_not(None)).distinct()
        )
        versions |= {int(v) for (v,) in await conn.execute(query)}
    return versions


async def count_not_under(conn: AsyncConnection, target_version: int) -> int:
    total = 0
    for column, version in SEALED_COLUMNS.items():
        query = (
            select(func.count())
            .select_from(totp_factors)
            .where(totp_factors.c[column].is_not(None))
            .where(totp_factors.c[version] != target_version)
        )
        total += int((await conn.execute(query)).scalar_one())
    return total
