"""A code is accepted once even when requests race: the factor row is locked while it is
checked (PostgreSQL row lock; SQLite's write lock from BEGIN IMMEDIATE)."""

from __future__ import annotations

import asyncio

from gateway.auth.totp import Provisioning
from gateway.core.errors import SecondFactorRejected
from gateway.reveal.schemas import GrantIn
from gateway.services import build_services
from tests.helpers import Gateway, bearer, totp_code


async def _race(gateway: Gateway, token: str, code: str, n: int) -> list[object]:
    services = build_services(gateway.settings, gateway.clock)
    try:
        principal = await services.authenticator.authenticate(f"Bearer {token}")
        request = GrantIn(code=code, purpose="customer called about a lost parcel")
        return await asyncio.gather(
            *(services.grants.issue(principal, request) for _ in range(n)),
            return_exceptions=True,
        )
    finally:
        await services.close()


def test_concurrent_requests_with_one_code_get_one_grant(gateway: Gateway) -> None:
    token = gateway.principal("dpo")
    secret = gateway.enrol_totp(token)
    results = asyncio.run(_race(gateway, token, totp_code(secret, gateway.clock), 5))
    refused = [r for r in results if isinstance(r, SecondFactorRejected)]
    assert len(refused) == 4, results
    assert all("already used" in r.detail for r in refused)
    assert gateway.count_rows("unmask_grants") == 1


async def _enrol_race(gateway: Gateway, token: str, n: int) -> list[object]:
    services = build_services(gateway.settings, gateway.clock)
    try:
        principal = await services.authenticator.authenticate(f"Bearer {token}")
        return await asyncio.gather(
            *(services.factors.enroll(principal, None) for _ in range(n)), return_exceptions=True
        )
    finally:
        await services.close()


def test_concurrent_first_enrolments_all_succeed_and_the_last_one_counts(
    gateway: Gateway,
) -> None:
    token = gateway.principal("dpo")
    results = asyncio.run(_enrol_race(gateway, token, 4))
    secrets = [r.secret for r in results if isinstance(r, Provisioning)]
    assert len(secrets) == 4, results
    assert gateway.count_rows("totp_factors") == 1
    # Exactly one of them is pending: its code activates the factor, the others' do not.
    accepted = [
        gateway.client.post(
            "/v1/auth/totp/activate",
            json={"code": totp_code(s, gateway.clock)},
            headers=bearer(token),
        ).status_code
        for s in secrets
    ]
    # Before the winner: wrong code (403); after it: nothing pending any more (409).
    assert accepted.count(200) == 1, accepted
    assert set(accepted) <= {200, 403, 409}, accepted
