"""Anonymous privacy requests name an order by its number alone (no channel): a lookup
without an index scanned every order inside SQLite's write lock, so a dozen requests
stalled everyone's reads. The lookup uses an index, and runs before the write
transaction (see `PrivacyRequests.submit`)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from gateway.core.db import make_engine
from gateway.core.settings import Settings

LOOKUP = "SELECT id FROM orders WHERE external_id = 'WEB-10001'"


async def _plan(url: str) -> str:
    engine = make_engine(Settings(database_url=url).sqlalchemy_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = await conn.execute(text(f"EXPLAIN QUERY PLAN {LOOKUP}"))
            else:
                await conn.execute(text("SET enable_seqscan = off"))  # tiny tables: ask
                rows = await conn.execute(text(f"EXPLAIN {LOOKUP}"))
            return "\n".join(" ".join(str(v) for v in row) for row in rows)
    finally:
        await engine.dispose()


def test_the_order_number_lookup_uses_an_index(database_url: str) -> None:
    plan = asyncio.run(_plan(database_url))
    assert "ix_orders_external_id" in plan
