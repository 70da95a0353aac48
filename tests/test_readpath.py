"""The hot read path per backend: the PostgreSQL driver fast path agrees with SQLAlchemy,
and refuses statements whose types need SQLAlchemy's processing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import String, literal, select
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from gateway.core.db import make_engine
from gateway.core.errors import ConfigurationError
from gateway.core.readpath import AsyncReader, PostgresReadPool, prepared
from gateway.core.settings import Settings
from gateway.orders.store import fetch_order
from gateway.orders.tables import orders
from tests.helpers import SAMPLE_ORDER, Gateway, reset_database


class Shouting(TypeDecorator[str]):
    impl = String
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else value.upper()


SHOUTING = prepared(select(literal("quiet", type_=Shouting).label("word")))


def test_postgres_fast_path_matches_sqlalchemy_and_guards_types(
    postgresql_url: str, tmp_path: Any
) -> None:
    asyncio.run(reset_database(postgresql_url))
    with Gateway.start(postgresql_url, tmp_path) as gw:
        order_id = gw.create_order(gw.principal("channel"), SAMPLE_ORDER)

    async def check() -> None:
        engine = make_engine(Settings(database_url=postgresql_url).sqlalchemy_url, pool_size=2)
        pool = PostgresReadPool(engine)
        try:
            async with pool.connect() as reader:
                key = (await reader.all(select(orders.c.id)))[0]["id"]
                fast = await fetch_order(reader, key, None)
                assert await fetch_order(reader, key, "south") is None
                with pytest.raises(ConfigurationError, match="needs SQLAlchemy processing"):
                    await reader.all(SHOUTING)
            async with engine.connect() as conn:
                slow = await fetch_order(AsyncReader(conn), key, None)
            assert fast == slow
            assert fast is not None
            assert fast["order_id"] == order_id
            assert fast["created_at"] == "2026-11-20T10:00:00Z"
        finally:
            await engine.dispose()

    asyncio.run(check())
