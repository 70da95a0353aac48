"""What each step of a request did, and running steps again after a failed final search.

A step's record commits with its work. When the final search still finds the subject,
every record is marked to run again; the next run adds its counts to the first, so the
certificate tells what all runs did together.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.privacy.model.store import privacy_steps


async def done_steps(conn: AsyncConnection, request_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """Steps done, in order; those marked to run again are not done."""
    query = (
        select(privacy_steps.c.name, privacy_steps.c.result, privacy_steps.c.finished_at)
        .where(privacy_steps.c.request_id == request_id)
        .order_by(privacy_steps.c.position)
    )
    steps = {
        row.name: {**json.loads(row.result), "finished_at": row.finished_at}
        for row in await conn.execute(query)
    }
    return {name: info for name, info in steps.items() if not info.get("rerun")}


async def record_step(
    conn: AsyncConnection,
    request_id: uuid.UUID,
    name: str,
    position: int,
    result: Mapping[str, Any],
    now: datetime,
) -> None:
    """Record a step's run; a re-run (after a failed final search) adds to the first."""
    query = select(privacy_steps.c.result).where(
        privacy_steps.c.request_id == request_id, privacy_steps.c.name == name
    )
    previous = (await conn.execute(query)).scalar_one_or_none()
    if previous is None:
        await conn.execute(
            insert(privacy_steps).values(
                request_id=request_id,
                name=name,
                position=position,
                finished_at=now,
                result=json.dumps(result, sort_keys=True),
            )
        )
        return
    merged = merge_runs(json.loads(previous), result)
    await conn.execute(
        update(privacy_steps)
        .where(privacy_steps.c.request_id == request_id, privacy_steps.c.name == name)
        .values(finished_at=now, result=json.dumps(merged, sort_keys=True))
    )


_COUNTS = ("records", "records_deleted", "records_anonymised", "open_orders")


def merge_runs(first: Mapping[str, Any], again: Mapping[str, Any]) -> dict[str, Any]:
    """What a step did over all its runs: counts add up, facts found later win."""
    merged = {**first, **{k: v for k, v in again.items() if v is not None}}
    for key in _COUNTS:
        if key in first or key in again:
            merged[key] = int(first.get(key, 0)) + int(again.get(key, 0))
    detail = {**first.get("detail", {})}
    for key, value in again.get("detail", {}).items():
        detail[key] = int(detail.get(key, 0)) + int(value)
    if detail:
        merged["detail"] = detail
    if "retained" in first or "retained" in again:
        merged["retained"] = _merge_retained(first.get("retained", []), again.get("retained", []))
    merged["runs"] = int(first.get("runs", 1)) + 1
    merged.pop("rerun", None)
    return merged


def _merge_retained(
    first: list[dict[str, Any]], again: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_rule: dict[str, dict[str, Any]] = {}
    for entry in [*first, *again]:
        seen = by_rule.get(entry["rule"])
        if seen is None:
            by_rule[entry["rule"]] = dict(entry)
        else:
            seen["records"] += entry["records"]
            seen["until"] = max(seen["until"], entry["until"])
    return [by_rule[name] for name in sorted(by_rule)]


async def mark_for_rerun(conn: AsyncConnection, request_id: uuid.UUID) -> None:
    """Every step runs again, keeping what its earlier runs did."""
    rows = await conn.execute(
        select(privacy_steps.c.name, privacy_steps.c.result).where(
            privacy_steps.c.request_id == request_id
        )
    )
    for name, result in list(rows):
        marked = {**json.loads(result), "rerun": True}
        await conn.execute(
            update(privacy_steps)
            .where(privacy_steps.c.request_id == request_id, privacy_steps.c.name == name)
            .values(result=json.dumps(marked, sort_keys=True))
        )


async def has_run(conn: AsyncConnection, request_id: uuid.UUID, name: str) -> bool:
    """Whether a step ever ran for this request (done, or marked to run again)."""
    query = select(privacy_steps.c.name).where(
        privacy_steps.c.request_id == request_id, privacy_steps.c.name == name
    )
    return (await conn.execute(query)).first() is not None
