"""The token API and the follower keep new rows tokenised (issue 17, mode 2): the
order system asks `POST /v1/vault/tokens` for a new customer's values before it writes
the rows, the rows carry only tokens, reads through the gateway show the values, and
`vault follow` binds the records to their rows. Then attacks on it: another channel,
a role that writes no orders, unknown fields, a replay with other values, and tokens
copied into another customer's rows."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.vault import is_token
from tests.fronted.front import fronting
from tests.fronted.oms import (
    STRANGER_CUSTOMER_ID,
    OmsData,
    create_oms,
    expected_document,
    oms_rows,
)
from tests.fronted.test_read_through import _flat
from tests.fronted.vaulting import VAULT_MAP, gateway_database, raw_scan, run_walk
from tests.helpers import Gateway, assert_problem, bearer, scalar_sql
from tests.systems.chain import fetch, run_on

ROWS = 60
NEW_CUSTOMER = 990_001
FIELDS = {
    "customer.name": "王小明",
    "customer.phone": "13655556666",
    "customer.email": "xiaoming.wang@example.net",
    "shipping_address.detail": "滨江路9号江景花园5栋801室",
    "note": "放门口就行，电话13655556666",
    "orders.receiver_name": "王小明",
    "orders.receiver_mobile": "13655556666",
}


@pytest.fixture(params=["postgresql", "mariadb"])
def oms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, OmsData]]:
    from tests.systems.chain import new_database

    data = oms_rows(ROWS)
    with new_database(request.param, tmp_path / "oms") as url:
        asyncio.run(create_oms(url, data))
        yield url, data


@pytest.fixture
def vaulted(
    oms: tuple[str, OmsData], request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Gateway]:
    url, _ = oms
    with fronting(url, tmp_path, gateway_database(request, url), VAULT_MAP) as gw:
        assert run_walk(gw, "backfill").clear_remaining == 0
        yield gw


def _ask(gw: Gateway, token: str, **body: Any) -> Any:
    request = {"channel": "tmall", "request_key": "tm-990001", "fields": FIELDS} | body
    return gw.client.post("/v1/vault/tokens", json=request, headers=bearer(token))


def _insert(url: str, table: str, row: dict[str, Any]) -> None:
    names = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    run_on(url, f"INSERT INTO {table} ({names}) VALUES ({marks})", params=row)  # noqa: S608


def _new_rows(data: OmsData, values: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A customer and an order as the OMS writes them, with `values` in its personal
    columns (tokens, or the clear values the test expects to read)."""
    template = next(o for o in data.orders if not o["is_deleted"] and o["shop_channel"] == "tmall")
    customer = copy.deepcopy(data.customer(template["customer_id"]))
    customer |= {
        "customer_id": NEW_CUSTOMER,
        "full_name": values["customer.name"],
        "mobile": values["customer.phone"],
        "email": values["customer.email"],
        "id_card_no": None,
    }
    order = copy.deepcopy(template) | {
        "order_id": data.next_order_id(),
        "order_no": "TM20261203999999",
        "customer_id": NEW_CUSTOMER,
        "receiver_name": values["orders.receiver_name"],
        "receiver_mobile": values["orders.receiver_mobile"],
        "receiver_address": values["shipping_address.detail"],
        "buyer_memo": values["note"],
        "gift_note": None,
        "seller_memo": None,
        "pay_trade_no": None,
    }
    return customer, order


