"""Staff sign-in attacked through its real interface: HTTP to the gateway with tokens the
real provider issued, or tokens crafted from them, and the provider made to answer as a
broken or hostile one would (`TestIdP.override`).

Most tests share `crafty`, a provider of this module's own: its client-credentials clients
carry claims a person's token would (groups, acr, auth_time, a name), so the gateway takes
their tokens for people's, stepped up or not, without a browser. What the provider signs is
its word; what these tests look for is what the gateway does with it, and with what no
provider signed.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, bearer
from tests.identity.idp import ACR_MFA, TestIdP, default_config
from tests.identity.staff import b64, claims_of, header_of, identity_file, staff_gateway

SECRET = "s3cret-crafty-client-0123456789"
AGENT_NAME = "Agnes Privatperson"  # a display name that must never leave the principals table
AGENT_EMAIL = "agnes.privat@example.test"
PURPOSE = "customer called about a lost parcel"


def _client(client_id: str, claims: dict[str, Any]) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "client_secret": SECRET,
        "grant_types": ["client_credentials"],
        "claims": claims,
    }


def _crafty_config(signed_in_at: int) -> dict[str, Any]:
    """The suite's provider plus clients whose tokens look like people's to the gateway."""
    agent = {"groups": ["cs-agents"], "acr": ACR_MFA, "auth_time": signed_in_at}
    config = default_config()
    config["clients"] += [
        _client("agent-one", agent | {"name": AGENT_NAME, "email": AGENT_EMAIL}),
        _client("agent-two", agent),
        _client("agent-weak", {"groups": ["cs-agents"], "acr": "urn:opg:loa:1"}),
        _client("agent-odd-time", agent | {"auth_time": 1e20}),
        _client("region-list", {"groups": ["warehouse-east"], "region": ["east", "north"]}),
        _client("region-sql", {"groups": ["warehouse-east"], "region": "east' OR '1'='1"}),
        _client("cs-app", agent),  # mapped as an app below: it acts for itself
    ]
    return config


@pytest.fixture(scope="module")
def crafty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestIdP]:
    config = _crafty_config(int(time.time()))
    with TestIdP.start(config, tmp_path_factory.mktemp("crafty")) as provider:
        yield provider


def _rules(name: str = "corp") -> str:
    return f"""
[[people]]
issuer = "{name}"
group = "cs-agents"
role = "customer_service"

[[people]]
issuer = "{name}"
group = "warehouse-east"
role = "warehouse"
region_claim = "region"

[[apps]]
issuer = "{name}"
client_id = "batch-exporter"
role = "auditor"

[[apps]]
issuer = "{name}"
client_id = "cs-app"
role = "customer_service"
"""


@pytest.fixture
def gw(database_url: str, tmp_path: Path, crafty: TestIdP) -> Iterator[Gateway]:
    text = identity_file(crafty, rules=_rules(), introspection=True)
    with staff_gateway(database_url, tmp_path, crafty, text) as gateway:
        yield gateway


def _token(idp: TestIdP, client_id: str) -> str:
    secret = idp.clients[client_id].secret
    assert secret is not None
    return idp.client_credentials(client_id, secret)


def _events(gw: Gateway, token: str) -> httpx.Response:
    return gw.client.get("/v1/audit/events", params={"limit": "5"}, headers=bearer(token))


def _read(gw: Gateway, token: str, order_id: str) -> httpx.Response:
    return gw.client.get(f"/v1/orders/{order_id}", headers=bearer(token))


def _jwk_of(key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()

    def part(n: int) -> str:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
        "n": part(numbers.n),
        "e": "AQAB",
    }


def _signed(key: rsa.RSAPrivateKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token signed with our own key: what an attacker who holds (or broke) a key sends."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


@pytest.fixture
def jwks_path(crafty: TestIdP) -> Iterator[str]:
    """The provider's JWKS path, answered as it normally is again after the test."""
    path = crafty.path_of("jwks_uri")
    try:
        yield path
    finally:
        crafty.clear_override(path)


# -- the provider's keys --------------------------------------------------------------------------


def test_a_key_the_gateway_cannot_use_in_the_jwks_is_skipped_not_a_500(
    gw: Gateway, crafty: TestIdP, jwks_path: str
) -> None:
    """An issuer's JWKS may hold keys that are not for us: an X25519 key for ECDH without
    `use`, an `oct` key marked RS256, a curve without coordinates, a malformed entry. Each
    must be skipped like a key of an unknown type, not stop every sign-in."""
    published = crafty.jwks()["keys"]
    unusable = [
        {
            "kty": "OKP",
            "crv": "X25519",
            "kid": "ecdh-1",
            "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo",
        },
        {"kty": "oct", "kid": "shared-1", "alg": "RS256", "k": "c2VjcmV0"},
        {"kty": "EC", "crv": "P-256", "kid": "ec-broken"},
        {"kty": "RSA", "kid": "rsa-broken", "n": "!!", "e": "AQAB"},
        {"kid": "no-type"},
    ]
    crafty.override(jwks_path, body=json.dumps({"keys": unusable + published}))
    answer = _events(gw, _token(crafty, "batch-exporter"))
    assert answer.status_code == 200, answer.text


