"""Attacks on read-through (issue 17, mode 1) through the real API, from a security
review: each test is an attack that once worked, and now must not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.fronted.ids import order_uuid
from tests.fronted.front import OMS_MAP, all_pages, fronting
from tests.fronted.oms import (
    SUBJECT_CUSTOMER_ID,
    SUBJECT_ID_CARD_NO,
    OmsData,
    create_oms,
    oms_rows,
)
from tests.helpers import SAMPLE_ORDER, Gateway, bearer
from tests.systems.chain import new_database, run_on

ROWS = 120


@pytest.fixture(scope="module")
def pg_oms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, OmsData]]:
    data = oms_rows(ROWS)
    with new_database("postgresql", tmp_path_factory.mktemp("oms")) as url:
        asyncio.run(create_oms(url, data))
        yield url, data


def _events(gw: Gateway, token: str, **query: str) -> list[dict[str, Any]]:
    answer = gw.client.get("/v1/audit/events", params=query, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


# --- 1. A search by resident id number is run as a search by phone -------------------


def test_a_search_by_id_number_finds_the_customers_orders_or_is_refused(
    pg_oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path
) -> None:
    """The DPO may search by id_number, and the map gives the store's id card column
    (`customer.id_number`). FrontedOrders.page treats every kind but e-mail as a phone,
    so the id number's digits are compared with the customers' mobiles: 200 and no
    order, a false "nothing held" for the person a DPO is looking up."""
    url, data = pg_oms
    with fronting(url, tmp_path, clean_sqlite_url) as gw:
        dpo = gw.principal("dpo")
        found = gw.client.post(
            "/v1/orders/search", json={"id_number": SUBJECT_ID_CARD_NO}, headers=bearer(dpo)
        )
    if found.status_code == 200:
        mine = {o["order_no"] for o in data.orders_of(SUBJECT_CUSTOMER_ID)}
        assert {r["external_id"] for r in found.json()["items"]} == mine
    else:  # or refused, saying the store cannot be searched so
        assert 400 <= found.status_code < 500, found.text


# --- 2. Without a customers table, every order is a different subject ----------------

NO_CUSTOMERS_MAP = (
    OMS_MAP.replace('"customer.name" = "customers.full_name"', '"customer.name" = "receiver_name"')
    .replace('"customer.phone" = "customers.mobile"', '"customer.phone" = "receiver_mobile"')
    .replace('"customer.email" = "customers.email"\n', "")
    .replace('"customer.id_number" = "customers.id_card_no"\n', "")
    .replace(
        '[systems.oms.orders.customers]\ntable = "customers"\nkey = "customer_id"\n'
        'order_column = "customer_id"\n',
        "",
    )
)


def test_one_customer_is_one_pseudonym_when_the_store_keeps_contacts_on_the_order(
    pg_oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path
) -> None:
    """Many OMSs keep the buyer's name and phone on the order row; the map allows no
    customers table. FrontedOrders._subject then names the subject
    `phone:<phone>:order:<key>`: each order is a different pseudonym even for the very
    same phone, so the log cannot say which orders of one person were read (a DPO's
    search of the log by subject finds one order of theirs), unlike the gateway's own
    store, where the same contacts are one subject."""
    assert "[systems.oms.orders.customers]" not in NO_CUSTOMERS_MAP
    url, data = pg_oms
    by_phone: dict[str, list[dict[str, Any]]] = {}
    for order in data.orders:
        if not order["is_deleted"]:
            by_phone.setdefault(order["receiver_mobile"], []).append(order)
    same = next(orders for orders in by_phone.values() if len(orders) >= 2)
    first, second = same[:2]
    assert first["receiver_mobile"] == second["receiver_mobile"]
    with fronting(url, tmp_path, clean_sqlite_url, NO_CUSTOMERS_MAP) as gw:
        reader = gw.principal("customer_service")
        ids = [str(order_uuid("oms", o["order_id"])) for o in (first, second)]
        for order_id in ids:
            read = gw.client.get(f"/v1/orders/{order_id}", headers=bearer(reader))
            assert read.status_code == 200, read.text
        auditor = gw.principal("auditor")
        subjects = [
            _events(gw, auditor, order_id=i, action="orders.read")[0]["subjects"] for i in ids
        ]
    assert all(len(s) == 1 for s in subjects)
    assert subjects[0] == subjects[1], "one phone, one customer: two pseudonyms in the log"


# --- 3. Free text of any length is run through detection on every read ---------------


def test_a_memo_longer_than_the_gateway_takes_is_masked_whole_not_searched(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    """The gateway's own store takes notes of 500 characters at most; a store's TEXT
    column has no limit, and a buyer writes it. Detection's cost grows with what it
    finds and runs inside the read, so one long memo could stall every caller: such a
    memo is not searched, and masked whole, as text never searched is."""
    data = oms_rows(30)
    victim = next(o for o in data.orders if not o["is_deleted"])
    memo = ("请联系13912345678 a@b.cn " * 400)[:9000]
    with new_database("postgresql", tmp_path) as url:
        asyncio.run(create_oms(url, data))
        run_on(
            url,
            "UPDATE orders SET buyer_memo = :memo WHERE order_id = :key",
            params={"memo": memo, "key": victim["order_id"]},
        )
        with fronting(url, tmp_path, clean_sqlite_url) as gw:
            reader = gw.principal("customer_service")
            path = f"/v1/orders/{order_uuid('oms', victim['order_id'])}"
            answer = gw.client.get(path, headers=bearer(reader))
            detected = len(gw.services.fronted._detected)
    assert answer.status_code == 200, answer.text
    note = answer.json()["note"]
    assert "13912345678" not in note
    assert "a@b.cn" not in note
    assert "请联系" not in note  # masked whole: nothing of it shows
    assert detected == 0  # and never run through detection


# --- 4. Row scope on MariaDB compares regions under the column's collation -----------


def test_row_scope_on_mariadb_is_the_exact_region_as_on_postgresql(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    """On MariaDB the scope `sales_region = 'north'` is compared under the column's
    collation (utf8mb4_general_ci: case, accents and trailing spaces ignored), so a
    warehouse of `north` reads orders whose region is `NORTH`, `Nörth` or `north `:
    values the same scope does not match on PostgreSQL or in the gateway's own store.
    Identity search already compares byte for byte (utf8mb4_bin); the scope does not."""
    data = oms_rows(30)
    others = [o for o in data.orders if not o["is_deleted"] and o["sales_region"] != "north"]
    with new_database("mariadb", tmp_path) as url:
        asyncio.run(create_oms(url, data))
        for order, region in zip(others[:3], ("NORTH", "Nörth", "north "), strict=True):
            run_on(
                url,
                "UPDATE orders SET sales_region = :region WHERE order_id = :key",
                params={"region": region, "key": order["order_id"]},
            )
        with fronting(url, tmp_path, clean_sqlite_url) as gw:
            north = gw.principal("warehouse", region="north")
            seen = all_pages(gw, north)
            single = gw.client.get(
                f"/v1/orders/{order_uuid('oms', others[0]['order_id'])}", headers=bearer(north)
            )
    assert {r["region"] for r in seen} == {"north"}, sorted({r["region"] for r in seen})
    assert single.status_code == 404, single.text


# --- 5. The bulk import writes orders while the gateway fronts a store ---------------


def test_the_import_is_refused_while_the_gateway_fronts_a_store(
    pg_oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path
) -> None:
    """`POST /v1/orders` and status changes answer 409 when a store is fronted, but
    OrderService keeps `create_many` as it is: `privacy-gateway import` writes the
    orders, personal data and all, into the gateway's own store and reports them
    created, where no read will ever find them (every read goes to the fronted store)."""
    url, _ = pg_oms
    with fronting(url, tmp_path, clean_sqlite_url) as gw:
        lines = tmp_path / "orders.jsonl"
        lines.write_text(json.dumps(SAMPLE_ORDER, ensure_ascii=False) + "\n", encoding="utf-8")
        env = {
            **gw.env,
            "GATEWAY_ORDER_SOURCE": "oms",
            "GATEWAY_SYSTEMS_DIR": str(tmp_path / "systems"),
        }
        result = CliRunner().invoke(main, ["import", str(lines)], env=env, catch_exceptions=False)
        reader = gw.principal("customer_service")
        number = f"/v1/orders/by-number/{SAMPLE_ORDER['channel']}/{SAMPLE_ORDER['external_id']}"
        read = gw.client.get(number, headers=bearer(reader))
        stored = gw.count_orders()
    assert read.status_code == 404  # what was imported cannot be read
    assert (result.exit_code != 0, stored) == (True, 0), result.output
