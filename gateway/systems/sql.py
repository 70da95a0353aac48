"""The SQL connector: PostgreSQL, MySQL/MariaDB and SQLite, through SQLAlchemy.

It finds the subject's rows by the dataset's identity fields (equality on normalised
values, both sides normalised the same way: `gateway.systems.identities`), exports
them for an access request, and erases them per field treatment inside one
transaction per dataset, with counts. After erasure, `rescan` searches again: rows
still matching an identity that still hold a value the map says goes are what a
certificate must not hide. Values are bound parameters, never text in a query, a log
or an error; a driver's message can quote them, so only its type is ever shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    String,
    and_,
    cast,
    column,
    delete,
    func,
    inspect,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ColumnElement, TableClause

from gateway.systems.connector import Connections, ConnectorFailed, Job, Outcome, register
from gateway.systems.identities import PHONE_NOISE, WHITESPACE, Identities
from gateway.systems.map import Dataset, Identity, OrderSource, System

MASK = "***"  # what `erase = "mask"` writes over a value
EXPORT_ROWS = 10_000  # per dataset: an access copy larger than this is a mapping problem
_ASYNC_DRIVERS = (
    ("postgres://", "postgresql+asyncpg://"),
    ("postgresql://", "postgresql+asyncpg://"),
    ("postgresql+psycopg://", "postgresql+asyncpg://"),
    ("mysql://", "mysql+aiomysql://"),
    ("mariadb://", "mysql+aiomysql://"),
    ("mysql+pymysql://", "mysql+aiomysql://"),
    ("sqlite://", "sqlite+aiosqlite://"),
)
_DAYS_A_YEAR = 365
_BYTEWISE = frozenset({"mysql", "mariadb"})


def async_url(url: str) -> str:
    """A system's URL with the async driver the gateway ships for its database (and,
    for MySQL and MariaDB, a utf8mb4 connection, which the comparison relies on)."""
    for prefix, driver in _ASYNC_DRIVERS:
        if url.startswith(prefix):
            url = driver + url[len(prefix) :]
            break
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # refused, with the reason, when an engine is made of it
    if parsed.drivername == "mysql+aiomysql":
        url = parsed.update_query_dict({"charset": "utf8mb4"}).render_as_string(hide_password=False)
    return url


def _normalised(col: ColumnElement[Any], kind: Identity) -> ColumnElement[Any]:
    """The stored value normalised as `identities.normalise` normalises the subject's."""
    text: ColumnElement[Any] = cast(col, String)
    for ch in WHITESPACE:
        text = func.replace(text, ch, "")
    text = func.trim(text)
    if kind == "phone":
        for noise in PHONE_NOISE:
            text = func.replace(text, noise, "")
        return text
    if kind == "email":
        return func.lower(text)
    if kind == "resident_id":
        return func.upper(text)
    return text


def _equal_to(value: ColumnElement[Any], forms: Sequence[str], dialect: str) -> ColumnElement[bool]:
    """`value` is one of `forms`, compared byte for byte on MySQL and MariaDB: their
    default collations ignore case and accents, so `zhängsan@` would equal `zhangsan@`
    and a stranger's row would go. The connection speaks utf8mb4 (`async_url`), and
    the stored text is cast to the connection's character set, so its binary
    collation applies whatever the column's own is."""
    if dialect in _BYTEWISE:
        return value.collate("utf8mb4_bin").in_(forms)
    return value.in_(forms)


def _table(name: str, dataset: Dataset) -> TableClause:
    return table(name, *(column(f.name) for f in dataset.fields))


def identity_equals(
    col: ColumnElement[Any], kind: Identity, forms: Sequence[str], dialect: str
) -> ColumnElement[bool]:
    """`col`, normalised as a value of `kind` is, equals one of `forms` (normalised)."""
    return _equal_to(_normalised(col, kind), forms, dialect)


def match(
    t: TableClause, dataset: Dataset, ids: Identities, dialect: str
) -> ColumnElement[bool] | None:
    """Rows naming the subject by any identity the dataset has and the request knows."""
    clauses = [
        _equal_to(_normalised(t.c[f.name], f.identifies), sorted(ids.values[f.identifies]), dialect)
        for f in dataset.identities
        if f.identifies is not None and ids.values.get(f.identifies)
    ]
    return or_(*clauses) if clauses else None


