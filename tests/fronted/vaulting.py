"""Shared by the vault tests: the OMS mapping with its vault, a crash between a
batch's two transactions, and the raw scan of the OMS's tables."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest

from gateway.vault import is_token
from tests.fronted.front import OMS_MAP
from tests.fronted.oms import OmsData
from tests.helpers import Gateway, reset_database
from tests.systems.chain import fetch

VAULT_MAP = (
    OMS_MAP
    + """
[systems.oms.datasets.orders]
fields = [
    { name = "order_no", category = "order_reference", identifies = "order_number", erase = "keep", rule = "tax_record" },
    { name = "receiver_name", category = "name", erase = "mask" },
    { name = "receiver_mobile", category = "contact", identifies = "phone", erase = "mask" },
    { name = "receiver_address", category = "location_precise", erase = "mask" },
    { name = "buyer_memo", category = "free_text", erase = "null" },
    { name = "gift_note", category = "free_text", erase = "null" },
    { name = "seller_memo", category = "free_text", erase = "null" },
    { name = "pay_trade_no", category = "payment_reference", erase = "null" },
]

[systems.oms.vault]
watermarks = { customers = "updated_time", orders = "updated_time" }
batch = 150
"""
)
# What the vault takes from each table (the plan: mapped document fields of encrypted
# categories, and the orders dataset's encrypted fields), written out by hand here.
VAULTED = {
    "customers": ("full_name", "mobile", "email", "id_card_no"),
    "orders": (
        "receiver_name",
        "receiver_mobile",
        "receiver_address",
        "buyer_memo",
        "gift_note",
        "seller_memo",
        "pay_trade_no",
    ),
}
KEYS = {"customers": "customer_id", "orders": "order_id"}


_COLUMNS = (
    "SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' "
    "AND table_schema = {schema} ORDER BY ordinal_position"
)


class Crash(Exception):
    """The process dies here (raised from a walk's progress, between transactions)."""


def personal_values(data: OmsData) -> set[str]:
    """Every personal value the OMS held, as stored (long enough to be found). The
    stand-in OMS copies a customer's name into a new order as it reads it: after the
    backfill that is a token, which is no personal value."""
    found: set[str] = set()
    for table, rows in (("customers", data.customers), ("orders", data.orders)):
        for row in rows:
            found |= {
                str(row[c])
                for c in VAULTED[table]
                if row.get(c) and len(str(row[c])) >= 4 and not is_token(row[c])
            }
    return found


def raw_scan(url: str, originals: set[str]) -> list[str]:
    """What of the originals is still in the OMS's tables, cell by cell: every vaulted
    cell must be NULL, '' or a token, and no text cell anywhere may hold an original."""
    problems: list[str] = []
    for table, columns in VAULTED.items():
        for row in fetch(url, f"SELECT {', '.join(columns)} FROM {table}"):  # noqa: S608
            problems += [
                f"{table}.{c}"
                for c, v in zip(columns, row, strict=True)
                if v not in (None, "") and not is_token(v)
            ]
        schema = "database()" if url.startswith(("mysql", "mariadb")) else "current_schema()"
        names = [n for (n,) in fetch(url, _COLUMNS.format(table=table, schema=schema))]
        for row in fetch(url, f"SELECT {', '.join(names)} FROM {table}"):  # noqa: S608
            problems += [
                f"{table}.{n}: an original value"
                for n, v in zip(names, row, strict=True)
                if str(v) in originals
            ]
    return problems


def run_walk(gw: Gateway, method: str, system: str = "oms", **kwargs: Any) -> Any:
    """A vault walk on the app's own loop (its engines live there)."""
    call = functools.partial(getattr(gw.services.vault, method), system, **kwargs)
    return gw.in_app(call)


def in_thread(coroutine: Any) -> Any:
    """Run a coroutine of the stand-in OMS on a loop of its own (from a walk's
    progress callback, which runs on the app's loop)."""
    return asyncio.to_thread(asyncio.run, coroutine)


def gateway_database(request: pytest.FixtureRequest, oms_url: str) -> str:
    """The gateway's own database for a vault test, emptied: SQLite beside an OMS on
    PostgreSQL, PostgreSQL beside an OMS on MariaDB (both backends of the vault's own
    tables, without running every pair)."""
    kind = "postgresql" if oms_url.startswith(("mysql", "mariadb")) else "sqlite"
    url: str = request.getfixturevalue(f"{kind}_url")
    asyncio.run(reset_database(url))
    return url
