"""KEK rotation: re-wrap every subject's data key under the active KEK, in batches.

Order rows are never touched: their ciphertexts are under the subjects' data
keys, which do not change. Every wrapped key records its KEK version, so reads
work throughout (old versions stay available until retired) and an interrupted
rotation simply resumes where it stopped; batches are claimed with
`FOR UPDATE SKIP LOCKED`, so several workers may run at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.crypto import KeyRing, rewrap_data_key
from gateway.subjects import store


@dataclass(frozen=True)
class RotationReport:
    target_version: int
    rewrapped: int
    remaining: int
    in_use: dict[int, int]


async def pending(engine: AsyncEngine, keys: KeyRing) -> int:
    """How many data keys are still wrapped under a KEK other than the active one."""
    async with engine.connect() as conn:
        in_use = await store.kek_versions_in_use(conn)
    return sum(n for version, n in in_use.items() if version != keys.active_kek_version)


async def rewrap_all(
    engine: AsyncEngine,
    keys: KeyRing,
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> RotationReport:
    """Re-wrap data keys under the active KEK in batches, resumably; rows stay untouched."""
    target = keys.active_kek_version
    new_kek = keys.kek(target)
    done = batches = 0
    while max_batches is None or batches < max_batches:
        async with engine.begin() as conn:
            rows = await store.keys_to_rewrap(conn, target, batch_size)
            for row in rows:
                assert row.wrapped_key is not None  # noqa: S101 - the query skips shredded keys
                wrapped = rewrap_data_key(
                    keys.kek(row.kek_version),
                    new_kek,
                    row.wrapped_key,
                    subject_id=row.subject_id,
                    old_version=row.kek_version,
                    new_version=target,
                )
                await store.set_wrapped_key(conn, row, wrapped, target)
        if not rows:
            break
        done += len(rows)
        batches += 1
        progress(len(rows))
    async with engine.connect() as conn:
        in_use = await store.kek_versions_in_use(conn)
    remaining = sum(n for version, n in in_use.items() if version != target)
    return RotationReport(target, done, remaining, in_use)