def still_holding(t: TableClause, dataset: Dataset) -> ColumnElement[bool] | None:
    """Rows in which a value the map says goes is still there (None: the whole row
    goes, so any matching row still holds the subject)."""
    if any(f.erase == "delete_row" for f in dataset.fields):
        return None
    held: list[ColumnElement[bool]] = [
        t.c[f.name].is_not(None) for f in dataset.fields if f.erase == "null"
    ]
    held += [
        and_(t.c[f.name].is_not(None), cast(t.c[f.name], String) != MASK)
        for f in dataset.fields
        if f.erase == "mask"
    ]
    return or_(*held) if held else None


def _plain(value: Any) -> Any:
    """A database value as JSON can carry it."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


class SqlConnector:
    """One system reached through its own database."""

    method = "sql"

    def __init__(self, key: str, system: System, connections: Connections) -> None:
        self._key = key
        self._system = system
        self._connections = connections

    def _engine(self) -> AsyncEngine:
        url = async_url(self._connections.url(self._key))
        try:
            return create_async_engine(url, poolclass=NullPool)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise ConnectorFailed(
                f"the connection URL of {self._key!r} is not usable ({type(exc).__name__})",
                retry=False,
            ) from None

    async def _each(self, job: Job, fn: Any, *, erasing: bool = False) -> dict[str, Any]:
        """Run `fn(conn, name, dataset)` for every dataset, one transaction each. When
        erasing, a failure carries what the datasets before it did (committed)."""
        engine = self._engine()
        results: dict[str, Any] = {}
        try:
            for name, dataset in self._system.datasets.items():
                async with engine.begin() as conn:
                    results[name] = await fn(conn, name, dataset, job)
        except (SQLAlchemyError, OSError) as exc:
            done = {"method": self.method, "datasets": dict(results)} if erasing else None
            reached = isinstance(exc, SQLAlchemyError)
            raise ConnectorFailed(
                f"{self._key!r}: the database refused or could not be reached "
                f"({type(exc).__name__})"
                if reached
                else f"{self._key!r}: could not connect ({type(exc).__name__})",
                evidence=done if results else None,
            ) from None
        finally:
            await engine.dispose()
        return results

    async def erase(self, job: Job) -> Outcome:
        datasets = await self._each(job, self._erase_dataset, erasing=True)
        return Outcome("done", {"method": self.method, "datasets": datasets})

    async def _erase_dataset(
        self, conn: AsyncConnection, name: str, dataset: Dataset, job: Job
    ) -> dict[str, Any]:
        t = _table(name, dataset)
        mine = match(t, dataset, job.identities, conn.dialect.name)
        if mine is None:
            return _nothing(dataset, "no identity of this dataset is known for the subject")
        found = await _count(conn, t, mine)
        holding = still_holding(t, dataset)
        deleted = anonymised = 0
        if any(f.erase == "delete_row" for f in dataset.fields):
            deleted = int((await conn.execute(delete(t).where(mine))).rowcount)
        elif holding is not None:
            values: dict[str, Any] = {f.name: None for f in dataset.fields if f.erase == "null"}
            values |= {f.name: MASK for f in dataset.fields if f.erase == "mask"}
            result = await conn.execute(update(t).where(mine, holding).values(**values))
            anonymised = int(result.rowcount)
        return {
            "rows_found": found,
            "deleted": deleted,
            "anonymised": anonymised,
            "kept": _kept(dataset, found - deleted, job),
            "untreated": sorted(f.name for f in dataset.fields if f.erase is None),
        }

    async def export(self, job: Job) -> Outcome:
        found = await self._each(job, self._export_dataset)
        data = {name: rows for name, (rows, _) in found.items()}
        evidence = {
            "method": self.method,
            "datasets": {
                name: {"rows": len(rows), "truncated": cut} for name, (rows, cut) in found.items()
            },
        }
        return Outcome("done", evidence, data)

    async def _export_dataset(
        self, conn: AsyncConnection, name: str, dataset: Dataset, job: Job
    ) -> tuple[list[dict[str, Any]], bool]:
        t = _table(name, dataset)
        mine = match(t, dataset, job.identities, conn.dialect.name)
        if mine is None:
            return [], False
        rows = (await conn.execute(select(t).where(mine).limit(EXPORT_ROWS + 1))).mappings().all()
        return [{k: _plain(v) for k, v in row.items()} for row in rows[:EXPORT_ROWS]], len(
            rows
        ) > EXPORT_ROWS

    async def rescan(self, job: Job) -> dict[str, int] | None:
        return await self._each(job, self._rescan_dataset)

    async def _rescan_dataset(
        self, conn: AsyncConnection, name: str, dataset: Dataset, job: Job
    ) -> int:
        t = _table(name, dataset)
        mine = match(t, dataset, job.identities, conn.dialect.name)
        if mine is None:
            return 0
        holding = still_holding(t, dataset)
        if holding is None and not any(f.erase == "delete_row" for f in dataset.fields):
            return 0  # nothing in it goes: kept whole under its rules
        where = mine if holding is None else and_(mine, holding)
        return await _count(conn, t, where)

    async def check(self) -> list[str]:
        """Every table and column the map names, against the live schema (read only)."""
        try:
            engine = self._engine()
        except ConnectorFailed as exc:
            return [exc.reason]
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(self._check_schema)
        except (SQLAlchemyError, OSError) as exc:
            return [f"could not connect ({type(exc).__name__})"]
        finally:
            await engine.dispose()

    def _check_schema(self, conn: Any) -> list[str]:
        inspector = inspect(conn)
        problems: list[str] = []
        for name, dataset in self._system.datasets.items():
            try:
                columns = {c["name"]: c for c in inspector.get_columns(name)}
            except NoSuchTableError:
                problems.append(f"dataset {name!r}: no table {name!r}")
                continue
            for f in dataset.fields:
                col = columns.get(f.name)
                if col is None:
                    problems.append(f"dataset {name!r}: table {name!r} has no column {f.name!r}")
                elif f.erase == "null" and not col.get("nullable", True):
                    problems.append(
                        f"dataset {name!r}: column {f.name!r} is NOT NULL, so it cannot be "
                        'erased with erase = "null" (use "mask" or "delete_row")'
                    )
        if self._system.orders is not None:
            problems += _check_source(inspector, self._system.orders)
        return problems

    async def close(self) -> None:
        return None


def _check_source(inspector: Any, source: OrderSource) -> list[str]:
    """The order source's tables and columns (read-through) against the live schema."""
    wanted: dict[str, set[str]] = {source.table: {source.key, *source.hidden_when}}
    for column_name in source.columns.values():
        table_name, _, name = column_name.rpartition(".")
        if table_name and source.customers is not None:
            wanted.setdefault(source.customers.table, set()).add(name)
        else:
            wanted[source.table].add(name)
    if source.customers is not None:
        wanted[source.table].add(source.customers.order_column)
        wanted.setdefault(source.customers.table, set()).add(source.customers.key)
    if source.lines is not None:
        lines = {source.lines.order_column, source.lines.order_by, *source.lines.columns.values()}
        wanted.setdefault(source.lines.table, set()).update(lines)
    problems = []
    for table_name, names in wanted.items():
        try:
            present = {c["name"] for c in inspector.get_columns(table_name)}
        except NoSuchTableError:
            problems.append(f"orders: no table {table_name!r}")
            continue
        problems += [
            f"orders: table {table_name!r} has no column {name!r}"
            for name in sorted(names - present)
        ]
    return problems


