"""Principals over HTTP: only a role with `principals, manage` (admin) may touch them,
and it may only create principals that can neither read orders nor manage principals."""

from __future__ import annotations

import pytest

from tests.helpers import Gateway, assert_problem, bearer, sample_order


def test_admin_creates_lists_and_revokes_a_channel_principal(gateway: Gateway) -> None:
    admin = bearer(gateway.principal("admin"))
    created = gateway.client.post(
        "/v1/principals",
        json={"name": "shop-store", "role": "channel", "channel": "store"},
        headers=admin,
    )
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"  # the answer holds the token
    body = created.json()
    assert (body["name"], body["role"], body["channel"]) == ("shop-store", "channel", "store")
    token = body["token"]
    order = sample_order(channel="store", external_id="S-1")
    assert gateway.post_order(token, order).status_code == 201

    listed = gateway.client.get("/v1/principals", headers=admin)
    assert {p["name"]: (p["channel"], p["revoked"]) for p in listed.json()} == {
        "admin-all": (None, False),
        "shop-store": ("store", False),
    }
    assert token not in listed.text
    assert "token" not in listed.json()[0]

    revoked = gateway.client.delete("/v1/principals/shop-store", headers=admin)
    assert revoked.status_code == 204
    # Revoked here, so the cache forgets it at once (no wait for the cache to expire).
    refused = gateway.post_order(token, sample_order(channel="store", external_id="S-2"))
    assert_problem(refused, 401, "unauthenticated")
    again = gateway.client.delete("/v1/principals/shop-store", headers=admin)
    assert_problem(again, 404, "not-found")
    assert gateway.count_orders() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "role": "warehouse", "region": "east"},
        {"name": "x", "role": "customer_service"},
        {"name": "x", "role": "dpo"},
        {"name": "x", "role": "admin"},
    ],
)
def test_admin_cannot_mint_tokens_that_read_orders_or_manage_principals(
    gateway: Gateway, body: dict[str, str]
) -> None:
    admin = bearer(gateway.principal("admin"))
    response = gateway.client.post("/v1/principals", json=body, headers=admin)
    problem = assert_problem(response, 403, "forbidden")
    assert "privacy-gateway principals create" in problem["detail"]
    assert "token" not in response.text
    names = [p["name"] for p in gateway.client.get("/v1/principals", headers=admin).json()]
    assert names == ["admin-all"]


def test_principal_rules_apply_over_http(gateway: Gateway) -> None:
    admin = bearer(gateway.principal("admin"))
    cases = [
        ({"name": "x", "role": "root"}, 422, "invalid-input", "role"),
        ({"name": "x", "role": "channel"}, 422, "invalid-input", "channel"),
        ({"name": "x", "role": "channel", "channel": "Web!"}, 422, "invalid-input", "channel"),
        ({"name": "bad name", "role": "channel", "channel": "web"}, 422, "invalid-input", "name"),
        ({"name": "x", "role": "analyst", "extra": 1}, 422, "invalid-input", "body"),
    ]
    for body, status, slug, field in cases:
        response = gateway.client.post("/v1/principals", json=body, headers=admin)
        problem = assert_problem(response, status, slug)
        assert [e["field"] for e in problem["errors"]] == [field], problem
    duplicate = {"name": "admin-all", "role": "channel", "channel": "web"}
    response = gateway.client.post("/v1/principals", json=duplicate, headers=admin)
    assert "already exists" in assert_problem(response, 409, "conflict")["detail"]
    names = [p["name"] for p in gateway.client.get("/v1/principals", headers=admin).json()]
    assert names == ["admin-all"]


def test_only_admin_manages_principals(gateway: Gateway) -> None:
    roles = [
        ("dpo", None),
        ("customer_service", None),
        ("channel", None),
        ("analyst", None),
        ("finance", None),
        ("warehouse", "north"),
    ]
    for role, region in roles:
        token = bearer(gateway.principal(role, region))
        for response in (
            gateway.client.get("/v1/principals", headers=token),
            gateway.client.post(
                "/v1/principals",
                json={"name": "evil", "role": "channel", "channel": "web"},
                headers=token,
            ),
            gateway.client.delete("/v1/principals/dpo-all", headers=token),
        ):
            assert_problem(response, 403, "forbidden")
    rows = gateway.cli("principals", "list", "--json").output
    assert "evil" not in rows
    assert '"revoked": true' not in rows
