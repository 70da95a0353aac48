"""Each check of an access token, with tokens the suite's real OpenID provider issued.

The provider runs on real time; the gateway's clock starts at the provider's and then
moves as each test needs (expiry, a token from the future). Every refusal is a 401
problem naming the check, with an RFC 6750 challenge, that never echoes the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import Gateway, assert_problem, bearer
from tests.identity.idp import OTHER_RESOURCE, TestIdP, default_config
from tests.identity.staff import b64, claims_of, entries, header_of, identity_file, staff_gateway

BATCH = "batch-exporter"


def _app_token(idp: TestIdP, resource: str | None = None) -> str:
    client = idp.clients[BATCH]
    assert client.secret is not None
    return idp.client_credentials(BATCH, client.secret, resource=resource)


@pytest.fixture
def gw(database_url: str, tmp_path: Path, idp: TestIdP) -> Iterator[Gateway]:
    with staff_gateway(database_url, tmp_path, idp) as gateway:
        yield gateway


def _events(gw: Gateway, token: str) -> httpx.Response:
    return gw.client.get("/v1/audit/events", params={"limit": "5"}, headers=bearer(token))


def _refused(response: httpx.Response, check: str, token: str) -> dict[str, Any]:
    body = assert_problem(response, 401, "unauthenticated")
    assert body["check"] == check, body
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    assert token not in response.text
    assert token.split(".")[1] not in response.text  # not even its claims
    return body


def test_an_app_token_from_the_provider_acts_as_its_mapped_role_and_is_named_in_the_log(
    gw: Gateway, idp: TestIdP
) -> None:
    token = _app_token(idp)
    answer = _events(gw, token)
    assert answer.status_code == 200, answer.text
    mine = entries(gw, token, actor=f"app:corp:{BATCH}", action="audit.search")
    assert mine, "the app's own search is logged under its name"
    assert mine[0]["details"]["app"] == BATCH
    created = entries(gw, token, action="principal.create")
    assert any(
        e["resource"] == f"principals/app:corp:{BATCH}" and e["details"]["role"] == "auditor"
        for e in created
    )


def test_gateway_bearer_tokens_still_work_beside_the_provider(gw: Gateway) -> None:
    token = gw.principal("auditor", name="audit-service")
    answer = _events(gw, token)
    assert answer.status_code == 200, answer.text
    assert "app" not in entries(gw, token, actor="audit-service")[0]["details"]


def test_an_expired_token_is_refused_as_expired(gw: Gateway, idp: TestIdP) -> None:
    token = _app_token(idp)
    lifetime = claims_of(token)["exp"] - gw.clock.now().timestamp()
    gw.clock.advance(seconds=lifetime + 31)  # past exp and the 30 s skew
    _refused(_events(gw, token), "expired", token)


def test_a_token_within_the_skew_of_its_expiry_still_works(gw: Gateway, idp: TestIdP) -> None:
    token = _app_token(idp)
    lifetime = claims_of(token)["exp"] - gw.clock.now().timestamp()
    gw.clock.advance(seconds=lifetime + 20)
    assert _events(gw, token).status_code == 200


def test_a_token_issued_in_the_gateways_future_is_refused(gw: Gateway, idp: TestIdP) -> None:
    token = _app_token(idp)
    gw.clock.advance(seconds=-120)  # the gateway's clock is two minutes behind the provider's
    _refused(_events(gw, token), "issued-at", token)


def test_a_token_for_another_api_is_refused_as_the_wrong_audience(
    gw: Gateway, idp: TestIdP
) -> None:
    token = _app_token(idp, resource=OTHER_RESOURCE)
    assert claims_of(token)["aud"] == OTHER_RESOURCE
    _refused(_events(gw, token), "audience", token)


def test_a_changed_signature_or_payload_is_refused(gw: Gateway, idp: TestIdP) -> None:
    token = _app_token(idp)
    head, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    _refused(_events(gw, f"{head}.{payload}.{flipped}"), "signature", token)
    claims = claims_of(token) | {"client_id": "someone-else"}
    _refused(_events(gw, f"{head}.{b64(claims)}.{signature}"), "signature", token)


def test_alg_none_and_a_shared_secret_made_of_the_public_key_are_refused(
    gw: Gateway, idp: TestIdP
) -> None:
    token = _app_token(idp)
    header, claims = header_of(token), claims_of(token)
    unsigned = f"{b64(header | {'alg': 'none'})}.{b64(claims)}."
    assert _events(gw, unsigned).status_code == 401  # not even a JWS: no signature part
    forged = f"{b64(header | {'alg': 'none'})}.{b64(claims)}.AAAA"
    _refused(_events(gw, forged), "algorithm", token)
    # The classic confusion: HS256 keyed with the issuer's public key, which anyone has.
    key = next(k for k in idp.jwks()["keys"] if k["kid"] == header["kid"])
    signing_input = f"{b64(header | {'alg': 'HS256'})}.{b64(claims)}"
    mac = hmac.new(key["n"].encode(), signing_input.encode(), hashlib.sha256).digest()
    confused = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    _refused(_events(gw, confused), "algorithm", token)


def test_a_token_of_an_issuer_not_configured_is_refused(gw: Gateway, tmp_path: Path) -> None:
    with TestIdP.start(default_config(algorithm="ES256"), tmp_path / "other") as other:
        client = other.clients[BATCH]
        assert client.secret is not None
        token = other.client_credentials(BATCH, client.secret)
    _refused(_events(gw, token), "issuer", token)


def test_an_id_token_style_type_is_refused(gw: Gateway, idp: TestIdP) -> None:
    token = _app_token(idp)
    _head, payload, signature = token.split(".")
    as_jwt = b64(header_of(token) | {"typ": "JWT"})  # a re-typed header breaks the signature,
    body = _refused(_events(gw, f"{as_jwt}.{payload}.{signature}"), "type", token)
    assert "at+jwt" in body["detail"]  # but the type is checked first, and named


def test_an_unknown_kid_refreshes_the_keys_once_and_no_more_within_the_cooldown(
    gw: Gateway, idp: TestIdP
) -> None:
    token = _app_token(idp)
    assert _events(gw, token).status_code == 200
    keys = gw.services.staff.keys[idp.issuer]
    gw.clock.advance(seconds=11)  # past the cooldown of the first fetch
    before = keys.refreshes
    _head, payload, signature = token.split(".")
    for n in range(5):
        invented = b64(header_of(token) | {"kid": f"invented-{n}"})
        _refused(_events(gw, f"{invented}.{payload}.{signature}"), "signature", token)
    assert keys.refreshes == before + 1  # five invented kids, one fetch
    gw.clock.advance(seconds=11)  # past the cooldown: the next unknown kid may fetch again
    invented = b64(header_of(token) | {"kid": "invented-late"})
    _refused(_events(gw, f"{invented}.{payload}.{signature}"), "signature", token)
    assert keys.refreshes == before + 2


def test_a_token_living_longer_than_allowed_is_refused(
    database_url: str, tmp_path: Path, idp: TestIdP
) -> None:
    text = identity_file(idp, issuer_extra="max_token_lifetime_seconds = 300")
    with staff_gateway(database_url, tmp_path, idp, text) as gateway:
        token = _app_token(idp)  # the provider's tokens live 600 s
        _refused(_events(gateway, token), "lifetime", token)


def test_a_client_outside_the_issuers_allowlist_is_refused(
    database_url: str, tmp_path: Path, idp: TestIdP
) -> None:
    text = identity_file(idp, issuer_extra='clients = ["cs-console"]')
    with staff_gateway(database_url, tmp_path, idp, text) as gateway:
        token = _app_token(idp)
        _refused(_events(gateway, token), "client", token)


def test_a_token_no_rule_maps_is_refused_and_the_refusal_names_who(
    database_url: str, tmp_path: Path, idp: TestIdP
) -> None:
    text = identity_file(idp, rules="")  # no [[people]], no [[apps]]
    with staff_gateway(database_url, tmp_path, idp, text) as gateway:
        token = _app_token(idp)
        body = assert_problem(_events(gateway, token), 403, "forbidden")
        assert "map to no role" in body["detail"]
        auditor = gateway.principal("auditor", name="dpo-reader")
        refused = entries(gateway, auditor, action="auth.authenticate", outcome="denied")
        assert refused[0]["actor"].startswith("person:")  # a verified subject, pseudonymised
        assert BATCH not in refused[0]["actor"]


def test_key_rotation_at_the_provider_costs_one_refresh_and_no_failed_request(
    database_url: str, tmp_path: Path
) -> None:
    with TestIdP.start(default_config(), tmp_path / "rotating") as own:
        text = identity_file(own)
        with staff_gateway(database_url, tmp_path, own, text) as gateway:
            before = _app_token(own)
            assert _events(gateway, before).status_code == 200
            keys = gateway.services.staff.keys[own.issuer]
            fetched = keys.refreshes
            own.rotate(keep_old=True)
            gateway.clock.advance(seconds=11)  # rotations are not seconds apart
            after = _app_token(own)
            assert header_of(after)["kid"] != header_of(before)["kid"]
            assert _events(gateway, after).status_code == 200  # the first request succeeds
            assert keys.refreshes == fetched + 1
            assert _events(gateway, before).status_code == 200  # the old key is still published
            # Once the provider drops the old key, tokens it signed stop at the next refresh.
            own.rotate(keep_old=False)
            gateway.clock.advance(seconds=11)
            newest = _app_token(own)
            assert _events(gateway, newest).status_code == 200
            _refused(_events(gateway, before), "signature", before)


def test_a_provider_that_cannot_be_reached_fails_closed(database_url: str, tmp_path: Path) -> None:
    own = TestIdP.start(default_config(), tmp_path / "gone")
    with own, staff_gateway(database_url, tmp_path, own, identity_file(own)) as gateway:
        token = _app_token(own)
        own.stop()  # before the gateway ever fetched its keys
        answer = _events(gateway, token)
        body = assert_problem(answer, 503, "identity-provider-unavailable")
        assert token not in answer.text
        assert "could not be fetched" in body["detail"]


def test_identity_check_reaches_each_issuer_and_names_what_is_wrong(
    database_url: str, tmp_path: Path, idp: TestIdP
) -> None:
    other = TestIdP.start(default_config(), tmp_path / "soon-gone")
    text = identity_file(idp) + identity_file(other, name="branch", step_up=False, rules="")
    with other, staff_gateway(database_url, tmp_path, idp, text) as gateway:
        fine = gateway.cli("identity", "check")
        assert fine.exit_code == 0, fine.output
        assert f"corp: {idp.issuer}: ok" in fine.output
        assert f"branch: {other.issuer}: ok" in fine.output
        assert "2 people rule(s), 1 app rule(s)" in fine.output
        other.stop()
        broken = gateway.cli("identity", "check", "--json")
        assert broken.exit_code == 1
        report = json.loads(broken.output)
        assert report["problems"]["corp"] == []
        assert report["problems"]["branch"] == [
            "the discovery document could not be fetched (ConnectError)"
        ]


def test_without_an_identity_provider_an_access_token_is_told_so(
    gateway: Gateway, idp: TestIdP
) -> None:
    token = _app_token(idp)
    body = _refused(_events(gateway, token), "issuer", token)
    assert "no identity provider is configured" in body["detail"]
