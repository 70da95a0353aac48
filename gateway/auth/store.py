"""Principals: the apps and operators that call the gateway with their hashed tokens, and
the people and apps an identity provider vouches for (no token here: theirs is the
provider's). A person's row holds their issuer, subject and display name for the
DPO's look-up; the log names them only by the row's pseudonymous `name`."""

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
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(50), nullable=False),
    Column("region", String(32), nullable=True),
    Column("channel", String(32), nullable=True),
    # Public half of the token, used to find the row; the secret half is only hashed.
    Column("token_id", String(32), nullable=True, unique=True),
    Column("token_hash", LargeBinary(32), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    # `service` (a gateway token), `person` or `app` (vouched for by an identity provider).
    Column("kind", String(16), nullable=False, server_default="service"),
    Column("issuer", String(32), nullable=True),  # the issuer's name in identity.toml
    Column("subject", String(255), nullable=True),  # the provider's `sub`
    Column("display_name", String(200), nullable=True),  # never in the log
    Column("updated_at", UtcDateTime, nullable=True),
)


@dataclass(frozen=True, slots=True)
class PrincipalRecord:
    id: uuid.UUID
    name: str
    role: str
    region: str | None
    channel: str | None
    token_hash: bytes | None
    created_at: datetime
    revoked_at: datetime | None
    kind: str = "service"


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
    principals.c.kind,
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


@dataclass(frozen=True, slots=True)
class StaffRow:
    """A person's or an identity provider's app's row, as the DPO's look-up shows it."""

    id: uuid.UUID
    name: str
    kind: str
    role: str
    region: str | None
    channel: str | None
    issuer: str | None
    subject: str | None
    display_name: str | None
    created_at: datetime
    updated_at: datetime | None
    revoked_at: datetime | None


_STAFF_COLUMNS = (
    principals.c.id,
    principals.c.name,
    principals.c.kind,
    principals.c.role,
    principals.c.region,
    principals.c.channel,
    principals.c.issuer,
    principals.c.subject,
    principals.c.display_name,
    principals.c.created_at,
    principals.c.updated_at,
    principals.c.revoked_at,
)
_STAFF_BY_NAME = prepared(select(*_STAFF_COLUMNS).where(principals.c.name == bindparam("name")))


async def find_staff(reader: Reader, name: str) -> StaffRow | None:
    """Through the read path: every person's first request in a while looks here."""
    rows = await reader.all(_STAFF_BY_NAME, {"name": name})
    if not rows:
        return None
    row = rows[0]
    return StaffRow(**{c.key: row[c.key] for c in _STAFF_COLUMNS})


async def insert_staff(conn: AsyncConnection, row: StaffRow) -> None:
    await conn.execute(
        insert(principals).values({c.key: getattr(row, c.key) for c in _STAFF_COLUMNS})
    )


async def update_staff(
    conn: AsyncConnection,
    name: str,
    *,
    role: str,
    region: str | None,
    channel: str | None,
    display_name: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        update(principals)
        .where(principals.c.name == name)
        .values(
            role=role, region=region, channel=channel, display_name=display_name, updated_at=now
        )
    )


async def list_staff(conn: AsyncConnection, name: str | None = None) -> list[StaffRow]:
    query = select(*_STAFF_COLUMNS).where(principals.c.kind != "service")
    if name is not None:
        query = query.where(principals.c.name == name)
    rows = await conn.execute(query.order_by(principals.c.name))
    return [StaffRow(**row._mapping) for row in rows]
