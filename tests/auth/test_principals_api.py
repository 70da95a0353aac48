"""Principals over HTTP: only a role with `principals, manage` (admin) may touch them."""

from __future__ import annotations

from tests.helpers import Gateway, assert_problem, bearer


def test_admin_creates_lists_and_revokes_principals(gateway: Gateway) -> None:
    admin = bearer(gateway.principal("admin"))
    created = gateway.client.post(
        "/v1/principals",
        json={"name": "wh-east", "role": "warehouse", "region": "east"},
        headers=admin,
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["name"], body["role"], body["region"]) == ("wh-east", "warehouse", "east")
    token = body["token"]
    assert gateway.client.get("/v1/orders", headers=bearer(token)).status_code == 200

    listed = gateway.client.get("/v1/principals", headers=admin)
    assert {p["name"]: p["revoked"] for p in listed.json()} == {
        "admin-all": False,
        "wh-east": False,
    }
    assert token not in listed.text
    assert "token" not in listed.json()[0]

    revoked = gateway.client.delete("/v1/principals/wh-east", headers=admin)
    assert revoked.status_code == 204
    # Revoked here, so the cache forgets it at once (no wait for the cache to expire).
    assert_problem(gateway.client.get("/v1/orders", headers=bearer(token)), 401, "unauthenticated")
    again = gateway.client.delete("/v1/principals/wh-east", headers=admin)
    assert_problem(again, 404, "not-found")


def test_principal_rules_apply_over_http(gateway: Gateway) -> None:
    admin = bearer(gateway.principal("admin"))
    cases = [
        ({"name": "x", "role": "root"}, 422, "invalid-input", "unknown role 'root'"),
        ({"name": "x", "role": "warehouse"}, 422, "invalid-input", "limited to one region"),
        ({"name": "x", "role": "analyst", "extra": 1}, 422, "invalid-input", "extra"),
        ({"name": "admin-all", "role": "analyst"}, 409, "conflict", "already exists"),
    ]
    for body, status, slug, detail in cases:
        response = gateway.client.post("/v1/principals", json=body, headers=admin)
        problem = assert_problem(response, status, slug)
        assert detail in response.text, problem
    assert [p["name"] for p in gateway.client.get("/v1/principals", headers=admin).json()] == [
        "admin-all"
    ]


def test_only_admin_manages_principals(gateway: Gateway) -> None:
    for role in ("dpo", "customer_service", "channel", "analyst"):
        token = bearer(gateway.principal(role))
        for response in (
            gateway.client.get("/v1/principals", headers=token),
            gateway.client.post(
                "/v1/principals", json={"name": "evil", "role": "dpo"}, headers=token
            ),
            gateway.client.delete(f"/v1/principals/{role}-all", headers=token),
        ):
            assert_problem(response, 403, "forbidden")
    rows = gateway.cli("principals", "list", "--json").output
    assert "evil" not in rows
    assert '"revoked": true' not in rows
