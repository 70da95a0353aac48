"""Database plumbing shared by every capability: metadata, types, the engine.

Tables are declared in each capability's `store.py` on the one `metadata` here;
the schema changes only through Alembic (`migrations/`). The engine hides bound
parameters from its error messages, because those parameters are personal data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, DateTime, MetaData, Row, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeDecorator

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
    _set_pragmas(dbapi_connection, busy_timeout_ms=10_000)


def _set_pragmas(dbapi_connection: Any, busy_timeout_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed during a write; busy_timeout waits instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()


def make_engine(url: str, pool_size: int = 20) -> AsyncEngine:
    """Create the async engine for `url` (already carrying an async driver)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, hide_parameters=True, pool_size=min(pool_size, 8), max_overflow=0, pool_timeout=30
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
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


# --- the read path -------------------------------------------------------------------


class Reader(Protocol):
    """One connection's worth of reads: run a statement, get its rows."""

    async def all(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Row[Any]]: ...


class ReadPool(Protocol):
    """Where the hot read path gets its connections; differs per database."""

    def connect(self) -> Any:  # an async context manager yielding a Reader
        ...

    async def dispose(self) -> None: ...


class AsyncReader:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def all(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Row[Any]]:
        return (await self._conn.execute(statement, params)).all()


class _InlineReader:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def all(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Row[Any]]:
        return self._conn.execute(statement, params).all()


class AsyncReadPool:
    """PostgreSQL: pooled async connections in autocommit mode.

    Reads are single statements, so autocommit spares a BEGIN and a ROLLBACK
    round trip per request.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Reader]:
        async with self._engine.connect() as conn:
            yield AsyncReader(conn)

    async def dispose(self) -> None:
        """The engine is shared with writes and disposed with them."""


class InlineSqliteReadPool:
    """The embedded SQLite store, read inline on the event loop with the sync driver.

    An indexed SQLite read takes tens of microseconds; handing it to aiosqlite's
    worker thread costs about ten thread hand-offs (over a millisecond) per read.
    Reads run to completion without yielding to the loop, so one long-lived
    autocommit connection serves them all. WAL mode means readers never wait for
    writers, and a short busy timeout bounds how long a read may hold the loop in
    the rare case that they do. Writes keep using the async engine.
    """

    def __init__(self, async_url: str) -> None:
        url = async_url.replace("sqlite+aiosqlite://", "sqlite://", 1)
        self._engine = create_engine(
            url,
            hide_parameters=True,
            isolation_level="AUTOCOMMIT",
            # Used only from the event loop's thread, which may not be the creating one.
            connect_args={"check_same_thread": False},
        )
        event.listen(
            self._engine, "connect", lambda conn, _: _set_pragmas(conn, busy_timeout_ms=250)
        )
        self._conn: Connection | None = None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Reader]:
        if self._conn is None or self._conn.invalidated or self._conn.closed:
            self._conn = self._engine.connect()
        yield _InlineReader(self._conn)

    async def dispose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._engine.dispose()


def make_read_pool(url: str, engine: AsyncEngine) -> ReadPool:
    if url.startswith("sqlite"):
        return InlineSqliteReadPool(url)
    return AsyncReadPool(engine)
