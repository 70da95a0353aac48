"""The hot read path: how order reads reach the database, per backend.

Reads are single statements, so they run in autocommit mode (no BEGIN/ROLLBACK
round trips). Two implementations behind one `ReadPool` protocol:

- PostgreSQL: pooled async connections. Statements the stores mark with
  `prepared()` (fixed SQL, such as "one order by id") are compiled once and sent
  straight to asyncpg on the pooled connection; SQLAlchemy's per-execute work
  would otherwise cost about as much as the rest of the request. Dynamic
  statements (filtered lists) go through SQLAlchemy as usual.
- SQLite (the embedded default): read inline on the event loop with the sync
  driver on one long-lived connection. An indexed read in WAL mode takes tens of
  microseconds, while handing it to aiosqlite's worker thread costs about ten
  thread hand-offs (over a millisecond). Readers never wait for writers in WAL
  mode; a short busy timeout bounds how long a read may hold the loop if one
  ever does. Writes keep using the async engine.

Rows come back as mappings keyed by the statement's column labels.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy import Connection, LargeBinary, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from gateway.core.db import set_sqlite_pragmas
from gateway.core.errors import ConfigurationError

_PREPARED: dict[int, Executable] = {}


def prepared(statement: Executable) -> Executable:
    """Mark a module-level statement with fixed SQL for the driver fast path."""
    _PREPARED[id(statement)] = statement
    return statement


class Reader(Protocol):
    """One connection's worth of reads: run a statement, get its rows as mappings."""

    async def all(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Mapping[Any, Any]]: ...


class ReadPool(Protocol):
    def connect(self) -> AbstractAsyncContextManager[Reader]: ...

    async def dispose(self) -> None: ...


class AsyncReader:
    """Reads through SQLAlchemy on an async connection (also used inside write transactions)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def all(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Mapping[Any, Any]]:
        return [row._mapping for row in await self._conn.execute(statement, params)]


class _PostgresReader(AsyncReader):
    def __init__(
        self, conn: AsyncConnection, driver: Any, compiled: dict[int, tuple[str, list[str]]]
    ) -> None:
        super().__init__(conn)
        self._driver = driver
        self._compiled = compiled

    async def all(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Mapping[Any, Any]]:
        fast = self._compiled.get(id(statement))
        if fast is None:
            if id(statement) not in _PREPARED:
                return await super().all(statement, params)
            fast = self._compile(statement)
        sql, names = fast
        values = params or {}
        records: Sequence[Mapping[Any, Any]] = await self._driver.fetch(
            sql, *(values[name] for name in names)
        )
        return records

    def _compile(self, statement: Executable) -> tuple[str, list[str]]:
        dialect = self._conn.dialect
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        _refuse_processed_types(statement, compiled, dialect)
        fast = (str(compiled), list(compiled.positiontup or []))
        self._compiled[id(statement)] = fast
        return fast


def _refuse_processed_types(statement: Executable, compiled: Any, dialect: Dialect) -> None:
    """The driver path skips SQLAlchemy's type processing: allow only types that need none.

    A type may declare `driver_native_on` (dialect names) when its processing is a
    no-op for that driver (UtcDateTime on asyncpg, which returns aware UTC times).
    Anything else (a future decrypting type, say) stops the statement loudly at its
    first use instead of returning unprocessed values on one backend only.
    """
    columns = [(c.key, c.type) for c in getattr(statement, "selected_columns", ())]
    binds = [(name, bind.type) for name, bind in compiled.binds.items()]
    for name, type_ in columns + binds:
        if isinstance(type_, LargeBinary) or dialect.name in getattr(type_, "driver_native_on", ()):
            # LargeBinary's processing only turns buffers into bytes; asyncpg gives bytes.
            continue
        impl = type_.dialect_impl(dialect)
        if impl.result_processor(dialect, None) or impl.bind_processor(dialect):
            raise ConfigurationError(
                f"prepared statement uses {name!r} of type {type(type_).__name__}, which needs "
                "SQLAlchemy processing; do not mark it prepared()"
            )


class PostgresReadPool:
    def __init__(self, engine: AsyncEngine) -> None:
        # Shares the write engine's pool; autocommit only on these checkouts.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._compiled: dict[int, tuple[str, list[str]]] = {}

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Reader]:
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            yield _PostgresReader(conn, raw.driver_connection, self._compiled)

    async def dispose(self) -> None:
        """The engine is shared with writes and disposed with them."""


class _InlineReader:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def all(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Sequence[Mapping[Any, Any]]:
        return [row._mapping for row in self._conn.execute(statement, params)]


class InlineSqliteReadPool:
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
            self._engine, "connect", lambda conn, _: set_sqlite_pragmas(conn, busy_timeout_ms=250)
        )
        self._conn: Connection | None = None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Reader]:
        # Reads run to completion without yielding, so one connection serves them all.
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
    return PostgresReadPool(engine)
