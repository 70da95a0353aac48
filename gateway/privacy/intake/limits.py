"""Hourly counters for the public privacy routes, keyed by keyed hashes (never a value).

What is counted is what protects someone: requests per client address (the gateway's
resources), codes *sent* per contact (the contact's owner, from being flooded), wrong
codes per address. Nothing a stranger can do with someone's phone number alone makes
that person's own request or correct code answer 429.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit import Outcome
from gateway.accesslog import DATA_SUBJECT, AccessLog, current_request
from gateway.core import ratelimits
from gateway.core.clock import Clock
from gateway.core.errors import RateLimited
from gateway.privacy.model.secrets import RequestSecrets

PUBLIC = DATA_SUBJECT

Check = tuple[str, bytes, int]  # (scope, key, limit per hour)


class Limits:
    def __init__(
        self, engine: AsyncEngine, secrets: RequestSecrets, clock: Clock, log: AccessLog
    ) -> None:
        self._engine = engine
        self._secrets = secrets
        self._clock = clock
        self._log = log

    def client(self, scope: str, limit: int) -> Check:
        """A check of the calling address (as the trusted-proxy rules found it)."""
        address = current_request().client
        return scope, self._secrets.limit_key("client", address or "unknown"), limit

    def window(self) -> datetime:
        return ratelimits.window_start(self._clock.now())

    async def count(self, conn: AsyncConnection, checks: list[Check]) -> list[str]:
        """Count one more use against each check, in `conn`; the scopes now over their limit."""
        window = self.window()
        over = []
        for scope, key, limit in checks:
            if await ratelimits.hit(conn, scope, key, window) > limit:
                over.append(scope)
        return over

    async def enforce(self, checks: list[Check]) -> None:
        """Count, commit, and refuse if any limit is passed: a caller hammering gets no
        free tries (the counts stay even when refused)."""
        async with self._engine.begin() as conn:
            over = await self.count(conn, checks)
        if over:
            await self.refuse(over)

    async def refuse(self, scopes: list[str]) -> None:
        await self._log.record(
            PUBLIC, "privacy.rate_limited", "privacy", Outcome.DENIED, details={"scopes": scopes}
        )
        raise RateLimited("too many requests; retry later", self.retry_after())

    def retry_after(self) -> int:
        return ratelimits.retry_after(self._clock.now())
