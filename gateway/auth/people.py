"""People and apps an identity provider vouches for, as principals of the gateway.

A person's first request creates their row (`principal.create` in the log, with the
role their groups map to, as for any principal); a later change of role or scope is
logged as `principal.role`, so the access report knows each person's role from the
log alone. The row is what an admin revokes to shut a person out at the gateway,
whatever the provider says, and what the DPO reads to turn a pseudonym into a name.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.accesslog import AccessLog
from gateway.auth import store
from gateway.core.clock import Clock
from gateway.core.errors import (
    AuthenticationFailed,
    FieldProblem,
    InvalidParameter,
    PermissionDenied,
)
from gateway.core.principal import Principal
from gateway.core.readpath import ReadPool
from gateway.disclosure import PolicySet
from gateway.staff import StaffIdentity

# As the log names them: a person's pseudonym, or an identity provider's app.
STAFF_NAME = re.compile(
    r"(person:[0-9a-f]{24}|app:[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9][A-Za-z0-9._-]{0,63})"
)


def _scope(identity: StaffIdentity) -> dict[str, str | None]:
    return {"role": identity.role, "region": identity.region, "channel": identity.channel}


class People:
    """Rows and log entries for the people and apps of the identity providers."""

    def __init__(self, engine: AsyncEngine, reads: ReadPool, log: AccessLog, clock: Clock) -> None:
        self._engine = engine
        self._reads = reads
        self._log = log
        self._clock = clock

    async def principal_for(self, identity: StaffIdentity) -> Principal:
        async with self._reads.connect() as reader:
            row = await store.find_staff(reader, identity.name)
        if row is None:
            row = await self._create(identity)
        if row.revoked_at is not None:
            raise AuthenticationFailed(
                "this person or app has been revoked at the gateway", check="revoked"
            )
        changed = (row.role, row.region, row.channel) != (
            identity.role,
            identity.region,
            identity.channel,
        )
        if changed or row.display_name != identity.display_name:
            async with self._engine.begin() as conn:
                await store.update_staff(
                    conn,
                    identity.name,
                    role=identity.role,
                    region=identity.region,
                    channel=identity.channel,
                    display_name=identity.display_name,
                    now=self._clock.now(),
                )
            if changed:
                await self._log.record(
                    identity.name, "principal.role", f"principals/{identity.name}",
                    details=_scope(identity),
                )  # fmt: skip
        return Principal(
            row.id,
            identity.name,
            identity.role,
            identity.region,
            identity.channel,
            row.created_at,
            kind=identity.kind,
            app=identity.client_id,
            assurance=identity.assurance,
        )

    async def _create(self, identity: StaffIdentity) -> store.StaffRow:
        now = self._clock.now()
        row = store.StaffRow(
            id=uuid.uuid4(),
            name=identity.name,
            kind=identity.kind,
            role=identity.role,
            region=identity.region,
            channel=identity.channel,
            issuer=identity.issuer,
            subject=identity.subject,
            display_name=identity.display_name,
            created_at=now,
            updated_at=None,
            revoked_at=None,
        )
        try:
            async with self._engine.begin() as conn:
                await store.insert_staff(conn, row)
        except IntegrityError:  # their first two requests raced: the other one wrote it
            async with self._engine.connect() as conn:
                rows = await store.list_staff(conn, identity.name)
            return rows[0]
        await self._log.record(
            identity.name,
            "principal.create",
            f"principals/{identity.name}",
            details={**_scope(identity), "kind": identity.kind, "issuer": identity.issuer},
        )
        return row

    async def look_up(
        self, actor: Principal, policy: PolicySet, name: str | None
    ) -> list[store.StaffRow]:
        """Pseudonyms to people, for those who read the log (DPO, auditor)."""
        if name is not None and not STAFF_NAME.fullmatch(name):
            # The route's pattern admits a trailing newline (`$`): refuse it here.
            raise InvalidParameter(
                "invalid parameter: name",
                [FieldProblem("name", "must be a name as the log gives it")],
            )
        plan = policy.plan_for(actor.role)
        if plan is None or not plan.allows("audit", "read"):
            await self._log.denied(actor, "people.read", "people", 403, "role may not read the log")
            raise PermissionDenied(f"role {actor.role!r} may not look people up")
        async with self._engine.connect() as conn:
            rows = await store.list_staff(conn, name)
        await self._log.record(
            actor.name, "people.read", "people" if name is None else f"people/{name}",
            details={"count": len(rows)},
        )  # fmt: skip
        return rows
