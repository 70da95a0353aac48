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
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, bearer, sample_order
from tests.identity.idp import ACR_MFA, TestIdP, default_config
from tests.identity.staff import (
    b64,
    claims_of,
    entries,
    header_of,
    identity_file,
    staff_gateway,
    suite_rules,
)

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
    """The suite's rules, and an app of the customer service role."""
    return (
        suite_rules(name)
        + f"""
[[apps]]
issuer = "{name}"
client_id = "cs-app"
role = "customer_service"
"""
    )


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


def test_a_grant_serves_only_the_person_it_was_issued_to(gw: Gateway, crafty: TestIdP) -> None:
    order = gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    one, two = _token(crafty, "agent-one"), _token(crafty, "agent-two")
    issued = _grant(gw, one, order)
    assert issued.status_code == 201, issued.text
    grant = {"X-Unmask-Grant": issued.json()["grant"]}
    reveal = {"reveal": "customer.phone"}
    service = gw.principal("customer_service", name="cs-service")
    for other in (two, service):  # another person of the same role; a gateway token
        used = gw.client.get(f"/v1/orders/{order}", params=reveal, headers=bearer(other) | grant)
        assert "another principal" in assert_problem(used, 403, "unmask-grant-refused")["detail"]
        assert "13812345678" not in used.text
    shown = gw.client.get(f"/v1/orders/{order}", params=reveal, headers=bearer(one) | grant)
    assert shown.json()["customer"]["phone"] == "13812345678"


def test_a_person_never_uses_a_totp_code_nor_an_app_a_step_up(gw: Gateway, crafty: TestIdP) -> None:
    """Two ways to prove presence, each for its own callers: a person's is the issuer's
    step-up, a gateway token's a TOTP code; an app of the issuer (even one whose token says
    MFA, recently) has no one to prove anything, so it never reveals."""
    order = gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    person, app = _token(crafty, "agent-one"), _token(crafty, "cs-app")
    coded = _grant(gw, person, order, code="123456")
    assert assert_problem(coded, 422, "invalid-input")["errors"][0]["field"] == "code"
    for caller in (person, app):
        for path, body in (("enroll", None), ("activate", {"code": "123456"})):
            answer = gw.client.post(f"/v1/auth/totp/{path}", json=body, headers=bearer(caller))
            assert_problem(answer, 403, "forbidden")
    for body in ({}, {"code": "123456"}):
        refused = _grant(gw, app, order, **body)
        assert "cannot reveal" in assert_problem(refused, 403, "forbidden")["detail"]


@pytest.mark.parametrize("client_id", ["region-list", "region-sql"])
def test_a_region_claim_that_is_not_one_plain_region_reads_nothing(
    gw: Gateway, crafty: TestIdP, client_id: str
) -> None:
    """The region claim becomes a filter of the gateway's queries: a list (two regions),
    or text shaped like SQL, is refused, not widened, and the value is not echoed."""
    writer = gw.principal("channel")
    gw.create_order(writer, sample_order(external_id="WEB-E", region="east"))
    north = gw.create_order(writer, sample_order(external_id="WEB-N", region="north"))
    token = _token(crafty, client_id)
    for answer in (_read(gw, token, north), gw.client.get("/v1/orders", headers=bearer(token))):
        body = assert_problem(answer, 403, "forbidden")
        assert "not a plain slug" in body["detail"]
        assert "OR" not in answer.text
        assert "13812345678" not in answer.text


