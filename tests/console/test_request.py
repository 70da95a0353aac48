"""A request's screen: clocks, timeline, systems, and the DPO's actions, each
confirmed, CSRF-checked and logged; an auditor sees no action and a posted one is
refused server-side."""

from __future__ import annotations

import re

import httpx

from tests.console.test_sign_in import SAME_SITE, _csrf, _dpo, _get, _post, _sign_in
from tests.helpers import SAMPLE_ORDER, Gateway, bearer, totp_code

REASON = "the order is part of an open fraud investigation"


def _request(gw: Gateway) -> str:
    gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    request_id, token = gw.submit_privacy()
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    return request_id


def _act(gw: Gateway, request_id: str, action: str, csrf: str, **form: str) -> httpx.Response:
    body = {"csrf": csrf, "reason": REASON, "confirm": "yes", **form}
    return _post(gw, f"/console/requests/{request_id}/{action}", body, **SAME_SITE)


def _state(page: str) -> str:
    match = re.search(r'<span id="state">([a-z_]+)</span>', page)
    assert match is not None, page
    return match.group(1)


def test_a_dpo_holds_and_lifts_a_request_and_both_are_logged(gateway: Gateway) -> None:
    request_id = _request(gateway)
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    page = _get(gateway, f"/console/requests/{request_id}").text
    assert _state(page) == "verified"
    assert 'id="act-hold"' in page
    csrf = _csrf(page)
    held = _act(gateway, request_id, "hold", csrf)
    assert held.status_code == 303, held.text
    after = _get(gateway, held.headers["location"]).text
    assert _state(after) == "on_hold"
    assert "the action is in the log" in after
    assert REASON in after  # the hold's reason in its history
    lifted = _act(gateway, request_id, "lift", csrf)
    assert lifted.status_code == 303
    assert _state(_get(gateway, f"/console/requests/{request_id}").text) == "verified"
    events = gateway.client.get(
        "/v1/audit/events", params={"actor": "dpo-console"}, headers=bearer(token)
    ).json()["items"]
    moves = [e["action"] for e in events if e["resource"] == f"privacy/{request_id}"]
    assert "privacy.hold" in moves
    assert "privacy.lift" in moves


def test_an_action_needs_its_confirmation_its_csrf_token_and_a_reason(gateway: Gateway) -> None:
    request_id = _request(gateway)
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    csrf = _csrf(_get(gateway, f"/console/requests/{request_id}").text)
    unconfirmed = _act(gateway, request_id, "hold", csrf, confirm="")
    assert unconfirmed.status_code == 422
    assert "Tick the confirmation" in unconfirmed.text
    assert _act(gateway, request_id, "hold", "f" * 64).status_code == 403
    vague = _act(gateway, request_id, "hold", csrf, reason="because")
    assert vague.status_code == 422
    assert _state(_get(gateway, f"/console/requests/{request_id}").text) == "verified"


def test_an_auditor_sees_no_action_and_a_posted_one_is_refused(gateway: Gateway) -> None:
    request_id = _request(gateway)
    token = gateway.principal("auditor", name="auditor-console")
    secret = gateway.enrol_totp(token)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    page = _get(gateway, f"/console/requests/{request_id}").text
    assert _state(page) == "verified"
    assert 'class="action"' not in page
    refused = _act(gateway, request_id, "hold", _csrf(page))
    assert refused.status_code == 403
    assert _state(_get(gateway, f"/console/requests/{request_id}").text) == "verified"
    events = gateway.client.get(
        "/v1/audit/events",
        params={"actor": "auditor-console", "outcome": "denied"},
        headers=bearer(token),
    ).json()["items"]
    assert [(e["action"], e["resource"]) for e in events] == [
        ("privacy.manage", f"privacy/{request_id}")
    ]


def test_an_unknown_request_is_a_page_that_says_so(gateway: Gateway) -> None:
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    for wrong in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        answer = _get(gateway, f"/console/requests/{wrong}")
        assert answer.status_code == 404
        assert "No such request, report or copy" in answer.text


def test_a_completed_erasures_certificate_is_shown_verified_and_downloadable(
    gateway: Gateway,
) -> None:
    request_id = _request(gateway)
    gateway.clock.advance(hours=1)
    assert gateway.run_privacy_worker() == 1
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    page = _get(gateway, f"/console/requests/{request_id}").text
    assert _state(page) == "completed"
    assert 'id="certificate"' in page
    shown = _get(gateway, f"/console/requests/{request_id}/certificate")
    assert shown.status_code == 200, shown.text
    assert "Verified: signed by this gateway" in shown.text
    downloaded = _get(gateway, f"/console/requests/{request_id}/certificate?download=1")
    assert downloaded.headers["content-disposition"].startswith("attachment")
    document = downloaded.json()
    checked = gateway.client.post("/v1/privacy/certificates/verify", json=document).json()
    assert checked["valid"] is True
    assert document["certificate"]["request_id"] == request_id
    auditor = gateway.principal("auditor", name="auditor-cert")
    secret2 = gateway.enrol_totp(auditor)
    _sign_in(gateway, auditor, totp_code(secret2, gateway.clock))
    refused = _get(gateway, f"/console/requests/{request_id}/certificate")
    assert refused.status_code == 403  # the subject's document: a DPO's, not an auditor's
