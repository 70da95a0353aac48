"""Reading an existing order store through its mapping (`[systems.<key>.orders]`).

Read only: every statement here is a SELECT, with the store's names from the reviewed
map (checked to be plain identifiers at start-up) and every value a bound parameter.
An order is the orders row, its customer (left join) and its lines; a page is keyset
ordered by (created time, key), newest first, as the gateway's own store pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    Result,
    String,
    and_,
    cast,
    column,
    create_engine,
    func,
    or_,
    select,
    table,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable, Select, TableClause

from gateway.systems import Identity, OrderSource, identity_equals

_CUSTOMERS = "customers."
_LINE = "_line:"  # the labels of the lines' columns in a joined read
_POOL = 8


class Conn(Protocol):
    """What the reader needs of a connection: run a SELECT, know the dialect."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable) -> Result[Any]: ...


class _Inline:
    """A sync SQLite connection read inline on the event loop: an indexed read takes
    microseconds, a hop to aiosqlite's thread a millisecond (`gateway.core.readpath`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Executable) -> Result[Any]:
        return self._conn.execute(statement)


class StorePool:
    """Connections to the store, read only: SQLite opened read-only (`mode=ro`, which
    also leaves its journal mode alone), a server in autocommit (no BEGIN/ROLLBACK
    round trips for single SELECTs)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self._sync: Engine | None = None
        self._async: AsyncEngine | None = None
        if parsed.get_backend_name() == "sqlite":
            path = parsed.database or ""
            self._sync = create_engine(
                f"sqlite:///file:{path}?mode=ro&uri=true",
                isolation_level="AUTOCOMMIT",
                connect_args={"check_same_thread": False},
            )
        else:
            self._async = create_async_engine(
                url, isolation_level="AUTOCOMMIT", pool_size=_POOL, max_overflow=0
            )
        self._conn: Connection | None = None

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Conn]:
        if self._async is not None:
            async with self._async.connect() as conn:
                yield conn
            return
        assert self._sync is not None  # noqa: S101 - one of the two is set
        if self._conn is None or self._conn.invalidated or self._conn.closed:
            self._conn = self._sync.connect()
        yield _Inline(self._conn)

    async def dispose(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._sync is not None:
            self._sync.dispose()
        if self._async is not None:
            await self._async.dispose()


@dataclass(frozen=True, slots=True)
class Filters:
    """A list's filters in the store's own terms (statuses already translated)."""

    statuses: tuple[str, ...] | None = None  # None: any
    channel: str | None = None
    region: str | None = None
    created_from: datetime | None = None  # in the store's zone, without one
    created_to: datetime | None = None


class StoreReader:
    """SELECTs over one existing store's orders, customers and lines."""

    def __init__(self, source: OrderSource) -> None:
        self.source = source
        cols = {c.split(".", 1)[1] for c in source.columns.values() if c.startswith(_CUSTOMERS)}
        names = {c for c in source.columns.values() if not c.startswith(_CUSTOMERS)}
        names |= {source.key, *source.hidden_when}
        if source.customers is not None:
            names.add(source.customers.order_column)
        created = source.columns["created_at"]
        typed = {created: DateTime()} if not created.startswith(_CUSTOMERS) else {}
        self._orders = table(source.table, *(column(n, typed.get(n)) for n in sorted(names)))
        self._customers: TableClause | None = None
        if source.customers is not None:
            cols.add(source.customers.key)
            self._customers = table(source.customers.table, *(column(n) for n in sorted(cols)))
        self._lines: TableClause | None = None
        if source.lines is not None:
            line_cols = {*source.lines.columns.values(), source.lines.order_column}
            line_cols.add(source.lines.order_by)
            self._lines = table(source.lines.table, *(column(n) for n in sorted(line_cols)))

        # Built once: statements are immutable, each read only adds its WHERE.
        self._base = self._select()
        self._joined = self._select(with_lines=True)

    def col(self, path: str) -> ColumnElement[Any]:
        """The column a document path is read from."""
        name = self.source.columns[path]
        if name.startswith(_CUSTOMERS):
            assert self._customers is not None  # noqa: S101 - checked at start-up
            return self._customers.c[name.removeprefix(_CUSTOMERS)]
        return self._orders.c[name]

    @property
    def key(self) -> ColumnElement[Any]:
        return self._orders.c[self.source.key]

    def _select(self, *, with_lines: bool = False) -> Select[Any]:
        """The orders (and customers) SELECT; `with_lines`: their lines joined too, a
        row per line (one round trip for one order, as the own store reads it)."""
        fields = [self.col(path).label(path) for path in self.source.columns]
        query = select(self.key.label("_key"), *fields)
        joined: Any = self._orders
        if self._customers is not None and self.source.customers is not None:
            query = query.add_columns(
                self._customers.c[self.source.customers.key].label("_customer")
            )
            on = (
                self._orders.c[self.source.customers.order_column]
                == (self._customers.c[self.source.customers.key])
            )
            joined = joined.outerjoin(self._customers, on)
        if with_lines and self._lines is not None and self.source.lines is not None:
            spec = self.source.lines
            owner = self._lines.c[spec.order_column]
            joined = joined.outerjoin(self._lines, owner == self.key)
            query = query.add_columns(
                owner.label(_LINE + "_order"),
                *(self._lines.c[c].label(_LINE + name) for name, c in spec.columns.items()),
            ).order_by(self.key, self._lines.c[spec.order_by])
        query = query.select_from(joined)
        for name, value in self.source.hidden_when.items():
            c = self._orders.c[name]
            query = query.where(or_(c.is_(None), c != value))
        return query

    def _scoped(self, query: Select[Any], region: str | None, dialect: str) -> Select[Any]:
        if region is None:
            return query
        return query.where(_same(self.col("region"), region, dialect))

    async def fetch(
        self, conn: Conn, keys: Sequence[int], region: str | None
    ) -> list[dict[str, Any]]:
        """The orders with these keys within the row scope, each with its lines (one
        statement: the lines joined, folded back into their orders here)."""
        if self._lines is None:
            query = self._scoped(
                self._base.where(self.key.in_(list(keys))), region, conn.dialect.name
            )
            return await self._with_lines(
                conn, [dict(r) for r in (await conn.execute(query)).mappings()]
            )
        query = self._joined.where(self.key.in_(list(keys)))
        query = self._scoped(query, region, conn.dialect.name)
        orders: dict[Any, dict[str, Any]] = {}
        for found in (await conn.execute(query)).mappings():
            values = dict(found)
            line = {
                k.removeprefix(_LINE): values.pop(k) for k in list(values) if k.startswith(_LINE)
            }
            order = orders.setdefault(values["_key"], {**values, "items": []})
            if line.pop("_order") is not None:
                order["items"].append(line)
        return list(orders.values())

    async def key_by_number(self, conn: Conn, channel: str, external_id: str) -> int | None:
        dialect = conn.dialect.name
        query = self._base.where(
            _same(self.col("channel"), channel, dialect),
            _same(self.col("external_id"), external_id, dialect),
        )
        row = (await conn.execute(query.limit(1))).mappings().first()
        return None if row is None else int(row["_key"])

    async def page(
        self,
        conn: Conn,
        filters: Filters,
        region: str | None,
        limit: int,
        after: tuple[datetime, int] | None,
        match: ColumnElement[bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Up to `limit` orders, newest first, after the cursor's (time, key)."""
        created = self.col("created_at")
        dialect = conn.dialect.name
        query = self._scoped(self._base, region, dialect)
        conditions = list(self._conditions(filters, dialect))
        if match is not None:
            conditions.append(match)
        if after is not None:
            at, key = after
            conditions.append(or_(created < at, and_(created == at, self.key < key)))
        if conditions:
            query = query.where(*conditions)
        query = query.order_by(created.desc(), self.key.desc()).limit(limit)
        rows = [dict(r) for r in (await conn.execute(query)).mappings()]
        return await self._with_lines(conn, rows)

    def _conditions(self, f: Filters, dialect: str) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if f.statuses is not None:
            found.append(_one_of(self.col("status"), f.statuses, dialect))
        if f.channel is not None:
            found.append(_same(self.col("channel"), f.channel, dialect))
        if f.region is not None:
            found.append(_same(self.col("region"), f.region, dialect))
        if f.created_from is not None:
            found.append(self.col("created_at") >= f.created_from)
        if f.created_to is not None:
            found.append(self.col("created_at") < f.created_to)
        return found

    def identifies(
        self,
        path: str,
        kind: Identity,
        forms: Sequence[str],
        dialect: str,
        vaulted: tuple[Sequence[int], Sequence[int]] = ((), ()),
    ) -> ColumnElement[bool] | None:
        """The orders whose `path` (the customer's phone, e-mail or resident id) is one
        of `forms` (None: that field is not mapped, so no order is found by it), or
        whose customer (or the order itself) is one of `vaulted`'s (customer keys,
        order keys): rows whose value the vault holds, found by its blind index."""
        if path not in self.source.columns:
            return None
        found = [identity_equals(self.col(path), kind, forms, dialect)] if forms else []
        customers, orders = vaulted
        if customers and self._customers is not None and self.source.customers is not None:
            found.append(self._customers.c[self.source.customers.key].in_(list(customers)))
        if orders:
            found.append(self.key.in_(list(orders)))
        return or_(*found) if found else None

    async def _with_lines(self, conn: Conn, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not rows:
            return rows
        if self._lines is None or self.source.lines is None:
            for row in rows:
                row["items"] = []
            return rows
        spec = self.source.lines
        owner = self._lines.c[spec.order_column]
        fields = [self._lines.c[c].label(name) for name, c in spec.columns.items()]
        query = (
            select(owner.label("_order"), *fields)
            .where(owner.in_([row["_key"] for row in rows]))
            .order_by(owner, self._lines.c[spec.order_by])
        )
        lines: dict[Any, list[dict[str, Any]]] = {}
        for line in (await conn.execute(query)).mappings():
            item = dict(line)
            lines.setdefault(item.pop("_order"), []).append(item)
        for row in rows:
            row["items"] = lines.get(row["_key"], [])
        return rows


def _same(col: ColumnElement[Any], value: str, dialect: str) -> ColumnElement[bool]:
    """`col` is exactly `value`. MySQL's and MariaDB's default collations ignore case,
    accents and trailing spaces, so `NORTH`, `Nörth` or `north ` would pass a `north`
    scope: there the text (cast to the connection's utf8mb4) is compared in its binary
    collation, and its length too (binary collations still pad)."""
    if dialect not in {"mysql", "mariadb"}:
        return col == value
    text = cast(col, String)
    return and_(text.collate("utf8mb4_bin") == value, func.char_length(text) == len(value))


def _one_of(col: ColumnElement[Any], values: Sequence[str], dialect: str) -> ColumnElement[bool]:
    if dialect not in {"mysql", "mariadb"}:
        return col.in_(list(values))
    return or_(*(_same(col, v, dialect) for v in values))


def statuses_of(source: OrderSource, status: str) -> tuple[str, ...]:
    """The store's values that mean the gateway's `status`."""
    if not source.statuses:
        return (status,)
    return tuple(sorted(k for k, v in source.statuses.items() if v == status))


def status_of(source: OrderSource, value: Any) -> Any:
    mapping: Mapping[str, str] = source.statuses
    return mapping.get(str(value), value) if mapping else value
