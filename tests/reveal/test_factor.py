"""TOTP second factors through HTTP: enrolment, activation, skew, replay and lock-out,
driven by pyotp computing real codes at the gateway's controllable time."""

from __future__ import annotations

import asyncio
import base64
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from gateway.auth.totp import matching_step
from tests.helpers import Gateway, assert_problem, bearer, dump_database, totp_code


def _enroll(gw: Gateway, token: str, code: str | None = None) -> dict[str, str]:
    body = None if code is None else {"code": code}
    response = gw.client.post("/v1/auth/totp/enroll", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


def _activate(gw: Gateway, token: str, code: str) -> httpx.Response:
    return gw.client.post("/v1/auth/totp/activate", json={"code": code}, headers=bearer(token))


def _state(gw: Gateway, token: str) -> dict[str, str | None]:
    response = gw.client.get("/v1/auth/totp", headers=bearer(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_enrolment_gives_secret_uri_and_qr_code_then_activation(gateway: Gateway) -> None:
    token = gateway.principal("customer_service", name="cs-alice")
    assert _state(gateway, token)["state"] == "none"

    enrolled = _enroll(gateway, token)
    secret = enrolled["secret"]
    assert len(base64.b32decode(secret)) == 20  # 160 bits, RFC 4226's recommendation
    uri = urlsplit(enrolled["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == "/Order Privacy Gateway:cs-alice"
    query = parse_qs(uri.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Order Privacy Gateway"]
    svg = ET.fromstring(enrolled["qr_svg"])  # noqa: S314 - our own answer, in a test
    assert svg.tag.endswith("svg")
    assert int(svg.get("width", "0")) >= 100  # a QR code of a ~120-character URI, scale 4
    assert _state(gateway, token)["state"] == "pending"

    wrong = _activate(gateway, token, f"{(int(totp_code(secret, gateway.clock)) + 1) % 10**6:06d}")
    body = assert_problem(wrong, 403, "second-factor-rejected")
    assert "4 more wrong code(s)" in body["detail"]
    assert _state(gateway, token)["state"] == "pending"

    ok = _activate(gateway, token, totp_code(secret, gateway.clock))
    assert ok.status_code == 200, ok.text
    state = _state(gateway, token)
    assert state["state"] == "active"
    assert state["activated_at"] == "2026-11-20T10:00:00Z"


def test_the_secret_is_stored_sealed_never_in_clear(
    gateway: Gateway, database_url: str, tmp_path: Path
) -> None:
    token = gateway.principal("dpo")
    secret = gateway.enrol_totp(token)
    blobs = [asyncio.run(dump_database(database_url))]
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        blobs += [p.read_bytes() for p in path.parent.glob(path.name + "*")]
    raw = base64.b32decode(secret)
    for blob in blobs:
        for encoded in (secret.encode(), secret.lower().encode(), raw, raw.hex().encode()):
            assert encoded not in blob


def test_activation_needs_an_enrolment(gateway: Gateway) -> None:
    token = gateway.principal("dpo")
    response = _activate(gateway, token, "123456")
    assert_problem(response, 409, "second-factor-missing")
    grant = gateway.client.post(
        "/v1/unmask-grants",
        json={"code": "123456", "purpose": "customer called about a lost parcel"},
        headers=bearer(token),
    )
    body = assert_problem(grant, 409, "second-factor-missing")
    assert "/v1/auth/totp/enroll" in body["detail"]


def test_re_enrolment_needs_a_current_code_and_keeps_the_old_factor_until_activated(
    gateway: Gateway,
) -> None:
    token = gateway.principal("customer_service")
    old = gateway.enrol_totp(token)
    refused = gateway.client.post("/v1/auth/totp/enroll", headers=bearer(token))
    body = assert_problem(refused, 403, "second-factor-rejected")
    assert "current code" in body["detail"]

    new = _enroll(gateway, token, totp_code(old, gateway.clock))["secret"]
    assert new != old
    assert _state(gateway, token)["state"] == "active"
    # Until the new secret is activated, the old one still buys grants.
    gateway.clock.advance(seconds=30)
    assert gateway.grant(token, old).status_code == 201
    # Activated in the same time step as that grant: a new secret has no replay history.
    assert _activate(gateway, token, totp_code(new, gateway.clock)).status_code == 200
    gateway.clock.advance(seconds=30)
    assert_problem(gateway.grant(token, old), 403, "second-factor-rejected")
    gateway.clock.advance(seconds=30)
    assert gateway.grant(token, new).status_code == 201


def test_one_step_of_clock_skew_each_side_and_no_more(gateway: Gateway) -> None:
    token = gateway.principal("dpo")
    secret = gateway.enrol_totp(token)
    gateway.clock.advance(seconds=30)  # the step before now was not used for activation
    assert (
        gateway.grant(token, secret, code=totp_code(secret, gateway.clock, -1)).status_code == 201
    )
    gateway.clock.advance(seconds=60)
    assert (
        gateway.grant(token, secret, code=totp_code(secret, gateway.clock, +1)).status_code == 201
    )
    gateway.clock.advance(seconds=120)
    for offset in (-2, +2):
        response = gateway.grant(token, secret, code=totp_code(secret, gateway.clock, offset))
        assert_problem(response, 403, "second-factor-rejected")


def test_a_code_is_accepted_once(gateway: Gateway) -> None:
    token = gateway.principal("dpo")
    secret = gateway.enrol_totp(token)
    code = totp_code(secret, gateway.clock)
    assert gateway.grant(token, secret, code=code).status_code == 201
    replay = gateway.grant(token, secret, code=code)
    assert "already used" in assert_problem(replay, 403, "second-factor-rejected")["detail"]
    # An older code in the skew window is refused too once a newer one was accepted.
    older = gateway.grant(token, secret, code=totp_code(secret, gateway.clock, -1))
    assert_problem(older, 403, "second-factor-rejected")
    gateway.clock.advance(seconds=30)
    assert gateway.grant(token, secret).status_code == 201


def test_five_wrong_codes_lock_the_factor_for_fifteen_minutes(gateway: Gateway) -> None:
    token = gateway.principal("customer_service")
    secret = gateway.enrol_totp(token)
    right = totp_code(secret, gateway.clock)
    wrong = f"{(int(right) + 500_000) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        response = gateway.grant(token, secret, code=wrong)
        assert (
            f"{left} more wrong code(s)"
            in assert_problem(response, 403, "second-factor-rejected")["detail"]
        )
    locked = gateway.grant(token, secret, code=wrong)
    body = assert_problem(locked, 429, "second-factor-locked")
    assert body["locked_until"] == "2026-11-20T10:15:30Z"
    assert "locked after 5 wrong codes until 2026-11-20T10:15:30Z" in body["detail"]
    assert locked.headers["retry-after"] == "900"
    assert _state(gateway, token)["locked_until"] == "2026-11-20T10:15:30Z"

    # While locked, even the right code is refused, and tries do not extend the lock.
    gateway.clock.advance(minutes=14, seconds=59)
    response = gateway.grant(token, secret)
    assert_problem(response, 429, "second-factor-locked")
    assert response.headers["retry-after"] == "1"
    gateway.clock.advance(seconds=1)
    assert gateway.grant(token, secret).status_code == 201
    assert _state(gateway, token)["locked_until"] is None


def test_lock_out_applies_to_re_enrolment_and_activation_too(gateway: Gateway) -> None:
    token = gateway.principal("dpo")
    secret = _enroll(gateway, token)["secret"]
    right = totp_code(secret, gateway.clock)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(4):
        assert_problem(_activate(gateway, token, wrong), 403, "second-factor-rejected")
    assert_problem(_activate(gateway, token, wrong), 429, "second-factor-locked")
    assert_problem(_activate(gateway, token, right), 429, "second-factor-locked")
    assert _state(gateway, token)["state"] == "pending"


def test_roles_with_nothing_to_reveal_get_no_factor(gateway: Gateway) -> None:
    for role in ("analyst", "admin", "channel"):
        token = gateway.principal(role)
        response = gateway.client.post("/v1/auth/totp/enroll", headers=bearer(token))
        body = assert_problem(response, 403, "forbidden")
        assert "no field that a second factor reveals" in body["detail"]
    assert gateway.count_rows("totp_factors") == 0


def test_malformed_codes_are_refused_at_the_edge_and_count_for_nothing(gateway: Gateway) -> None:
    token = gateway.principal("dpo")
    secret = gateway.enrol_totp(token)
    for code in ("12345", "1234567", "12a456", "", 123456):
        response = gateway.grant(token, secret, code=code)
        body = assert_problem(response, 422, "invalid-input")
        assert body["errors"][0]["field"] == "code"
    # None of these counted as a wrong code: five real failures are still needed to lock.
    state = _state(gateway, token)
    assert state["locked_until"] is None
    assert gateway.grant(token, secret).status_code == 201


def test_code_matching_follows_rfc_6238_test_vectors() -> None:
    # RFC 6238 appendix B (SHA-1 seed "12345678901234567890"): 8-digit codes 94287082 at
    # T = 59 s and 07081804 at T = 1111111109 s; a 6-digit code is their last six digits.
    secret = base64.b32encode(b"12345678901234567890").decode()
    at_59 = datetime.fromtimestamp(59, UTC)
    assert matching_step(secret, "287082", at_59, skew=0) == 1
    at_1111111109 = datetime.fromtimestamp(1111111109, UTC)
    assert matching_step(secret, "081804", at_1111111109, skew=0) == 1111111109 // 30
    assert matching_step(secret, "081804", at_1111111109 + timedelta(seconds=30), skew=1) == (
        1111111109 // 30
    )
    assert matching_step(secret, "081804", at_1111111109 + timedelta(seconds=60), skew=1) is None
    assert matching_step(secret, "081805", at_1111111109, skew=1) is None


def test_an_operator_resets_a_lost_factor_and_its_grants(gateway: Gateway) -> None:
    token = gateway.principal("dpo", name="dpo-1")
    secret = gateway.enrol_totp(token)
    grant = gateway.grant(token, secret).json()["grant"]
    missing = gateway.cli("principals", "reset-totp", "nobody")
    assert missing.exit_code == 1
    assert "no principal named 'nobody'" in missing.output

    result = gateway.cli("principals", "reset-totp", "dpo-1")
    assert result.exit_code == 0, result.output
    assert "removed the second factor of dpo-1 and 1 unmask grant(s)" in result.output
    assert _state(gateway, token)["state"] == "none"
    assert gateway.count_rows("unmask_grants") == 0
    headers = {**bearer(token), "X-Unmask-Grant": grant}
    response = gateway.client.get(
        "/v1/orders/00000000-0000-0000-0000-000000000000",
        params={"reveal": "customer.phone"},
        headers=headers,
    )
    assert assert_problem(response, 403, "unmask-grant-refused")["detail"] == (
        "the unmask grant is unknown"
    )
    # Enrolling again needs no code from the lost device.
    assert _enroll(gateway, token)["secret"] != secret
    again = gateway.cli("principals", "reset-totp", "dpo-1")
    assert again.exit_code == 0
    twice = gateway.cli("principals", "reset-totp", "dpo-1")
    assert twice.exit_code == 1
    assert "principal 'dpo-1' has no second factor" in twice.output
