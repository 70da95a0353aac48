"""The existing store's side of the vault: reading a table in key order and writing
tokens (or values) back, each write conditional on the cell still holding what was
read, so a change the store's own system makes meanwhile is never overwritten.

Names come from the reviewed map (plain identifiers); values are bound parameters.
On MySQL and MariaDB the condition compares bytes (their default collations ignore
case and trailing spaces, and `JOHN` is not `John`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    String,
    and_,
    cast,
    column,
    func,
    inspect,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import TableClause

from gateway.vault.plan import PATH_KINDS, TablePlan, VaultPlan
from gateway.vault.tokens import LENGTH

_BYTEWISE = frozenset({"mysql", "mariadb"})
CONTACT = "_contact:"  # labels of the customer's contact cells joined to an orders row


def _same(col: ColumnElement[Any], value: Any, dialect: str) -> ColumnElement[bool]:
    if value is None:
        return col.is_(None)
    if dialect not in _BYTEWISE or not isinstance(value, str):
        same: ColumnElement[bool] = col == value
        return same
    text = cast(col, String)
    return and_(text.collate("utf8mb4_bin") == value, func.char_length(text) == len(value))


class ExistingTable:
    """One vaulted table of the existing store."""

    def __init__(self, plan: VaultPlan, t: TablePlan) -> None:
        self.plan = plan
        self.spec = t
        names = {t.key, *(c.column for c in t.cells)}
        if t.watermark:
            names.add(t.watermark)
        source = plan.source
        self.ref: str | None = None
        self.customer: str | None = None
        self.channel: str | None = None
        if not t.customers:
            self.ref = source.columns.get("external_id")
            if self.ref:
                names.add(self.ref)
            channel = source.columns.get("channel")
            if channel and not channel.startswith("customers."):
                self.channel = channel
                names.add(channel)
            if source.customers is not None:
                self.customer = source.customers.order_column
                names.add(self.customer)
        self.created: str | None = None
        if not t.customers and not source.columns["created_at"].startswith("customers."):
            self.created = source.columns["created_at"]
            names.add(self.created)
        typed: dict[str, Any] = {t.key: BigInteger()}
        for name in (t.watermark, self.created):
            if name:
                typed[name] = DateTime()
        self.table: TableClause = table(t.name, *(column(n, typed.get(n)) for n in sorted(names)))
        self.contacts: TableClause | None = None
        if self.customer is not None and source.customers is not None:
            customers = plan.table(source.customers.table)
            contact_cols = [c.column for c in customers.cells if c.path in PATH_KINDS]
            self.contacts = table(
                customers.name, *(column(n) for n in sorted({customers.key, *contact_cols}))
            )
            self._contact_cells = [c for c in customers.cells if c.path in PATH_KINDS]
        else:
            self._contact_cells = []

    @property
    def key(self) -> ColumnElement[Any]:
        return self.table.c[self.spec.key]

    def _select(self) -> Any:
        query = select(self.table)
        if self.contacts is not None and self.customer is not None:
            customers = self.plan.table(self.contacts.name)
            labels = [
                self.contacts.c[c.column].label(CONTACT + c.column) for c in self._contact_cells
            ]
            on = self.table.c[self.customer] == self.contacts.c[customers.key]
            query = select(self.table, *labels).select_from(self.table.outerjoin(self.contacts, on))
        return query

    async def after(
        self, conn: AsyncConnection, last: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to `limit` rows with keys beyond `last`, in key order."""
        query = self._select()
        if last is not None:
            query = query.where(self.key > last)
        rows = await conn.execute(query.order_by(self.key).limit(limit))
        return [dict(r) for r in rows.mappings()]

    async def changed_since(
        self, conn: AsyncConnection, mark: datetime, after: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Rows whose (watermark, key) comes after (`mark`, `after`), oldest first: a
        page ends anywhere, even inside a run of rows one bulk update stamped alike."""
        assert self.spec.watermark is not None  # noqa: S101 - callers check
        wm = self.table.c[self.spec.watermark]
        since = wm >= mark if after is None else or_(wm > mark, and_(wm == mark, self.key > after))
        query = self._select().where(since).order_by(wm, self.key).limit(limit)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def rows(self, conn: AsyncConnection, keys: Sequence[int]) -> list[dict[str, Any]]:
        if not keys:
            return []
        query = self._select().where(self.key.in_(list(keys))).order_by(self.key)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def replace(
        self,
        conn: AsyncConnection,
        key: int,
        was: Mapping[str, Any],
        now: Mapping[str, Any],
    ) -> bool:
        """Set the row's cells to `now` if each still holds what `was` says; False if the
        row changed (or went) since it was read."""
        dialect = conn.dialect.name
        conditions = [self.key == key] + [
            _same(self.table.c[name], value, dialect) for name, value in was.items()
        ]
        result = await conn.execute(update(self.table).where(*conditions).values(**now))
        return bool(result.rowcount)

    def _clear(self) -> ColumnElement[bool] | None:
        """Rows with a vaulted cell holding anything but NULL, '' or a token."""
        clear = [
            and_(
                self.table.c[c.column].is_not(None),
                cast(self.table.c[c.column], String) != "",
                or_(
                    func.length(cast(self.table.c[c.column], String)) != LENGTH,
                    func.substr(cast(self.table.c[c.column], String), 1, 1) != "~",
                ),
            )
            for c in self.spec.cells
        ]
        return or_(*clear) if clear else None

    async def count_clear(self, conn: AsyncConnection) -> int:
        clear = self._clear()
        if clear is None:
            return 0
        query = select(func.count()).select_from(self.table).where(clear)
        return int((await conn.execute(query)).scalar_one())

    async def oldest_clear(self, conn: AsyncConnection) -> datetime | None:
        """The change (or creation) time of the oldest row still holding a clear value:
        by the watermark, else by the orders' created time; None if there is neither."""
        clear = self._clear()
        when = self.spec.watermark or self.created
        if clear is None or when is None:
            return None
        query = select(func.min(self.table.c[when])).where(clear)
        value = (await conn.execute(query)).scalar_one_or_none()
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        return value if isinstance(value, datetime) else None

    async def present(self, conn: AsyncConnection, keys: Sequence[int]) -> set[int]:
        """Which of these keys the table still has."""
        if not keys:
            return set()
        rows = await conn.execute(select(self.key).where(self.key.in_(list(keys))))
        return {int(k) for (k,) in rows}

    async def newest_key(self, conn: AsyncConnection) -> int | None:
        value = (await conn.execute(select(func.max(self.key)))).scalar_one_or_none()
        return None if value is None else int(value)


def unfit_columns(sync_conn: Any, plan: VaultPlan) -> list[str]:
    """The vaulted columns that cannot hold a token (not text, or narrower than one),
    named before anything is written."""
    inspector = inspect(sync_conn)
    problems: list[str] = []
    for t in plan.tables:
        try:
            found = {c["name"]: c for c in inspector.get_columns(t.name)}
        except Exception:
            problems.append(f"vault: no table {t.name!r}")
            continue
        for cell in t.cells:
            col = found.get(cell.column)
            if col is None:
                problems.append(f"vault: table {t.name!r} has no column {cell.column!r}")
                continue
            kind = col["type"]
            python = _python_type(kind)
            length = getattr(kind, "length", None)
            if python is not str:
                problems.append(
                    f"vault: column {t.name}.{cell.column} is {kind} and cannot hold a token "
                    f"(text of {LENGTH} characters): change it to VARCHAR({LENGTH}) or wider"
                )
            elif length is not None and length < LENGTH:
                problems.append(
                    f"vault: column {t.name}.{cell.column} is {kind}, narrower than a token "
                    f"({LENGTH} characters): widen it to VARCHAR({LENGTH})"
                )
    return problems


def _python_type(kind: Any) -> type | None:
    try:
        return kind.python_type  # type: ignore[no-any-return]
    except NotImplementedError:
        return None
