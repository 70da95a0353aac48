"""The bare pass-through the gateway is measured against.

Same server stack (Litestar on uvicorn), same route, same rows, read straight
with the raw driver (asyncpg or sqlite3): no authentication, no policy, no masks,
no decryption, no log. Never deploy this; it exists only to be a lower bound.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from typing import Any

import asyncpg
from litestar import Litestar, get
from litestar.params import FromPath

URL = os.environ["BENCH_DATABASE_URL"]
QUERY = """
SELECT o.id, o.external_id, o.channel, o.region, o.status, o.created_at,
       o.customer_name, o.customer_phone, o.customer_email, o.customer_id_number,
       o.ship_province, o.ship_city, o.ship_district, o.ship_detail, o.ship_postal_code,
       o.total_amount, o.currency, o.payment_method, o.payment_transaction_id,
       o.note, o.gift_message, i.sku, i.name, i.quantity, i.unit_price
FROM orders o LEFT OUTER JOIN order_items i ON i.order_id = o.id
WHERE o.id = {param} ORDER BY i.position
"""
ITEM_KEYS = ("sku", "name", "quantity", "unit_price")
state: dict[str, Any] = {}


def _document(rows: list[Any], columns: list[str]) -> dict[str, Any]:
    first = dict(zip(columns, rows[0], strict=True))
    doc = {k: v for k, v in first.items() if k not in ITEM_KEYS}
    doc["id"] = str(doc["id"])
    doc["created_at"] = str(doc["created_at"])
    doc["items"] = [dict(zip(ITEM_KEYS, row[-4:], strict=True)) for row in rows]
    return doc


async def startup() -> None:
    if URL.startswith("sqlite"):
        path = URL.split("///", 1)[1]
        state["sqlite"] = sqlite3.connect(path, check_same_thread=False)
    else:
        dsn = URL.replace("postgresql+asyncpg://", "postgresql://")
        state["pool"] = await asyncpg.create_pool(dsn, min_size=4, max_size=10)


@get("/v1/orders/{order_id:str}")
async def read(order_id: FromPath[str]) -> dict[str, Any]:
    key = uuid.UUID(order_id)
    if "sqlite" in state:
        cursor = state["sqlite"].execute(QUERY.format(param="?"), (key.hex,))
        rows = cursor.fetchall()
        columns = [d[0] for d in cursor.description]
    else:
        async with state["pool"].acquire() as conn:
            records = await conn.fetch(QUERY.format(param="$1"), key)
        rows = [tuple(r.values()) for r in records]
        columns = list(records[0].keys())
    return _document(rows, columns)


app = Litestar([read], on_startup=[startup])
