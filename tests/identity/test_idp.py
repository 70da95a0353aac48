"""The test IdP through the real provider: RFC 9068 JWT access tokens, logins, step-up, keys.

Tests that change a provider's state for everyone (key rotation, disabling a user) start a
provider of their own; the rest share the session's `idp`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
from playwright.sync_api import Page

from tests.identity.idp import OTHER_RESOURCE, RESOURCE, IdPError, TestIdP, default_config

REGISTERED_CLAIMS = ["iss", "aud", "exp", "iat", "sub", "jti", "client_id"]


def verified(idp: TestIdP, token: str, *, audience: str | None = None) -> dict[str, Any]:
    """The token's claims, once its header says RFC 9068 and its signature checks out."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    keys = {key["kid"]: key for key in idp.jwks()["keys"]}
    assert header["kid"] in keys
    key = jwt.PyJWK(keys[header["kid"]])
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=[header["alg"]],
        audience=audience or idp.resource,
        issuer=idp.issuer,
        options={"require": REGISTERED_CLAIMS},
    )
    return claims


def kid(token: str) -> str:
    value: str = jwt.get_unverified_header(token)["kid"]
    return value


def secret(idp: TestIdP, client_id: str) -> str:
    value = idp.clients[client_id].secret
    assert value is not None
    return value


def test_a_client_credentials_token_is_a_signed_rfc9068_jwt(idp: TestIdP) -> None:
    token = idp.client_credentials("batch-exporter", secret(idp, "batch-exporter"), scope="orders")

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = verified(idp, token)
    assert claims["sub"] == claims["client_id"] == "batch-exporter"
    assert claims["aud"] == "urn:opg:gateway"
    assert claims["scope"] == "orders"
    assert claims["exp"] - claims["iat"] == 600


def test_a_client_credentials_token_can_be_had_for_another_audience(idp: TestIdP) -> None:
    token = idp.client_credentials(
        "batch-exporter", secret(idp, "batch-exporter"), resource=OTHER_RESOURCE
    )

    with pytest.raises(jwt.InvalidAudienceError):
        verified(idp, token)
    assert verified(idp, token, audience=OTHER_RESOURCE)["aud"] == OTHER_RESOURCE


def test_a_password_login_gives_the_password_acr_and_the_persons_claims(
    idp: TestIdP, page: Page
) -> None:
    alice = idp.users["alice"]

    answer = idp.person_token(page, username="alice", password=alice.password)

    claims = verified(idp, answer["access_token"])
    assert claims["sub"] == "u-alice"
    assert claims["client_id"] == "cs-console"
    assert claims["acr"] == idp.acr_password
    assert claims["amr"] == ["pwd"]
    assert claims["groups"] == ["cs-agents"]
    assert claims["name"] == "Alice Agent"
    assert claims["preferred_username"] == "alice"
    assert claims["auth_time"] <= claims["iat"]
    assert "region" not in claims
    assert answer["refresh_token"]


def test_a_region_is_a_claim_of_those_who_have_one(idp: TestIdP, page: Page) -> None:
    wendy = idp.users["wendy"]

    answer = idp.person_token(page, username="wendy", password=wendy.password)

    claims = verified(idp, answer["access_token"])
    assert claims["groups"] == ["warehouse-east"]
    assert claims["region"] == "east"


def test_a_wrong_password_is_refused_on_the_login_page(idp: TestIdP, page: Page) -> None:
    with pytest.raises(IdPError, match="Invalid username or password"):
        idp.person_token(page, username="bob", password="not-bobs-password")


def test_step_up_asks_for_the_one_time_code_and_gives_the_mfa_acr(idp: TestIdP, page: Page) -> None:
    alice = idp.users["alice"]
    first = verified(
        idp, idp.person_token(page, username="alice", password=alice.password)["access_token"]
    )

    with pytest.raises(IdPError, match="one-time code"):
        idp.person_token(
            page, username="alice", password=alice.password, acr_values=idp.acr_mfa, max_age=0
        )
    answer = idp.person_token(
        page,
        username="alice",
        password=alice.password,
        totp_secret=alice.totp_secret,
        acr_values=idp.acr_mfa,
        max_age=0,
    )

    claims = verified(idp, answer["access_token"])
    assert claims["acr"] == idp.acr_mfa
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["auth_time"] >= first["auth_time"]
    assert claims["sub"] == "u-alice"


def test_a_wrong_one_time_code_is_refused(idp: TestIdP, page: Page) -> None:
    bob = idp.users["bob"]
    assert bob.totp_secret is not None
    with pytest.raises(IdPError, match="one-time code"):
        idp.person_token(page, username="bob", password=bob.password, acr_values=idp.acr_mfa)
    valid = {bob.totp()}  # the provider takes the codes of the steps either side too
    wrong = next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)

    page.get_by_label("One-time code").fill(wrong)
    page.get_by_role("button", name="Verify").click()

    assert page.locator("#otp-error").inner_text() == "Invalid one-time code."


