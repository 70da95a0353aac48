"""Reading an order by its sales channel's number (`GET /v1/orders/by-number/...`): the
same read as by id (fields, row scope, restriction, grants, log), and no oracle."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from tests.helpers import (
    SAMPLE_ORDER,
    Gateway,
    assert_no_personal_data,
    assert_problem,
    bearer,
    run_sql,
    sample_order,
    totp_code,
)

MISSING_ID = "5d1b1a36-0000-4000-8000-000000000000"


def _by_number(
    gw: Gateway, token: str, channel: str, external_id: str, **headers: str
) -> httpx.Response:
    path = f"/v1/orders/by-number/{channel}/{external_id}"
    return gw.client.get(path, headers={**bearer(token), **headers})


def _events(gw: Gateway, dpo: str, **params: Any) -> list[dict[str, Any]]:
    """Entries matching `params`, newest first, other than the searches made to find them."""
    response = gw.client.get("/v1/audit/events", params=params, headers=bearer(dpo))
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["action"] != "audit.search"]


def test_a_number_reads_the_order_exactly_as_its_id_does(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    order_id = gateway.create_order(writer, SAMPLE_ORDER)
    # The same number in another channel is another order.
    other = gateway.create_order(
        gateway.principal("channel", channel="store"), sample_order(channel="store")
    )
    reader = gateway.principal("customer_service", name="cs-1")
    dpo = gateway.principal("dpo", name="dpo-1")

    by_id = gateway.get_order(reader, order_id)
    by_number = _by_number(gateway, reader, "web", "WEB-10001")
    assert by_number.status_code == 200, by_number.text
    assert by_number.json() == by_id.json()
    document = by_number.json()
    assert document["order_id"] == order_id
    assert document["customer"]["phone"] == "138****5678"
    assert "id_number" not in document["customer"]
    assert _by_number(gateway, reader, "store", "WEB-10001").json()["order_id"] == other

    read_by_id, read_by_number = _events(gateway, dpo, actor="cs-1", order_id=order_id)[:2]
    assert read_by_number["action"] == "orders.read"
    assert read_by_number["outcome"] == "allowed"
    assert read_by_number["resource"] == f"orders/{order_id}"
    assert read_by_number["orders"] == [order_id]
    for key in ("fields", "subjects", "details"):
        assert read_by_number[key] == read_by_id[key]


def test_another_regions_number_answers_like_a_missing_one(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    gateway.create_order(writer, SAMPLE_ORDER)
    south = gateway.create_order(writer, sample_order(external_id="WEB-2", region="south"))
    north = gateway.principal("warehouse", "north", name="wh-north")
    dpo = gateway.principal("dpo", name="dpo-1")

    assert _by_number(gateway, north, "web", "WEB-10001").json()["region"] == "north"
    other_region = _by_number(gateway, north, "web", "WEB-2")
    missing_number = _by_number(gateway, north, "web", "WEB-404")
    missing_id = gateway.get_order(north, MISSING_ID)
    body = assert_problem(other_region, 404, "not-found")
    assert body == missing_number.json() == missing_id.json()
    headers = [
        {k: v for k, v in r.headers.items() if k != "x-request-id"}
        for r in (other_region, missing_number)
    ]
    assert headers[0] == headers[1]
    assert "south" not in other_region.text

    # The log knows what was tried: the other region's order by its id, never the
    # number the caller typed.
    missing_entry, tried = _events(gateway, dpo, actor="wh-north", outcome="denied")[1:3]
    assert (tried["action"], tried["resource"]) == ("orders.read", f"orders/{south}")
    assert tried["details"] == {"status": 404, "reason": "no order with this order_id"}
    assert missing_entry["resource"] == "orders/(unknown order number)"
    assert "WEB-404" not in json.dumps(missing_entry)


def test_roles_that_read_no_orders_are_refused_by_number_too(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    gateway.create_order(writer, SAMPLE_ORDER)
    for token in (writer, gateway.principal("admin"), gateway.principal("auditor")):
        response = _by_number(gateway, token, "web", "WEB-10001")
        body = assert_problem(response, 403, "forbidden")
        assert_no_personal_data(json.dumps(body, ensure_ascii=False))
        assert "WEB-10001" not in response.text
    assert_problem(_by_number(gateway, "not-a-token", "web", "WEB-10001"), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("channel", "external_id", "fields"),
    [
        ("Web", "WEB-10001", ["channel"]),
        ("web", "张三", ["external_id"]),
        ("web", "zhangsan@example.com", ["external_id"]),
        ("web", "13812345678%20x", ["external_id"]),
        ("web", "A" * 65, ["external_id"]),
        ("9web", "a%0A", ["channel", "external_id"]),
    ],
)
def test_bad_numbers_are_named_without_their_value(
    gateway: Gateway, channel: str, external_id: str, fields: list[str]
) -> None:
    gateway.create_order(gateway.principal("channel"), SAMPLE_ORDER)
    reader = gateway.principal("customer_service")
    response = _by_number(gateway, reader, channel, external_id)
    body = assert_problem(response, 400, "invalid-parameter")
    assert [e["field"] for e in body["errors"]] == fields
    messages = {e["field"]: e["message"] for e in body["errors"]}
    if "external_id" in messages:
        assert messages["external_id"] == "must be 1-64 letters, digits, '.', '_', ':' or '-'"
    assert_no_personal_data(response.text)
    assert "zhangsan" not in response.text
    assert "AAAA" not in response.text


def test_a_grant_reveals_through_the_number_and_a_restricted_order_stays_withheld(
    gateway: Gateway, database_url: str
) -> None:
    order_id = gateway.create_order(gateway.principal("channel"), SAMPLE_ORDER)
    token = gateway.principal("customer_service", name="cs-1")
    secret = gateway.enrol_totp(token)
    granted = gateway.grant(
        token, secret, order_ids=[order_id], code=totp_code(secret, gateway.clock)
    )
    assert granted.status_code == 201, granted.text
    grant = granted.json()["grant"]
    revealed = gateway.client.get(
        "/v1/orders/by-number/web/WEB-10001",
        params={"reveal": "customer.phone"},
        headers={**bearer(token), "X-Unmask-Grant": grant},
    )
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["customer"]["phone"] == "13812345678"
    assert revealed.headers["x-revealed-fields"] == "customer.phone"
    assert revealed.headers["cache-control"] == "no-store"

    # Erasure requested (GDPR Art. 18): by number as by id, the personal fields are withheld.
    asyncio.run(run_sql(database_url, "UPDATE subject_keys SET restricted_since = created_at"))
    restricted = _by_number(gateway, token, "web", "WEB-10001")
    assert restricted.json() == gateway.get_order(token, order_id).json()
    assert "customer" not in restricted.json()
    assert_no_personal_data(restricted.text)
    dpo = gateway.principal("dpo", name="dpo-1")
    entry = _events(gateway, dpo, actor="cs-1", action="orders.read")[1]
    assert entry["resource"] == f"orders/{order_id}"
    assert entry["details"]["restricted"].startswith("erasure requested")
