"""The health screen's facts: keys and their rotation, the log's head and last signed
checkpoint, and the systems of the map. Read-only, and nothing personal in any of it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import audit_checkpoints, audit_head, snapshot
from gateway.auth import factors_pending
from gateway.crypto import KeyRing
from gateway.subjects import pending as data_keys_pending
from gateway.systems import OWN_STORE, SystemsMap


async def health(engine: AsyncEngine, keys: KeyRing, systems: SystemsMap) -> dict[str, Any]:
    async with snapshot(engine) as conn:
        head = (await conn.execute(select(audit_head.c.seq, audit_head.c.hash))).first()
        last = (await conn.execute(select(func.max(audit_checkpoints.c.seq)))).scalar()
        checkpoint = None
        if last is not None:
            row = (
                await conn.execute(
                    select(
                        audit_checkpoints.c.seq, audit_checkpoints.c.at, audit_checkpoints.c.key_id
                    ).where(audit_checkpoints.c.seq == last)
                )
            ).first()
            checkpoint = (
                None if row is None else {"seq": row.seq, "at": row.at, "key_id": row.key_id}
            )
    return {
        "keys": {
            "kek_versions": sorted(keys.keks),
            "active_kek_version": keys.active_kek_version,
            "audit_key_id": keys.audit_key_id,
            "data_keys_pending": await data_keys_pending(engine, keys),
            "factors_pending": await factors_pending(engine, keys),
        },
        "log": {
            "head": None if head is None else {"seq": head.seq, "hash": head.hash},
            "checkpoint": checkpoint,
        },
        "systems": [
            {"key": key, "name": system.name, "connector": system.connector}
            for key, system in systems.systems.items()
            if key != OWN_STORE
        ],
    }
