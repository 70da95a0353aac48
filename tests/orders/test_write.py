"""Writing orders through HTTP: idempotency, validation, channel scope, status changes."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.helpers import (
    DELETE,
    SAMPLE_ORDER,
    Gateway,
    assert_no_personal_data,
    assert_problem,
    bearer,
    sample_order,
)


def test_create_is_idempotent_on_channel_and_external_id(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    first = gateway.post_order(writer, SAMPLE_ORDER)
    assert first.status_code == 201
    assert first.json()["created"] is True
    order_id = first.json()["order_id"]

    again = gateway.post_order(writer, SAMPLE_ORDER)
    assert again.status_code == 200
    assert again.json() == {"order_id": order_id, "created": False}

    changed = gateway.post_order(writer, sample_order(total_amount="199.00"))
    body = assert_problem(changed, 409, "idempotency-conflict")
    assert_no_personal_data(json.dumps(body, ensure_ascii=False))
    assert gateway.count_orders() == 1

    store_writer = gateway.principal("channel", channel="store")
    other_channel = gateway.post_order(store_writer, sample_order(channel="store"))
    assert other_channel.status_code == 201
    assert other_channel.json()["order_id"] != order_id


def test_a_channel_writes_only_its_own_channel(gateway: Gateway) -> None:
    web = gateway.principal("channel", channel="web")
    shop = gateway.principal("channel", channel="jd_shop")
    web_order = gateway.create_order(web, SAMPLE_ORDER)

    # Forging another channel's order is refused before anything is looked up, so
    # a 409 cannot tell the shop whether web's external_id exists.
    for doc in (SAMPLE_ORDER, sample_order(external_id="WEB-NEW")):
        problem = assert_problem(gateway.post_order(shop, doc), 403, "forbidden")
        assert "'jd_shop'" in problem["detail"]
    # Another channel's order cannot be moved, and looks missing.
    response = gateway.client.patch(
        f"/v1/orders/{web_order}", json={"status": "refunded"}, headers=bearer(shop)
    )
    assert_problem(response, 404, "not-found")
    reader = gateway.principal("analyst")
    assert gateway.get_order(reader, web_order).json()["status"] == "paid"
    assert gateway.count_orders() == 1


def test_concurrent_status_changes_let_exactly_one_win(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    ids = [gateway.create_order(writer, sample_order(external_id=f"R-{n}")) for n in range(6)]

    def change(args: tuple[str, str]) -> int:
        order_id, status = args
        url = f"/v1/orders/{order_id}"
        return gateway.client.patch(
            url, json={"status": status}, headers=bearer(writer)
        ).status_code

    jobs = [(order_id, status) for order_id in ids for status in ("shipped", "cancelled")]
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(change, jobs))
    # shipped and cancelled both follow paid, but not each other: one of each pair wins.
    for n in range(len(ids)):
        assert sorted(codes[2 * n : 2 * n + 2]) == [200, 409], codes


def test_replaying_a_create_after_a_status_change_still_matches(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    order_id = gateway.create_order(writer, SAMPLE_ORDER)
    patched = gateway.client.patch(
        f"/v1/orders/{order_id}", json={"status": "shipped"}, headers=bearer(writer)
    )
    assert patched.json() == {"order_id": order_id, "status": "shipped"}
    again = gateway.post_order(writer, SAMPLE_ORDER)
    assert again.status_code == 200
    assert again.json()["order_id"] == order_id


def test_input_is_normalised_before_storing(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    reader = gateway.principal("warehouse", "north")
    doc = sample_order(
        **{
            "customer.phone": "+86 138-1234-5678",
            "customer.email": " ZhangSan@Example.COM ",
            "customer.id_number": "11010519491231002x",
            "created_at": "2026-11-20T18:00:00+08:00",
        }
    )
    order_id = gateway.create_order(writer, doc)
    got = gateway.get_order(reader, order_id).json()
    assert got["created_at"] == "2026-11-20T10:00:00Z"
    assert got["customer"] == {"name": "张三", "phone": "138****5678"}
    # The normalised document is the same order as the canonical one: idempotent.
    assert gateway.post_order(writer, SAMPLE_ORDER).json()["order_id"] == order_id


@pytest.mark.parametrize(
    ("changes", "bad_fields"),
    [
        ({"customer.phone": "12345"}, ["customer.phone"]),
        ({"customer.phone": "+12"}, ["customer.phone"]),
        ({"customer.email": "not-an-email"}, ["customer.email"]),
        ({"customer.id_number": "110105194912310021"}, ["customer.id_number"]),
        ({"customer.id_number": "11010519491331002X"}, ["customer.id_number"]),
        ({"total_amount": "-1"}, ["total_amount"]),
        ({"total_amount": 299.0}, ["total_amount"]),
        ({"total_amount": "1.23456"}, ["total_amount"]),
        ({"created_at": "2026-11-20T10:00:00"}, ["created_at"]),
        ({"status": "lost"}, ["status"]),
        ({"currency": "cny"}, ["currency"]),
        ({"items": []}, ["items"]),
        ({"customer.name": "张\x00三"}, ["customer.name"]),
        ({"customer.name": "张\u202e三"}, ["customer.name"]),
        ({"created_at": "0001-01-01T00:00:00+01:00"}, ["created_at"]),
        (
            {"items": [{"sku": "S", "name": "n", "quantity": "5", "unit_price": "1"}]},
            ["items.0.quantity"],
        ),
        (
            {"items": [{"sku": "S", "name": "n", "quantity": 5.0, "unit_price": "1"}]},
            ["items.0.quantity"],
        ),
        (
            {"items": [{"sku": "S", "name": "n", "quantity": True, "unit_price": "1"}]},
            ["items.0.quantity"],
        ),
        ({"customer.13800001111": "x"}, ["customer"]),
        ({"shipping_address": DELETE}, ["shipping_address"]),
        (
            {"customer.phone": DELETE, "customer.email": DELETE},
            ["customer"],
        ),
        (
            {
                "customer.phone": "1",
                "items": [{"sku": "S", "name": "n", "quantity": 0, "unit_price": "1"}],
            },
            ["customer.phone", "items.0.quantity"],
        ),
    ],
)
def test_invalid_orders_are_refused_naming_fields_and_write_nothing(
    gateway: Gateway, changes: dict[str, Any], bad_fields: list[str]
) -> None:
    writer = gateway.principal("channel")
    response = gateway.post_order(writer, sample_order(**changes))
    body = assert_problem(response, 422, "invalid-input")
    assert sorted(e["field"] for e in body["errors"]) == sorted(bad_fields)
    for field in bad_fields:
        assert field in body["detail"]
    assert all(e["message"] for e in body["errors"])
    assert_no_personal_data(response.text)
    assert "12345" not in response.text
    assert "13800001111" not in response.text
    assert gateway.count_orders() == 0


@pytest.mark.parametrize("body", [b'{"external_id": ', b'{"note": "\xff\xfe"}', b"[]"])
def test_malformed_bodies_are_400_problems(gateway: Gateway, body: bytes) -> None:
    writer = gateway.principal("channel")
    response = gateway.client.post(
        "/v1/orders", content=body, headers={**bearer(writer), "content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert_problem(
        response,
        response.status_code,
        "malformed-request" if response.status_code == 400 else "invalid-input",
    )
    assert gateway.count_orders() == 0


def test_status_changes_follow_the_transition_table(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    order_id = gateway.create_order(writer, sample_order(status="pending"))
    url = f"/v1/orders/{order_id}"
    steps = [("paid", 200), ("paid", 200), ("pending", 409), ("shipped", 200), ("cancelled", 409)]
    for status, code in steps:
        response = gateway.client.patch(url, json={"status": status}, headers=bearer(writer))
        assert response.status_code == code, (status, response.text)
        if code == 409:
            assert_problem(response, 409, "invalid-transition")
    reader = gateway.principal("analyst")
    assert gateway.get_order(reader, order_id).json()["status"] == "shipped"
    bad = gateway.client.patch(url, json={"status": "teleported"}, headers=bearer(writer))
    assert_problem(bad, 422, "invalid-input")
    missing = gateway.client.patch(
        "/v1/orders/00000000-0000-0000-0000-000000000000",
        json={"status": "paid"},
        headers=bearer(writer),
    )
    assert_problem(missing, 404, "not-found")


def test_only_the_channel_role_writes(gateway: Gateway) -> None:
    for role in ("customer_service", "dpo", "analyst", "admin"):
        token = gateway.principal(role)
        assert_problem(gateway.post_order(token, SAMPLE_ORDER), 403, "forbidden")
    assert gateway.count_orders() == 0


# --- authentication --------------------------------------------------------------


def test_oversized_bodies_are_refused(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    huge = sample_order(note="x" * (1024 * 1024))
    assert_problem(gateway.post_order(writer, huge), 413, "request-too-large")
    assert gateway.count_orders() == 0


def test_concurrent_identical_writes_create_one_order(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: gateway.post_order(writer, SAMPLE_ORDER), range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert gateway.count_orders() == 1


def test_concurrent_orders_of_one_new_customer_link_one_subject(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    docs = [sample_order(external_id=f"RACE-{n}") for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda doc: gateway.post_order(writer, doc), docs))
    assert [r.status_code for r in responses] == [201] * 8
    assert gateway.count_rows("data_subjects") == 1
    assert gateway.count_rows("subject_identifiers") == 3  # phone, e-mail, id number
