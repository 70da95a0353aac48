"""Order documents as stored: flat paths, UTC times, and the idempotency comparison."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from gateway.core.clock import utc_text
from gateway.orders import tables
from gateway.orders.schemas import OrderIn


def flatten(order: OrderIn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The order as stored: flat document paths, times in UTC; items separately."""
    doc = order.model_dump()
    flat: dict[str, Any] = {}
    for path in tables.ORDER_COLUMNS:
        section, _, key = path.rpartition(".")
        flat[path] = doc[section][key] if section else doc.get(key)
    flat["created_at"] = order.created_at.astimezone(UTC)
    items = [{key: item[key] for key in tables.ITEM_COLUMNS} for item in doc[tables.ITEMS]]
    return flat, items


def same_document(
    new: tuple[dict[str, Any], list[dict[str, Any]]], stored: Mapping[str, Any]
) -> bool:
    """Idempotency check: is `new` the document already stored (status aside)?

    Status is mutable state, not part of the create request: replaying the create
    after the order was shipped must still match.
    """
    flat, items = new
    for path, value in flat.items():
        if path in ("order_id", "status"):
            continue
        expected = utc_text(value) if path == "created_at" else value
        if stored[path] != expected:
            return False
    return bool(stored[tables.ITEMS] == items)
