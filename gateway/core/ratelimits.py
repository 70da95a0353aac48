"""Hourly counters in the database, shared by every gateway process: a leaf module.

Keys are opaque bytes (keyed hashes of addresses or contacts, or principal ids), never a
value in clear. The privacy routes count per address and contact; order search counts
per principal. Old windows are deleted by the privacy sweeper.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import Column, Integer, LargeBinary, String, Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.db import UtcDateTime, metadata

__all__ = ["forget_hits", "forget_key", "hit", "rate_limits", "retry_after", "window_start"]

HOUR = timedelta(hours=1)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("key", LargeBinary(16), primary_key=True),
    Column("window_start", UtcDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
)


def window_start(now: datetime) -> datetime:
    """The hourly window `now` falls in."""
    return now.replace(minute=0, second=0, microsecond=0)


def retry_after(now: datetime) -> int:
    """Seconds until the next window, for Retry-After (at least 1)."""
    return max(1, math.ceil((window_start(now) + HOUR - now).total_seconds()))


async def hit(conn: AsyncConnection, scope: str, key: bytes, window_start: datetime) -> int:
    """Count one more use of `key` in the window; returns the count including this one."""
    values = {"scope": scope, "key": key, "window_start": window_start, "count": 1}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(rate_limits).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["scope", "key", "window_start"],
        set_={"count": rate_limits.c.count + 1},
    ).returning(rate_limits.c.count)
    return int((await conn.execute(statement)).scalar_one())


async def forget_hits(conn: AsyncConnection, before: datetime) -> int:
    result = await conn.execute(delete(rate_limits).where(rate_limits.c.window_start < before))
    return int(result.rowcount)


async def forget_key(conn: AsyncConnection, key: bytes) -> int:
    result = await conn.execute(delete(rate_limits).where(rate_limits.c.key == key))
    return int(result.rowcount)
