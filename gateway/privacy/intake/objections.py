"""Objections: a contact on file for the orders a request covers says "not me".

When a request is verified, every other contact of the records it covers receives a
notice with a one-time objection code (`gateway.privacy.intake.verification`). Entering the
code puts the request on hold for a DPO if its work has not finished; an erasure waits
a cooling-off period first, so there is time. The code is the only thing asked for:
it is long and random, stored as a keyed hash, used once, and its use is logged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.accesslog import AccessLog
from gateway.core.clock import Clock
from gateway.core.errors import NotFound
from gateway.privacy.intake.limits import PUBLIC, Limits
from gateway.privacy.model import store
from gateway.privacy.model.secrets import RequestSecrets, normalise_objection_code
from gateway.privacy.model.states import State, check_move

OBJECTED = "a contact on file for the orders this request covers objected"
_UNKNOWN = "no unused objection code like this"
_HOLDABLE = (State.VERIFIED.value, State.IN_PROGRESS.value)


class Objections:
    """An objection puts a request on hold for the DPO, if its work has not finished."""

    def __init__(
        self,
        engine: AsyncEngine,
        request_secrets: RequestSecrets,
        clock: Clock,
        log: AccessLog,
        limits: Limits,
        per_hour: int,
    ) -> None:
        self._engine = engine
        self._secrets = request_secrets
        self._clock = clock
        self._log = log
        self._limits = limits
        self._per_hour = per_hour

    async def object(self, code: str) -> dict[str, Any]:
        """Hold the request the code was sent for; say what became of it."""
        await self._limits.enforce([self._limits.client("objection", self._per_hour)])
        normalised = normalise_objection_code(code)
        if normalised is None:
            raise NotFound(_UNKNOWN)
        now = self._clock.now()
        async with self._engine.begin() as conn:
            request_id = await store.take_objection(
                conn, self._secrets.objection_hash(normalised), now
            )
            row = None
            if request_id is not None:
                row = await store.get_request(conn, request_id, lock=True)
            if row is None:
                raise NotFound(_UNKNOWN)
            held = row.state in _HOLDABLE
            if held:
                check_move(row.state, State.ON_HOLD)
                await store.start_hold(
                    conn, row.id, held_from=row.state, by=PUBLIC, reason=OBJECTED, at=now
                )
                await store.update_request(
                    conn,
                    row.id,
                    row.state,
                    state=State.ON_HOLD.value,
                    held_from=row.state,
                    hold_reason=OBJECTED,
                    hold_by=PUBLIC,
                    held_at=now,
                    updated_at=now,
                )
        await self._log.record(
            PUBLIC,
            "privacy.objection",
            f"privacy/{row.id}",
            details={"state": row.state, "held": held},
        )
        return {
            "request_id": str(row.id),
            "kind": row.kind,
            "state": State.ON_HOLD.value if held else row.state,
            "detail": "the request is on hold: the data protection officer will look at it"
            if held
            else f"the request is {row.state}; your objection was recorded for the data "
            "protection officer",
        }
