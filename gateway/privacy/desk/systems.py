"""A person's record of a manual system's part of a request.

A paper archive or a partner without an API cannot be reached by the gateway: its step
waits until someone records what was done, on which day, and where the record of it
is kept. Who may? A DPO (`privacy_requests, manage`), or the principal the map names
as that system's `owner_principal`, for that system only. A DPO may also record the
part of any system whose connector keeps failing, once it was done by hand (the
certificate says so: `instead_of`); that lifts the block the failure caused. The
record is structured (an action, a day, a reference) rather than prose, because it goes
into the signed certificate the subject receives.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from audit import snapshot
from gateway.accesslog import AccessLog
from gateway.core.clock import Clock
from gateway.core.errors import FieldProblem, InvalidInput, NotFound
from gateway.core.principal import Principal
from gateway.privacy.desk.register import Register
from gateway.privacy.execution.answers import SystemAnswers
from gateway.privacy.execution.documents import register_view
from gateway.systems import SystemsMap

_FOR_KIND = {
    "erasure": {"erased", "anonymised", "nothing_found"},
    "access": {"copied", "nothing_found"},
}


class ManualParts:
    """Records what a person did in a manual system."""

    def __init__(
        self,
        register: Register,
        answers: SystemAnswers,
        systems: SystemsMap,
        clock: Clock,
        audit: AccessLog,
    ) -> None:
        self._register = register
        self._answers = answers
        self._audit = audit
        self._systems = systems
        self._clock = clock

    def _is_owner(self, principal: Principal, system: str) -> bool:
        spec = self._systems.systems.get(system)
        if spec is None or spec.owner_principal is None:
            return False
        return hmac.compare_digest(spec.owner_principal.encode(), principal.name.encode())

    async def task(self, principal: Principal, request_id: str, system: str) -> dict[str, Any]:
        """The values a person needs to do a manual system's part (who may record it may
        read them, while it waits); the log says who read which kinds, never the values."""
        try:
            key = uuid.UUID(request_id)
        except ValueError:
            raise NotFound("no privacy request with this id") from None
        if not self._is_owner(principal, system):
            await self._register.authorize(principal, "manage", f"privacy/{key}")
        values = await self._answers.task_values(key, system)
        await self._audit.record(
            principal.name,
            "privacy.system_task",
            f"privacy/{key}",
            details={"system": system, "kinds": sorted(values)},
        )
        spec = self._systems.systems[system]
        return {
            "request_id": str(key),
            "system": system,
            "datasets": sorted(spec.datasets),
            "find_by": values,
        }

    async def complete(
        self, principal: Principal, request_id: str, system: str, record: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            key = uuid.UUID(request_id)
        except ValueError:
            raise NotFound("no privacy request with this id") from None
        owner = self._is_owner(principal, system)
        if not owner:
            await self._register.authorize(principal, "manage", f"privacy/{key}")
        request = await self._register.request_of(key)
        kind = request.kind
        problems = []
        if record["done_on"] > self._clock.now().date():
            problems.append(FieldProblem("done_on", "is in the future"))
        if record["done_on"] < request.received_at.date():
            problems.append(FieldProblem("done_on", "is before the request was received"))
        if record["action"] not in _FOR_KIND[kind]:
            allowed = ", ".join(sorted(_FOR_KIND[kind]))
            problems.append(FieldProblem("action", f"for an {kind} request is one of {allowed}"))
        if problems:
            raise InvalidInput("the record is not valid", problems)
        entry = {**record, "done_on": record["done_on"].isoformat()}
        # A DPO may also record by hand the part of a system whose connector failed.
        await self._answers.complete(key, system, principal.name, entry, instead=not owner)
        async with snapshot(self._register.engine) as conn:
            parts = await register_view(conn, key)
        part = next(p for p in parts if p["system"] == system)
        return {"request_id": str(key), "system": system, "part": part}
