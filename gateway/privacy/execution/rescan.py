"""The final search of the other systems (`systems_rescan`), before the data key goes.

Every system of the map must have done its part (one added to the map after the
request reached its systems has not: it runs now), and every SQL system is searched
again by every identity: a system still holding the subject fails the request's
certification, as the gateway's own store does. A search that cannot happen blocks the
request with the reason: a certificate never says "searched again" for a search that
did not run. The one exception is a system whose part a person recorded by hand
because its connector could not reach it: it is searched if it can be, and otherwise
the certificate says so and the person's record is the evidence.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.core.clock import Clock
from gateway.privacy.execution.erasure import ErasureIncomplete
from gateway.privacy.model import chain as records
from gateway.privacy.model import store
from gateway.systems import (
    Connections,
    ConnectorFailed,
    Identities,
    Job,
    System,
    connector_for,
)


class Chain(Protocol):
    """What the search needs of `gateway.privacy.execution.chain.Chain`."""

    @property
    def engine(self) -> AsyncEngine: ...
    @property
    def external(self) -> Mapping[str, System]: ...
    @property
    def connections(self) -> Connections: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def identities_gone(self) -> str: ...

    async def identities(
        self, conn: AsyncConnection, request: store.RequestRow
    ) -> Identities | None: ...

    async def identities_for(
        self, conn: AsyncConnection, request: store.RequestRow, key: str
    ) -> Identities | None: ...

    async def own_key_went(self, request_id: uuid.UUID) -> bool: ...

    async def block(self, request_id: uuid.UUID, reason: str) -> None: ...


NOT_REACHED = "not_reached"  # the mark, in what the search found, of a system not done


async def final_search(chain: Chain, request_id: uuid.UUID) -> dict[str, Any] | None:
    """The step's result; None when the request was blocked instead (a DPO retries)."""
    async with chain.engine.begin() as conn:
        request = await store.get_request(conn, request_id)
        identities = None if request is None else await chain.identities(conn, request)
        per_system = {}
        if request is not None and identities is not None:
            for key in chain.external:
                per_system[key] = await chain.identities_for(conn, request, key) or identities
        steps = await records.steps_of(conn, request_id)
    if request is None:
        return None
    if identities is None:
        if await chain.own_key_went(request_id):  # a re-run after this request's own end
            return {"store": "systems of the map (SQL)", "action": "verified", "records": 0}
        await chain.block(
            request_id, f"the systems could not be searched again: {chain.identities_gone}"
        )
        return None
    unreached = [k for k in chain.external if k not in steps or steps[k].status != records.DONE]
    if unreached:
        raise ErasureIncomplete({f"{key}.{NOT_REACHED}": 1 for key in unreached})
    searched: dict[str, int] = {}
    by_hand: dict[str, str] = {}
    for key, system in chain.external.items():
        try:
            found = await _search(chain, request_id, key, system, per_system[key])
        except ConnectorFailed as exc:
            if "instead_of" in (steps[key].evidence or {}):
                by_hand[key] = exc.reason
                continue
            why = f"system {key!r} ({system.name}) could not be searched again: "
            await chain.block(request_id, why + exc.reason)
            return None
        for dataset, count in (found or {}).items():
            searched[f"{key}.{dataset}"] = count
    if any(searched.values()):
        raise ErasureIncomplete({k: v for k, v in searched.items() if v})
    return {
        "store": "systems of the map (SQL)",
        "action": "verified",
        "records": 0,
        "method": "searched again by every identity: "
        + (", ".join(sorted(searched)) or "no SQL system"),
        "found": searched,
        **({"not_searched": by_hand} if by_hand else {}),
    }


async def _search(
    chain: Chain, request_id: uuid.UUID, key: str, system: System, identities: Identities
) -> dict[str, int] | None:
    connector = connector_for(key, system, chain.connections)
    now = chain.clock.now()
    job = Job(
        request_id=request_id,
        kind="erasure",
        system=key,
        spec=system,
        identities=identities,
        delivery_id=uuid.uuid4(),
        attempt=1,
        now=now,
        deadline=now,
    )
    try:
        return await connector.rescan(job)
    finally:
        await connector.close()
