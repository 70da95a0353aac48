"""A staff token tries to reach further than its role: an unmask grant naming orders of
another region, a search loop walking a list of phone numbers, a leaked token turned into
a second factor long after it was issued."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, bearer, sample_order, totp_code


def test_a_grant_cannot_name_orders_outside_the_callers_row_scope(gateway: Gateway) -> None:
    gw = gateway
    writer = gw.principal("channel")
    north = gw.create_order(writer, SAMPLE_ORDER)
    south = gw.create_order(writer, sample_order(external_id="WEB-2", region="south"))
    token = gw.principal("warehouse", "north")
    secret = gw.enrol_totp(token)
    missing = "00000000-0000-0000-0000-000000000009"
    refused = gw.grant(token, secret, order_ids=[north, south, missing])
    problem = assert_problem(refused, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == ["order_ids.1", "order_ids.2"]
    # The same answer for another region's order and for none: nothing is told.
    assert {e["message"] for e in problem["errors"]} == {"is not an order you can read"}
    assert gw.grant(token, secret, order_ids=[north]).status_code == 201
    dpo = gw.principal("dpo")
    denied = gw.client.get(
        "/v1/audit/events",
        params={"action": "grant.issue", "outcome": "denied"},
        headers=bearer(dpo),
    ).json()["items"]
    assert denied[0]["details"]["status"] == 422


def test_a_search_loop_raises_an_alert_then_a_limit(database_url: str, tmp_path: Path) -> None:
    with Gateway.start(
        database_url, tmp_path, search_alert_per_hour=3, search_limit_per_hour=5
    ) as gw:
        gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
        token = gw.principal("customer_service")
        answers = [
            gw.client.post(
                "/v1/orders/search", json={"phone": f"1380000000{n}"}, headers=bearer(token)
            ).status_code
            for n in range(7)
        ]
        assert answers == [200] * 5 + [429] * 2
        dpo = gw.principal("dpo")
        [alert] = gw.client.get(
            "/v1/audit/events", params={"action": "orders.search_volume"}, headers=bearer(dpo)
        ).json()["items"]
        assert alert["actor"] == "customer_service-all"
        assert alert["details"]["searches_this_hour"] == 4
        # Another principal is not affected; the next hour starts afresh.
        other = gw.principal("customer_service", name="cs-2")
        assert (
            gw.client.post(
                "/v1/orders/search", json={"phone": "13812345678"}, headers=bearer(other)
            ).status_code
            == 200
        )
        gw.clock.advance(hours=1)
        assert (
            gw.client.post(
                "/v1/orders/search", json={"phone": "13812345678"}, headers=bearer(token)
            ).status_code
            == 200
        )


def _created_at(gw: Gateway, name: str) -> datetime:
    if "admin" not in gw.tokens:
        gw.tokens["admin"] = gw.principal("admin")
    listed = gw.client.get("/v1/principals", headers=bearer(gw.tokens["admin"])).json()
    return datetime.fromisoformat(next(p["created_at"] for p in listed if p["name"] == name))


def test_a_first_factor_only_within_the_window_after_creation(gateway: Gateway) -> None:
    gw = gateway
    late = gw.principal("customer_service", name="cs-late")
    # The command line made it (at the machine's time): move the gateway's clock past it.
    gw.clock.advance(seconds=(_created_at(gw, "cs-late") - gw.clock.now()).total_seconds())
    gw.clock.advance(hours=73)
    refused = gw.client.post("/v1/auth/totp/enroll", headers=bearer(late))
    problem = assert_problem(refused, 403, "forbidden")
    assert "within 72 hours of the principal's creation" in problem["detail"]
    fresh = gw.principal("customer_service", name="cs-fresh")
    gw.clock.advance(seconds=(_created_at(gw, "cs-fresh") - gw.clock.now()).total_seconds())
    secret = gw.enrol_totp(fresh)  # a new principal may
    # Re-enrolling over an active factor is not a first enrolment: still allowed later.
    gw.clock.advance(hours=100)
    again = gw.client.post(
        "/v1/auth/totp/enroll", json={"code": totp_code(secret, gw.clock)}, headers=bearer(fresh)
    )
    assert again.status_code == 201, again.text
