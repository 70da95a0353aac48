"""Alembic environment: runs migrations on the async engine the gateway uses.

The URL comes from the Alembic config (set by `privacy-gateway migrate`), or from
the gateway's settings when `alembic` is run by hand.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import gateway.models  # noqa: F401 - registers every table on the metadata
from audit import metadata as audit_metadata
from gateway.core.db import make_engine, metadata
from gateway.core.settings import load_settings

config = context.config
# The gateway's tables and the audit library's own: one schema, one migration history.
target_metadata = [metadata, audit_metadata]


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return url or load_settings().sqlalchemy_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = make_engine(_url(), pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
