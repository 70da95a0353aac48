"""Storage of each system's part of a whole-chain request (`privacy_system_steps`).

A request reaches every system of the map in a step of its own, with its own status:
`pending` (to run, at `next_attempt_at` after a failure), `waiting` (for a webhook's
callback or a person's record), `done` (with its evidence). Evidence names what was
done dataset by dataset with counts, never a personal value; what an access request
brings back is sealed under the subject's key until the export is built.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.db import UtcDateTime, metadata

PENDING, WAITING, DONE = "pending", "waiting", "done"

privacy_system_steps = Table(
    "privacy_system_steps",
    metadata,
    Column(
        "request_id",
        Uuid,
        ForeignKey("privacy_requests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("system", String(40), primary_key=True),
    Column("method", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    # Why the last attempt failed, without personal data (shown in the register).
    Column("last_error", Text, nullable=True),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("waiting_since", UtcDateTime, nullable=True),
    # Sent with every attempt: the system deduplicates on it; a callback names it.
    Column("delivery_id", Uuid, nullable=False, unique=True),
    Column("evidence", Text, nullable=True),
    Column("data_sealed", LargeBinary, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)


@dataclass(frozen=True, slots=True)
class SystemStep:
    """One system's part of one request, as stored (without its sealed data)."""

    request_id: uuid.UUID
    system: str
    method: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    waiting_since: datetime | None
    delivery_id: uuid.UUID
    evidence: dict[str, Any] | None
    updated_at: datetime


_COLUMNS = [c for c in privacy_system_steps.c if c.name != "data_sealed"]


def _step(row: Any) -> SystemStep:
    values = dict(row._mapping)
    values["evidence"] = None if values["evidence"] is None else json.loads(values["evidence"])
    return SystemStep(**values)


async def steps_of(conn: AsyncConnection, request_id: uuid.UUID) -> dict[str, SystemStep]:
    query = (
        select(*_COLUMNS)
        .where(privacy_system_steps.c.request_id == request_id)
        .order_by(privacy_system_steps.c.system)
    )
    return {row.system: _step(row) for row in await conn.execute(query)}


async def step_by_delivery(
    conn: AsyncConnection, system: str, delivery_id: uuid.UUID, *, lock: bool = False
) -> SystemStep | None:
    query = select(*_COLUMNS).where(
        privacy_system_steps.c.system == system,
        privacy_system_steps.c.delivery_id == delivery_id,
    )
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else _step(row)


async def ensure_step(
    conn: AsyncConnection, request_id: uuid.UUID, system: str, method: str, now: datetime
) -> SystemStep:
    """The system's step, created pending on first sight."""
    existing = (await steps_of(conn, request_id)).get(system)
    if existing is not None:
        return existing
    await conn.execute(
        insert(privacy_system_steps).values(
            request_id=request_id,
            system=system,
            method=method,
            status=PENDING,
            attempts=0,
            delivery_id=uuid.uuid4(),
            updated_at=now,
        )
    )
    return (await steps_of(conn, request_id))[system]


async def save_step(
    conn: AsyncConnection,
    request_id: uuid.UUID,
    system: str,
    *,
    expect: str | None = None,
    **values: Any,
) -> bool:
    """Update a step; with `expect`, only while its status is still that one (two
    answers for one step cannot both land). True when the step was updated."""
    if "evidence" in values and values["evidence"] is not None:
        values["evidence"] = json.dumps(values["evidence"], sort_keys=True, ensure_ascii=False)
    query = update(privacy_system_steps).where(
        privacy_system_steps.c.request_id == request_id,
        privacy_system_steps.c.system == system,
    )
    if expect is not None:
        query = query.where(privacy_system_steps.c.status == expect)
    result = await conn.execute(query.values(**values))
    return bool(result.rowcount)


async def sealed_data(conn: AsyncConnection, request_id: uuid.UUID) -> dict[str, bytes]:
    query = select(privacy_system_steps.c.system, privacy_system_steps.c.data_sealed).where(
        privacy_system_steps.c.request_id == request_id,
        privacy_system_steps.c.data_sealed.is_not(None),
    )
    return {row.system: row.data_sealed for row in await conn.execute(query)}


async def rerun(
    conn: AsyncConnection, request_id: uuid.UUID, systems: Collection[str], now: datetime
) -> None:
    """These systems run again (a search found the subject still there), keeping their
    evidence so the counts of both runs add up."""
    if not systems:
        return
    await conn.execute(
        update(privacy_system_steps)
        .where(
            privacy_system_steps.c.request_id == request_id,
            privacy_system_steps.c.system.in_(sorted(systems)),
        )
        .values(
            status=PENDING, attempts=0, next_attempt_at=None, waiting_since=None, updated_at=now
        )
    )


async def retry_failed(conn: AsyncConnection, request_id: uuid.UUID, now: datetime) -> int:
    """A DPO's retry: failed systems are tried again at once, from a fresh count."""
    result = await conn.execute(
        update(privacy_system_steps)
        .where(
            privacy_system_steps.c.request_id == request_id,
            privacy_system_steps.c.status == PENDING,
            privacy_system_steps.c.attempts > 0,
        )
        .values(attempts=0, next_attempt_at=None, updated_at=now)
    )
    return int(result.rowcount)


async def forget_data(conn: AsyncConnection, request_id: uuid.UUID) -> None:
    """Once in the sealed export, the systems' data is not kept a second time."""
    await conn.execute(
        update(privacy_system_steps)
        .where(privacy_system_steps.c.request_id == request_id)
        .values(data_sealed=None)
    )
