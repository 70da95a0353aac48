"""Reading orders through HTTP: row scope, separation of duties, listing and pagination."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import (
    SAMPLE_ORDER,
    Gateway,
    assert_no_personal_data,
    assert_problem,
    bearer,
    sample_order,
)


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


def _seed_many(gateway: Gateway, count: int) -> list[str]:
    """`count` orders of two channels; two or three share each `created_at` (ties)."""
    writers = {c: gateway.principal("channel", channel=c) for c in ("web", "store")}
    ids = []
    for n in range(count):
        channel = "web" if n % 3 else "store"
        doc = sample_order(
            external_id=f"X-{n}",
            created_at=f"2026-11-{1 + n % 10:02d}T08:00:00Z",
            status="paid" if n % 2 else "shipped",
            channel=channel,
        )
        ids.append(gateway.create_order(writers[channel], doc))
    return ids


def test_pagination_walks_every_order_once_newest_first(gateway: Gateway) -> None:
    ids = _seed_many(gateway, 23)
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
    assert len({o["created_at"] for o in seen}) < len(seen)  # ties were crossed


def test_list_filters_combine(gateway: Gateway) -> None:
    _seed_many(gateway, 12)
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
        ("cursor=WyIyMDI2LTExLTAxVDAwOjAwOjAwWiIsIDEyM10", "cursor", 400, "invalid-parameter"),
        ("cursor=" + "W1tb" * 400, "cursor", 400, "invalid-parameter"),
        ("cursor=e30", "cursor", 400, "invalid-parameter"),
        ("channel=Web!", "channel", 400, "invalid-parameter"),
        ("region=no%20such", "region", 400, "invalid-parameter"),
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
