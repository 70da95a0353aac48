"""What the whole chain puts in a request's documents: the `systems` step's summary,
the certificate's account of every system, the access export's data from each, and
the register's view of which system holds a request up.

All of it is read from the systems' step records, whose evidence holds counts and
references only; the data an access request brought back is opened here, under the
subject's key, once, into the sealed export.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.clock import utc_text
from gateway.privacy.execution.evidence import open_data
from gateway.privacy.model import chain as records
from gateway.subjects import SubjectKey
from gateway.systems import OWN_STORE, System, SystemsMap

_COUNTS = ("deleted", "anonymised")


async def summary(conn: AsyncConnection, request_id: uuid.UUID) -> dict[str, Any]:
    """The `systems` step's record: every system reached, with its totals."""
    steps = await records.steps_of(conn, request_id)
    totals = dict.fromkeys(_COUNTS, 0)
    detail = {}
    for key, step in steps.items():
        datasets = (step.evidence or {}).get("datasets", {})
        count = 0
        for counts in datasets.values():
            for name in _COUNTS:
                totals[name] += int(counts.get(name, 0))
                count += int(counts.get(name, 0))
        detail[key] = count
    return {
        "store": "systems of the map: " + ", ".join(sorted(steps)),
        "action": "reached",
        "records_deleted": totals["deleted"],
        "records_anonymised": totals["anonymised"],
        "detail": detail,
        "method": "each system through its connector (sql, webhook or manual): see systems",
    }


def _datasets(evidence: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"dataset": name, **{k: v for k, v in counts.items() if k != "untreated" or v}}
        for name, counts in sorted(evidence.get("datasets", {}).items())
    ]


def _searched(key: str, method: str, rescan: Mapping[str, Any]) -> Any:
    """What the final search found in a system (`rescan`: the step's record)."""
    if key in rescan.get("not_searched", {}):
        reason = rescan["not_searched"][key]
        return f"not possible ({reason}): the record of the part done by hand is the evidence"
    counts = rescan.get("found", {})
    found = {k.split(".", 1)[1]: v for k, v in counts.items() if k.split(".", 1)[0] == key}
    if found:  # searched again (a SQL system, also one whose part was done by hand)
        return found
    if method == "sql":
        return "not searched again: nothing of this system was erased"
    if method == "manual":
        return "not possible (manual): the record of the person who did it is the evidence"
    return f"not possible ({method}): the system's own signed answer is the evidence"


def _place(key: str, system: System) -> dict[str, Any]:
    return {
        "system": key,
        "name": system.name,
        "owner": system.owner,
        "country": system.country,
    }


async def certificate_systems(
    conn: AsyncConnection,
    request_id: uuid.UUID,
    systems: SystemsMap,
    own_steps: list[str],
    rescan: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Every system of the map: how it was reached, what it did, and its evidence."""
    steps = await records.steps_of(conn, request_id)
    entries = []
    for key, system in systems.systems.items():
        if key == OWN_STORE:
            entries.append(
                {**_place(key, system), "method": "gateway", "result": "erased", "steps": own_steps}
            )
            continue
        step = steps.get(key)
        if step is None or step.status != records.DONE:  # never certified as done
            missing = {"method": system.connector, "result": "not_reached"}
            entries.append(
                {
                    **_place(key, system),
                    **missing,
                    "reason": "its part of this request was not done",
                }
            )
            continue
        evidence = dict(step.evidence or {})
        method = str(evidence.get("method", system.connector))
        entry: dict[str, Any] = {**_place(key, system), "method": method}
        if "excluded" in evidence:
            entry |= {"result": "excluded", "reason": evidence["excluded"]}
        else:
            entry |= {
                # A person's record says what they found: nothing is not "erased".
                "result": evidence.get("manual", {}).get("action", "erased"),
                "datasets": _datasets(evidence),
                "searched_again": _searched(key, method, rescan),
            }
        for name in ("receipt", "manual", "instead_of", "finished_at", "runs"):
            if name in evidence:
                entry[name] = evidence[name]
        entry["attempts"] = step.attempts
        entries.append(entry)
    return entries


async def export_systems(
    conn: AsyncConnection, request_id: uuid.UUID, systems: SystemsMap, key: SubjectKey
) -> dict[str, Any]:
    """What each system holds, by system and dataset, for the access export."""
    steps = await records.steps_of(conn, request_id)
    sealed = await records.sealed_data(conn, request_id)
    found: dict[str, Any] = {}
    for name, step in steps.items():
        system = systems.systems.get(name)
        if system is None:
            continue
        evidence = step.evidence or {}
        blob = sealed.get(name)
        entry: dict[str, Any] = {
            "name": system.name,
            "owner": system.owner,
            "country": system.country,
            "method": evidence.get("method", system.connector),
            "datasets": {} if blob is None else open_data(key, step.delivery_id, blob),
        }
        for extra in ("excluded", "manual", "receipt"):
            if extra in evidence:
                entry[extra] = evidence[extra]
        found[name] = entry
    await records.forget_data(conn, request_id)
    return found


async def register_view(conn: AsyncConnection, request_id: uuid.UUID) -> list[dict[str, Any]]:
    """Each system's part, for the DPO: what is done and what holds the request up."""
    return [
        {
            "system": key,
            "method": step.method,
            "status": step.status,
            "attempts": step.attempts,
            "last_error": step.last_error,
            "next_attempt_at": None
            if step.next_attempt_at is None
            else utc_text(step.next_attempt_at),
            "waiting_for": _waiting_for(step),
            "task": None if step.status == records.DONE else (step.evidence or {}).get("task"),
        }
        for key, step in (await records.steps_of(conn, request_id)).items()
    ]


def _waiting_for(step: records.SystemStep) -> str | None:
    if step.status == records.DONE:
        return None
    if step.status == records.WAITING:
        return "a person to record it" if step.method == "manual" else "the system's callback"
    if step.attempts:
        return "the next attempt"
    return "its first attempt"