async def _count(conn: AsyncConnection, t: TableClause, where: ColumnElement[bool]) -> int:
    return int((await conn.execute(select(func.count()).select_from(t).where(where))).scalar_one())


def _latest_end(job: Job, years: int) -> str:
    """The latest day a row kept now can be kept to: a rule counts from the record's own
    date, which is no later than today."""
    return (job.now + timedelta(days=_DAYS_A_YEAR * years)).date().isoformat()


def _nothing(dataset: Dataset, why: str) -> dict[str, Any]:
    return {
        "rows_found": 0,
        "deleted": 0,
        "anonymised": 0,
        "kept": [],
        "untreated": sorted(f.name for f in dataset.fields if f.erase is None),
        "skipped": why,
    }


def _kept(dataset: Dataset, rows: int, job: Job) -> list[dict[str, Any]]:
    """What stays under a retention rule, by rule: its fields, rows and the latest end."""
    by_rule: dict[str, list[str]] = {}
    for f in dataset.fields:
        if f.erase == "keep" and f.rule is not None:
            by_rule.setdefault(f.rule, []).append(f.name)
    years = job.rule_years
    return [
        {
            "rule": rule,
            "fields": sorted(fields),
            "records": max(rows, 0),
            "until": _latest_end(job, years[rule]) if rule in years else None,
        }
        for rule, fields in sorted(by_rule.items())
    ]


@register("sql")
def _sql(key: str, system: System, connections: Connections) -> SqlConnector:
    return SqlConnector(key, system, connections)
