"""The vault and privacy requests (issue 17, mode 2): a customer of a vaulted OMS asks
for erasure on the public API; the request is verified by their contact as the vault
holds it, their key is shredded and their OMS rows are anonymised in place, and the
certificate says both. Then `vault restore` puts every other value back and refuses
theirs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.vault import is_token
from tests.fronted.front import all_pages, fronting
from tests.fronted.oms import (
    STRANGER_CUSTOMER_ID,
    SUBJECT_CUSTOMER_ID,
    SUBJECT_MOBILE,
    OmsData,
    create_oms,
    oms_rows,
    phone_digits,
)
from tests.fronted.vaulting import VAULT_MAP, gateway_database, run_walk
from tests.helpers import Gateway, bearer
from tests.systems.chain import certificate_of, fetch, new_database, register_view

ROWS = 160


@pytest.fixture(params=["postgresql", "mariadb"])
def oms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, OmsData]]:
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


CUSTOMER_CELLS = ("full_name", "mobile", "email", "id_card_no")
ORDER_CELLS = (
    "receiver_name",
    "receiver_mobile",
    "receiver_address",
    "buyer_memo",
    "gift_note",
    "seller_memo",
    "pay_trade_no",
)


def _customer(url: str, customer_id: int) -> dict[str, object]:
    query = f"SELECT {', '.join(CUSTOMER_CELLS)} FROM customers WHERE customer_id = {customer_id}"  # noqa: S608
    [row] = fetch(url, query)
    return dict(zip(CUSTOMER_CELLS, row, strict=True))


def _says_what_was_done_where(
    document: dict[str, Any], data: OmsData, mine: list[dict[str, Any]]
) -> None:
    """The certificate: the vault's records crypto-shredded, the OMS's rows anonymised
    in place (the kept order numbers under their rule), and searched again."""
    systems = {e["system"]: e for e in document["certificate"]["systems"]}
    vault_step = {s["step"]: s for s in document["certificate"]["steps"]}["vault"]
    assert vault_step["action"] == "crypto-shredded"
    customer = data.customer(SUBJECT_CUSTOMER_ID)
    mine_cells = sum(1 for o in mine for c in ORDER_CELLS if o.get(c))
    mine_cells += sum(1 for c in CUSTOMER_CELLS if customer.get(c))
    # Others' orders sent to them (a gift): the receiver's phone is theirs, and goes.
    gifts = [
        o
        for o in data.orders
        if o["customer_id"] != SUBJECT_CUSTOMER_ID
        and phone_digits(o["receiver_mobile"]) == SUBJECT_MOBILE
    ]
    assert gifts  # the data set has one: the test would not see it otherwise
    assert vault_step["records"] == mine_cells + len(gifts)
    assert vault_step["systems"] == {"oms": mine_cells + len(gifts)}
    datasets = {d["dataset"]: d for d in systems["oms"]["datasets"]}
    assert datasets["customers"]["anonymised"] == 1
    assert datasets["orders"]["rows_found"] == len(mine) + len(gifts)
    assert datasets["orders"]["anonymised"] == len(mine) + len(gifts)
    assert [k["rule"] for k in datasets["orders"]["kept"]] == ["tax_record"]
    assert systems["oms"]["searched_again"] == {"customers": 0, "orders": 0}


def test_an_erasure_of_a_vaulted_customer_shreds_their_key_and_anonymises_their_rows(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    gw, (url, data) = vaulted, oms
    mine = data.orders_of(SUBJECT_CUSTOMER_ID, include_deleted=True)
    stranger_before = _customer(url, STRANGER_CUSTOMER_ID)

    # A stranger who knows the order number but not the customer's phone gets no code.
    wrong_id, _ = gw.submit_privacy(contact="13900009999", order_id=mine[0]["order_no"])
    assert not [m for m in gw.outbox() if m["request_id"] == wrong_id]

    request_id, token = gw.submit_privacy(contact=SUBJECT_MOBILE, order_id=mine[0]["order_no"])
    verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert verified.status_code == 200, verified.text
    # Verified, not yet carried out: their processing is restricted (GDPR Art. 18).
    dpo = gw.principal("dpo", name="dpo-restricted")
    live = next(o for o in mine if not o["is_deleted"])
    held = gw.client.get(
        f"/v1/orders/by-number/{live['shop_channel']}/{live['order_no']}", headers=bearer(dpo)
    )
    assert held.status_code == 200, held.text
    assert "customer" not in held.json()
    assert "shipping_address" not in held.json()
    assert held.json()["external_id"] == live["order_no"]
    gw.run_privacy_worker()
    assert gw.privacy_status(request_id, token)["state"] == "completed", register_view(
        gw, request_id
    )

    _says_what_was_done_where(certificate_of(gw, request_id, token), data, mine)

    # In the OMS: the customer's row anonymised in place; what the map does not treat
    # (e-mail, id number) still holds a token that opens nothing any more.
    row = _customer(url, SUBJECT_CUSTOMER_ID)
    assert row["mobile"] == "***"
    assert row["full_name"] == "***"
    assert is_token(row["email"])
    assert is_token(row["id_card_no"])
    columns = "order_no, receiver_mobile, buyer_memo"
    query = f"SELECT {columns} FROM orders WHERE customer_id = {SUBJECT_CUSTOMER_ID}"  # noqa: S608
    kept = fetch(url, query)
    assert sorted(r[0] for r in kept) == sorted(o["order_no"] for o in mine)
    assert all(r[1] == "***" and r[2] is None for r in kept)
    assert _customer(url, STRANGER_CUSTOMER_ID) == stranger_before  # untouched

    # Through the gateway: the customer's orders show nothing of them, the stranger's do.
    agent = gw.principal("dpo", name="dpo-reader")
    read = {r["external_id"]: r for r in all_pages(gw, agent)}
    for order in mine:
        if not order["is_deleted"]:
            shown = read[order["order_no"]]
            assert shown["customer"]["email"] is None  # its token opens nothing now
            assert shown["customer"]["id_number"] is None
            assert shown["customer"]["phone"] == "***"  # as the OMS's row holds it now

    # Leaving the gateway: everything else goes back, the erased customer's values do not.
    restored = gw.cli("vault", "restore", "--system", "oms", "--json")
    assert restored.exit_code == 0, restored.output
    assert '"refused": 2' in restored.output  # the e-mail and id number: gone for good
    assert _customer(url, STRANGER_CUSTOMER_ID) == {
        k: data.customer(STRANGER_CUSTOMER_ID)[k] for k in stranger_before
    }
    assert is_token(_customer(url, SUBJECT_CUSTOMER_ID)["email"])


def test_an_access_copy_of_a_vaulted_customer_holds_their_values_not_tokens(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    gw, (url, data) = vaulted, oms
    mine = data.orders_of(SUBJECT_CUSTOMER_ID, include_deleted=True)
    before = fetch(url, "SELECT * FROM customers ORDER BY customer_id")
    request_id, token = gw.submit_privacy(
        kind="access", contact=SUBJECT_MOBILE, order_id=mine[-1]["order_no"]
    )
    verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert verified.status_code == 200, verified.text
    gw.run_privacy_worker()
    assert gw.privacy_status(request_id, token)["state"] == "completed"

    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    export = gw.client.get("/privacy/export").json()["systems"]["oms"]["datasets"]
    customer = data.customer(SUBJECT_CUSTOMER_ID)
    [row] = export["customers"]
    assert (row["mobile"], row["full_name"]) == (customer["mobile"], customer["full_name"])
    gifts = {
        o["order_no"]: o
        for o in data.orders
        if o["customer_id"] != SUBJECT_CUSTOMER_ID
        and phone_digits(o["receiver_mobile"]) == SUBJECT_MOBILE
    }
    expected = sorted([o["order_no"] for o in mine] + list(gifts))
    assert sorted(o["order_no"] for o in export["orders"]) == expected
    by_number = {o["order_no"]: o for o in mine}
    for copied in export["orders"]:
        if copied["order_no"] in gifts:  # sent to them: their phone, nobody else's data
            gift = gifts[copied["order_no"]]
            assert copied["receiver_mobile"] == gift["receiver_mobile"]
            assert copied["buyer_memo"] in (None, "") or is_token(copied["buyer_memo"])
            continue
        original = by_number[copied["order_no"]]
        for column in ORDER_CELLS:
            assert copied[column] == original[column]
    assert "李四" not in str(export)  # nobody else's rows
    assert fetch(url, "SELECT * FROM customers ORDER BY customer_id") == before
