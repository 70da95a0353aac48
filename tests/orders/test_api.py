"""The orders API through HTTP, on a real database: writes, reads, scope, errors."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DELETE, SAMPLE_ORDER, Gateway, assert_problem, bearer, sample_order

PERSONAL_VALUES = [
    "张三",
    "13812345678",
    "zhangsan@example.com",
    "11010519491231002X",
    "建国路88号",
]


def assert_no_personal_data(text: str) -> None:
    for value in PERSONAL_VALUES:
        assert value not in text


# --- writing ---------------------------------------------------------------------


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

    other_channel = gateway.post_order(writer, sample_order(channel="store"))
    assert other_channel.status_code == 201
    assert other_channel.json()["order_id"] != order_id


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
        ({"customer.ssn": "123"}, ["customer.ssn"]),
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
    assert gateway.count_orders() == 0


def test_malformed_json_is_a_400_problem(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    response = gateway.client.post(
        "/v1/orders",
        content=b'{"external_id": ',
        headers={**bearer(writer), "content-type": "application/json"},
    )
    assert_problem(response, 400, "malformed-request")
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


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-token",
        "Bearer opg_0123456789abcdef_" + "A" * 43,
    ],
)
def test_missing_or_bad_tokens_get_401_and_change_nothing(
    gateway: Gateway, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    for response in (
        gateway.client.get("/v1/orders", headers=headers),
        gateway.client.post("/v1/orders", json=SAMPLE_ORDER, headers=headers),
        gateway.client.post("/v1/orders", json={"bad": 1}, headers=headers),
    ):
        assert_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    assert gateway.count_orders() == 0


def test_a_token_with_a_wrong_secret_is_refused(gateway: Gateway) -> None:
    token = gateway.principal("analyst")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_problem(gateway.client.get("/v1/orders", headers=bearer(forged)), 401, "unauthenticated")
    assert gateway.client.get("/v1/orders", headers=bearer(token)).status_code == 200


def test_a_revoked_token_stops_working_once_the_cache_expires(gateway: Gateway) -> None:
    token = gateway.principal("analyst", name="soon-revoked")
    assert gateway.client.get("/v1/orders", headers=bearer(token)).status_code == 200
    assert gateway.cli("principals", "revoke", "soon-revoked").exit_code == 0
    gateway.clock.advance(seconds=gateway.settings.auth_cache_seconds + 1)
    assert_problem(gateway.client.get("/v1/orders", headers=bearer(token)), 401, "unauthenticated")


# --- reading: scope and separation of duties --------------------------------------


def test_admin_and_channel_cannot_read_orders(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    order_id = gateway.create_order(writer, SAMPLE_ORDER)
    admin = gateway.principal("admin")
    for token in (writer, admin):
        for response in (
            gateway.get_order(token, order_id),
            gateway.client.get("/v1/orders", headers=bearer(token)),
        ):
            body = assert_problem(response, 403, "forbidden")
            assert_no_personal_data(json.dumps(body, ensure_ascii=False))


def test_warehouse_sees_only_its_region_and_other_regions_look_missing(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    north_id = gateway.create_order(writer, SAMPLE_ORDER)
    south_id = gateway.create_order(writer, sample_order(external_id="WEB-2", region="south"))
    north = gateway.principal("warehouse", "north")

    assert gateway.get_order(north, north_id).json()["order_id"] == north_id
    other = gateway.get_order(north, south_id)
    missing = gateway.get_order(north, "5d1b1a36-0000-4000-8000-000000000000")
    assert_problem(other, 404, "not-found")
    assert other.json() == missing.json()

    listed = gateway.client.get("/v1/orders", headers=bearer(north)).json()
    assert [o["order_id"] for o in listed["items"]] == [north_id]
    # Asking for another region through the filter finds nothing, not the other region.
    filtered = gateway.client.get("/v1/orders?region=south", headers=bearer(north)).json()
    assert filtered == {"items": [], "next_cursor": None}


def test_malformed_order_ids_look_like_missing_orders(gateway: Gateway) -> None:
    reader = gateway.principal("analyst")
    assert_problem(gateway.get_order(reader, "not-a-uuid"), 404, "not-found")


# --- listing -----------------------------------------------------------------------


def _seed_many(gateway: Gateway, writer: str, count: int) -> list[str]:
    ids = []
    for n in range(count):
        doc = sample_order(
            external_id=f"WEB-{n}",
            created_at=f"2026-11-{1 + n % 20:02d}T{n % 24:02d}:00:00Z",
            status="paid" if n % 2 else "shipped",
            channel="web" if n % 3 else "store",
        )
        ids.append(gateway.create_order(writer, doc))
    return ids


def test_pagination_walks_every_order_once_newest_first(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    ids = _seed_many(gateway, writer, 23)
    reader = gateway.principal("finance")
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = gateway.client.get("/v1/orders", params=params, headers=bearer(reader)).json()
        seen.extend(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert sorted(o["order_id"] for o in seen) == sorted(ids)
    keys = [(o["created_at"], o["order_id"]) for o in seen]
    assert keys == sorted(keys, reverse=True)


def test_list_filters_combine(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    _seed_many(gateway, writer, 12)
    reader = gateway.principal("analyst")
    params = {
        "status": "paid",
        "channel": "web",
        "created_from": "2026-11-03T00:00:00Z",
        "created_to": "2026-11-10T00:00:00Z",
    }
    items = gateway.client.get("/v1/orders", params=params, headers=bearer(reader)).json()["items"]
    assert items
    for order in items:
        assert order["status"] == "paid"
        assert order["channel"] == "web"
        assert "2026-11-03" <= order["created_at"][:10] < "2026-11-10"
    everything = gateway.client.get("/v1/orders", headers=bearer(reader)).json()["items"]
    expected = [
        o
        for o in everything
        if o["status"] == "paid"
        and o["channel"] == "web"
        and "2026-11-03T00:00:00Z" <= o["created_at"] < "2026-11-10T00:00:00Z"
    ]
    assert items == expected


@pytest.mark.parametrize(
    ("query", "field", "status", "slug"),
    [
        ("limit=0", "limit", 400, "invalid-parameter"),
        ("limit=101", "limit", 400, "invalid-parameter"),
        ("limit=ten", "limit", 400, "invalid-parameter"),
        ("status=lost", "status", 400, "invalid-parameter"),
        ("cursor=bm9wZQ", "cursor", 400, "invalid-parameter"),
        ("created_from=2026-11-01T00:00:00", "created_from", 400, "invalid-parameter"),
        ("created_from=yesterday", "created_from", 400, "invalid-parameter"),
    ],
)
def test_bad_list_parameters_are_named(
    gateway: Gateway, query: str, field: str, status: int, slug: str
) -> None:
    reader = gateway.principal("analyst")
    response = gateway.client.get(f"/v1/orders?{query}", headers=bearer(reader))
    body = assert_problem(response, status, slug)
    assert [e["field"] for e in body["errors"]] == [field]


# --- the rest of the HTTP surface ---------------------------------------------------


def test_unknown_routes_and_methods_are_problems(gateway: Gateway) -> None:
    reader = gateway.principal("analyst")
    assert_problem(gateway.client.get("/v1/nothing", headers=bearer(reader)), 404, "not-found")
    response = gateway.client.delete("/v1/orders/x", headers=bearer(reader))
    assert_problem(response, 405, "method-not-allowed")


def test_problem_types_resolve_to_a_description(gateway: Gateway) -> None:
    described = gateway.client.get("/problems/idempotency-conflict").json()
    assert described["status"] == 409
    assert "external_id" in described["description"]
    assert_problem(gateway.client.get("/problems/nope"), 404, "not-found")


def test_openapi_document_describes_the_order_routes(gateway: Gateway) -> None:
    spec = gateway.client.get("/schema/openapi.json").json()
    assert {"/v1/orders", "/v1/orders/{order_id}"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    order_in = spec["components"]["schemas"]["OrderIn"]
    assert {"customer", "items", "external_id"} <= set(order_in["properties"])


def test_health_reports_the_policy_version(gateway: Gateway) -> None:
    body = gateway.client.get("/healthz").json()
    assert body["status"] == "ok"
    assert len(body["policy_version"]) == 16


def test_oversized_bodies_are_refused(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    huge = sample_order(note="x" * (1024 * 1024))
    assert_problem(gateway.post_order(writer, huge), 413, "request-too-large")
    assert gateway.count_orders() == 0


def test_a_broken_database_fails_closed_without_details(tmp_path: Path) -> None:
    # The store is unreachable: every request fails closed with a bare 500 problem.
    url = f"sqlite:///{tmp_path / 'missing' / 'gateway.db'}"
    with Gateway.start(url, tmp_path) as gw:
        response = gw.client.get("/v1/orders", headers=bearer("opg_0123456789abcdef_" + "A" * 43))
        body = assert_problem(response, 500, "internal-error")
        assert set(body) == {"type", "title", "status", "detail"}
        assert "sqlite" not in response.text.lower()
        assert "Traceback" not in response.text


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
    assert gateway.count_rows("subject_identifiers") == 2
