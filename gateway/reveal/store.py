"""Unmask grants: the table and the statements that use it.

A grant row holds only the hash of the grant's secret, its purpose and its scope.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    ForeignKey,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    delete,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.db import UtcDateTime, metadata
from gateway.core.readpath import Reader, prepared

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
    """Remove every grant of a principal (its factor was reset); returns how many."""
    result = await conn.execute(
        delete(unmask_grants).where(unmask_grants.c.principal_id == principal_id)
    )
    return int(result.rowcount)


def _json_set(values: frozenset[str] | None) -> str | None:
    return None if values is None else json.dumps(sorted(values))


def _set_json(text: str | None) -> frozenset[str] | None:
    return None if text is None else frozenset(json.loads(text))
