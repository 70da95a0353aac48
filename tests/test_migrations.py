"""Schema changes only through Alembic: models and migrations agree, and round-trip."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect

from gateway.core import migrate
from gateway.core.db import make_engine
from gateway.core.settings import Settings
from tests.helpers import run_sql, scalar_sql

TABLES = {
    "orders",
    "order_items",
    "data_subjects",
    "subject_identifiers",
    "subject_keys",
    "principals",
    "totp_factors",
    "unmask_grants",
    "audit_entries",
    "audit_refs",
    "audit_checkpoints",
    "audit_head",
    "report_archive",
}


async def _tables(url: str) -> set[str]:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def test_upgrade_downgrade_round_trip_and_models_match(empty_database_url: str) -> None:
    url = Settings(database_url=empty_database_url).sqlalchemy_url
    assert asyncio.run(migrate.current_revision(url)) is None
    assert not migrate.is_current(url)

    migrate.upgrade(url)
    assert asyncio.run(_tables(url)) >= TABLES
    assert migrate.is_current(url)
    # `alembic check`: autogenerate finds nothing to do, so models and migrations agree.
    command.check(migrate.alembic_config(url))

    migrate.downgrade(url, "base")
    assert not TABLES & asyncio.run(_tables(url))
    migrate.upgrade(url)
    assert migrate.is_current(url)


def test_requests_verified_before_identity_resolution_are_held(empty_database_url: str) -> None:
    """0009 keeps existing links but stops trusting them: an unfinished verified request
    waits for a DPO to check what it covers; one still awaiting its code is left as it is."""
    url = Settings(database_url=empty_database_url).sqlalchemy_url
    migrate.upgrade(url, "4f6a2d8c1b95")
    columns = (
        "id, kind, state, token_hash, code_failures, received_at, updated_at, "
        "gdpr_deadline_at, pipl_deadline_at, sla, verification_failures"
    )
    rows = []
    for n, state in enumerate(("verified", "in_progress", "received", "completed")):
        rows.append(
            f"INSERT INTO privacy_requests ({columns}) VALUES ('{n:08d}-0000-0000-0000-"  # noqa: S608
            f"000000000000', 'erasure', '{state}', X'00', 0, '2026-11-20 10:00:00', "
            "'2026-11-20 10:00:00', '2026-12-20 10:00:00', '2026-12-05 10:00:00', '', 0)"
        )
    if "postgresql" in url:
        rows = [r.replace("X'00'", "'\\x00'::bytea") for r in rows]
    asyncio.run(run_sql(empty_database_url, *rows))
    migrate.upgrade(url)
    states = asyncio.run(
        scalar_sql(
            empty_database_url,
            "SELECT string_agg(state || ':' || coalesce(held_from, '-'), ',' ORDER BY id) "
            "FROM privacy_requests"
            if "postgresql" in url
            else "SELECT group_concat(state || ':' || coalesce(held_from, '-'), ',') "
            "FROM (SELECT * FROM privacy_requests ORDER BY id)",
        )
    )
    assert states == "on_hold:verified,on_hold:in_progress,received:-,completed:-"
    reason = asyncio.run(
        scalar_sql(
            empty_database_url,
            "SELECT hold_reason FROM privacy_requests WHERE state = 'on_hold' LIMIT 1",
        )
    )
    assert reason.startswith("verified before identity resolution")
