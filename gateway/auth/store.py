"""Principals: the apps and operators that call the gateway, and their hashed tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    LargeBinary,
    String,
    Table,
    Uuid,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.db import UtcDateTime, metadata
from gateway.core.readpath import Reader, prepared

principals = Table(
    "principals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(50), nullable=False),
    Column("region", String(32), nullable=True),
    Column("channel", String(32), nullable=True),
    # Public half of the token, used to find the row; the secret half is only hashed.
    Column("token_id", String(32), nullable=False, unique=True),
    Column("token_hash", LargeBinary(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)


@dataclass(frozen=True, slots=True)
class PrincipalRecord:
    id: uuid.UUID
    name: str
    role: str
    region: str | None
    channel: str | None
    token_hash: bytes
    created_at: datetime
    revoked_at: datetime | None


async def insert_principal(
    conn: AsyncConnection,
    *,
    name: str,
    role: str,
    region: str | None,
    channel: str | None,
    token_id: str,
    token_hash: bytes,
    now: datetime,
) -> uuid.UUID:
    principal_id = uuid.uuid4()
    await conn.execute(
        insert(principals).values(
            id=principal_id,
            name=name,
            role=role,
            region=region,
            channel=channel,
            token_id=token_id,
            token_hash=token_hash,
            created_at=now,
        )
    )
    return principal_id


_COLUMNS = (
    principals.c.id,
    principals.c.name,
    principals.c.role,
    principals.c.region,
    principals.c.channel,
    principals.c.token_hash,
    principals.c.created_at,
    principals.c.revoked_at,
)


_BY_TOKEN_ID = prepared(select(*_COLUMNS).where(principals.c.token_id == bindparam("token_id")))


async def find_by_token_id(reader: Reader, token_id: str) -> PrincipalRecord | None:
    """Through the read path: a token look-up must never wait for writers."""
    rows = await reader.all(_BY_TOKEN_ID, {"token_id": token_id})
    if not rows:
        return None
    row = rows[0]
    return PrincipalRecord(*(row[c.key] for c in _COLUMNS))


async def list_principals(conn: AsyncConnection) -> list[PrincipalRecord]:
    rows = await conn.execute(select(*_COLUMNS).order_by(principals.c.name))
    return [PrincipalRecord(*row) for row in rows]


async def find_id_by_name(conn: AsyncConnection, name: str) -> uuid.UUID | None:
    query = select(principals.c.id).where(principals.c.name == name)
    return (await conn.execute(query)).scalar_one_or_none()


async def revoke(conn: AsyncConnection, name: str, now: datetime) -> bool:
    result = await conn.execute(
        update(principals)
        .where(principals.c.name == name, principals.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount > 0


async def count_principals(conn: AsyncConnection) -> int:
    """How many principals exist, revoked ones included (the demo seeds only an empty store)."""
    return int((await conn.execute(select(func.count()).select_from(principals))).scalar_one())