def test_a_rotated_key_signs_new_tokens_beside_the_old_one(tmp_path: Path, page: Page) -> None:
    with TestIdP.start(default_config(), tmp_path) as idp:
        carol = idp.users["carol"]
        client = ("batch-exporter", secret(idp, "batch-exporter"))
        before = idp.client_credentials(*client)
        person = idp.person_token(page, username="carol", password=carol.password)

        new_kid = idp.rotate(keep_old=True)

        after = idp.client_credentials(*client)
        assert kid(after) == new_kid != kid(before)
        assert {key["kid"] for key in idp.jwks()["keys"]} == {kid(before), new_kid}
        verified(idp, before)
        verified(idp, after)
        # The provider's sessions and grants outlive it: the browser's session signs in
        # without a form, and the refresh token still works; both get the new key.
        again = idp.person_token(page, username="carol", password=carol.password)
        assert kid(again["access_token"]) == new_kid
        assert kid(idp.refresh(person["refresh_token"])["access_token"]) == new_kid

        newest = idp.rotate(keep_old=False)

        assert [key["kid"] for key in idp.jwks()["keys"]] == [newest]
        assert kid(idp.client_credentials(*client)) == newest


@pytest.mark.parametrize(
    ("algorithm", "kty", "crv"), [("ES256", "EC", "P-256"), ("EdDSA", "OKP", "Ed25519")]
)
def test_other_algorithms_sign_access_tokens(
    tmp_path: Path, algorithm: str, kty: str, crv: str
) -> None:
    config = default_config(algorithm=algorithm)
    config["clients"][0]["claims"] = {"groups": ["exporters"], "region": "west"}

    with TestIdP.start(config, tmp_path) as idp:
        token = idp.client_credentials("batch-exporter", secret(idp, "batch-exporter"))

        assert jwt.get_unverified_header(token)["alg"] == algorithm
        [key] = idp.jwks()["keys"]
        assert (key["kty"], key["crv"], key["alg"]) == (kty, crv, algorithm)
        claims = verified(idp, token)
        assert claims["groups"] == ["exporters"]
        assert claims["region"] == "west"


def test_jwt_access_tokens_are_introspected_as_keycloak_and_okta_do_but_not_revoked(
    idp: TestIdP,
) -> None:
    """oidc-provider itself refuses both; server.mjs's /introspect (the one discovery names)
    answers for its JWT access tokens from the grant behind them."""
    token = idp.client_credentials("batch-exporter", secret(idp, "batch-exporter"))
    introspector = ("gateway-introspector", secret(idp, "gateway-introspector"))

    answer = idp.introspect(token, *introspector)
    with pytest.raises(IdPError) as revoked:
        idp.revoke(token, "batch-exporter", secret(idp, "batch-exporter"))

    assert idp.discovery()["introspection_endpoint"] == f"{idp.issuer}/introspect"
    assert (answer["active"], answer["client_id"], answer["aud"]) == (
        True,
        "batch-exporter",
        RESOURCE,
    )
    assert revoked.value.error == "unsupported_token_type"
    head, _, signature = token.split(".")
    assert idp.introspect(f"{head}.e30.{signature}", *introspector) == {"active": False}  # no jti


def test_a_revoked_refresh_token_is_inactive_and_ends_its_grant(idp: TestIdP, page: Page) -> None:
    carol = idp.users["carol"]
    answer = idp.person_token(page, username="carol", password=carol.password)
    introspector = ("gateway-introspector", secret(idp, "gateway-introspector"))
    refresh_token = answer["refresh_token"]

    active = idp.introspect(refresh_token, *introspector)
    idp.revoke(refresh_token, "cs-console")

    assert active["active"] is True
    assert active["sub"] == "u-carol"
    assert active["client_id"] == "cs-console"
    assert idp.introspect(refresh_token, *introspector) == {"active": False}
    with pytest.raises(IdPError) as refused:
        idp.refresh(refresh_token)
    assert refused.value.error == "invalid_grant"
    # The JWT access token of that grant still verifies until it expires; only introspection
    # (server.mjs's, from the grant) says it has ended.
    verified(idp, answer["access_token"])
    assert idp.introspect(answer["access_token"], *introspector) == {"active": False}


def test_a_disabled_user_can_neither_refresh_nor_sign_in(tmp_path: Path, page: Page) -> None:
    with TestIdP.start(default_config(), tmp_path) as idp:
        carol = idp.users["carol"]
        answer = idp.person_token(page, username="carol", password=carol.password)

        ended = idp.disable("u-carol")

        assert ended == {"user": "u-carol", "revoked_grants": 1, "ended_sessions": 1}
        with pytest.raises(IdPError) as refused:
            idp.refresh(answer["refresh_token"])
        assert refused.value.error == "invalid_grant"
        with pytest.raises(IdPError, match="Invalid username or password"):
            idp.person_token(page, username="carol", password=carol.password)


def test_the_provider_stops_with_its_driver(tmp_path: Path) -> None:
    idp = TestIdP.start(default_config(), tmp_path)
    assert idp.running

    idp.stop()
    idp.stop()

    assert not idp.running
