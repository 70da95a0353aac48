"""Second factors and unmask grants: their tables and the statements that use them.

A factor row holds the principal's TOTP secret sealed under a KEK (never in
clear), a pending secret while a (re-)enrolment awaits its first code, the last
accepted time step (replay protection) and the failure count and lock. A grant
row holds only the hash of the grant's secret, its purpose and its scope.
"""

from __future__ import annotations

import json
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
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db import UtcDateTime, metadata
from gateway.readpath import Reader, prepared

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

unmask_grants = Table(
    "unmask_grants",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "principal_id",
        Uuid,
        ForeignKey("principals.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("purpose", String(500), nullable=False),
    # JSON arrays; NULL means "every order the role may read" / "every revealable field".
    Column("order_ids", Text, nullable=True),
    Column("fields", Text, nullable=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
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


# --- grants --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantRow:
    id: uuid.UUID
    principal_id: uuid.UUID
    secret_hash: bytes
    purpose: str
    order_ids: frozenset[str] | None
    fields: frozenset[str] | None
    issued_at: datetime
    expires_at: datetime


async def insert_grant(conn: AsyncConnection, grant: GrantRow) -> None:
    await conn.execute(
        insert(unmask_grants).values(
            id=grant.id,
            principal_id=grant.principal_id,
            secret_hash=grant.secret_hash,
            purpose=grant.purpose,
            order_ids=_json_set(grant.order_ids),
            fields=_json_set(grant.fields),
            issued_at=grant.issued_at,
            expires_at=grant.expires_at,
        )
    )


_GRANT_COLUMNS = tuple(unmask_grants.c)
_GRANT_BY_ID = prepared(select(*_GRANT_COLUMNS).where(unmask_grants.c.id == bindparam("grant_id")))


async def find_grant(reader: Reader, grant_id: uuid.UUID) -> GrantRow | None:
    rows = await reader.all(_GRANT_BY_ID, {"grant_id": grant_id})
    if not rows:
        return None
    row = {c.key: rows[0][c.key] for c in _GRANT_COLUMNS}
    row["order_ids"] = _set_json(row["order_ids"])
    row["fields"] = _set_json(row["fields"])
    return GrantRow(**row)


async def delete_grants_of(conn: AsyncConnection, principal_id: uuid.UUID) -> int:
    result = await conn.execute(
        delete(unmask_grants).where(unmask_grants.c.principal_id == principal_id)
    )
    return int(result.rowcount)


def _json_set(values: frozenset[str] | None) -> str | None:
    return None if values is None else json.dumps(sorted(values))


def _set_json(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(json.loads(text))
