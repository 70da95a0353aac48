"""Unmask grants: a fresh code and a stated purpose buy a few minutes of clear fields.

A grant is `opgg_<grant id>_<secret>`: the id finds the row, the secret is
stored only as its SHA-256 and compared in constant time. It is bound to the
principal that proved the code and, when asked, to given orders and fields.
Which fields it can ever reveal is the policy's `clear_after_2fa` level for the
principal's role, checked again at every use: a grant never outranks the policy.
"""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.accesslog import AccessLog
from gateway.auth import Outcome, SecondFactors, hash_secret, revealable_fields
from gateway.core.clock import Clock, utc_text
from gateway.core.errors import (
    FieldProblem,
    GrantRefused,
    InvalidInput,
    InvalidParameter,
    PermissionDenied,
    StepUpRequired,
)
from gateway.core.principal import PERSON, SERVICE, Assurance, Principal
from gateway.core.readpath import ReadPool
from gateway.disclosure import FieldPlan, PolicySet
from gateway.reveal import store
from gateway.reveal.schemas import GrantIn

GRANT_PREFIX = "opgg"
# Positions of the order ids the principal could not read (`OrderService.outside_scope`).
OrderScope = Callable[[Principal, list[str]], Awaitable[list[int]]]
# Raises the RFC 9470 challenge unless a person's authentication is strong and recent.
StepUp = Callable[[Assurance | None], None]
_GRANT_RE = re.compile(r"^opgg_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class IssuedGrant:
    token: str
    row: store.GrantRow
    fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class Reveal:
    """What one read may show in clear, and the grant and purpose that allow it."""

    grant_id: uuid.UUID
    purpose: str
    fields: frozenset[str]


class Grants:
    """Issues unmask grants and checks them on reads, bound to their holder and scope."""

    def __init__(
        self,
        engine: AsyncEngine,
        reads: ReadPool,
        policy: PolicySet,
        factors: SecondFactors,
        clock: Clock,
        lifetime_seconds: int,
        log: AccessLog,
        outside_scope: OrderScope,
        step_up: StepUp,
    ) -> None:
        self._outside_scope = outside_scope
        self._step_up = step_up
        self._engine = engine
        self._log = log
        self._reads = reads
        self._policy = policy
        self._factors = factors
        self._clock = clock
        self._lifetime = timedelta(seconds=lifetime_seconds)

    async def issue(self, principal: Principal, request: GrantIn) -> IssuedGrant:
        """Check the input, then the code (or a person's step-up); the grant exists only
        if it was accepted."""
        try:
            revealable = revealable_fields(self._policy, principal)
            self._check_proof(principal, request.code)
        except PermissionDenied as exc:
            await self._log.denied(principal, "grant.issue", "grants", 403, exc.detail)
            raise
        except StepUpRequired as exc:
            await self._log.denied(principal, "grant.issue", "grants", 401, exc.detail)
            raise
        fields = self._check_fields(principal, revealable, request.fields)
        order_ids = (
            None if request.order_ids is None else frozenset(str(i) for i in request.order_ids)
        )
        if request.order_ids is not None:
            await self._check_orders(principal, [str(i) for i in request.order_ids])
        secret = secrets.token_urlsafe(32)
        grant_id = uuid.uuid4()
        async with self._engine.begin() as conn:
            outcome = (
                Outcome(step=None)
                if request.code is None  # a person: their step-up was checked above
                else await self._factors.check(conn, principal, request.code)
            )
            now = self._clock.now()
            row = store.GrantRow(
                id=grant_id,
                principal_id=principal.id,
                secret_hash=hash_secret(secret),
                purpose=request.purpose,
                order_ids=order_ids,
                fields=None if request.fields is None else fields,
                issued_at=now,
                expires_at=now + self._lifetime,
            )
            if outcome.refusal is None:
                await store.insert_grant(conn, row)
        if outcome.refusal is not None:
            await self._factors.log_outcome(principal, "grant.issue", outcome)
            outcome.raise_refusal()
        await self._log.record(
            principal.name,
            "grant.issue",
            f"grants/{grant_id}",
            orders=sorted(order_ids or ()),
            grant=str(grant_id),
            purpose=request.purpose,
            details={"fields": sorted(fields), "expires_at": utc_text(row.expires_at)},
        )
        return IssuedGrant(f"{GRANT_PREFIX}_{grant_id.hex}_{secret}", row, fields)

    def _check_proof(self, principal: Principal, code: str | None) -> None:
        """A gateway token holder proves a TOTP code; a person, a recent strong sign-in."""
        if principal.kind == PERSON:
            if code is not None:
                raise InvalidInput(
                    "a person steps up at the identity provider, not with a code",
                    [FieldProblem("code", "send no code: sign in again at the provider")],
                )
            self._step_up(principal.assurance)
        elif principal.kind != SERVICE:
            raise PermissionDenied("an app acting for itself cannot reveal: a person must")
        elif code is None:
            raise InvalidInput(
                "an unmask grant needs a code", [FieldProblem("code", "the current TOTP code")]
            )

    async def _check_orders(self, principal: Principal, order_ids: list[str]) -> None:
        """A grant names only orders its holder can read (row scope): naming others would
        put them in the log as revealed-to and say whether they exist."""
        outside = await self._outside_scope(principal, order_ids)
        if outside:
            problems = [
                FieldProblem(f"order_ids.{i}", "is not an order you can read") for i in outside
            ]
            reason = "the grant names orders outside the caller's row scope"
            await self._log.denied(principal, "grant.issue", "grants", 422, reason)
            raise InvalidInput("the grant names orders you cannot read", problems)

    def _check_fields(
        self, principal: Principal, revealable: frozenset[str], asked: Collection[str] | None
    ) -> frozenset[str]:
        if asked is None:
            return revealable
        problems = [
            FieldProblem(
                f"fields.{i}",
                f"is not a field role {principal.role!r} may reveal "
                f"(it may reveal: {', '.join(sorted(revealable))})",
            )
            for i, path in enumerate(asked)
            if path not in revealable
        ]
        if problems:
            raise InvalidInput("the grant asks for fields this role cannot reveal", problems)
        return frozenset(asked)

    def parse_reveal(self, reveal: str | None) -> frozenset[str]:
        """The `?reveal=` list as field paths; every name must be a field of an order."""
        if reveal is None:
            raise InvalidParameter(
                "an X-Unmask-Grant needs ?reveal= naming the fields to show in clear",
                [FieldProblem("reveal", "is required with X-Unmask-Grant")],
            )
        names = [name.strip() for name in reveal.split(",") if name.strip()]
        known = self._policy.classification.fields
        unknown = sum(1 for name in names if name not in known)
        if not names or unknown:
            raise InvalidParameter(
                "?reveal= must name fields of an order, comma-separated",
                [
                    FieldProblem(
                        "reveal",
                        f"holds {unknown or 'no'} name(s) that are not order fields "
                        "(e.g. customer.phone, shipping_address.detail)",
                    )
                ],
            )
        return frozenset(names)

    async def authorize(
        self, principal: Principal, token: str | None, order_id: str, reveal: str | None
    ) -> Reveal:
        """What this read may reveal under `token`, or a refusal saying why not."""
        if token is None:
            raise InvalidParameter(
                "?reveal= needs an unmask grant in the X-Unmask-Grant header",
                [FieldProblem("X-Unmask-Grant", "is required with ?reveal=")],
            )
        asked = self.parse_reveal(reveal)
        row = await self._find(token)
        self._check_holder(row, principal, order_id)
        plan = self._policy.plan_for(principal.role)
        allowed = _revealable(plan)
        fields = asked & allowed & (row.fields if row.fields is not None else allowed)
        return Reveal(row.id, row.purpose, fields)

    async def _find(self, token: str) -> store.GrantRow:
        match = _GRANT_RE.fullmatch(token.strip(" \t"))
        if match is None:
            raise GrantRefused("the unmask grant is malformed")
        grant_hex, secret = match.groups()
        async with self._reads.connect() as reader:
            row = await store.find_grant(reader, uuid.UUID(grant_hex))
        # Compare even when no row was found, so both paths do the same work.
        expected = row.secret_hash if row is not None else bytes(32)
        if not hmac.compare_digest(expected, hash_secret(secret)) or row is None:
            raise GrantRefused("the unmask grant is unknown")
        return row

    def _check_holder(self, row: store.GrantRow, principal: Principal, order_id: str) -> None:
        if not hmac.compare_digest(row.principal_id.bytes, principal.id.bytes):
            raise GrantRefused("this unmask grant was issued to another principal")
        now = self._clock.now()
        if now >= row.expires_at:
            raise GrantRefused(
                f"this unmask grant expired at {utc_text(row.expires_at)}; ask for a new one"
            )
        if row.order_ids is not None and _canonical(order_id) not in row.order_ids:
            raise GrantRefused("this unmask grant does not cover this order")


def _revealable(plan: FieldPlan | None) -> frozenset[str]:
    return plan.revealable if plan is not None else frozenset()


def _canonical(order_id: str) -> str | None:
    try:
        return str(uuid.UUID(order_id))
    except ValueError:
        return None
