"""Rotating the key-encryption key: one use case over two capabilities.

Data keys (`gateway.subjects`) are re-wrapped in resumable batches; second-factor
secrets (`gateway.auth`) are few and are sealed again in one go once the data keys are
done. Order rows are never touched. The CLI (`privacy-gateway keys rotate-kek`) only
shows progress and the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.accesslog import OPERATOR, AccessLog
from gateway.auth import factor_kek_versions, factors_pending, reseal_factors
from gateway.core.settings import Settings
from gateway.crypto import KeyRing, add_kek_version, load_keys
from gateway.subjects import RotationReport, pending, rewrap_all


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a run did, and which older KEK versions wrap nothing any more."""

    report: RotationReport
    resealed: int
    retired: list[int]


async def prepare(settings: Settings, engine: AsyncEngine, ring: KeyRing) -> tuple[KeyRing, int]:
    """The ring to rotate under, and how many data keys are to re-wrap.

    With nothing left under an older version, a new rotation starts: in embedded mode the
    next KEK file is created here; in production `add_kek_version` refuses, and the
    operator provides the new KEK and makes it active (GATEWAY_KEK_VERSION).
    """
    if not await pending(engine, ring) and not await factors_pending(engine, ring):
        add_kek_version(settings)
        ring = load_keys(settings)
    return ring, await pending(engine, ring)


async def rotate(
    engine: AsyncEngine,
    ring: KeyRing,
    log: AccessLog,
    *,
    batch_size: int,
    max_batches: int | None,
    progress: Callable[[int], None] = lambda _: None,
) -> Rotation:
    """Re-wrap (resumably), re-seal the factor secrets when done, and log what was done."""
    report = await rewrap_all(
        engine, ring, batch_size=batch_size, max_batches=max_batches, progress=progress
    )
    resealed = 0 if report.remaining else await reseal_factors(engine, ring)
    in_use = set(report.in_use) | await factor_kek_versions(engine)
    await log.record(
        OPERATOR,
        "keys.rotate_kek",
        "keys",
        details={
            "kek_version": report.target_version,
            "data_keys_rewrapped": report.rewrapped,
            "data_keys_remaining": report.remaining,
            "secrets_resealed": resealed,
        },
    )
    retired = (
        [] if report.remaining else [v for v in range(1, report.target_version) if v not in in_use]
    )
    return Rotation(report, resealed, retired)
