"""Submitting and verifying privacy requests through the public API, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    PERSONAL_VALUES,
    SAMPLE_ORDER,
    Gateway,
    assert_problem,
    bearer,
    dump_audit,
)


def _seed(gw: Gateway) -> str:
    return gw.create_order(gw.principal("channel"), SAMPLE_ORDER)


def test_answers_look_the_same_whether_or_not_the_contact_matches(gateway: Gateway) -> None:
    _seed(gateway)
    bodies = []
    for contact in ("13812345678", "13900000000"):  # the customer's, and someone else's
        response = gateway.client.post(
            "/v1/privacy/requests",
            json={"kind": "erasure", "contact": contact, "order_id": "WEB-10001"},
        )
        assert response.status_code == 202
        assert response.headers["cache-control"] == "no-store"
        bodies.append(response.json())
    assert bodies[0].keys() == bodies[1].keys()
    assert bodies[0]["detail"] == bodies[1]["detail"]
    assert bodies[0]["state"] == bodies[1]["state"] == "received"
    # Only the matching contact got a code, and only once.
    messages = gateway.outbox()
    assert [m["request_id"] for m in messages] == [bodies[0]["request_id"]]
    assert messages[0]["to"] == "13812345678"
    assert messages[0]["channel"] == "sms"
    # Later calls answer alike too: same status shape, same refusal for a code.
    views = [gateway.privacy_status(b["request_id"], b["status_token"]) for b in bodies]
    assert {k: v for k, v in views[0].items() if k != "request_id"} == {
        k: v for k, v in views[1].items() if k != "request_id"
    }
    for body in bodies:
        refused = gateway.verify_privacy(body["request_id"], body["status_token"], "000000")
        assert assert_problem(refused, 403, "verification-code-rejected")["detail"] == (
            "wrong code; 4 attempt(s) left"
        )


def test_an_unknown_order_or_another_customers_order_sends_nothing(gateway: Gateway) -> None:
    order_id = _seed(gateway)
    gateway.submit_privacy(order_id="WEB-99999")
    gateway.submit_privacy(contact="other@example.com", order_id=order_id)
    assert gateway.outbox() == []


def test_the_gateways_order_id_and_an_email_work_as_well(gateway: Gateway) -> None:
    order_id = _seed(gateway)
    request_id, token = gateway.submit_privacy(contact=" ZhangSan@Example.com", order_id=order_id)
    [message] = gateway.outbox()
    assert (message["channel"], message["to"]) == ("email", "zhangsan@example.com")
    verified = gateway.verify_privacy(request_id, token, gateway.code_for(request_id))
    assert verified.status_code == 200, verified.text
    assert verified.json()["state"] == "verified"


def test_verification_starts_the_clocks(gateway: Gateway) -> None:
    _seed(gateway)
    request_id, token = gateway.submit_privacy()
    gateway.clock.advance(minutes=10)
    response = gateway.verify_privacy(request_id, token, gateway.code_for(request_id))
    view = response.json()
    assert view["state"] == "verified"
    assert view["received_at"] == "2026-11-20T10:00:00Z"
    assert view["verified_at"] == "2026-11-20T10:10:00Z"
    assert view["target_at"] == "2026-11-23T10:10:00Z"  # 72 hours after verification
    assert view["deadline_at"] == "2026-12-05T10:00:00Z"  # PIPL 15 days < GDPR one month
    again = gateway.verify_privacy(request_id, token, gateway.code_for(request_id))
    assert "not awaiting a code" in assert_problem(again, 409, "invalid-transition")["detail"]


def test_five_wrong_codes_lock_the_request(gateway: Gateway) -> None:
    _seed(gateway)
    request_id, token = gateway.submit_privacy()
    code = gateway.code_for(request_id)
    wrong = "111111" if code != "111111" else "222222"
    for left in (4, 3, 2, 1):
        refused = gateway.verify_privacy(request_id, token, wrong)
        assert assert_problem(refused, 403, "verification-code-rejected")["detail"].startswith(
            f"wrong code; {left}"
        )
    assert_problem(gateway.verify_privacy(request_id, token, wrong), 429, "verification-locked")
    # Locked: the right code no longer helps.
    assert_problem(gateway.verify_privacy(request_id, token, code), 429, "verification-locked")
    assert gateway.privacy_status(request_id, token)["state"] == "received"
    events = _events(gateway, "privacy.verify", request_id)
    assert [(e["outcome"], e["details"]["reason"]) for e in reversed(events)] == [
        *[("denied", "wrong_code")] * 4,
        ("denied", "locked"),
        ("denied", "locked"),
    ]
    assert code not in str(events)


def _events(gw: Gateway, action: str, request_id: str) -> list[dict[str, Any]]:
    """This request's entries of `action`, newest first (the log outlives each test)."""
    dpo = gw.principal("dpo", name="dpo-events")
    response = gw.client.get(f"/v1/audit/events?action={action}", headers=bearer(dpo))
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["resource"] == f"privacy/{request_id}"]


def test_codes_expire(gateway: Gateway) -> None:
    _seed(gateway)
    request_id, token = gateway.submit_privacy()
    gateway.clock.advance(minutes=30)
    refused = gateway.verify_privacy(request_id, token, gateway.code_for(request_id))
    assert "expired" in assert_problem(refused, 403, "verification-code-rejected")["detail"]


