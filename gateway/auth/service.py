"""Creating, listing and revoking principals; roles and scopes are checked against the policy.

`actor` is the principal asking over HTTP (its role needs `principals, manage`);
the command line passes none, because the operator already holds the database.
Over HTTP an admin may only create principals that can neither read orders nor
manage principals: otherwise "admin never reads orders" would be true in name
only, since the admin would receive the new token. Those are the operator's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.accesslog import AccessLog, actor_of
from gateway.auth import store
from gateway.auth.tokens import new_token
from gateway.core.clock import Clock
from gateway.core.errors import Conflict, FieldProblem, InvalidInput, NotFound, PermissionDenied
from gateway.core.principal import Principal
from gateway.core.slugs import SLUG_RE, SLUG_RULE
from gateway.disclosure import FieldPlan, PolicySet, RowScope, WriteScope

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True, slots=True)
class IssuedPrincipal:
    principal: Principal
    token: str


@dataclass(frozen=True, slots=True)
class NewPrincipal:
    name: str
    role: str
    region: str | None = None
    channel: str | None = None


class PrincipalService:
    """Creating, listing and revoking principals, under the policy and in the log."""

    def __init__(
        self,
        engine: AsyncEngine,
        policy: PolicySet,
        clock: Clock,
        log: AccessLog,
        on_revoke: Callable[[str], None] = lambda _name: None,
    ) -> None:
        self._engine = engine
        self._log = log
        self._policy = policy
        self._clock = clock
        self._on_revoke = on_revoke

    def _authorize(self, actor: Principal | None) -> None:
        if actor is None:
            return
        plan = self._policy.plan_for(actor.role)
        if plan is None or not plan.allows("principals", "manage"):
            raise PermissionDenied(f"role {actor.role!r} may not manage principals")

    def _check(self, new: NewPrincipal) -> FieldPlan:
        problems = []
        # fullmatch: `$` also matches before a final newline, and `dpo-one\n` would be a
        # principal of its own that the log and the report show as `dpo-one`.
        if not NAME_RE.fullmatch(new.name):
            problems.append(
                FieldProblem(
                    "name", "must be 1-100 letters, digits, '.', '_' or '-', starting alphanumeric"
                )
            )
        plan = self._policy.plan_for(new.role)
        if plan is None:
            known = ", ".join(self._policy.roles)
            problems.append(FieldProblem("role", f"unknown role; the policy knows: {known}"))
        for field, value in (("region", new.region), ("channel", new.channel)):
            if value is not None and not SLUG_RE.fullmatch(value):
                problems.append(FieldProblem(field, SLUG_RULE))
        if plan is not None:
            if plan.row_scope is RowScope.REGION and new.region is None:
                problems.append(
                    FieldProblem("region", f"role {new.role!r} reads one region by policy: give it")
                )
            if plan.write_scope is WriteScope.CHANNEL and new.channel is None:
                problems.append(
                    FieldProblem(
                        "channel", f"role {new.role!r} writes one channel by policy: give it"
                    )
                )
        if problems:
            detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
            raise InvalidInput(f"invalid principal: {detail}", problems)
        assert plan is not None  # noqa: S101 - a missing plan was reported above
        return plan

    async def create(self, new: NewPrincipal, *, actor: Principal | None = None) -> IssuedPrincipal:
        self._authorize(actor)
        plan = self._check(new)
        powerful = (
            plan.can_read_orders
            or plan.allows("principals", "manage")
            or plan.allows("audit", "read")
        )
        if actor is not None and powerful:
            raise PermissionDenied(
                f"principals of role {new.role!r} can read orders, manage principals or "
                "read the audit log; "
                "the operator creates them with `privacy-gateway principals create`"
            )
        token, token_id, token_hash = new_token()
        try:
            async with self._engine.begin() as conn:
                principal_id = await store.insert_principal(
                    conn,
                    name=new.name,
                    role=new.role,
                    region=new.region,
                    channel=new.channel,
                    token_id=token_id,
                    token_hash=token_hash,
                    now=self._clock.now(),
                )
        except IntegrityError:
            raise Conflict(f"a principal named {new.name!r} already exists") from None
        principal = Principal(principal_id, new.name, new.role, new.region, new.channel)
        await self._log.record(
            actor_of(actor),
            "principal.create",
            f"principals/{new.name}",
            details={"role": new.role, "region": new.region, "channel": new.channel},
        )
        return IssuedPrincipal(principal, token)

    async def list(self, *, actor: Principal | None = None) -> list[store.PrincipalRecord]:
        self._authorize(actor)
        async with self._engine.connect() as conn:
            return await store.list_principals(conn)

    async def revoke(self, name: str, *, actor: Principal | None = None) -> None:
        self._authorize(actor)
        async with self._engine.begin() as conn:
            if not await store.revoke(conn, name, self._clock.now()):
                raise NotFound(f"no active principal named {name!r}")
        self._on_revoke(name)
        await self._log.record(actor_of(actor), "principal.revoke", f"principals/{name}")
