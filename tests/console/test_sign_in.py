"""Signing in to the console: a gateway token and a current code, for dpo and auditor
only; the session's cookie, timeouts and CSRF token; every sign-in in the log."""

from __future__ import annotations

import re

import httpx

from tests.helpers import Gateway, bearer, totp_code

SAME_SITE = {"Sec-Fetch-Site": "same-origin"}
# The console's cookies are Secure (the test client is no browser on this machine), so
# the tests speak https to the in-process app, and look at each answer, not where it leads.
HTTPS = "https://testserver.local"


def _get(gw: Gateway, path: str, **headers: str) -> httpx.Response:
    return gw.client.get(HTTPS + path, headers=headers, follow_redirects=False)


def _post(gw: Gateway, path: str, data: dict[str, str], **headers: str) -> httpx.Response:
    return gw.client.post(HTTPS + path, data=data, headers=headers, follow_redirects=False)


def _sign_in(gw: Gateway, token: str, code: str) -> httpx.Response:
    return _post(gw, "/console/sign-in", {"token": token, "code": code}, **SAME_SITE)


def _dpo(gw: Gateway, name: str = "dpo-console") -> tuple[str, str]:
    token = gw.principal("dpo", name=name)
    return token, gw.enrol_totp(token)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert match is not None, page
    return match.group(1)


def test_a_dpo_signs_in_with_token_and_code_and_lands_on_the_inbox(gateway: Gateway) -> None:
    token, secret = _dpo(gateway)
    signed = _sign_in(gateway, token, totp_code(secret, gateway.clock))
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/console/"
    cookie = signed.headers["set-cookie"]
    assert "opg_console=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/console" in cookie
    inbox = _get(gateway, "/console/")
    assert inbox.status_code == 200, inbox.text
    assert "Open requests" in inbox.text
    assert "dpo-console" in inbox.text
    assert inbox.headers["cache-control"] == "no-store"
    assert "script-src" not in inbox.headers["content-security-policy"]  # no script at all
    assert token not in inbox.text


def test_a_wrong_code_or_token_opens_nothing_and_is_logged(gateway: Gateway) -> None:
    token, secret = _dpo(gateway, "dpo-wrong")
    right = totp_code(secret, gateway.clock)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    unknown = "opg_" + "0" * 16 + "_" + "A" * 43
    for attempt in (_sign_in(gateway, token, wrong), _sign_in(gateway, unknown, right)):
        assert attempt.status_code == 401
        assert "not accepted" in attempt.text
        assert "set-cookie" not in attempt.headers
    assert _get(gateway, "/console/").status_code == 303  # to the sign-in page
    auditor = gateway.principal("auditor", name="reader")
    mine = gateway.client.get(
        "/v1/audit/events", params={"actor": "dpo-wrong"}, headers=bearer(auditor)
    ).json()["items"]
    rejected = [e for e in mine if e["action"] == "totp.reject"]
    assert [e["details"]["during"] for e in rejected] == ["console.sign_in"]
    assert not [e for e in mine if e["action"] == "console.sign_in"]  # no session opened
    strangers = gateway.client.get(
        "/v1/audit/events",
        params={"action": "console.sign_in", "outcome": "denied", "actor": "anonymous"},
        headers=bearer(auditor),
    ).json()["items"]
    assert strangers
    assert unknown not in str(strangers)


def test_roles_that_do_not_enter_the_console_are_refused(gateway: Gateway) -> None:
    token = gateway.principal("customer_service", name="agent")
    secret = gateway.enrol_totp(token)
    refused = _sign_in(gateway, token, totp_code(secret, gateway.clock))
    assert refused.status_code == 403
    assert "does not enter the console" in refused.text


def test_an_auditor_enrols_a_factor_for_the_console_and_signs_in(gateway: Gateway) -> None:
    token = gateway.principal("auditor", name="auditor-one")
    secret = gateway.enrol_totp(token)  # an auditor reveals nothing, but signs in with one
    assert _sign_in(gateway, token, totp_code(secret, gateway.clock)).status_code == 303
    assert "auditor-one" in _get(gateway, "/console/").text


def test_a_session_ends_when_idle_too_long_or_too_old(gateway: Gateway) -> None:
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    gateway.clock.advance(minutes=14)
    assert _get(gateway, "/console/").status_code == 200  # the idle clock restarts
    gateway.clock.advance(minutes=16)
    assert _get(gateway, "/console/").status_code == 303
    gateway.clock.advance(seconds=30)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    for _ in range(8 * 4 + 1):  # busy all day, a click every 15 minutes less a second
        gateway.clock.advance(seconds=14 * 60 + 59)
        if _get(gateway, "/console/").status_code != 200:
            break
    assert _get(gateway, "/console/").status_code == 303  # 8 hours after sign-in


def test_sign_out_needs_the_sessions_csrf_token_and_ends_the_session(gateway: Gateway) -> None:
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    csrf = _csrf(_get(gateway, "/console/").text)
    forged = _post(gateway, "/console/sign-out", {"csrf": "0" * 64}, **SAME_SITE)
    assert forged.status_code == 403
    cross = _post(gateway, "/console/sign-out", {"csrf": csrf}, **{"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert _get(gateway, "/console/").status_code == 200
    out = _post(gateway, "/console/sign-out", {"csrf": csrf}, **SAME_SITE)
    assert out.status_code == 303
    assert _get(gateway, "/console/").status_code == 303


def test_a_revoked_principals_session_ends_at_its_next_click(gateway: Gateway) -> None:
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    gateway.cli("principals", "revoke", "dpo-console")
    assert _get(gateway, "/console/").status_code == 303


def test_the_console_speaks_chinese_when_the_browser_does_and_switches(gateway: Gateway) -> None:
    page = _get(gateway, "/console/sign-in", **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in page.text
    assert "网关令牌" in page.text
    switched = _get(gateway, "/console/lang/en")
    assert switched.status_code == 303
    again = _get(gateway, "/console/sign-in", **{"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in again.text
