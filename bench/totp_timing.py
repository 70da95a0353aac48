"""Second-factor timing: does a locked factor answer faster or slower than a wrong code?

A locked factor and a wrong code must differ in their message only, not in how
long the answer takes (else timing tells an attacker which applies). This runs
both through the real service on a real database in one process and prints the
median of each and their ratio (1.0 is ideal).

    python bench/totp_timing.py [--samples 300] [--database-url postgresql://...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from pyotp import TOTP

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.auth import NewPrincipal  # noqa: E402
from gateway.auth.totp import matching_step  # noqa: E402
from gateway.core import migrate  # noqa: E402
from gateway.core.clock import ManualClock  # noqa: E402
from gateway.core.errors import GatewayError  # noqa: E402
from gateway.core.principal import Principal  # noqa: E402
from gateway.core.settings import Settings  # noqa: E402
from gateway.services import Services, build_services  # noqa: E402

MAX_FAILURES = 20  # the most the settings allow: room for many timed wrong codes per round


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    with contextlib.suppress(GatewayError):
        await call()
    return time.perf_counter() - start


async def _check(services: Services, principal: Principal, code: str) -> None:
    async with services.engine.begin() as conn:
        outcome = await services.factors.check(conn, principal, code)
    outcome.raise_refusal()


def _wrong_code(secret: str, clock: ManualClock) -> str:
    for candidate in range(1_000_000):
        code = f"{candidate:06d}"
        if matching_step(secret, code, clock.now(), 1) is None:
            return code
    raise AssertionError("unreachable")


async def _principal(services: Services, clock: ManualClock) -> tuple[Principal, str]:
    name = f"bench-dpo-{uuid.uuid4().hex[:8]}"
    issued = await services.principals.create(NewPrincipal(name, "dpo", None, None))
    principal = await services.authenticator.authenticate(f"Bearer {issued.token}")
    secret = (await services.factors.enroll(principal, None)).secret
    await services.factors.activate(principal, TOTP(secret).at(clock.now()))
    return principal, secret


async def measure(settings: Settings, samples: int) -> dict[str, float]:
    """Two principals, one locked and one not, asked in turns so drift hits both alike."""
    clock = ManualClock()
    services = build_services(settings, clock)
    try:
        locked_one, locked_secret = await _principal(services, clock)
        wrong_one, wrong_secret = await _principal(services, clock)
        clock.advance(seconds=30)
        bad = _wrong_code(locked_secret, clock)
        for _ in range(MAX_FAILURES):
            await _timed(lambda: _check(services, locked_one, bad))
        assert (await services.factors.status(locked_one)).locked_until  # noqa: S101
        wrong: list[float] = []
        locked: list[float] = []
        while len(wrong) < samples:
            code = _wrong_code(wrong_secret, clock)
            for i in range(MAX_FAILURES - 2):
                # Which goes first alternates, so neither always follows the other.
                if i % 2:
                    locked.append(await _timed(lambda: _check(services, locked_one, bad)))
                wrong.append(await _timed(lambda c=code: _check(services, wrong_one, c)))
                if not i % 2:
                    locked.append(await _timed(lambda: _check(services, locked_one, bad)))
            # A right code resets the failure count for the next round (lock: 15 min).
            await _check(services, wrong_one, TOTP(wrong_secret).at(clock.now()))
            clock.advance(seconds=30)
    finally:
        await services.close()
    wrong_ms = statistics.median(wrong) * 1000
    locked_ms = statistics.median(locked) * 1000
    return {
        "samples": len(wrong),
        "wrong_code_median_ms": round(wrong_ms, 3),
        "locked_median_ms": round(locked_ms, 3),
        "ratio": round(locked_ms / wrong_ms, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        settings = Settings(
            database_url=args.database_url or f"sqlite:///{var / 'bench.db'}",
            var_dir=var,
            totp_max_failures=MAX_FAILURES,
        )
        migrate.upgrade(settings.sqlalchemy_url)
        figures = asyncio.run(measure(settings, args.samples))
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"wrong code: {figures['wrong_code_median_ms']} ms, locked factor: "
            f"{figures['locked_median_ms']} ms (median of {figures['samples']} each); "
            f"ratio {figures['ratio']}"
        )


if __name__ == "__main__":
    main()
