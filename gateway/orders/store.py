"""Order storage: the SQLAlchemy Core queries, the hot read path among them.

The store speaks in flat document paths (`customer.phone`) so that the disclosure
plan never learns column names. Reads use Core, not the ORM: on the read path the
ORM costs more than everything else the gateway does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Select,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.clock import utc_text
from gateway.core.cursors import TimeCursor
from gateway.core.readpath import Reader, prepared
from gateway.orders.tables import (
    ITEM_COLUMNS,
    ITEMS,
    ORDER_COLUMNS,
    SPAN_COLUMNS,
    SPAN_LABEL,
    order_items,
    orders,
)
from gateway.subjects import subject_keys

_ORDER_SELECT = [orders.c[column].label(path) for path, column in ORDER_COLUMNS.items()]
# The subject's wrapped data key travels with each order row: one round trip.
_KEY_SELECT = [
    orders.c.subject_id.label("_subject_id"),
    subject_keys.c.dek_version.label("_dek_version"),
    subject_keys.c.kek_version.label("_kek_version"),
    subject_keys.c.wrapped_key.label("_wrapped_key"),
    subject_keys.c.restricted_since.label("_restricted_since"),
    orders.c.retention_rule.label("_retention_rule"),
    *(orders.c[column].label(SPAN_LABEL + path) for path, column in SPAN_COLUMNS.items()),
]
KEY_LABELS = ("_subject_id", "_dek_version", "_kek_version", "_wrapped_key")
STATE_LABELS = ("_restricted_since", "_retention_rule")
_WITH_KEYS = orders.outerjoin(subject_keys, subject_keys.c.subject_id == orders.c.subject_id)
_ITEM_SELECT = [order_items.c[column].label(key) for key, column in ITEM_COLUMNS.items()]
_JOINED_ITEM_SELECT = [
    order_items.c[column].label(f"item.{key}") for key, column in ITEM_COLUMNS.items()
]


@dataclass(frozen=True, slots=True)
class Detection:
    """Sealed spans per free-text path, and the detector that found them (None: not run)."""

    sealed: Mapping[str, bytes]
    version: str | None


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: str | None = None
    channel: str | None = None
    region: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    subject_ids: tuple[uuid.UUID, ...] | None = None
    # Retained records (kept by law after an erasure) of these rules only; None: all.
    retention_rules: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after the last order of a page, in (created_at DESC, id DESC) order."""

    created_at: datetime
    order_id: uuid.UUID

    def encode(self) -> str:
        return TimeCursor(self.created_at, self.order_id).encode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raise `ValueError` for anything that is not a cursor this gateway made."""
        cursor = TimeCursor.decode(text)
        return cls(cursor.at, cursor.row_id)


def _flat_order(row: Mapping[str, Any]) -> dict[str, Any]:
    flat = dict(row)
    flat["order_id"] = str(flat["order_id"])
    flat["created_at"] = utc_text(flat["created_at"])
    return flat


def _fetch_statement(scoped: bool) -> Select[Any]:
    condition = orders.c.id == bindparam("order_id")
    if scoped:
        condition = and_(condition, orders.c.region == bindparam("region"))
    return (
        select(*_ORDER_SELECT, *_KEY_SELECT, *_JOINED_ITEM_SELECT)
        .select_from(_WITH_KEYS.outerjoin(order_items, order_items.c.order_id == orders.c.id))
        .where(condition)
        .order_by(order_items.c.position)
    )


# Built once: SQLAlchemy then reuses the compiled form instead of re-deriving a cache key.
_FETCH = prepared(_fetch_statement(scoped=False))
_FETCH_IN_REGION = prepared(_fetch_statement(scoped=True))
_ITEM_LABELS = tuple((f"item.{key}", key) for key in ITEM_COLUMNS)


async def fetch_order(
    reader: Reader, order_id: uuid.UUID, region: str | None
) -> dict[str, Any] | None:
    """One order as a flat document (items under `items`), or None if absent or out of scope."""
    if region is None:
        rows = await reader.all(_FETCH, {"order_id": order_id})
    else:
        rows = await reader.all(_FETCH_IN_REGION, {"order_id": order_id, "region": region})
    if not rows:
        return None
    flat = _flat_order(rows[0])
    items = []
    for row in rows:
        if row["item.sku"] is not None:
            items.append({key: row[label] for label, key in _ITEM_LABELS})
    for label, _ in _ITEM_LABELS:
        del flat[label]
    flat[ITEMS] = items
    return flat


def _list_conditions(
    filters: OrderFilter, scope_region: str | None, after: Cursor | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (orders.c.status, filters.status),
        (orders.c.channel, filters.channel),
        (orders.c.region, filters.region),
        (orders.c.region, scope_region),
    ):
        if value is not None:
            conditions.append(column == value)
    if filters.created_from is not None:
        conditions.append(orders.c.created_at >= filters.created_from)
    if filters.created_to is not None:
        conditions.append(orders.c.created_at < filters.created_to)
    if filters.subject_ids is not None:
        conditions.append(orders.c.subject_id.in_(filters.subject_ids))
    if filters.retention_rules is not None:
        conditions.append(
            or_(
                orders.c.retention_rule.is_(None),
                orders.c.retention_rule.in_(filters.retention_rules),
            )
        )
    if after is not None:
        conditions.append(
            or_(
                orders.c.created_at < after.created_at,
                and_(orders.c.created_at == after.created_at, orders.c.id < after.order_id),
            )
        )
    return conditions


async def list_orders(
    reader: Reader,
    filters: OrderFilter,
    scope_region: str | None,
    limit: int,
    after: Cursor | None,
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """A page of flat orders, newest first, and the cursor of the next page (if any)."""
    query = (
        select(
            *_ORDER_SELECT,
            *_KEY_SELECT,
            orders.c.created_at.label("_created"),
            orders.c.id.label("_id"),
        )
        .select_from(_WITH_KEYS)
        .where(*_list_conditions(filters, scope_region, after))
        .order_by(orders.c.created_at.desc(), orders.c.id.desc())
        .limit(limit + 1)
    )
    rows = await reader.all(query)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = Cursor(page[-1]["_created"], page[-1]["_id"]) if more else None
    items_by_order: dict[uuid.UUID, list[dict[str, Any]]] = {row["_id"]: [] for row in page}
    if page:
        item_rows = await reader.all(
            select(order_items.c.order_id, *_ITEM_SELECT)
            .where(order_items.c.order_id.in_(list(items_by_order)))
            .order_by(order_items.c.order_id, order_items.c.position)
        )
        for item in item_rows:
            mapping = dict(item)
            items_by_order[mapping.pop("order_id")].append(mapping)
    result = []
    for row in page:
        flat = _flat_order(row)
        del flat["_created"], flat["_id"]
        flat[ITEMS] = items_by_order[row["_id"]]
        result.append(flat)
    return result, next_cursor


_ID_BY_NUMBER = prepared(
    select(orders.c.id.label("id")).where(
        orders.c.channel == bindparam("channel"), orders.c.external_id == bindparam("external_id")
    )
)


async def id_by_number(reader: Reader, channel: str, external_id: str) -> uuid.UUID | None:
    """The gateway's id of the channel's order `external_id`, whatever its scope (the read
    that follows decides that), or None."""
    rows = await reader.all(_ID_BY_NUMBER, {"channel": channel, "external_id": external_id})
    return None if not rows else uuid.UUID(str(rows[0]["id"]))


def binary_paths() -> frozenset[str]:
    """Document paths whose columns hold ciphertext (must equal the encrypted categories)."""
    return frozenset(
        path
        for path, column in ORDER_COLUMNS.items()
        if isinstance(orders.c[column].type, LargeBinary)
    )


async def find_by_external_id(
    conn: AsyncConnection, channel: str, external_id: str
) -> uuid.UUID | None:
    row = (
        await conn.execute(
            select(orders.c.id).where(
                orders.c.channel == channel, orders.c.external_id == external_id
            )
        )
    ).first()
    return None if row is None else row.id


async def insert_order(
    conn: AsyncConnection,
    order_id: uuid.UUID,
    subject_id: uuid.UUID,
    flat: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    now: datetime,
    detection: Detection,
) -> None:
    values = {column: flat[path] for path, column in ORDER_COLUMNS.items() if path != "order_id"}
    values |= {SPAN_COLUMNS[path]: sealed for path, sealed in detection.sealed.items()}
    await conn.execute(
        insert(orders).values(
            id=order_id,
            subject_id=subject_id,
            ingested_at=now,
            updated_at=now,
            pii_version=detection.version,
            **values,
        )
    )
    await conn.execute(
        insert(order_items),
        [
            {"order_id": order_id, "position": position, **item}
            for position, item in enumerate(items)
        ],
    )


async def current_status(
    conn: AsyncConnection, order_id: uuid.UUID, channel: str | None
) -> str | None:
    """Current status (None if absent or of another channel), row-locked on PostgreSQL."""
    condition = orders.c.id == order_id
    if channel is not None:
        condition = and_(condition, orders.c.channel == channel)
    query = select(orders.c.status).where(condition).with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else str(row.status)


async def set_status(
    conn: AsyncConnection, order_id: uuid.UUID, current: str, status: str, now: datetime
) -> bool:
    """Set `status` if the order is still `current`; False if it changed meanwhile."""
    result = await conn.execute(
        update(orders)
        .where(orders.c.id == order_id, orders.c.status == current)
        .values(status=status, updated_at=now)
    )
    return result.rowcount == 1


async def visible_ids(
    reader: Reader,
    order_ids: Sequence[uuid.UUID],
    region: str | None,
    retention_rules: tuple[str, ...] | None,
) -> set[uuid.UUID]:
    """Which of `order_ids` exist within the row scope (region, retained records' rules)."""
    conditions: list[ColumnElement[bool]] = [orders.c.id.in_(list(order_ids))]
    if region is not None:
        conditions.append(orders.c.region == region)
    if retention_rules is not None:
        conditions.append(
            or_(orders.c.retention_rule.is_(None), orders.c.retention_rule.in_(retention_rules))
        )
    rows = await reader.all(select(orders.c.id).where(*conditions))
    return {row["id"] for row in rows}


async def count_orders(conn: AsyncConnection) -> int:
    """How many orders the store holds (the demo seeds only an empty store)."""
    return int((await conn.execute(select(func.count()).select_from(orders))).scalar_one())