def test_a_wrong_status_token_finds_no_request(gateway: Gateway) -> None:
    _seed(gateway)
    request_id, _ = gateway.submit_privacy()
    _, other_token = gateway.submit_privacy(contact="13900000000")
    for headers in ({"X-Status-Token": other_token}, {"X-Status-Token": "opgs_" + "x" * 43}):
        response = gateway.client.get(f"/v1/privacy/requests/{request_id}", headers=headers)
        assert_problem(response, 404, "not-found")
    missing = gateway.client.get(f"/v1/privacy/requests/{request_id}")
    body = assert_problem(missing, 400, "invalid-parameter")
    assert body["errors"][0]["field"] == "X-Status-Token"
    malformed = gateway.client.get(
        "/v1/privacy/requests/not-a-uuid", headers={"X-Status-Token": other_token}
    )
    assert_problem(malformed, 404, "not-found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "delete", "contact": "13812345678", "order_id": "WEB-1"}, "kind"),
        ({"kind": "erasure", "contact": "12345", "order_id": "WEB-1"}, "contact"),
        ({"kind": "erasure", "contact": "13812345678", "order_id": "WEB 1;"}, "order_id"),
        ({"kind": "erasure", "contact": "13812345678"}, "order_id"),
        ({"kind": "erasure", "contact": "13812345678", "order_id": "W", "x": 1}, "body"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    gateway: Gateway, body: dict[str, object], field: str
) -> None:
    response = gateway.client.post("/v1/privacy/requests", json=body)
    problem = assert_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert "13812345678" not in response.text
    assert gateway.count_rows("privacy_requests") == 0


def test_codes_sent_to_a_contact_are_limited_without_telling_anyone(gateway: Gateway) -> None:
    """Past three codes an hour to one contact the answer is still 202, but nothing is sent;
    requests that matched no order never count against the contact."""
    _seed(gateway)
    for _ in range(5):  # a stranger's guesses at the order number: no code, no count
        gateway.submit_privacy(order_id="WEB-4040")
    sent = [gateway.submit_privacy()[0] for _ in range(3)]
    withheld, token = gateway.submit_privacy()
    assert sorted(m["request_id"] for m in gateway.outbox()) == sorted(sent)
    view = gateway.privacy_status(withheld, token)
    assert view["state"] == "received"
    refused = gateway.verify_privacy(withheld, token, "000000")
    assert_problem(refused, 403, "verification-code-rejected")
    # An hour later the contact gets codes again.
    gateway.clock.advance(hours=1)
    fresh, _ = gateway.submit_privacy()
    assert fresh in {m["request_id"] for m in gateway.outbox()}


def test_submissions_and_wrong_codes_are_rate_limited_per_address(
    database_url: str, tmp_path: Path
) -> None:
    with Gateway.start(
        database_url, tmp_path, privacy_submit_per_hour=2, privacy_verify_per_hour=2
    ) as gw:
        _seed(gw)
        request_id, token = gw.submit_privacy()
        gw.submit_privacy(contact="13900000000")
        refused = gw.client.post(
            "/v1/privacy/requests",
            json={"kind": "access", "contact": "13700000000", "order_id": "WEB-10001"},
        )
        assert_problem(refused, 429, "rate-limited")
        for _ in range(2):
            assert_problem(
                gw.verify_privacy(request_id, token, "000000"), 403, "verification-code-rejected"
            )
        limited = gw.verify_privacy(request_id, token, "000000")
        assert_problem(limited, 429, "rate-limited")
        assert 0 < int(limited.headers["retry-after"]) <= 3600
        # A correct code is never refused by the address's count of wrong ones.
        verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
        assert verified.json()["state"] == "verified"


def test_verifying_an_erasure_restricts_the_subject_at_once(gateway: Gateway) -> None:
    order_id = _seed(gateway)
    reader = gateway.principal("customer_service")
    before = gateway.get_order(reader, order_id).json()
    assert before["customer"]["phone"] == "138****5678"
    request_id, token = gateway.submit_privacy()
    gateway.verify_privacy(request_id, token, gateway.code_for(request_id))
    after = gateway.get_order(reader, order_id)
    assert after.status_code == 200
    body = after.json()
    for section in ("customer", "shipping_address", "items"):
        assert section not in body
    assert body["status"] == "paid"
    listed = gateway.client.get("/v1/orders", headers=bearer(reader)).json()["items"]
    assert "customer" not in listed[0]
    for value in PERSONAL_VALUES:
        assert value not in after.text
    log = asyncio.run(dump_audit(gateway.settings.database_url)).decode()
    assert "personal fields withheld (GDPR Art. 18)" in log


def test_the_log_never_holds_the_contact_or_the_code(gateway: Gateway) -> None:
    _seed(gateway)
    request_id, token = gateway.submit_privacy(contact="zhangsan@example.com")
    code = gateway.code_for(request_id)
    gateway.verify_privacy(request_id, token, code)
    log = asyncio.run(dump_audit(gateway.settings.database_url)).decode()
    for value in [*PERSONAL_VALUES, code, token]:
        assert value not in log
    for action in ("privacy.submit", "privacy.notify", "privacy.verify"):
        assert action in log
