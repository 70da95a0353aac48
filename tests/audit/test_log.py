"""The audit log on real databases: group commit, one gap-free chain, checkpoints,
append-only tables, tamper detection from the database, and failing closed."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit import store
from audit.entry import Draft, Outcome
from audit.log import AuditLog, LogPolicy, LogUnavailable
from gateway.core import migrate
from gateway.core.clock import ManualClock
from gateway.core.db import make_engine
from gateway.core.settings import Settings
from tests.helpers import audit_blockers, run_sql

KEY = Ed25519PrivateKey.generate()


def _draft(clock: ManualClock, n: int) -> Draft:
    return Draft(
        at=clock.now(),
        actor=f"app-{n % 4}",
        action="orders.read",
        outcome=Outcome.ALLOWED,
        resource=f"orders/{n}",
        orders=[f"order-{n}"],
        subjects=[f"subject-{n % 7}"],
        fields={"customer.phone": "masked"},
    )


@pytest.fixture
def fresh_url(empty_database_url: str) -> str:
    """A newly migrated database: its log starts empty."""
    url = Settings(database_url=empty_database_url).sqlalchemy_url
    migrate.upgrade(url)
    return url


def test_concurrent_appends_share_commits_and_form_one_chain(fresh_url: str) -> None:
    clock = ManualClock()

    async def run() -> tuple[list[int], int, object]:
        engine = make_engine(fresh_url, pool_size=4)
        log = AuditLog(engine, KEY, clock.now, LogPolicy(checkpoint_every=50))
        try:
            entries = await asyncio.gather(*(log.append(_draft(clock, n)) for n in range(200)))
            return [e.seq for e in entries], log.commits, await log.verify()
        finally:
            await log.close()
            await engine.dispose()

    seqs, commits, report = asyncio.run(run())
    assert sorted(seqs) == list(range(1, 201))
    assert commits < 200 / 4  # many appends per transaction
    assert report.ok, report  # type: ignore[attr-defined]
    assert report.entries_checked == 200  # type: ignore[attr-defined]
    assert report.last_checkpoint["seq"] >= 150  # type: ignore[attr-defined]


async def _append(url: str, clock: ManualClock, n: int, policy: LogPolicy) -> AuditLog:
    engine = make_engine(url, pool_size=2)
    log = AuditLog(engine, KEY, clock.now, policy)
    try:
        for i in range(n):
            await log.append(_draft(clock, i))
            clock.advance(seconds=1)
    finally:
        await log.close()
        await engine.dispose()
    return log


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET actor = 'x' WHERE seq = 1",
        "DELETE FROM audit_entries WHERE seq = 2",
        "UPDATE audit_checkpoints SET head = 'x'",
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_refs",
        "UPDATE audit_head SET seq = 1",
        "DELETE FROM audit_head",
    ],
)
def test_the_database_refuses_to_rewrite_history(fresh_url: str, statement: str) -> None:
    asyncio.run(_append(fresh_url, ManualClock(), 4, LogPolicy(checkpoint_every=2)))
    with pytest.raises(DBAPIError, match=r"append-only|only moves forward"):
        asyncio.run(run_sql(fresh_url, statement))


def test_checkpoints_by_count_and_by_time(fresh_url: str) -> None:
    clock = ManualClock()
    log = asyncio.run(
        _append(fresh_url, clock, 7, LogPolicy(checkpoint_every=3, checkpoint_seconds=3600))
    )
    # The first entry is signed at once (no checkpoint yet), then every third.
    assert log.last_checkpoint is not None
    assert log.last_checkpoint.seq == 7

    async def later() -> object:
        engine = make_engine(fresh_url, pool_size=1)
        timed = AuditLog(
            engine, KEY, clock.now, LogPolicy(checkpoint_every=100, checkpoint_seconds=60)
        )
        try:
            clock.advance(seconds=61)
            await timed.append(_draft(clock, 99))  # seq 8: a minute since the last checkpoint
            return timed.last_checkpoint
        finally:
            await timed.close()
            await engine.dispose()

    checkpoint = asyncio.run(later())
    assert checkpoint is not None
    assert checkpoint.seq == 8  # type: ignore[attr-defined]


def test_a_log_that_cannot_be_written_fails_closed_and_recovers(fresh_url: str) -> None:
    clock = ManualClock()
    block, unblock = audit_blockers(fresh_url)

    async def run() -> None:
        engine = make_engine(fresh_url, pool_size=2)
        log = AuditLog(engine, KEY, clock.now, LogPolicy())
        try:
            await log.append(_draft(clock, 1))
            await run_sql(fresh_url, *block)
            with pytest.raises(LogUnavailable):
                await log.append(_draft(clock, 2))
            await run_sql(fresh_url, *unblock)
            entry = await log.append(_draft(clock, 3))
            assert entry.seq == 2  # nothing of the failed batch was kept
            assert (await log.verify()).ok
        finally:
            await log.close()
            await engine.dispose()

    asyncio.run(run())


def test_a_long_read_of_the_log_blocks_no_writer(fresh_url: str) -> None:
    """An export or verify streaming slowly must not hold the database's write lock."""
    clock = ManualClock()

    async def run() -> int:
        engine = make_engine(fresh_url, pool_size=4)
        log = AuditLog(engine, KEY, clock.now, LogPolicy())
        try:
            await log.append(_draft(clock, 1))
            async with store.snapshot(engine) as conn:
                # The snapshot has begun reading, as an export that is still streaming.
                assert (await conn.execute(text("SELECT count(*) FROM audit_entries"))).scalar()
                entry = await asyncio.wait_for(log.append(_draft(clock, 2)), timeout=5)
                # ... and the snapshot does not see what was written meanwhile.
                seen = (await conn.execute(text("SELECT count(*) FROM audit_entries"))).scalar()
                assert seen == 1
            return entry.seq
        finally:
            await log.close()
            await engine.dispose()

    assert asyncio.run(run()) == 2
