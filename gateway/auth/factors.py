"""TOTP second factors: enrol, activate, and check a code once, under lock-out rules.

A check runs inside the caller's write transaction with the factor row locked,
so a code (time step) is accepted at most once even when two requests race, and
failures are counted without lost updates. It returns an `Outcome` instead of
raising: a refusal must still commit its failure count, so the caller raises
only after its transaction has ended.

Every check does the same work whatever the answer (lock the row, open the
secret, compute every code in the skew window, write the row): a locked factor
and a wrong code differ in their message, not in their timing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit import Outcome as AuditOutcome
from gateway.accesslog import OPERATOR, AccessLog
from gateway.auth import factor_store as store
from gateway.auth import store as principal_store
from gateway.auth import totp
from gateway.core.clock import Clock, utc_text
from gateway.core.errors import (
    GatewayError,
    NotFound,
    PermissionDenied,
    SecondFactorLocked,
    SecondFactorMissing,
    SecondFactorRejected,
)
from gateway.core.principal import SERVICE, Principal
from gateway.crypto import KeyRing, unwrap_secret, wrap_secret
from gateway.disclosure import PolicySet

SECRET_KIND = "totp"  # noqa: S105 - a label in associated data, not a secret

# What else a reset removes with the factor, in the same transaction: the unmask grants
# it backed (they live with `gateway.reveal`, whose function the wiring passes in).
# Required, so no factor service can be built that leaves grants alive after a reset.
OnReset = Callable[[AsyncConnection, uuid.UUID], Awaitable[int]]


def _gateway_tokens_only(principal: Principal) -> None:
    """TOTP factors are for the gateway's own token holders: a person steps up at their
    identity provider (RFC 9470), and an app of the provider has no one to step up."""
    if principal.kind != SERVICE:
        raise PermissionDenied(
            "people signed in at an identity provider step up there, not with a TOTP "
            "factor of the gateway"
        )


def revealable_fields(policy: PolicySet, principal: Principal) -> frozenset[str]:
    """Fields the principal's role may see in clear after a second factor; refuse if none.

    A role with nothing to reveal has no use for a factor or a grant: deny both.
    """
    plan = policy.plan_for(principal.role)
    fields = plan.revealable if plan is not None and plan.can_read_orders else frozenset()
    if not fields:
        raise PermissionDenied(f"role {principal.role!r} has no field that a second factor reveals")
    return fields


def _factor_of_use(policy: PolicySet, principal: Principal) -> None:
    """A factor serves a reveal, or the console's sign-in (an auditor reveals nothing but
    signs in with one); a role that does neither gets none."""
    plan = policy.plan_for(principal.role)
    if plan is None or not plan.allows("console", "enter"):
        revealable_fields(policy, principal)


class FactorState(StrEnum):
    NONE = "none"
    PENDING = "pending"
    ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class FactorRules:
    issuer: str
    skew_steps: int
    max_failures: int
    lock_seconds: int
    # A first factor only this long after the principal was created; 0: any time.
    enrol_hours: float = 0


@dataclass(frozen=True, slots=True)
class FactorStatus:
    state: FactorState
    activated_at: datetime | None
    pending_since: datetime | None
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A checked code: the accepted time step, or the refusal to raise after commit."""

    step: int | None
    refusal: GatewayError | None = None
    # For the audit log: accepted, rejected, locked (this failure locked the factor),
    # or refused_locked (tried while locked).
    event: str = "accepted"

    def raise_refusal(self) -> None:
        if self.refusal is not None:
            raise self.refusal


