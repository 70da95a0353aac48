"""Bearer tokens through HTTP: missing, malformed, forged and revoked tokens are refused."""

from __future__ import annotations

import pytest

from tests.helpers import (
    SAMPLE_ORDER,
    Gateway,
    assert_problem,
    bearer,
)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-token",
        "Bearer opg_0123456789abcdef_" + "A" * 43,
    ],
)
def test_missing_or_bad_tokens_get_401_and_change_nothing(
    gateway: Gateway, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    for response in (
        gateway.client.get("/v1/orders", headers=headers),
        gateway.client.post("/v1/orders", json=SAMPLE_ORDER, headers=headers),
        gateway.client.post("/v1/orders", json={"bad": 1}, headers=headers),
    ):
        assert_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    assert gateway.count_orders() == 0


def test_a_token_with_a_wrong_secret_is_refused(gateway: Gateway) -> None:
    token = gateway.principal("analyst")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_problem(gateway.client.get("/v1/orders", headers=bearer(forged)), 401, "unauthenticated")
    assert gateway.client.get("/v1/orders", headers=bearer(token)).status_code == 200


def test_a_revoked_token_stops_working_once_the_cache_expires(gateway: Gateway) -> None:
    token = gateway.principal("analyst", name="soon-revoked")
    assert gateway.client.get("/v1/orders", headers=bearer(token)).status_code == 200
    assert gateway.cli("principals", "revoke", "soon-revoked").exit_code == 0
    gateway.clock.advance(seconds=gateway.settings.auth_cache_seconds + 1)
    assert_problem(gateway.client.get("/v1/orders", headers=bearer(token)), 401, "unauthenticated")


# --- reading: scope and separation of duties --------------------------------------
