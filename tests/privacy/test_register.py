"""The DPO's register: filters, SLA flags with a controllable clock, expiry, extension,
rejection, retention and access exports; and who may do what."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, bearer, sample_order

REASON = {"reason": "the order is part of an open fraud investigation"}


def _seed(gw: Gateway) -> str:
    return gw.create_order(gw.principal("channel"), SAMPLE_ORDER)


def _register(gw: Gateway, token: str, query: str = "") -> list[dict[str, Any]]:
    response = gw.client.get(f"/v1/privacy/register{query}", headers=bearer(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_sla_sweeper_warns_before_and_flags_after_the_deadline(gateway: Gateway) -> None:
    gw = gateway
    _seed(gw)
    request_id, token = gw.submit_privacy()
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    dpo = gw.principal("dpo")
    gw.sweep()
    [row] = _register(gw, dpo)
    assert (row["state"], row["sla"], row["matched"]) == ("verified", "on_track", True)
    assert row["target_at"] == "2026-11-23T10:00:00Z"
    assert _register(gw, dpo, "?due_within_hours=24") == []
    gw.clock.advance(hours=60, minutes=1)  # 11h59m before the 72-hour target
    report = gw.sweep()
    assert report.flagged == {"due_soon": 1}
    assert [r["sla"] for r in _register(gw, dpo, "?due_within_hours=24")] == ["due_soon"]
    assert _register(gw, dpo, "?overdue=true") == []
    gw.clock.advance(hours=12)
    assert gw.sweep().flagged == {"overdue": 1}
    assert [r["request_id"] for r in _register(gw, dpo, "?overdue=true")] == [request_id]
    assert gw.sweep().flagged == {}  # flagged once, logged once
    events = gw.client.get(
        "/v1/audit/events?action=privacy.sla.overdue", headers=bearer(dpo)
    ).json()["items"]
    mine = [e for e in events if e["resource"] == f"privacy/{request_id}"]
    assert [e["details"]["due_at"] for e in mine] == ["2026-11-23T10:00:00Z"]
    # Completing late says so in the certificate.
    gw.run_privacy_worker()
    cert = gw.client.get(
        f"/v1/privacy/requests/{request_id}/certificate", headers={"X-Status-Token": token}
    ).json()["certificate"]
    assert cert["deadline"]["target_met"] is False
    assert cert["deadline"]["legal_deadline_met"] is True


def test_unverified_requests_expire(gateway: Gateway) -> None:
    gw = gateway
    _seed(gw)
    request_id, token = gw.submit_privacy()
    gw.clock.advance(hours=24)
    assert gw.sweep().expired == 1
    assert gw.privacy_status(request_id, token)["state"] == "expired"
    late = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert (
        "expired, not awaiting a code" in assert_problem(late, 409, "invalid-transition")["detail"]
    )


def test_the_register_pages_and_leaves_expired_requests_out(gateway: Gateway) -> None:
    gw = gateway
    _seed(gw)
    stale, _ = gw.submit_privacy(order_id="WEB-404")  # matched nothing, never verified
    gw.clock.advance(hours=25)
    assert gw.sweep().expired == 1
    made = []
    for _ in range(5):
        made.append(gw.submit_privacy(order_id="WEB-404")[0])
        gw.clock.advance(seconds=1)
    dpo = gw.principal("dpo")
    seen, url = [], "/v1/privacy/register?limit=2"
    while True:
        page = gw.client.get(url, headers=bearer(dpo)).json()
        assert len(page["items"]) <= 2
        seen += [r["request_id"] for r in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"/v1/privacy/register?limit=2&cursor={page['next_cursor']}"
    assert seen == made  # oldest first, each once, the expired one left out
    assert [r["request_id"] for r in _register(gw, dpo, "?state=expired")] == [stale]
    forged = gw.client.get("/v1/privacy/register?cursor=bm90LWEtY3Vyc29y", headers=bearer(dpo))
    assert assert_problem(forged, 400, "invalid-parameter")["errors"][0]["field"] == "cursor"


def test_filters_and_roles(gateway: Gateway) -> None:
    gw = gateway
    _seed(gw)
    erasure, _ = gw.submit_privacy()
    gw.clock.advance(seconds=1)  # the register lists in order of receipt
    access, _ = gw.submit_privacy(kind="access", contact="zhangsan@example.com")
    dpo, auditor = gw.principal("dpo"), gw.principal("auditor")
    assert [r["request_id"] for r in _register(gw, dpo, "?kind=access")] == [access]
    assert [r["request_id"] for r in _register(gw, auditor, "?state=received")] == [erasure, access]
    bad = gw.client.get("/v1/privacy/register?state=done", headers=bearer(dpo))
    assert assert_problem(bad, 400, "invalid-parameter")["errors"][0]["field"] == "state"
    held = gw.client.post(
        f"/v1/privacy/register/{erasure}/hold", json=REASON, headers=bearer(auditor)
    )
    assert_problem(held, 403, "forbidden")
    for role in ("customer_service", "admin"):
        token = gw.principal(role)
        assert_problem(
            gw.client.get("/v1/privacy/register", headers=bearer(token)), 403, "forbidden"
        )
    assert_problem(gw.client.get("/v1/privacy/register"), 401, "unauthenticated")
    short = gw.client.post(
        f"/v1/privacy/register/{erasure}/hold", json={"reason": "no"}, headers=bearer(dpo)
    )
    [error] = assert_problem(short, 422, "invalid-input")["errors"]
    assert error == {
        "field": "reason",
        "message": "reason must say why in a few words (at least 3 words or 6 Chinese characters)",
    }
    personal = gw.client.post(
        f"/v1/privacy/register/{erasure}/lift",
        json={"reason": "customer called from 13800138000 to object"},
        headers=bearer(dpo),
    )
    [error] = assert_problem(personal, 422, "invalid-input")["errors"]
    assert error["message"].startswith("reason must not hold personal data")
    assert "13800138000" not in personal.text  # the problem does not echo it back
    assert "order_ids" not in error["message"]  # the reveal's wording is the reveal's
    assert _register(gw, dpo, "?state=received")[0]["hold"] is None


def test_rejecting_an_erasure_lifts_the_restriction(gateway: Gateway) -> None:
    gw = gateway
    order_id = _seed(gw)
    request_id, token = gw.submit_privacy()
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    reader = gw.principal("customer_service")
    assert "customer" not in gw.get_order(reader, order_id).json()
    dpo = gw.principal("dpo")
    rejected = gw.client.post(
        f"/v1/privacy/register/{request_id}/reject",
        json={"reason": "the requester is not the account holder"},
        headers=bearer(dpo),
    )
    assert rejected.json()["rejection"]["by"] == "dpo-all"
    status = gw.privacy_status(request_id, token)
    assert (status["state"], status["rejection_reason"]) == (
        "rejected",
        "the requester is not the account holder",
    )
    assert gw.get_order(reader, order_id).json()["customer"]["phone"] == "138****5678"
    assert gw.run_privacy_worker() == 0


def test_extension_within_the_first_month_tells_the_subject(gateway: Gateway) -> None:
    gw = gateway
    _seed(gw)
    request_id, _ = gw.submit_privacy()
    dpo = gw.principal("dpo")
    path = f"/v1/privacy/register/{request_id}/extend"
    body = {"months": 2, "reason": "many records across several sales channels"}
    extended = gw.client.post(path, json=body, headers=bearer(dpo)).json()
    assert extended["gdpr_deadline_at"] == "2027-02-20T10:00:00Z"
    assert extended["extension_reason"] == body["reason"]
    notices = [m for m in gw.outbox() if "extended" in m["text"]]
    assert [m["to"] for m in notices] == ["13812345678"]
    assert_problem(gw.client.post(path, json=body, headers=bearer(dpo)), 409, "invalid-transition")
    other, _ = gw.submit_privacy(contact="zhangsan@example.com")
    gw.clock.advance(days=31)
    late = gw.client.post(f"/v1/privacy/register/{other}/extend", json=body, headers=bearer(dpo))
    assert "within the first month" in assert_problem(late, 409, "invalid-transition")["detail"]


def test_retained_records_are_erased_when_their_retention_ends(gateway: Gateway) -> None:
    gw = gateway
    writer = gw.principal("channel")
    paid = gw.create_order(writer, SAMPLE_ORDER)
    cancelled = gw.create_order(writer, sample_order(external_id="WEB-3", status="cancelled"))
    request_id, token = gw.submit_privacy()
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    gw.run_privacy_worker()
    finance = gw.principal("finance")
    assert gw.get_order(finance, cancelled).status_code == 200
    gw.clock.advance(days=3 * 366)  # the E-Commerce Law's 3 years are over
    assert gw.sweep().retained_erased == 1
    assert_problem(gw.get_order(finance, cancelled), 404, "not-found")
    assert gw.get_order(finance, paid).status_code == 200  # tax: 10 years
    gw.clock.advance(days=7 * 366)
    assert gw.sweep().retained_erased == 1
    assert gw.count_orders() == 0


def test_an_access_request_exports_everything_held_then_deletes_it(gateway: Gateway) -> None:
    gw = gateway
    order_id = _seed(gw)
    reader = gw.principal("customer_service", name="cs-desk-7")
    gw.get_order(reader, order_id)
    request_id, token = gw.submit_privacy(kind="access")
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert gw.get_order(reader, order_id).json()["customer"]["phone"] == "138****5678"
    assert gw.run_privacy_worker() == 1
    status = gw.privacy_status(request_id, token)
    assert (status["state"], status["export_available"]) == ("completed", True)
    response = gw.client.get(
        f"/v1/privacy/requests/{request_id}/export", headers={"X-Status-Token": token}
    )
    assert response.headers["cache-control"] == "no-store"
    export = response.json()
    [order] = export["orders"]
    assert order["order_id"] == order_id
    assert order["customer.phone"] == "13812345678"
    assert order["customer.id_number"] == "11010519491231002X"
    assert order["note"] == SAMPLE_ORDER["note"]
    assert order["items"][0]["sku"] == "SKU-1"
    assert [r["request_id"] for r in export["requests"]] == [request_id]
    reads = [(a["by"], a["action"]) for a in export["accesses"]]
    assert ("cs-desk-7", "orders.read") in reads
    assert "GDPR Art. 20" in export["legal_basis"]
    gw.clock.advance(hours=72)
    assert gw.sweep().exports_deleted == 1
    gone = gw.client.get(
        f"/v1/privacy/requests/{request_id}/export", headers={"X-Status-Token": token}
    )
    assert_problem(gone, 404, "not-found")
    assert gw.privacy_status(request_id, token)["export_available"] is False


def test_serve_runs_the_workflow_in_process(database_url: str, tmp_path: Path) -> None:
    with Gateway.start(database_url, tmp_path, privacy_worker_seconds=0.05) as gw:
        _seed(gw)
        request_id, token = gw.submit_privacy()
        gw.verify_privacy(request_id, token, gw.code_for(request_id))
        deadline = time.monotonic() + 20
        while gw.privacy_status(request_id, token)["state"] != "completed":
            assert time.monotonic() < deadline, "the in-process worker did not finish"
            time.sleep(0.05)


def test_a_rejection_tells_the_subject_why_and_where_to_complain(gateway: Gateway) -> None:
    gw = gateway
    _seed(gw)
    request_id, token = gw.submit_privacy()
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    reason = "the requester is not the account holder"
    rejected = gw.client.post(
        f"/v1/privacy/register/{request_id}/reject",
        json={"reason": reason},
        headers=bearer(gw.principal("dpo")),
    ).json()
    assert rejected["subject_notified"] is True
    [notice] = [m for m in gw.outbox() if m["request_id"] == request_id and "rejected" in m["text"]]
    assert notice["to"] == "13812345678"
    assert f"Reason: {reason}" in notice["text"]
    assert "supervisory authority" in notice["text"]
    assert "GDPR Art. 12(4)" in notice["text"]
    assert "人民法院提起诉讼" in notice["text"]
    assert "《个人信息保护法》第五十条" in notice["text"]
    # The status page says the same, in the reader's language.
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    for lang, rights in (("en", "supervisory authority"), ("zh-CN", "人民法院提起诉讼")):
        page = gw.client.get("/privacy/status", headers={"Accept-Language": lang})
        assert page.status_code == 200, page.text
        assert reason in page.text
        assert rights in page.text


def test_every_hold_and_how_it_ended_stays_in_the_register(gateway: Gateway) -> None:
    """A lifted hold leaves the request, not its history: the register lists each hold
    (who, when, why, from which state) and its end (lifted or rejected, who, when, why)."""
    gw = gateway
    _seed(gw)
    request_id, token = gw.submit_privacy()
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    dpo = gw.principal("dpo")
    moves = [
        ("hold", "chargeback under review"),
        ("lift", "the chargeback was settled"),
        ("hold", "tax audit under way"),
        ("reject", "the order was placed by a company"),
    ]
    times = []
    for act, reason in moves:
        gw.clock.advance(minutes=5)
        times.append(gw.clock.now().isoformat().replace("+00:00", "Z"))
        moved = gw.client.post(
            f"/v1/privacy/register/{request_id}/{act}", json={"reason": reason}, headers=bearer(dpo)
        )
        assert moved.status_code == 200, moved.text
    [listed] = _register(gw, dpo, "?state=rejected")
    read = gw.client.get(f"/v1/privacy/register/{request_id}", headers=bearer(dpo)).json()
    assert listed["holds"] == read["holds"]
    first, second = read["holds"]
    assert first == {
        "number": 1,
        "held_at": times[0],
        "held_by": "dpo-all",
        "held_from": "verified",
        "reason": "chargeback under review",
        "ended_at": times[1],
        "ended_by": "dpo-all",
        "ended_as": "lifted",
        "end_reason": "the chargeback was settled",
    }
    assert (second["number"], second["held_at"], second["reason"]) == (
        2,
        times[2],
        "tax audit under way",
    )
    assert (second["ended_as"], second["ended_at"], second["end_reason"]) == (
        "rejected",
        times[3],
        "the order was placed by a company",
    )
    # Nothing is lifted twice: a lift of a request no longer held changes nothing.
    again = gw.client.post(
        f"/v1/privacy/register/{request_id}/lift", json=REASON, headers=bearer(dpo)
    )
    assert_problem(again, 409, "invalid-transition")
    after = gw.client.get(f"/v1/privacy/register/{request_id}", headers=bearer(dpo)).json()
    assert after["holds"] == read["holds"]
