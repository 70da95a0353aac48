"""Signing in to the console without an identity provider: the embedded default's way.

A DPO or auditor proves two things: their gateway token (what `make run` prints, as
for the API) and a current code of their TOTP factor. Only roles the policy lets
enter the console (`console, enter`: dpo and auditor) get a session; every sign-in,
refused or not, is in the log. A refusal says which of the two failed only when the
token was right: a stranger learns nothing about a factor.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import Outcome
from gateway.accesslog import AccessLog
from gateway.auth import Authenticator, SecondFactors
from gateway.console.sessions import Opened, Sessions
from gateway.core.errors import AuthenticationFailed, PermissionDenied
from gateway.core.principal import SERVICE, Principal
from gateway.disclosure import PolicySet


def may_enter(policy: PolicySet, principal: Principal) -> bool:
    plan = policy.plan_for(principal.role)
    return plan is not None and plan.allows("console", "enter")


class LocalSignIn:
    """Token and second factor in, a console session out."""

    def __init__(
        self,
        engine: AsyncEngine,
        authenticator: Authenticator,
        factors: SecondFactors,
        policy: PolicySet,
        sessions: Sessions,
        log: AccessLog,
    ) -> None:
        self._engine = engine
        self._authenticator = authenticator
        self._factors = factors
        self._policy = policy
        self._sessions = sessions
        self._log = log

    async def sign_in(self, token: str, code: str) -> Opened:
        try:
            principal = await self._authenticator.authenticate(f"Bearer {token}")
        except AuthenticationFailed:
            await self._log.denied(None, "console.sign_in", "console", 401, "unknown token")
            raise
        if principal.kind != SERVICE or not may_enter(self._policy, principal):
            reason = f"role {principal.role!r} does not enter the console"
            await self._log.denied(principal, "console.sign_in", "console", 403, reason)
            raise PermissionDenied(reason)
        async with self._engine.begin() as conn:
            outcome = await self._factors.check(conn, principal, code)
        if outcome.refusal is not None:
            await self._factors.log_outcome(principal, "console.sign_in", outcome)
            outcome.raise_refusal()
        opened = await self._sessions.open(principal.id, principal.name)
        await self._log.record(principal.name, "console.sign_in", "console", Outcome.ALLOWED)
        return opened
