"""People signed in at the real provider (authorization code + PKCE through its login
pages, in Chromium): each is a person in the log and the access report, their groups
give their role or nothing, and a reveal needs a fresh MFA at the provider (RFC 9470).

Playwright's sync API must not run beside asyncio in this thread (tests/identity/
conftest.py), so the people sign in once, in a module fixture that ends its browser
before any database fixture runs; the step-up test starts a browser of its own inside
the test, after its gateway is up.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from tests.browser import PAGE_TIMEOUT_MS, chromium_path
from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, bearer, sample_order
from tests.identity.idp import TestIdP, default_config
from tests.identity.staff import claims_of, entries, identity_file, staff_gateway

PEOPLE = ("alice", "bob", "carol", "wendy")


def _sign_in(idp: TestIdP, username: str, **step_up: Any) -> dict[str, Any]:
    user = idp.users[username]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
        )
        try:
            context = browser.new_context()
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            return idp.person_token(
                context.new_page(),
                username=user.username,
                password=user.password,
                totp_secret=user.totp_secret,
                **step_up,
            )
        finally:
            browser.close()


@pytest.fixture(scope="module")
def signed_in(idp: TestIdP) -> dict[str, dict[str, Any]]:
    """Each person's token answer after a password-only sign-in (acr: password)."""
    return {name: _sign_in(idp, name) for name in PEOPLE}


@pytest.fixture
def gw(database_url: str, tmp_path: Path, idp: TestIdP) -> Iterator[Gateway]:
    with staff_gateway(database_url, tmp_path, idp) as gateway:
        yield gateway


def _token(signed_in: dict[str, dict[str, Any]], name: str) -> str:
    return str(signed_in[name]["access_token"])


def _order(gw: Gateway) -> str:
    return gw.create_order(gw.principal("channel"), SAMPLE_ORDER)


def _read(gw: Gateway, token: str, order_id: str, **headers: str) -> httpx.Response:
    return gw.client.get(f"/v1/orders/{order_id}", headers=bearer(token) | headers)


def _pseudonym(gw: Gateway, token: str) -> str:
    claims = claims_of(token)
    return str(gw.services.access_log.staff_pseudonym(claims["iss"], claims["sub"]))


def test_two_people_in_one_app_and_role_are_two_people_in_the_log_and_the_report(
    gw: Gateway, signed_in: dict[str, dict[str, Any]]
) -> None:
    order = _order(gw)
    for name in ("alice", "bob", "alice"):
        read = _read(gw, _token(signed_in, name), order)
        assert read.status_code == 200, read.text
        assert read.json()["customer"]["phone"] == "138****5678"  # masked: no step-up yet
    dpo = gw.principal("dpo", name="dpo-one")
    alice = _pseudonym(gw, _token(signed_in, "alice"))
    bob = _pseudonym(gw, _token(signed_in, "bob"))
    # The shared database's log holds earlier tests' entries too (this order's id among
    # them: ids derive from the channel and external id): this gateway's people only.
    found = entries(gw, dpo, action="orders.read", order_id=order)
    reads = [e for e in found if e["actor"] in {alice, bob}]
    actors = [e["actor"] for e in reads]
    assert sorted(actors) == sorted([alice, alice, bob])
    assert {e["details"]["app"] for e in reads} == {"cs-console"}
    assert not any("Alice" in str(e) or "u-alice" in str(e) for e in reads)  # no name in the chain
    gw.clock.advance(seconds=1)  # the period ends now, exclusive
    report = gw.client.get("/v1/reports/access", headers=bearer(dpo))
    assert report.status_code == 200, report.text
    rows = {r["principal"]: r for r in report.json()["principals"]}
    assert rows[alice]["role"] == rows[bob]["role"] == "customer_service"
    assert (rows[alice]["accesses"], rows[bob]["accesses"]) == (2, 1)
    assert rows[alice]["apps"] == rows[bob]["apps"] == "cs-console"


def test_a_person_whose_groups_map_to_nothing_sees_nothing(
    gw: Gateway, signed_in: dict[str, dict[str, Any]]
) -> None:
    order = _order(gw)
    carol = _token(signed_in, "carol")
    body = assert_problem(_read(gw, carol, order), 403, "forbidden")
    assert "map to no role" in body["detail"]
    listed = gw.client.get("/v1/orders", headers=bearer(carol))
    assert_problem(listed, 403, "forbidden")
    assert "13812345678" not in listed.text
    dpo = gw.principal("dpo", name="dpo-two")
    denied = entries(gw, dpo, actor=_pseudonym(gw, carol))
    assert [(e["action"], e["outcome"]) for e in denied] == [("auth.authenticate", "denied")] * 2
    found = gw.client.get("/v1/people", params={"name": _pseudonym(gw, carol)}, headers=bearer(dpo))
    assert found.json() == []  # refused people get no principal


def test_a_warehouse_person_reads_only_the_region_their_claim_names(
    gw: Gateway, signed_in: dict[str, dict[str, Any]]
) -> None:
    writer = gw.principal("channel")
    east = gw.create_order(writer, sample_order(external_id="WEB-E", region="east"))
    north = gw.create_order(writer, sample_order(external_id="WEB-N", region="north"))
    wendy = _token(signed_in, "wendy")
    assert _read(gw, wendy, east).status_code == 200
    assert_problem(_read(gw, wendy, north), 404, "not-found")


