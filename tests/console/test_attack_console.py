"""Attacks on the console through its HTTP interface: what must hold (CSRF, session
fixation, cookies, roles, escaping, lock-out) and what did not (see each test)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.core import migrate
from gateway.core.settings import Settings
from tests.console.test_request import REASON, _request
from tests.console.test_sign_in import SAME_SITE, _csrf, _dpo, _get, _post, _sign_in
from tests.helpers import Gateway, totp_code


def _state(gw: Gateway, request_id: str) -> str:
    match = re.search(
        r'<span id="state">([a-z_]+)</span>', _get(gw, f"/console/requests/{request_id}").text
    )
    assert match is not None
    return match.group(1)


@pytest.fixture
def fresh(empty_database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A database of its own: a kept copy made here must not reach the reports' tests."""
    migrate.upgrade(Settings(database_url=empty_database_url).sqlalchemy_url)
    with Gateway.start(empty_database_url, tmp_path) as gw:
        yield gw


def test_a_planted_cookie_opens_nothing_and_sign_in_issues_a_new_one(gateway: Gateway) -> None:
    planted = "A" * 43
    gateway.client.cookies.set("opg_console", planted, domain="testserver.local", path="/console")
    assert _get(gateway, "/console/").status_code == 303
    token, secret = _dpo(gateway)
    signed = _sign_in(gateway, token, totp_code(secret, gateway.clock))
    assert signed.status_code == 303
    issued = gateway.client.cookies.get("opg_console")
    assert issued
    assert issued != planted
    gateway.client.cookies.set("opg_console", planted, domain="testserver.local", path="/console")
    assert _get(gateway, "/console/").status_code == 303


def test_every_post_refuses_a_cross_site_or_another_sessions_token(gateway: Gateway) -> None:
    request_id = _request(gateway)
    token, secret = _dpo(gateway, "dpo-first")
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    theirs = _csrf(_get(gateway, "/console/").text)
    gateway.client.cookies.clear()
    token2, secret2 = _dpo(gateway, "dpo-second")
    _sign_in(gateway, token2, totp_code(secret2, gateway.clock))
    mine = _csrf(_get(gateway, "/console/").text)
    forms = {
        f"/console/requests/{request_id}/hold": {"reason": REASON, "confirm": "yes"},
        "/console/audit/verify": {},
        "/console/sign-out": {},
    }
    for path, body in forms.items():
        for csrf, headers in (
            (theirs, SAME_SITE),
            ("", SAME_SITE),
            (mine, {"Sec-Fetch-Site": "same-site"}),
            (mine, {"Sec-Fetch-Site": "cross-site"}),
            (mine, {"Origin": "https://evil.example"}),
        ):
            refused = _post(gateway, path, {**body, "csrf": csrf}, **headers)
            assert refused.status_code == 403, (path, headers)
            assert "location" not in refused.headers
    assert _state(gateway, request_id) == "verified"  # nothing held
    assert _get(gateway, "/console/").status_code == 200  # not signed out either


def test_the_session_cookie_is_secure_for_a_peer_claiming_loopback(gateway: Gateway) -> None:
    """Over plain http, from a client not on this machine (the test client), even when it
    says X-Forwarded-For: 127.0.0.1 (no proxy is trusted): Secure all the same."""
    token, secret = _dpo(gateway)
    signed = gateway.client.post(
        "http://testserver.local/console/sign-in",
        data={"token": token, "code": totp_code(secret, gateway.clock)},
        headers={**SAME_SITE, "X-Forwarded-For": "127.0.0.1"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert "; Secure" in signed.headers["set-cookie"]


def test_an_auditor_changes_nothing_by_any_action(gateway: Gateway) -> None:
    request_id = _request(gateway)
    token = gateway.principal("auditor", name="auditor-attacks")
    _sign_in(gateway, token, totp_code(gateway.enrol_totp(token), gateway.clock))
    csrf = _csrf(_get(gateway, "/console/").text)
    for action in ("hold", "lift", "extend", "reject", "retry"):
        body = {"csrf": csrf, "reason": REASON, "confirm": "yes", "months": "1"}
        refused = _post(gateway, f"/console/requests/{request_id}/{action}", body, **SAME_SITE)
        assert refused.status_code == 403, action
    assert _state(gateway, request_id) == "verified"


def test_html_in_a_hold_reason_is_text_on_the_request_and_audit_screens(gateway: Gateway) -> None:
    request_id = _request(gateway)
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    csrf = _csrf(_get(gateway, "/console/").text)
    reason = '"><script>alert(1)</script> held for the open fraud investigation'
    body = {"csrf": csrf, "reason": reason, "confirm": "yes"}
    held = _post(gateway, f"/console/requests/{request_id}/hold", body, **SAME_SITE)
    assert held.status_code == 303
    for path in (f"/console/requests/{request_id}", "/console/audit"):
        shown = _get(gateway, path).text
        assert "<script>" not in shown
        assert "alert(1)" in shown  # there, as text


def test_the_factors_lock_out_applies_to_the_console_sign_in(gateway: Gateway) -> None:
    token, secret = _dpo(gateway)
    right = totp_code(secret, gateway.clock)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    answers = [_sign_in(gateway, token, wrong).status_code for _ in range(6)]
    assert answers[0] == 401
    assert answers[-1] == 429
    assert _sign_in(gateway, token, right).status_code == 429  # the right code too, while locked
    assert "set-cookie" not in _sign_in(gateway, token, right).headers


def test_an_error_a_handler_does_not_catch_is_a_console_page_never_stored(
    gateway: Gateway,
) -> None:
    """A query parameter over its bound, a log that cannot be written: the console's own
    error page (no-store, framed by nobody), not the API's problem+json.

    Found: these escaped to the app's API handlers, answering JSON with no Cache-Control,
    no CSP and in English whatever the reader's language."""
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    csrf = _csrf(_get(gateway, "/console/").text)
    too_long = _get(gateway, "/console/?state=" + "x" * 40)
    gateway.block_audit_log()
    try:
        unavailable = _post(gateway, "/console/audit/verify", {"csrf": csrf}, **SAME_SITE)
    finally:
        gateway.unblock_audit_log()
    for answer, status in ((too_long, 400), (unavailable, 503)):
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert '<p class="alert" role="alert">' in answer.text


def test_a_kept_copys_file_name_is_its_id_not_the_callers_spelling(fresh: Gateway) -> None:
    """uuid.UUID reads `{ID}`, upper case, `urn:uuid:` and even leading white space (CR,
    LF, tab for a leading zero): the file name must be the canonical id.

    Found: the caller's spelling went into Content-Disposition as given."""
    token, secret = _dpo(fresh)
    _sign_in(fresh, token, totp_code(secret, fresh.clock))
    assert _get(fresh, "/console/reports/pipl-audit?format=json").status_code == 200
    listed = _get(fresh, "/console/reports").text
    kept_id = re.findall(r'<tr data-kept="([0-9a-f-]{36})">', listed)[0]
    for spelling in (kept_id, "{" + kept_id.upper() + "}", "urn:uuid:" + kept_id):
        copy = _get(fresh, f"/console/reports/kept/{spelling}")
        assert copy.status_code == 200, spelling
        assert copy.headers["content-disposition"] == f'attachment; filename="kept-{kept_id}.json"'