def test_personal_data_of_a_person_stays_in_the_principals_table(
    gw: Gateway, crafty: TestIdP, caplog: pytest.LogCaptureFixture
) -> None:
    """The display name and email the token carries: the DPO's look-up shows them, and
    nothing else does, not the log, not a problem, not the application's own log (at any
    level of its own; a library's debug output, aiosqlite's SQL, is the operator's choice)."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="gateway")
    order = gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    agent = _token(crafty, "agent-one")
    answers = [
        _read(gw, agent, order),
        _grant(gw, agent, order),
        _grant(gw, agent, order, code="123456"),
        gw.client.post("/v1/auth/totp/enroll", headers=bearer(agent)),
        gw.client.get("/v1/people", headers=bearer(agent)),
    ]
    gw.clock.advance(seconds=400)  # past max_age: the step-up challenge, too
    answers.append(_grant(gw, agent, order))
    assert answers[1].status_code == 201
    assert answers[-1].status_code == 401
    dpo = gw.principal("dpo", name="dpo-attack")
    chain = entries(gw, dpo, limit="100")
    people = gw.client.get("/v1/people", headers=bearer(dpo))
    assert AGENT_NAME in people.text  # the look-up has it: it was there to be leaked
    for text in [*(a.text + str(a.headers) for a in answers), json.dumps(chain), caplog.text]:
        assert AGENT_NAME not in text
        assert AGENT_EMAIL not in text


# -- crafted tokens -------------------------------------------------------------------------------


def test_keys_a_token_brings_along_are_never_trusted(
    gw: Gateway, crafty: TestIdP, jwks_path: str
) -> None:
    """`jwk`, `jku`, `x5u` and `x5c` let a token name its own key; the gateway only ever
    verifies with the issuer's JWKS, however the token points elsewhere (here at a JWKS
    the attacker serves from the issuer's own host, which holds the attacker's key)."""
    genuine = _token(crafty, "batch-exporter")
    mine = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = _jwk_of(mine, "attacker-1")
    crafty.override("/attacker/jwks", body=json.dumps({"keys": [jwk]}))
    try:
        elsewhere = {"jku": f"{crafty.issuer}/attacker/jwks", "x5u": f"{crafty.issuer}/x.pem"}
        for header in (
            header_of(genuine) | {"jwk": jwk},  # the issuer's kid, the attacker's key
            header_of(genuine) | {"kid": "attacker-1", "jwk": jwk},
            header_of(genuine) | {"kid": "attacker-1"} | elsewhere,
            header_of(genuine) | elsewhere,
        ):
            answer = _events(gw, _signed(mine, header, claims_of(genuine)))
            assert assert_problem(answer, 401, "unauthenticated")["check"] == "signature"
    finally:
        crafty.clear_override("/attacker/jwks")


CALLER_TEXT = 'x"\r\nSet-Cookie: stolen=1\r\n\\'


def test_a_kid_with_path_characters_never_reaches_the_jwks_url_or_the_challenge(
    gw: Gateway, crafty: TestIdP
) -> None:
    """Nothing a caller writes into a token reaches the challenge (RFC 6750 error_description),
    the problem, the issuer or the log: refusals are the gateway's own words."""
    genuine = _token(crafty, "batch-exporter")
    _head, payload, signature = genuine.split(".")
    assert _events(gw, genuine).status_code == 200
    keys = gw.services.staff.keys[crafty.issuer]
    gw.clock.advance(seconds=11)  # past the cooldown: one refresh for the first odd kid
    before = keys.refreshes
    headers = [
        header_of(genuine) | {"kid": "../../__control/rotate?keep_old=false"},
        header_of(genuine) | {"kid": CALLER_TEXT},
        header_of(genuine) | {"typ": CALLER_TEXT},
        header_of(genuine) | {"alg": CALLER_TEXT},
        header_of(genuine) | {"crit": [CALLER_TEXT], CALLER_TEXT: 1},
        header_of(genuine) | {"kid": ["a", "list"]},
    ]
    for header in headers:
        answer = _events(gw, f"{b64(header)}.{payload}.{signature}")
        assert_problem(answer, 401, "unauthenticated")
        challenge = answer.headers["www-authenticate"]
        for text in (answer.text, challenge):
            assert "stolen" not in text
            assert "__control" not in text
        assert "\r" not in challenge
        assert "\n" not in challenge
    assert keys.refreshes == before + 1
    assert header_of(_token(crafty, "batch-exporter"))["kid"] == header_of(genuine)["kid"]
    dpo = gw.principal("dpo", name="dpo-kid")
    logged = json.dumps(entries(gw, dpo, action="auth.authenticate"))
    assert "stolen" not in logged
    assert "__control" not in logged


def test_a_token_too_large_or_nested_too_deep_is_refused_before_anything_is_asked(
    gw: Gateway, crafty: TestIdP
) -> None:
    genuine = _token(crafty, "batch-exporter")
    head, payload, signature = genuine.split(".")
    huge = f"{head}.{payload}{'A' * 16 * 1024}.{signature}"
    body = assert_problem(_events(gw, huge), 401, "unauthenticated")
    assert "check" not in body  # not taken for a JWT at all
    deep = base64.urlsafe_b64encode(b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}").decode()
    for token in (
        f"{deep.rstrip('=')}.{payload}.{signature}",
        f"{head}.{deep.rstrip('=')}.{signature}",
    ):
        assert assert_problem(_events(gw, token), 401, "unauthenticated")["check"] == "token"
    assert gw.services.staff.keys[crafty.issuer].refreshes == 0  # nothing was asked of the issuer


