"""Database plumbing shared by every capability: metadata, types, the engine.

Tables are declared in each capability (its `store.py` or `tables.py`) on the one
`metadata` here;
the schema changes only through Alembic (`migrations/`). The engine hides bound
parameters from its error messages, because those parameters are personal data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from audit import SNAPSHOT_OPTION

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True
    # asyncpg already returns aware UTC datetimes: the read fast path may skip us there.
    driver_native_on = ("postgresql",)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    set_sqlite_pragmas(dbapi_connection, busy_timeout_ms=10_000)
    # Take over transaction control from the driver (see _begin_immediate).
    dbapi_connection.isolation_level = None


def _begin_immediate(conn: Connection) -> None:
    # Writers take SQLite's write lock when they begin, not at their first write:
    # a transaction that reads, decides and writes (linking a customer to a data
    # subject, checking a status) is then serialised, as row locks do elsewhere.
    # Long read-only passes over the audit log (verify, export) begin deferred: a
    # snapshot that blocks no writer, however long a client takes to download it.
    if conn.get_execution_options().get(SNAPSHOT_OPTION):
        conn.exec_driver_sql("BEGIN")
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def set_sqlite_pragmas(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed during a write; busy_timeout waits instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, not left in free pages: an erasure leaves no
    # readable remains in the database file (the WAL is overwritten at checkpoints).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()


def make_engine(url: str, pool_size: int = 20) -> AsyncEngine:
    """Create the async engine for `url` (already carrying an async driver)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, hide_parameters=True, pool_size=min(pool_size, 8), max_overflow=0, pool_timeout=30
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    # No overflow: connections opened past the pool size are closed again on return,
    # and under steady load that churn (connect, TLS probe, close) costs more than
    # waiting a moment for a pooled connection.
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=30,
    )
