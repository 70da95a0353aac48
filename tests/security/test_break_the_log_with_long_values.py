"""A caller puts long or strange values where the log keeps them (client address,
X-Request-Id), hoping one bad entry fails the group commit that other people's requests
share (the 503s a review saw on PostgreSQL). Each value is bounded at the edge, and a
draft the log cannot store fails alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.entry import Draft, Outcome
from audit.log import AuditLog, InvalidDraft
from gateway.core import migrate
from gateway.core.clock import ManualClock
from gateway.core.db import make_engine
from gateway.core.settings import Settings
from tests.browser import live_gateway
from tests.helpers import Gateway, bearer, dump_audit

KEY = Ed25519PrivateKey.generate()


def _draft(clock: ManualClock, n: int, **changes: object) -> Draft:
    values: dict[str, object] = {
        "at": clock.now(),
        "actor": f"app-{n}",
        "action": "orders.read",
        "outcome": Outcome.ALLOWED,
        "resource": f"orders/{n}",
        "client": "192.0.2.1",
    }
    values.update(changes)
    return Draft(**values)  # type: ignore[arg-type]


def test_a_draft_the_log_cannot_store_fails_alone(empty_database_url: str) -> None:
    url = Settings(database_url=empty_database_url).sqlalchemy_url
    migrate.upgrade(url)
    clock = ManualClock()

    async def run() -> list[object]:
        engine = make_engine(url, pool_size=4)
        log = AuditLog(engine, KEY, clock.now)
        try:
            drafts = [_draft(clock, n) for n in range(20)]
            drafts[3] = _draft(clock, 3, client="x" * 65)  # longer than its column
            drafts[7] = _draft(clock, 7, details={"not": {1, 2}})  # no JSON for a set
            results = await asyncio.gather(*(log.append(d) for d in drafts), return_exceptions=True)
            assert (await log.verify()).ok
            return results
        finally:
            await log.close()
            await engine.dispose()

    results = asyncio.run(run())
    failed = [n for n, r in enumerate(results) if isinstance(r, Exception)]
    assert failed == [3, 7]
    assert isinstance(results[3], InvalidDraft)
    assert sorted(r.seq for r in results if not isinstance(r, Exception)) == list(range(1, 19))  # type: ignore[union-attr]


def test_header_values_reach_the_log_bounded(database_url: str, tmp_path: Path) -> None:
    """Over real HTTP (uvicorn as `serve` runs it), with a trusted proxy in front: a
    forwarded "address" that is text, and an over-long request id, are not logged as given;
    concurrent honest reads all succeed."""
    settings = Settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        privacy_worker_seconds=0,
        trusted_proxies="127.0.0.1",
    )
    with Gateway.start(database_url, tmp_path) as gw:
        token = gw.principal("customer_service")
    with live_gateway(settings) as base:

        async def calls() -> list[int]:
            async with httpx.AsyncClient(base_url=base) as client:
                evil = {"X-Forwarded-For": "x" * 300, "X-Request-Id": "r" * 300}
                answers = await asyncio.gather(
                    client.get("/v1/orders", headers={**bearer(token), **evil}),
                    *(client.get("/v1/orders", headers=bearer(token)) for _ in range(10)),
                )
                return [a.status_code for a in answers]

        assert asyncio.run(calls()) == [200] * 11
    log = asyncio.run(dump_audit(database_url)).decode()
    assert "x" * 65 not in log
    assert "r" * 65 not in log
    assert "'127.0.0.1'" in log  # the trusted proxy itself, when the hop is not an address
