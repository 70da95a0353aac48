"""The demo's legacy order system: the demo orders as an existing OMS keeps them.

`make run` gives the systems map's `legacy_oms` a SQLite database of its own (three
tables, a retailer's order system's shape, not the gateway's) holding the same demo
orders, so `GATEWAY_ORDER_SOURCE=legacy_oms make run` shows the gateway serving an
existing store read-through in one command. bench/fronted_read.py builds the same
tables on any database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.core.secretfiles import owner_only_dir, write_secret_file

LEGACY_KEY = "legacy_oms"  # its key in the shipped systems map
ORDER_KEY_BASE = 10**12  # the OMS's keys: large integers, as order systems use
SCHEMA = (
    "CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, full_name VARCHAR(100), "
    "mobile VARCHAR(20), email VARCHAR(200), id_card_no VARCHAR(18))",
    "CREATE TABLE orders (order_id BIGINT PRIMARY KEY, order_no VARCHAR(64), "
    "shop_channel VARCHAR(32), sales_region VARCHAR(32), order_status VARCHAR(16), "
    "created_time TIMESTAMP, customer_id INTEGER, receiver_province VARCHAR(32), "
    "receiver_city VARCHAR(32), receiver_district VARCHAR(32), receiver_address VARCHAR(200), "
    "receiver_zip VARCHAR(10), pay_amount NUMERIC(12,2), currency CHAR(3), "
    "pay_type VARCHAR(16), pay_trade_no VARCHAR(64), buyer_memo TEXT, gift_note TEXT)",
    "CREATE TABLE order_lines (line_id INTEGER PRIMARY KEY, order_id BIGINT, line_no INTEGER, "
    "sku_code VARCHAR(64), sku_title VARCHAR(200), qty INTEGER, unit_price NUMERIC(12,2))",
    "CREATE INDEX ix_lines_order ON order_lines (order_id)",
)


def legacy_rows(
    documents: Sequence[dict[str, Any]], *, text_values: bool
) -> dict[str, list[dict[str, Any]]]:
    """Demo order documents as an OMS's three tables (times and amounts as text for
    SQLite, which keeps them so)."""
    money: Any = str if text_values else Decimal
    customers: dict[str, dict[str, Any]] = {}
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for number, doc in enumerate(documents, start=1):
        who = doc["customer"]
        customer = customers.setdefault(
            who["phone"],
            {
                "customer_id": len(customers) + 1,
                "full_name": who["name"],
                "mobile": who["phone"],
                "email": who.get("email"),
                "id_card_no": who.get("id_number"),
            },
        )
        address = doc["shipping_address"]
        orders.append(
            {
                "order_id": ORDER_KEY_BASE + number,
                "order_no": doc["external_id"],
                "shop_channel": doc["channel"],
                "sales_region": doc["region"],
                "order_status": doc["status"],
                "created_time": _time(doc["created_at"], text_values),
                "customer_id": customer["customer_id"],
                "receiver_province": address["province"],
                "receiver_city": address["city"],
                "receiver_district": address["district"],
                "receiver_address": address["detail"],
                "receiver_zip": address["postal_code"],
                "pay_amount": money(doc["total_amount"]),
                "currency": doc["currency"],
                "pay_type": doc["payment"]["method"],
                "pay_trade_no": doc["payment"].get("transaction_id"),
                "buyer_memo": doc.get("note"),
                "gift_note": doc.get("gift_message"),
            }
        )
        for position, item in enumerate(doc["items"], start=1):
            lines.append(
                {
                    "line_id": len(lines) + 1,
                    "order_id": ORDER_KEY_BASE + number,
                    "line_no": position,
                    "sku_code": item["sku"],
                    "sku_title": item["name"],
                    "qty": item["quantity"],
                    "unit_price": money(item["unit_price"]),
                }
            )
    return {"customers": list(customers.values()), "orders": orders, "order_lines": lines}


def _time(text: str, as_text: bool) -> Any:
    stored = datetime.fromisoformat(text).replace(tzinfo=None)
    return stored.isoformat(sep=" ") if as_text else stored


def seed_legacy(directory: Path, documents: Sequence[dict[str, Any]]) -> bool:
    """The legacy OMS's SQLite database and its connection file, unless an operator's
    connection file is there already (never replaced). True when created."""
    url_file = directory / f"{LEGACY_KEY}.url"
    if url_file.exists():
        return False
    owner_only_dir(directory)
    path = directory / f"{LEGACY_KEY}.db"
    path.unlink(missing_ok=True)
    rows = legacy_rows(documents, text_values=True)
    with closing(sqlite3.connect(path)) as db, db:
        for statement in SCHEMA:
            db.execute(statement)
        for name, table_rows in rows.items():
            columns = list(table_rows[0])
            marks = ", ".join("?" for _ in columns)
            insert = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            db.executemany(insert, [tuple(r[c] for c in columns) for r in table_rows])
    path.chmod(0o600)
    write_secret_file(url_file, f"sqlite:///{path.resolve()}")
    return True