def test_rows_written_with_the_token_apis_tokens_read_as_their_values(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    gw, (url, data) = vaulted, oms
    oms_app = gw.principal("channel", channel="tmall", name="oms-tmall")
    first = _ask(gw, oms_app)
    assert first.status_code == 201, first.text
    assert first.headers["cache-control"] == "no-store"
    tokens = first.json()["tokens"]
    assert sorted(tokens) == sorted(FIELDS)
    assert all(is_token(t) for t in tokens.values())
    assert len(set(tokens.values())) == len(tokens)  # the same phone twice: two tokens
    again = _ask(gw, oms_app)
    assert again.status_code == 200
    assert again.json() == first.json() | {"created": False}
    changed = _ask(gw, oms_app, fields=FIELDS | {"customer.phone": "13655557777"})
    assert_problem(changed, 409, "idempotency-conflict")

    # The OMS writes the rows with the tokens; apps reading its tables see no value.
    customer, order = _new_rows(data, tokens)
    _insert(url, "customers", customer)
    _insert(url, "orders", order)
    assert raw_scan(url, set(FIELDS.values())) == []

    # Read through the gateway at once (before the follower binds anything).
    dpo = gw.principal("dpo", name="dpo-tokens")
    plan = gw.services.policy.plan_for("dpo")
    clear_customer, clear_order = _new_rows(data, FIELDS)
    expected = plan.render(
        _flat(expected_document(OmsData([clear_customer], [clear_order], []), clear_order))
    )
    shown = gw.client.get(f"/v1/orders/by-number/tmall/{order['order_no']}", headers=bearer(dpo))
    assert shown.status_code == 200, shown.text
    assert {k: v for k, v in shown.json().items() if k not in {"order_id", "items", "note"}} == {
        k: v for k, v in expected.items() if k not in {"order_id", "items", "note"}
    }

    # The follower binds each record to the row that carries it, and seals nothing new.
    passed = run_walk(gw, "follow_once")
    assert passed.clear_remaining == 0
    unbound = asyncio.run(
        scalar_sql(
            gw.settings.database_url,
            "SELECT count(*) FROM vault_records WHERE request_key = 'tm-990001' "
            "AND row_key IS NULL",
        )
    )
    assert unbound == 0
    # Bound now: the same token copied into a stranger's row opens nothing there.
    run_on(
        url,
        # as the OMS itself writes: its change time too (the follower's watermark)
        "UPDATE customers SET mobile = :t, updated_time = CURRENT_TIMESTAMP WHERE customer_id = :c",
        params={"t": tokens["customer.phone"], "c": STRANGER_CUSTOMER_ID},
    )
    stranger = next(o for o in data.orders if o["customer_id"] == STRANGER_CUSTOMER_ID)
    read = gw.client.get(
        f"/v1/orders/by-number/{stranger['shop_channel']}/{stranger['order_no']}",
        headers=bearer(dpo),
    )
    assert read.status_code == 200, read.text
    assert read.json()["customer"]["phone"] is None
    email = plan.render(_flat(expected_document(data, stranger)))["customer"]["email"]
    assert read.json()["customer"]["email"] == email  # the stranger's own tokens still open
    # Nor does the follower seal the copied token's value into the stranger's records.
    assert run_walk(gw, "follow_once").foreign_tokens == 1
    query = f"SELECT mobile FROM customers WHERE customer_id = {STRANGER_CUSTOMER_ID}"  # noqa: S608
    [(mobile,)] = fetch(url, query)
    assert mobile == tokens["customer.phone"]
    again_read = gw.client.get(
        f"/v1/orders/by-number/{stranger['shop_channel']}/{stranger['order_no']}",
        headers=bearer(dpo),
    )
    assert again_read.json()["customer"]["phone"] is None


@pytest.mark.usefixtures("vaulted")  # the backfill ran
def test_apps_reading_the_table_directly_see_tokens_of_the_documented_form(
    oms: tuple[str, OmsData],
) -> None:
    url, _ = oms
    mobiles = [m for (m,) in fetch(url, "SELECT mobile FROM customers")]
    assert mobiles
    assert all(len(m) == 11 and m.startswith("~") and is_token(m) for m in mobiles)
    assert len(set(mobiles)) == len(mobiles)  # equal phones get different tokens


def test_the_token_api_refuses_what_its_caller_may_not_do_and_stores_nothing(
    vaulted: Gateway,
) -> None:
    gw = vaulted
    before = gw.count_rows("vault_records")
    web = gw.principal("channel", channel="web", name="oms-web")
    other = assert_problem(_ask(gw, web), 403, "forbidden")
    assert "13655556666" not in str(other)
    agent = gw.principal("customer_service", name="cs-tokens")
    assert_problem(_ask(gw, agent), 403, "forbidden")
    tmall = gw.principal("channel", channel="tmall", name="oms-tmall-2")
    unknown = assert_problem(
        _ask(gw, tmall, fields={"customer.phone": "13655556666", "customer.birthday": "1990"}),
        422,
        "invalid-input",
    )
    assert "1990" not in str(unknown)
    assert "birthday" not in str(unknown)
    phone_key = _ask(gw, tmall, fields={"13812345678": "x"})  # a key may be a value
    assert "13812345678" not in assert_problem(phone_key, 422, "invalid-input").__repr__()
    not_vaulted = _ask(gw, tmall, fields={"shipping_address.city": "杭州市"})  # kept in clear
    assert_problem(not_vaulted, 422, "invalid-input")
    assert_problem(_ask(gw, tmall, system="crm"), 422, "invalid-input")
    bad = gw.client.post(
        "/v1/vault/tokens",
        json={"channel": "tmall", "request_key": "x", "fields": {"customer.phone": ""}},
        headers=bearer(tmall),
    )
    assert bad.status_code in {400, 422}
    assert gw.count_rows("vault_records") == before
    nobody = gw.client.post("/v1/vault/tokens", json={})
    assert_problem(nobody, 401, "unauthenticated")


_CELLS = "SELECT mobile, receiver_mobile, currency FROM customers JOIN orders USING (customer_id)"


def test_columns_that_cannot_hold_a_token_are_named_before_anything_is_written(
    oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path
) -> None:
    url, _ = oms
    # A map that would have the vault take a number column and a three-letter one.
    unfit = VAULT_MAP.replace(
        '{ name = "pay_trade_no", category = "payment_reference", erase = "null" },',
        '{ name = "pay_trade_no", category = "payment_reference", erase = "null" },\n'
        '    { name = "currency", category = "contact" },\n'
        '    { name = "is_deleted", category = "contact" },',
    )
    before = fetch(url, _CELLS)
    with fronting(url, tmp_path, clean_sqlite_url, unfit) as gw:
        check = gw.cli("systems", "check", "--system", "oms")
        assert check.exit_code == 1
        lines = check.output.splitlines()
        assert lines[0] == "oms: Order management (OMS) (sql): 2 problem(s)"
        assert any("orders.currency" in line and "narrower than a token" in line for line in lines)
        assert any("orders.is_deleted" in line and "cannot hold a token" in line for line in lines)
        refused = gw.cli("vault", "backfill", "--system", "oms")
        assert refused.exit_code != 0
        assert "nothing was written" in refused.output
        assert gw.count_rows("vault_records") == 0
    assert fetch(url, _CELLS) == before