class SecondFactors:
    """Each principal's TOTP factor: enrol, activate, check a code once, lock out."""

    def __init__(
        self,
        engine: AsyncEngine,
        keys: KeyRing,
        policy: PolicySet,
        clock: Clock,
        rules: FactorRules,
        log: AccessLog,
        *,
        on_reset: OnReset,
    ) -> None:
        self._engine = engine
        self._on_reset = on_reset
        self._log = log
        self._policy = policy
        self._keys = keys
        self._clock = clock
        self._rules = rules

    async def log_outcome(self, principal: Principal, action: str, outcome: Outcome) -> None:
        """Every refused code and every lock goes to the log; so does what succeeded."""
        if outcome.refusal is None:
            await self._log.record(principal.name, action, "totp")
            return
        details: dict[str, object] = {"reason": outcome.event, "during": action}
        if isinstance(outcome.refusal, SecondFactorLocked):
            details["locked_until"] = utc_text(outcome.refusal.locked_until)
        name = "totp.lock" if outcome.event == "locked" else "totp.reject"
        await self._log.record(principal.name, name, "totp", AuditOutcome.DENIED, details=details)

    async def status(self, principal: Principal) -> FactorStatus:
        async with self._engine.connect() as conn:
            row = await store.read_factor(conn, principal.id)
        now = self._clock.now()
        if row is None:
            return FactorStatus(FactorState.NONE, None, None, None)
        state = (
            FactorState.ACTIVE
            if row.secret is not None
            else FactorState.PENDING
            if row.pending_secret is not None
            else FactorState.NONE
        )
        locked = row.locked_until if row.locked_until and row.locked_until > now else None
        return FactorStatus(state, row.activated_at, row.pending_since, locked)

    async def enroll(self, principal: Principal, code: str | None) -> totp.Provisioning:
        """A new pending secret. Over an active factor, only with a current code from it.

        The active factor stays in force until the new one is activated, so an
        abandoned re-enrolment locks nobody out.
        """
        _gateway_tokens_only(principal)
        _factor_of_use(self._policy, principal)
        secret = totp.new_secret()
        now = self._clock.now()
        outcome = Outcome(step=None)
        async with self._engine.begin() as conn:
            await store.ensure_factor(conn, principal.id, now)
            row = await store.lock_factor(conn, principal.id)
            if row is None or row.secret is None:
                refused = self._first_enrolment_refused(principal, now)
                if refused is not None:
                    outcome = Outcome(step=None, refusal=refused, event="enrol_window_passed")
            if outcome.refusal is None and row is not None and row.secret is not None:
                if code is None:
                    raise SecondFactorRejected(
                        "a second factor is active: re-enrolling needs a current code from it"
                    )
                outcome = await self._check_row(conn, row, code, now, pending=False)
            if outcome.refusal is None:
                version = self._keys.active_kek_version
                await store.update_factor(
                    conn,
                    principal.id,
                    now,
                    pending_secret=self._seal(principal.id, secret, version),
                    pending_kek_version=version,
                    pending_since=now,
                )
        await self.log_outcome(principal, "totp.enroll", outcome)
        outcome.raise_refusal()
        return totp.provisioning(secret, principal.name, self._rules.issuer)

    def _first_enrolment_refused(self, principal: Principal, now: datetime) -> GatewayError | None:
        """Bootstrap trusts whoever holds the token first: the window limits how long a
        token that leaked before its owner enrolled can be turned into a second factor."""
        hours = self._rules.enrol_hours
        if not hours or principal.created_at is None:
            return None
        if now <= principal.created_at + timedelta(hours=hours):
            return None
        return PermissionDenied(
            f"a first second factor must be enrolled within {hours:g} hours of the "
            "principal's creation: ask an admin for a new principal"
        )

    async def activate(self, principal: Principal, code: str) -> datetime:
        """Make the pending secret the active one; its first code proves the app has it."""
        _gateway_tokens_only(principal)
        _factor_of_use(self._policy, principal)
        now = self._clock.now()
        async with self._engine.begin() as conn:
            row = await store.lock_factor(conn, principal.id)
            if row is None or row.pending_secret is None:
                raise SecondFactorMissing(
                    "nothing to activate: enrol first with POST /v1/auth/totp/enroll"
                )
            outcome = await self._check_row(conn, row, code, now, pending=True)
            if outcome.refusal is None:
                await store.update_factor(
                    conn,
                    principal.id,
                    now,
                    secret=row.pending_secret,
                    secret_kek_version=row.pending_kek_version,
                    activated_at=now,
                    pending_secret=None,
                    pending_kek_version=None,
                    pending_since=None,
                )
        await self.log_outcome(principal, "totp.activate", outcome)
        outcome.raise_refusal()
        return now

    async def check(self, conn: AsyncConnection, principal: Principal, code: str) -> Outcome:
        """Check `code` against the active factor within the caller's write transaction."""
        row = await store.lock_factor(conn, principal.id)
        if row is None or row.secret is None:
            raise SecondFactorMissing(
                "this step needs an active second factor: enrol with POST /v1/auth/totp/enroll "
                "and activate it with POST /v1/auth/totp/activate"
            )
        return await self._check_row(conn, row, code, self._clock.now(), pending=False)

    async def reset(self, name: str) -> int:
        """An operator's remedy for a lost authenticator: remove the principal's factor and
        its grants; it enrols again from scratch. Returns how many grants were dropped."""
        async with self._engine.begin() as conn:
            principal_id = await principal_store.find_id_by_name(conn, name)
            if principal_id is None:
                raise NotFound(f"no principal named {name!r}")
            grants = await self._on_reset(conn, principal_id)
            if not await store.delete_factor(conn, principal_id) and not grants:
                raise NotFound(f"principal {name!r} has no second factor")
        await self._log.record(
            OPERATOR, "totp.reset", f"principals/{name}", details={"grants_removed": grants}
        )
        return grants

    async def _check_row(
        self,
        conn: AsyncConnection,
        row: store.FactorRow,
        code: str,
        now: datetime,
        *,
        pending: bool,
    ) -> Outcome:
        sealed, version = (
            (row.pending_secret, row.pending_kek_version)
            if pending
            else (row.secret, row.secret_kek_version)
        )
        if sealed is None or version is None:
            raise SecondFactorMissing("no second factor to check")
        secret = self._open(row.principal_id, sealed, version)
        step = totp.matching_step(secret, code, now, self._rules.skew_steps)
        outcome, values = self._decide(row, step, now, pending=pending)
        await store.update_factor(conn, row.principal_id, now, **values)
        return outcome

    def _decide(
        self, row: store.FactorRow, step: int | None, now: datetime, *, pending: bool
    ) -> tuple[Outcome, dict[str, object]]:
        """The outcome of a check and the factor columns it changes."""
        rules = self._rules
        if row.locked_until is not None and now < row.locked_until:
            # The same columns as a wrong code writes, unchanged: the same work either way.
            unchanged = {"failures": row.failures, "locked_until": row.locked_until}
            return Outcome(None, self._locked(row.locked_until, now), "refused_locked"), unchanged
        # A pending secret has never had a code accepted: only the active one can replay.
        replayed = (
            step is not None and not pending and row.last_step is not None and step <= row.last_step
        )
        if step is not None and not replayed:
            values: dict[str, object] = {"last_step": step, "failures": 0, "locked_until": None}
            return Outcome(step), values
        failures = (0 if row.locked_until is not None else row.failures) + 1
        if failures >= rules.max_failures:
            until = now + timedelta(seconds=rules.lock_seconds)
            values = {"failures": failures, "locked_until": until}
            return Outcome(None, self._locked(until, now), "locked"), values
        left = rules.max_failures - failures
        reason = (
            "this code was already used; wait for the next one"
            if replayed
            else "the code is wrong or expired"
        )
        refusal = SecondFactorRejected(
            f"{reason}; {left} more wrong code(s) lock the factor for "
            f"{rules.lock_seconds // 60} minute(s)"
        )
        event = "replayed" if replayed else "rejected"
        return Outcome(None, refusal, event), {"failures": failures, "locked_until": None}

    def _locked(self, until: datetime, now: datetime) -> SecondFactorLocked:
        return SecondFactorLocked(
            f"the second factor is locked after {self._rules.max_failures} wrong codes "
            f"until {utc_text(until)}; no code is accepted before then",
            locked_until=until,
            retry_after_seconds=max(1, int((until - now).total_seconds())),
        )

    def _seal(self, principal_id: uuid.UUID, secret: str, version: int) -> bytes:
        return wrap_secret(
            self._keys.kek(version),
            secret.encode("ascii"),
            kind=SECRET_KIND,
            owner_id=principal_id,
            kek_version=version,
        )

    def _open(self, principal_id: uuid.UUID, sealed: bytes, version: int) -> str:
        return unwrap_secret(
            self._keys.kek(version),
            sealed,
            kind=SECRET_KIND,
            owner_id=principal_id,
            kek_version=version,
        ).decode("ascii")
