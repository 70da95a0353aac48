"""What the gateway logs, through HTTP: reads, lists, searches, reveals and refusals, each
with who, what, which fields at which level, and no personal data at all."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.helpers import (
    PERSONAL_VALUES,
    SAMPLE_ORDER,
    Gateway,
    assert_problem,
    bearer,
    dump_audit,
    sample_order,
    totp_code,
)


def _events(gw: Gateway, token: str, **params: Any) -> list[dict[str, Any]]:
    response = gw.client.get("/v1/audit/events", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _latest(gw: Gateway, dpo: str, **params: Any) -> dict[str, Any]:
    """The newest entry matching `params` (other than the searches made to find it)."""
    items = [e for e in _events(gw, dpo, limit=100, **params) if e["action"] != "audit.search"]
    assert items, params
    return items[0]


def test_a_read_is_logged_with_fields_levels_and_a_subject_pseudonym(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    order_id = gateway.create_order(writer, SAMPLE_ORDER)
    reader = gateway.principal("customer_service", name="cs-1")
    dpo = gateway.principal("dpo", name="dpo-1")
    response = gateway.client.get(
        f"/v1/orders/{order_id}", headers={**bearer(reader), "X-Request-Id": "trace-42"}
    )
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "trace-42"

    entry = _latest(gateway, dpo, actor="cs-1")
    assert entry["action"] == "orders.read"
    assert entry["outcome"] == "allowed"
    assert entry["resource"] == f"orders/{order_id}"
    assert entry["orders"] == [order_id]
    assert entry["request_id"] == "trace-42"
    # The test client's peer is the text "testclient", not an address: nothing is kept.
    assert entry["client"] is None
    assert entry["fields"]["customer.phone"] == "clear_after_2fa"
    assert entry["fields"]["shipping_address.detail"] == "masked"
    assert entry["fields"]["total_amount"] == "clear"
    assert "customer.id_number" not in entry["fields"]  # hidden: not disclosed, not listed
    assert entry["at"] == "2026-11-20T10:00:00.000000Z"
    (pseudonym,) = entry["subjects"]
    assert len(pseudonym) == 32
    # The same subject's other order carries the same pseudonym: a DPO can follow it.
    again = gateway.create_order(writer, sample_order(external_id="WEB-2"))
    gateway.get_order(reader, again)
    assert _latest(gateway, dpo, actor="cs-1", order_id=again)["subjects"] == [pseudonym]
    by_subject = _events(gateway, dpo, subject=pseudonym, action="orders.read")
    assert {e["orders"][0] for e in by_subject} == {order_id, again}


def test_lists_and_searches_name_every_order_in_one_entry(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    ids = {gateway.create_order(writer, sample_order(external_id=f"W-{n}")) for n in range(3)}
    reader = gateway.principal("customer_service", name="cs-1")
    dpo = gateway.principal("dpo", name="dpo-1")
    assert gateway.client.get("/v1/orders", headers=bearer(reader)).status_code == 200
    listed = _latest(gateway, dpo, actor="cs-1", action="orders.list")
    assert set(listed["orders"]) == ids
    assert listed["details"] == {"count": 3}

    found = gateway.client.post(
        "/v1/orders/search", json={"phone": "13812345678"}, headers=bearer(reader)
    )
    assert found.status_code == 200
    searched = _latest(gateway, dpo, actor="cs-1", action="orders.search")
    assert set(searched["orders"]) == ids
    assert searched["details"] == {"by": "phone", "count": 3}


def test_refusals_on_order_routes_are_logged(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    south = gateway.create_order(writer, sample_order(region="south"))
    dpo = gateway.principal("dpo", name="dpo-1")
    warehouse = gateway.principal("warehouse", "north", name="wh-north")
    analyst = gateway.principal("analyst", name="an-1")

    assert_problem(gateway.get_order(warehouse, south), 404, "not-found")
    assert_problem(
        gateway.client.post(
            "/v1/orders/search", json={"phone": "13812345678"}, headers=bearer(analyst)
        ),
        403,
        "forbidden",
    )
    assert_problem(
        gateway.get_order("opg_0000000000000000_" + "A" * 43, south), 401, "unauthenticated"
    )

    not_found = _latest(gateway, dpo, actor="wh-north")
    assert (not_found["outcome"], not_found["resource"]) == ("denied", f"orders/{south}")
    assert not_found["details"] == {"status": 404, "reason": "no order with this order_id"}
    forbidden = _latest(gateway, dpo, actor="an-1")
    assert (forbidden["action"], forbidden["details"]["status"]) == ("orders.search", 403)
    grant = gateway.client.post(
        "/v1/unmask-grants",
        json={"code": "123456", "purpose": "customer called about a parcel"},
        headers=bearer(analyst),
    )
    assert_problem(grant, 403, "forbidden")
    refused_grant = _latest(gateway, dpo, actor="an-1", action="grant.issue")
    assert (refused_grant["outcome"], refused_grant["details"]["status"]) == ("denied", 403)
    anonymous = _latest(gateway, dpo, actor="anonymous")
    assert anonymous["action"] == "auth.authenticate"
    assert anonymous["resource"] == f"orders/{south}"
    assert anonymous["details"]["status"] == 401
    # A path id that is no order id is caller input (a phone, say): only the kind is kept.
    assert_problem(
        gateway.get_order("opg_0000000000000000_" + "A" * 43, "13812345678"), 401, "unauthenticated"
    )
    assert _latest(gateway, dpo, actor="anonymous")["resource"] == "orders"


def test_reveals_and_grants_are_logged_with_their_purpose(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    order_id = gateway.create_order(writer, SAMPLE_ORDER)
    cs = gateway.principal("customer_service", name="cs-1")
    dpo = gateway.principal("dpo", name="dpo-1")
    secret = gateway.enrol_totp(cs)
    grant = gateway.grant(cs, secret, order_ids=[order_id]).json()
    response = gateway.client.get(
        f"/v1/orders/{order_id}",
        params={"reveal": "customer.phone"},
        headers={**bearer(cs), "X-Unmask-Grant": grant["grant"]},
    )
    assert response.json()["customer"]["phone"] == "13812345678"

    issued = _latest(gateway, dpo, actor="cs-1", action="grant.issue")
    assert issued["grant"] == grant["grant_id"]
    assert issued["purpose"] == "customer called about a lost parcel"
    assert issued["orders"] == [order_id]
    revealed = _latest(gateway, dpo, actor="cs-1", action="orders.reveal")
    assert revealed["grant"] == grant["grant_id"]
    assert revealed["purpose"] == "customer called about a lost parcel"
    assert revealed["fields"]["customer.phone"] == "clear"
    assert revealed["fields"]["customer.email"] == "clear_after_2fa"
    assert revealed["details"] == {"revealed": ["customer.phone"]}


def test_second_factor_failures_and_locks_are_logged(gateway: Gateway) -> None:
    cs = gateway.principal("customer_service", name="cs-1")
    dpo = gateway.principal("dpo", name="dpo-1")
    secret = gateway.enrol_totp(cs)
    wrong = f"{(int(totp_code(secret, gateway.clock)) + 1) % 10**6:06d}"
    for _ in range(5):
        gateway.grant(cs, secret, code=wrong)
    rejected = _events(gateway, dpo, actor="cs-1", action="totp.reject")
    locked = _events(gateway, dpo, actor="cs-1", action="totp.lock")
    assert len(rejected) == 4
    assert all(e["outcome"] == "denied" for e in rejected)
    assert len(locked) == 1
    assert locked[0]["details"]["locked_until"] == "2026-11-20T10:15:30Z"


def test_only_dpo_and_auditor_read_the_log(gateway: Gateway) -> None:
    auditor = gateway.principal("auditor", name="aud-1")
    created = _events(gateway, auditor, action="principal.create")
    assert {e["resource"] for e in created} >= {"principals/aud-1"}
    for role in ("customer_service", "admin", "analyst"):
        token = gateway.principal(role, name=f"{role}-x")
        response = gateway.client.get("/v1/audit/events", headers=bearer(token))
        assert_problem(response, 403, "forbidden")
    denied = _events(gateway, auditor, action="audit.search", outcome="denied")
    assert {e["actor"] for e in denied} >= {"customer_service-x", "admin-x", "analyst-x"}


def test_the_log_holds_no_personal_data(gateway: Gateway, database_url: str) -> None:
    writer = gateway.principal("channel")
    order_id = gateway.create_order(writer, SAMPLE_ORDER)
    cs = gateway.principal("customer_service", name="cs-1")
    secret = gateway.enrol_totp(cs)
    grant = gateway.grant(cs, secret).json()["grant"]
    gateway.client.get(
        f"/v1/orders/{order_id}",
        params={"reveal": "customer.phone,customer.name"},
        headers={**bearer(cs), "X-Unmask-Grant": grant},
    )
    gateway.client.post("/v1/orders/search", json={"phone": "13812345678"}, headers=bearer(cs))
    gateway.client.post(
        "/v1/orders/search", json={"email": "zhangsan@example.com"}, headers=bearer(cs)
    )
    dumped = asyncio.run(dump_audit(database_url))
    assert b"orders.reveal" in dumped  # the dump really holds the log
    for value in [*PERSONAL_VALUES, "2026112022001"]:
        assert value.encode() not in dumped, value


def test_reads_fail_closed_when_the_log_cannot_be_written(
    gateway: Gateway, database_url: str
) -> None:
    writer = gateway.principal("channel")
    order_id = gateway.create_order(writer, SAMPLE_ORDER)
    reader = gateway.principal("warehouse", "north")
    gateway.block_audit_log()
    try:
        for response in (
            gateway.get_order(reader, order_id),
            gateway.client.get("/v1/orders", headers=bearer(reader)),
        ):
            body = assert_problem(response, 503, "audit-unavailable")
            assert response.headers["retry-after"] == "5"
            assert "张三" not in response.text
            assert body["detail"] == "the audit log cannot be written; nothing was disclosed"
    finally:
        gateway.unblock_audit_log()
    recovered = gateway.get_order(reader, order_id)
    assert recovered.status_code == 200
    assert recovered.json()["customer"]["name"] == "张三"


def test_events_filter_and_page_like_the_order_list(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    order_id = gateway.create_order(writer, SAMPLE_ORDER)
    reader = gateway.principal("finance", name="fin-1")
    dpo = gateway.principal("dpo", name="dpo-1")
    for _ in range(5):
        gateway.clock.advance(minutes=1)
        gateway.get_order(reader, order_id)
    first = gateway.client.get(
        "/v1/audit/events", params={"actor": "fin-1", "limit": 2}, headers=bearer(dpo)
    ).json()
    assert len(first["items"]) == 2
    seqs = [e["seq"] for e in first["items"]]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    rest = gateway.client.get(
        "/v1/audit/events",
        params={"actor": "fin-1", "limit": 10, "cursor": first["next_cursor"]},
        headers=bearer(dpo),
    ).json()
    assert [e["seq"] for e in rest["items"]] == sorted(
        (e["seq"] for e in rest["items"]), reverse=True
    )
    assert len(rest["items"]) == 3
    assert rest["next_cursor"] is None
    assert max(e["seq"] for e in rest["items"]) < min(seqs)
    # A time range: the reads at 10:02 and 10:03 (until is exclusive).
    ranged = _events(
        gateway, dpo, actor="fin-1", since="2026-11-20T10:02:00Z", until="2026-11-20T10:04:00Z"
    )
    assert [e["at"] for e in ranged] == [
        "2026-11-20T10:03:00.000000Z",
        "2026-11-20T10:02:00.000000Z",
    ]
    assert _events(gateway, dpo, actor="fin-1", outcome="denied") == []
    assert len(_events(gateway, dpo, order_id=order_id, action="orders.read")) == 5


def test_bad_event_filters_are_refused_with_each_reason(gateway: Gateway) -> None:
    dpo = gateway.principal("dpo")
    response = gateway.client.get(
        "/v1/audit/events",
        params={
            "outcome": "maybe",
            "order_id": "13812345678",
            "subject": "张三",
            "cursor": "nonsense",
            "limit": 0,
            "since": "2026-11-20T10:00:00",
        },
        headers=bearer(dpo),
    )
    body = assert_problem(response, 400, "invalid-parameter")
    assert {e["field"] for e in body["errors"]} == {
        "outcome",
        "order_id",
        "subject",
        "cursor",
        "limit",
        "since",
    }
    assert "13812345678" not in response.text
    assert "张三" not in response.text


def test_each_start_logs_its_policy_version_and_key_ids(gateway: Gateway) -> None:
    auditor = gateway.principal("auditor", name="aud-1")
    policy = _latest(gateway, auditor, action="policy.load")
    assert policy["actor"] == "operator"
    health = gateway.client.get("/healthz").json()
    assert policy["details"] == {"version": health["policy_version"]}
    keys = _latest(gateway, auditor, action="keys.load")
    assert keys["details"]["kek_versions"] == [1]
    assert keys["details"]["active_kek_version"] == 1
    assert len(keys["details"]["audit_key_id"]) == 16
    key_dir = gateway.settings.var_dir / "keys"
    for key_file in key_dir.iterdir():
        assert key_file.read_text().strip() not in json.dumps(keys)