# Outside tests PyJWT only warns about a short key, and verifies with it: so must this test.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_short_rsa_key_in_the_jwks_never_verifies_a_token(
    gw: Gateway, crafty: TestIdP, jwks_path: str
) -> None:
    """RFC 7518 3.3: RS256 keys are 2048 bits or more. A 1024-bit key an issuer still
    publishes can be factored; a token it signs must not be believed."""
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    published = crafty.jwks()["keys"]
    crafty.override(jwks_path, body=json.dumps({"keys": [*published, _jwk_of(weak, "weak-1")]}))
    genuine = _token(crafty, "batch-exporter")
    forged = _signed(weak, header_of(genuine) | {"kid": "weak-1"}, claims_of(genuine))
    answer = _events(gw, forged)
    assert_problem(answer, 401, "unauthenticated")
    assert answer.json()["check"] == "signature"
    assert _events(gw, genuine).status_code == 200  # the issuer's real key still works


def test_a_provider_never_reached_answers_503_on_every_request_not_a_bad_token(
    gw: Gateway, crafty: TestIdP
) -> None:
    """Without keys the gateway cannot tell a good token from a bad one: every request is
    the provider's fault (503), also those within the refresh cooldown, never a 401 that
    tells the app to throw the person's token away (and logs a forgery that was none)."""
    discovery = "/.well-known/openid-configuration"
    token = _token(crafty, "batch-exporter")
    crafty.override(discovery, status=500, body="{}")
    try:
        for _ in range(3):
            assert_problem(_events(gw, token), 503, "identity-provider-unavailable")
    finally:
        crafty.clear_override(discovery)
    gw.clock.advance(seconds=11)  # past the cooldown: the provider is back, and so are we
    assert _events(gw, token).status_code == 200


def test_a_provider_document_nested_too_deep_is_the_providers_fault_not_the_callers(
    gw: Gateway, crafty: TestIdP
) -> None:
    """50 KB of `[` is within the size limit and makes Python's JSON parser give up with
    RecursionError, not a ValueError: the provider's broken document is a 503, not the
    400 "request body nested too deeply" that blames the caller."""
    discovery = "/.well-known/openid-configuration"
    crafty.override(discovery, body="[" * 50_000)
    try:
        answer = _events(gw, _token(crafty, "batch-exporter"))
    finally:
        crafty.clear_override(discovery)
    assert_problem(answer, 503, "identity-provider-unavailable")


@pytest.fixture
def introspection_path(crafty: TestIdP) -> Iterator[str]:
    path = crafty.path_of("introspection_endpoint")
    try:
        yield path
    finally:
        crafty.clear_override(path)


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (500, '{"active": true}', "identity-provider-unavailable"),
        (200, "<html>maintenance</html>", "identity-provider-unavailable"),
        (200, "[true]", "identity-provider-unavailable"),
        (200, "[" * 50_000, "identity-provider-unavailable"),  # RecursionError, not a 400
        (200, '{"active": "true"}', "unauthenticated"),  # only JSON true is active
        (200, '{"active": 1}', "unauthenticated"),
        (200, "{}", "unauthenticated"),
    ],
)
def test_an_introspection_answer_that_is_not_a_clear_yes_refuses(
    gw: Gateway, crafty: TestIdP, introspection_path: str, status: int, body: str, problem: str
) -> None:
    crafty.override(introspection_path, status=status, body=body)
    answer = _events(gw, _token(crafty, "batch-exporter"))
    assert_problem(answer, 503 if problem != "unauthenticated" else 401, problem)


def test_an_introspection_answer_over_the_size_limit_is_not_read(
    gw: Gateway, crafty: TestIdP, introspection_path: str
) -> None:
    """The discovery document and JWKS are read to 256 KiB at most; introspection must be
    too, or an issuer (or whoever answers in its name) can make the gateway buffer any
    amount for every token it checks."""
    crafty.override(introspection_path, body='{"active": true}', pad=1024 * 1024)
    answer = _events(gw, _token(crafty, "batch-exporter"))
    assert_problem(answer, 503, "identity-provider-unavailable")


# -- people's claims ------------------------------------------------------------------------------


def _grant(gw: Gateway, token: str, order_id: str, **body: Any) -> httpx.Response:
    body = {"purpose": PURPOSE, "order_ids": [order_id]} | body
    return gw.client.post("/v1/unmask-grants", json=body, headers=bearer(token))


def test_an_auth_time_out_of_range_is_no_sign_in_time_not_a_500(
    gw: Gateway, crafty: TestIdP
) -> None:
    """`auth_time` is only the issuer's word on when the person signed in: a value no date
    can hold (1e20) means "not known", so a step-up is asked for; it must not make every
    request of that person fail."""
    order = gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    odd = _token(crafty, "agent-odd-time")
    read = _read(gw, odd, order)
    assert read.status_code == 200, read.text
    refused = _grant(gw, odd, order)
    detail = assert_problem(refused, 401, "insufficient-user-authentication")["detail"]
    assert "more recent" in detail
