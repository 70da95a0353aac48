"""Search by blind index through HTTP: policy decides who may search by what, results
are the subject's orders at the caller's levels, identifiers never travel in URLs."""

from __future__ import annotations

import pytest

from tests.helpers import (
    SAMPLE_ORDER,
    Gateway,
    assert_no_personal_data,
    assert_problem,
    bearer,
    sample_order,
)


def _seed(gateway: Gateway) -> dict[str, str]:
    writer = gateway.principal("channel")
    other = sample_order(
        external_id="WEB-9",
        **{
            "customer.name": "李四",
            "customer.phone": "13900000001",
            "customer.email": "lisi@example.cn",
            "customer.id_number": None,
        },
    )
    return {
        "first": gateway.create_order(writer, SAMPLE_ORDER),
        # The same e-mail without the phone: found by the e-mail, not by the phone (an
        # order proves nothing about who owns its contacts, so nothing is inferred).
        "again": gateway.create_order(
            writer,
            sample_order(external_id="WEB-2", **{"customer.phone": None}),
        ),
        "other": gateway.create_order(writer, other),
    }


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ({"phone": "+86 138-1234-5678"}, ["first"]),
        ({"email": " ZhangSan@Example.com"}, ["first", "again"]),
    ],
)
def test_customer_service_finds_the_orders_carrying_a_phone_or_email(
    gateway: Gateway, body: dict[str, str], found: list[str]
) -> None:
    ids = _seed(gateway)
    token = gateway.principal("customer_service")
    response = gateway.client.post("/v1/orders/search", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    page = response.json()
    assert sorted(o["order_id"] for o in page["items"]) == sorted(ids[k] for k in found)
    assert page["next_cursor"] is None
    assert {o["customer"]["name"] for o in page["items"]} == {"张*"}
    assert_no_personal_data(response.text)


def test_only_dpo_searches_by_id_number(gateway: Gateway) -> None:
    ids = _seed(gateway)
    body = {"id_number": "11010519491231002x"}
    dpo = gateway.principal("dpo")
    found = gateway.client.post("/v1/orders/search", json=body, headers=bearer(dpo)).json()
    # The id number was attached to the subject with its first order; the second
    # order reached the same subject by e-mail, so the search finds both.
    assert sorted(o["order_id"] for o in found["items"]) == sorted([ids["first"], ids["again"]])
    assert {o["customer"]["id_number"] for o in found["items"]} == {"110105********002X"}
    cs = gateway.principal("customer_service")
    refused = gateway.client.post("/v1/orders/search", json=body, headers=bearer(cs))
    assert "may not search by id_number" in assert_problem(refused, 403, "forbidden")["detail"]


@pytest.mark.parametrize(
    ("role", "region"),
    [
        ("warehouse", "north"),
        ("finance", None),
        ("analyst", None),
        ("channel", None),
        ("admin", None),
    ],
)
def test_roles_without_search_rights_are_refused(
    gateway: Gateway, role: str, region: str | None
) -> None:
    _seed(gateway)
    token = gateway.principal(role, region, name=f"searcher-{role}")
    response = gateway.client.post(
        "/v1/orders/search", json={"phone": "13812345678"}, headers=bearer(token)
    )
    assert_problem(response, 403, "forbidden")
    assert_no_personal_data(response.text)


def test_no_match_and_bad_searches(gateway: Gateway) -> None:
    _seed(gateway)
    token = bearer(gateway.principal("dpo"))
    empty = gateway.client.post("/v1/orders/search", json={"phone": "13700000000"}, headers=token)
    assert empty.json() == {"items": [], "next_cursor": None}
    for body, field in (
        ({}, "body"),
        ({"phone": "13812345678", "email": "zhangsan@example.com"}, "body"),
        ({"phone": "12345"}, "phone"),
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"phone": "13812345678", "name": "张三"}, "body"),
    ):
        response = gateway.client.post("/v1/orders/search", json=body, headers=token)
        problem = assert_problem(response, 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == [field], problem
        assert_no_personal_data(response.text)
        assert "12345" not in response.text


def test_search_pages_like_the_list(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    ids = [gateway.create_order(writer, sample_order(external_id=f"P-{n}")) for n in range(5)]
    token = bearer(gateway.principal("customer_service"))
    seen: list[str] = []
    cursor = None
    while True:
        body = {"phone": "13812345678", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = gateway.client.post("/v1/orders/search", json=body, headers=token).json()
        seen += [o["order_id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
