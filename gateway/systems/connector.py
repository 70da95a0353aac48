"""One interface for reaching a system of the map, and the registry of connectors.

A whole-chain request runs one workflow step per system: the workflow asks the
system's connector to erase or to export the subject's data and records what it
answers. A connector never sees the gateway's database; it gets the subject's
identities and answers with evidence (what it did, dataset by dataset, with counts:
no personal values) and, for an access request, the data it found. What cannot be
done now raises `ConnectorFailed` with a reason free of personal data; the workflow
retries with backoff and, when a system keeps failing, blocks the request for a DPO.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from gateway.systems.identities import Identities
from gateway.systems.map import System

Kind = Literal["erasure", "access"]
Status = Literal["done", "waiting"]


class ConnectorFailed(Exception):
    """The system could not do it now. `reason` names what went wrong without any
    personal data (it is shown in the register and kept in the step's record)."""

    def __init__(
        self,
        reason: str,
        *,
        retry: bool = True,
        evidence: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry  # False: trying again cannot help (a DPO must act)
        # What was done before it failed (datasets erased in their own transactions):
        # kept, so the counts of a later attempt add up to what really happened.
        self.evidence = evidence


@dataclass(frozen=True)
class Job:
    """One system's part of one request."""

    request_id: uuid.UUID
    kind: Kind
    system: str  # the map's key
    spec: System
    identities: Identities
    delivery_id: uuid.UUID  # the same on every attempt: systems deduplicate on it
    attempt: int
    now: datetime
    deadline: datetime  # when the request's target (72 h) runs out
    # Years each retention rule keeps records: a kept row's latest end, for evidence.
    rule_years: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What a system answered: done (with its evidence) or waiting (for a callback or
    a person), with the data it holds for an access request."""

    status: Status
    evidence: Mapping[str, Any]
    data: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)


class Connector(Protocol):
    """How the gateway reaches one kind of system."""

    method: str  # "sql", "webhook", "manual": named in the certificate

    async def erase(self, job: Job) -> Outcome: ...

    async def export(self, job: Job) -> Outcome: ...

    async def rescan(self, job: Job) -> dict[str, int] | None:
        """What the system still holds of the subject after erasure, by dataset (only
        where the gateway can look itself); None where it cannot (webhook, manual)."""
        ...

    async def check(self) -> list[str]:
        """What is wrong with the mapping against the real system, changing nothing."""
        ...

    async def close(self) -> None: ...


Factory = Callable[[str, System, "Connections"], Connector]
_REGISTRY: dict[str, Factory] = {}


class Connections(Protocol):
    """Where a system's address and secret come from (settings files, never the map)."""

    def url(self, system: str) -> str: ...

    def read_url(self, system: str) -> str:
        """The account for reads only, where the system has one (else `url`)."""
        ...

    def secret(self, system: str) -> bytes: ...

    def callback_url(self, system: str) -> str | None: ...


def register(method: str) -> Callable[[Factory], Factory]:
    """Add a connector to the registry under its method (the map's `connector`)."""

    def add(factory: Factory) -> Factory:
        _REGISTRY[method] = factory
        return factory

    return add


def connector_for(key: str, system: System, connections: Connections) -> Connector:
    """The connector of a system, by its map entry."""
    factory = _REGISTRY.get(system.connector)
    if factory is None:
        raise ConnectorFailed(f"no connector for {system.connector!r}", retry=False)
    return factory(key, system, connections)


def methods() -> list[str]:
    """The connector methods a map may name (for its checks and the docs)."""
    return sorted(_REGISTRY)
