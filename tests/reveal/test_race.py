"""A code is accepted once even when requests race: the factor row is locked while it is
checked (PostgreSQL row lock; SQLite's write lock from BEGIN IMMEDIATE)."""

from __future__ import annotations

import asyncio

from gateway.app import build_services
from gateway.errors import SecondFactorRejected
from gateway.reveal.schemas import GrantIn
from tests.helpers import Gateway, totp_code


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