# -- names: people, apps and the gateway's own principals ----------------------------------------


def test_no_admin_or_operator_can_create_a_principal_named_like_a_person_or_an_app(
    gw: Gateway, crafty: TestIdP
) -> None:
    """A service principal named `app:corp:cs-app` or `person:<hex>` would be found by the
    staff look-up (by name) and take over that app's or person's row, log and report."""
    app = _token(crafty, "cs-app")
    assert _events(gw, app).status_code == 403  # customer service reads no log; the row exists
    person = _token(crafty, "agent-one")
    assert gw.client.get("/v1/orders", headers=bearer(person)).status_code == 200
    dpo = gw.principal("dpo", name="dpo-names")
    taken = [p["name"] for p in gw.client.get("/v1/people", headers=bearer(dpo)).json()]
    assert "app:corp:cs-app" in taken
    admin = gw.principal("admin", name="admin-names")
    for name in taken:
        body = {"name": name, "role": "channel", "channel": "web"}
        created = gw.client.post("/v1/principals", json=body, headers=bearer(admin))
        assert assert_problem(created, 422, "invalid-input")["errors"][0]["field"] == "name"
        result = gw.cli("principals", "create", name, "--role", "channel", "--channel", "web")
        assert result.exit_code != 0
    assert _events(gw, app).status_code == 403
    assert gw.client.get("/v1/orders", headers=bearer(person)).status_code == 200


def test_revoking_an_app_stops_its_cached_token_at_once_and_odd_names_revoke_nothing(
    gw: Gateway, crafty: TestIdP
) -> None:
    token = _token(crafty, "batch-exporter")
    assert _events(gw, token).status_code == 200  # verified, and now in the principal cache
    admin = gw.principal("admin", name="admin-revoke")
    for odd in ("app:corp:batch-exporter%0A", "app:corp:BATCH-EXPORTER", "app:corp:*", "%25"):
        missed = gw.client.delete(f"/v1/principals/{odd}", headers=bearer(admin))
        assert_problem(missed, 404, "not-found")
    assert _events(gw, token).status_code == 200
    gone = gw.client.delete("/v1/principals/app:corp:batch-exporter", headers=bearer(admin))
    assert gone.status_code == 204, gone.text
    assert assert_problem(_events(gw, token), 401, "unauthenticated")["check"] == "revoked"
    fresh = _token(crafty, "batch-exporter")  # a new token is the same app: still revoked
    assert assert_problem(_events(gw, fresh), 401, "unauthenticated")["check"] == "revoked"


def test_the_same_subject_at_two_issuers_is_two_people(
    database_url: str, tmp_path: Path, crafty: TestIdP
) -> None:
    """Pseudonyms are keyed on the issuer too: a second IdP whose client (subject) is named
    like the first one's is another person, with a row, a log name and a revocation of its
    own, and the first issuer's rules give it nothing."""
    twin_config = default_config()
    twin_config["clients"].append(_client("agent-one", {"groups": ["cs-agents"]}))
    with TestIdP.start(twin_config, tmp_path / "twin") as twin:
        text = (
            identity_file(crafty, rules=_rules())
            + f"""
[[issuers]]
name = "twin"
issuer = "{twin.issuer}"
audience = "{twin.resource}"

[[people]]
issuer = "twin"
group = "cs-agents"
role = "warehouse"
region = "north"
"""
        )
        with staff_gateway(database_url, tmp_path, crafty, text) as gateway:
            writer = gateway.principal("channel")
            east = gateway.create_order(writer, sample_order(external_id="E", region="east"))
            ours, theirs = _token(crafty, "agent-one"), _token(twin, "agent-one")
            assert claims_of(ours)["sub"] == claims_of(theirs)["sub"]
            assert _read(gateway, ours, east).status_code == 200  # customer service: all
            assert_problem(_read(gateway, theirs, east), 404, "not-found")  # warehouse north
            dpo = gateway.principal("dpo", name="dpo-twins")
            rows = gateway.client.get("/v1/people", headers=bearer(dpo)).json()
            people = {r["issuer"]: r["name"] for r in rows if r["subject"] == "agent-one"}
            assert set(people) == {"corp", "twin"}
            assert people["corp"] != people["twin"]
            admin = gateway.principal("admin", name="admin-twins")
            revoked = gateway.client.delete(
                f"/v1/principals/{people['twin']}", headers=bearer(admin)
            )
            assert revoked.status_code == 204
            assert _read(gateway, ours, east).status_code == 200
            assert_problem(_read(gateway, theirs, east), 401, "unauthenticated")


