"""A channel writes or changes orders, or a caller probes routes without a valid token,
hoping nothing records it. Every write, every refused write and every failed
authentication, on every route, is in the log."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.handlers import HTTPRouteHandler

from gateway.auth.middleware import ROUTE_KINDS
from tests.helpers import SAMPLE_ORDER, Gateway, bearer, sample_order


def _events(gw: Gateway, action: str, **params: str) -> list[dict[str, Any]]:
    if "log-reader" not in gw.tokens:
        gw.tokens["log-reader"] = gw.principal("dpo", name="log-reader")
    dpo = gw.tokens["log-reader"]
    response = gw.client.get(
        "/v1/audit/events",
        params={"action": action, "limit": 100, **params},
        headers=bearer(dpo),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_writes_status_changes_and_refusals_are_logged(gateway: Gateway) -> None:
    gw = gateway
    writer = gw.principal("channel", name="web-shop")
    order_id = gw.create_order(writer, SAMPLE_ORDER)
    assert gw.post_order(writer, SAMPLE_ORDER).status_code == 200  # an idempotent replay
    assert gw.post_order(writer, sample_order(total_amount="1.00")).status_code == 409
    assert gw.post_order(writer, sample_order(channel="app")).status_code == 403
    moved = gw.client.patch(
        f"/v1/orders/{order_id}", json={"status": "shipped"}, headers=bearer(writer)
    )
    assert moved.status_code == 200
    back = gw.client.patch(
        f"/v1/orders/{order_id}", json={"status": "pending"}, headers=bearer(writer)
    )
    assert back.status_code == 409
    creates = _events(gw, "order.create", actor="web-shop")
    assert [
        (e["outcome"], e["details"].get("created"), e["details"].get("status"))
        for e in reversed(creates)
    ] == [
        ("allowed", True, None),
        ("allowed", False, None),
        ("denied", None, 409),
        ("denied", None, 403),
    ]
    assert creates[-1]["orders"] == [order_id]
    assert len(creates[-1]["subjects"]) == 1
    statuses = _events(gw, "order.status", actor="web-shop")
    assert [
        (e["outcome"], e["details"].get("from"), e["details"].get("to")) for e in reversed(statuses)
    ] == [("allowed", "paid", "shipped"), ("denied", None, None)]


def test_a_bulk_import_is_one_entry_with_counts(gateway: Gateway) -> None:
    gw = gateway
    path = gw.settings.var_dir / "orders.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sample_order(external_id=f"WEB-{n}") for n in range(3)]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines))
    result = gw.cli("import", str(path))
    assert result.exit_code == 0, result.output
    entry = _events(gw, "order.import")[0]  # the newest
    assert entry["actor"] == "operator"
    assert entry["details"] == {"created": 3, "unchanged": 0, "refused": 0, "candidate_links": 0}
    assert len(entry["orders"]) == 3


def _authed_routes(gw: Gateway) -> list[str]:
    paths = []
    for route in gw.client.app.routes:
        for handler in route.route_handlers:  # type: ignore[union-attr]
            if not isinstance(handler, HTTPRouteHandler) or "OPTIONS" in handler.http_methods:
                continue  # Litestar's own OPTIONS handler of each path
            if route.path.startswith("/v1/") and not handler.opt.get("exclude_from_auth"):
                paths.append(route.path)
    return sorted(set(paths))


def test_every_authenticated_route_logs_a_failed_authentication(gateway: Gateway) -> None:
    gw = gateway
    routes = _authed_routes(gw)
    assert {p.split("/")[2] for p in routes} == ROUTE_KINDS
    for path in routes:
        concrete = path.replace("{order_id:str}", "00000000-0000-0000-0000-000000000001")
        concrete = concrete.replace("{", "x").replace("}", "x")
        response = gw.client.get(concrete, headers=bearer("opg_0000000000000000_" + "x" * 43))
        assert response.status_code in {401, 405}, (path, response.status_code)
    logged = _events(gw, "auth.authenticate")
    resources = {e["resource"] for e in logged}
    assert "orders/00000000-0000-0000-0000-000000000001" in resources
    assert {"principals", "reports", "subject-links", "privacy", "auth"} <= resources


@pytest.mark.parametrize(
    ("method", "path", "resource"),
    [("DELETE", "/v1/principals", "principals"), ("GET", "/v1/orders", "orders")],
)
def test_a_path_is_logged_without_its_text(
    gateway: Gateway, method: str, path: str, resource: str
) -> None:
    answer = gateway.client.request(method, path + "/13812345678", headers=bearer("opg_bad"))
    assert answer.status_code == 401
    newest = _events(gateway, "auth.authenticate")[0]
    assert newest["resource"] == resource
    assert newest["details"]["reason"] == "the bearer token is malformed"
