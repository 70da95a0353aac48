"""Schema changes only through Alembic: models and migrations agree, and round-trip."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect

from gateway import migrate
from gateway.db import make_engine
from gateway.settings import Settings

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