def test_a_principal_name_or_scope_with_a_trailing_newline_is_refused(gw: Gateway) -> None:
    """`^...$` with re.match lets one trailing newline through: `dpo-one` and a newline would be a
    principal of its own that the log and the access report show as `dpo-one`."""
    gw.principal("dpo", name="dpo-one")
    admin = gw.principal("admin", name="admin-lookalike")
    for body in (
        {"name": "dpo-one\n", "role": "channel", "channel": "web"},
        {"name": "shop-two", "role": "channel", "channel": "web\n"},
    ):
        created = gw.client.post("/v1/principals", json=body, headers=bearer(admin))
        assert_problem(created, 422, "invalid-input")
    listed = gw.client.get("/v1/principals", headers=bearer(admin)).json()
    assert not [p for p in listed if "\n" in p["name"] or "\n" in str(p["channel"])]


def test_only_readers_of_the_log_look_people_up_and_every_look_up_is_logged(
    gw: Gateway, crafty: TestIdP
) -> None:
    person, app = _token(crafty, "agent-one"), _token(crafty, "cs-app")
    channel = gw.principal("channel")
    for caller in (person, app, channel):
        refused = gw.client.get("/v1/people", headers=bearer(caller))
        assert_problem(refused, 403, "forbidden")
        assert AGENT_NAME not in refused.text
    auditor = _token(crafty, "batch-exporter")  # an app of the auditor role may
    pseudonym = _actor(gw, crafty, "agent-one")
    for name in (
        "person:' OR '1'='1",
        "person:ABCDEF0123456789abcdef01",
        "app:corp:*",
        "%",
        pseudonym + "\n",
    ):
        bad = gw.client.get("/v1/people", params={"name": name}, headers=bearer(auditor))
        assert_problem(bad, 400, "invalid-parameter")
    found = gw.client.get("/v1/people", headers=bearer(auditor))
    assert AGENT_NAME in found.text
    dpo = gw.principal("dpo", name="dpo-lookups")
    reads = entries(gw, dpo, action="people.read")
    assert [(e["actor"], e["outcome"]) for e in reversed(reads)] == [
        (name, "denied")
        for name in (_actor(gw, crafty, "agent-one"), "app:corp:cs-app", "channel-web")
    ] + [("app:corp:batch-exporter", "allowed")]
    assert "OR" not in json.dumps(reads)


def _actor(gw: Gateway, idp: TestIdP, subject: str) -> str:
    """The log's name for `idp`'s person `subject` (here: a client whose token is taken
    for a person's)."""
    return str(gw.services.access_log.staff_pseudonym(idp.issuer, subject))


def test_keys_held_outlive_a_provider_outage_but_a_key_never_seen_is_still_refused(
    database_url: str, tmp_path: Path, crafty: TestIdP, jwks_path: str
) -> None:
    text = identity_file(crafty, rules=_rules(), issuer_extra="jwks_cache_seconds = 60")
    with staff_gateway(database_url, tmp_path, crafty, text) as gateway:
        token = _token(crafty, "batch-exporter")
        assert _events(gateway, token).status_code == 200
        crafty.override(jwks_path, status=503, body="{}")
        gateway.clock.advance(seconds=61)  # the keys are stale; their refresh fails
        assert _events(gateway, token).status_code == 200
        unknown = b64(header_of(token) | {"kid": "never-published"})
        forged = f"{unknown}.{token.split('.', 1)[1]}"
        gateway.clock.advance(seconds=11)
        answer = _events(gateway, forged)
        assert assert_problem(answer, 401, "unauthenticated")["check"] == "signature"