def test_the_dpo_turns_a_pseudonym_into_a_person_and_staff_cannot(
    gw: Gateway, signed_in: dict[str, dict[str, Any]]
) -> None:
    alice = _token(signed_in, "alice")
    assert _read(gw, alice, _order(gw)).status_code == 200
    dpo = gw.principal("dpo", name="dpo-three")
    name = _pseudonym(gw, alice)
    found = gw.client.get("/v1/people", params={"name": name}, headers=bearer(dpo))
    assert found.status_code == 200, found.text
    assert found.headers["cache-control"] == "no-store"
    [person] = found.json()
    assert (person["display_name"], person["subject"], person["issuer"]) == (
        "Alice Agent",
        "u-alice",
        "corp",
    )
    assert (person["kind"], person["role"], person["revoked"]) == (
        "person",
        "customer_service",
        False,
    )
    assert entries(gw, dpo, action="people.read")[0]["resource"] == f"people/{name}"
    refused = gw.client.get("/v1/people", headers=bearer(alice))
    assert_problem(refused, 403, "forbidden")
    assert "Alice Agent" not in refused.text


def test_a_revoked_person_is_shut_out_at_once_whatever_the_provider_says(
    gw: Gateway, signed_in: dict[str, dict[str, Any]]
) -> None:
    bob = _token(signed_in, "bob")
    order = _order(gw)
    assert _read(gw, bob, order).status_code == 200
    admin = gw.principal("admin", name="admin-one")
    gone = gw.client.delete(f"/v1/principals/{_pseudonym(gw, bob)}", headers=bearer(admin))
    assert gone.status_code == 204, gone.text
    body = assert_problem(_read(gw, bob, order), 401, "unauthenticated")
    assert body["check"] == "revoked"


def test_people_neither_enrol_a_totp_factor_nor_send_a_code(
    gw: Gateway, signed_in: dict[str, dict[str, Any]]
) -> None:
    alice = _token(signed_in, "alice")
    enrol = gw.client.post("/v1/auth/totp/enroll", headers=bearer(alice))
    assert "step up there" in assert_problem(enrol, 403, "forbidden")["detail"]
    coded = gw.client.post(
        "/v1/unmask-grants",
        json={"purpose": "customer called about a lost parcel", "code": "123456"},
        headers=bearer(alice),
    )
    assert assert_problem(coded, 422, "invalid-input")["errors"][0]["field"] == "code"


def test_an_id_token_is_not_an_access_token(
    gw: Gateway, signed_in: dict[str, dict[str, Any]]
) -> None:
    id_token = str(signed_in["alice"]["id_token"])
    body = assert_problem(_read(gw, id_token, _order(gw)), 401, "unauthenticated")
    assert body["check"] in {"type", "audience"}


def test_a_reveal_needs_a_fresh_mfa_at_the_provider_and_works_after_step_up(
    gw: Gateway, idp: TestIdP, signed_in: dict[str, dict[str, Any]]
) -> None:
    order = _order(gw)
    purpose = {"purpose": "customer called about a lost parcel", "order_ids": [order]}
    password_only = _token(signed_in, "alice")
    challenged = gw.client.post("/v1/unmask-grants", json=purpose, headers=bearer(password_only))
    body = assert_problem(challenged, 401, "insufficient-user-authentication")
    assert body["check"] == "insufficient_user_authentication"
    challenge = challenged.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="insufficient_user_authentication"')
    assert f'acr_values="{idp.acr_mfa}"' in challenge
    assert challenge.endswith("max_age=300")

    # The app sends alice back through the provider with what the challenge asked for.
    stepped = _sign_in(idp, "alice", acr_values=idp.acr_mfa, max_age=300)
    strong = str(stepped["access_token"])
    assert claims_of(strong)["acr"] == idp.acr_mfa
    gw.clock.advance(seconds=max(0, claims_of(strong)["iat"] - gw.clock.now().timestamp()))
    granted = gw.client.post("/v1/unmask-grants", json=purpose, headers=bearer(strong))
    assert granted.status_code == 201, granted.text
    grant = granted.json()["grant"]
    shown = gw.client.get(
        f"/v1/orders/{order}",
        params={"reveal": "customer.phone"},
        headers=bearer(strong) | {"X-Unmask-Grant": grant},
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["customer"]["phone"] == "13812345678"
    dpo = gw.principal("dpo", name="dpo-four")
    alice = _pseudonym(gw, strong)
    [issued] = entries(gw, dpo, actor=alice, action="grant.issue", outcome="allowed")
    assert (issued["actor"], issued["purpose"], issued["details"]["app"]) == (
        alice,
        purpose["purpose"],
        "cs-console",
    )
    refused = entries(gw, dpo, actor=alice, action="grant.issue", outcome="denied")
    assert len(refused) == 1  # the challenge before the step-up
    # The same token, once its sign-in is older than max_age, must step up again.
    gw.clock.advance(seconds=301)
    stale = gw.client.post("/v1/unmask-grants", json=purpose, headers=bearer(strong))
    assert "more recent" in assert_problem(stale, 401, "insufficient-user-authentication")["detail"]


def test_with_introspection_a_revoked_or_disabled_person_stops_within_its_cache_time(
    database_url: str, tmp_path: Path
) -> None:
    with TestIdP.start(default_config(), tmp_path / "introspecting") as own:
        text = identity_file(own, introspection=True)
        with staff_gateway(database_url, tmp_path, own, text) as gateway:
            order = _order(gateway)
            alice, bob = _sign_in(own, "alice"), _sign_in(own, "bob")
            for person in (alice, bob):
                assert _read(gateway, person["access_token"], order).status_code == 200
            own.revoke(alice["refresh_token"], "cs-console")  # the app signs alice out
            own.disable("bob")  # the company disables bob
            assert _read(gateway, alice["access_token"], order).status_code == 200  # cached
            gateway.clock.advance(seconds=31)  # past the introspection cache (30 s)
            for person in (alice, bob):
                answer = _read(gateway, person["access_token"], order)
                assert assert_problem(answer, 401, "unauthenticated")["check"] == "inactive"
                assert "13812345678" not in answer.text
