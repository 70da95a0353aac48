"""Serving the tests' OMS through a gateway: the mapping of its tables, a gateway that
fronts it, and every page of a list."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.fronted.oms import STATUS_CODES
from tests.helpers import Gateway, bearer, own_store_policies
from tests.systems.chain import connect

OMS_MAP = """
[systems.oms]
name = "Order management (OMS)"
owner = "Head of e-commerce"
purpose = "orders from every sales channel"
country = "CN"
connector = "sql"

[systems.oms.datasets.customers]
fields = [
    { name = "mobile", category = "contact", identifies = "phone", erase = "mask" },
    { name = "full_name", category = "name", erase = "mask" },
]

[systems.oms.orders]
table = "orders"
key = "order_id"
hidden_when = { is_deleted = 1 }

[systems.oms.orders.columns]
external_id = "order_no"
channel = "shop_channel"
region = "sales_region"
status = "order_status"
created_at = "created_time"
"customer.name" = "customers.full_name"
"customer.phone" = "customers.mobile"
"customer.email" = "customers.email"
"customer.id_number" = "customers.id_card_no"
"shipping_address.province" = "receiver_province"
"shipping_address.city" = "receiver_city"
"shipping_address.district" = "receiver_district"
"shipping_address.detail" = "receiver_address"
"shipping_address.postal_code" = "receiver_zip"
total_amount = "pay_amount"
currency = "currency"
"payment.method" = "pay_type"
"payment.transaction_id" = "pay_trade_no"
note = "buyer_memo"
gift_message = "gift_note"

[systems.oms.orders.customers]
table = "customers"
key = "customer_id"
order_column = "customer_id"

[systems.oms.orders.lines]
table = "order_lines"
order_column = "order_id"
order_by = "line_no"
columns = { sku = "sku_code", name = "sku_title", quantity = "qty", unit_price = "unit_price" }

[systems.oms.orders.statuses]
""" + "".join(f'{code} = "{status}"\n' for code, status in STATUS_CODES.items())


@contextmanager
def fronting(
    store_url: str, tmp_path: Path, database_url: str, mapping: str = OMS_MAP
) -> Iterator[Gateway]:
    """A gateway on `database_url` that serves the OMS at `store_url` read-through."""
    policies = tmp_path / "policies"
    shutil.copytree(own_store_policies(), policies)
    (policies / "systems.toml").write_text(mapping, encoding="utf-8")
    connect(tmp_path / "systems", "oms", store_url)
    with Gateway.start(
        database_url,
        tmp_path,
        policy_dir=policies,
        systems_dir=tmp_path / "systems",
        order_source="oms",
    ) as gw:
        yield gw


def all_pages(gw: Gateway, token: str, query: str = "") -> list[dict[str, Any]]:
    """Every order of `GET /v1/orders` (with `query`), page after page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = f"?limit=100{query}" + (f"&cursor={cursor}" if cursor else "")
        page = gw.client.get(f"/v1/orders{params}", headers=bearer(token))
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items
