"""Shared fixtures: real databases (SQLite and PostgreSQL) migrated with Alembic.

Database tests run once per backend. PostgreSQL comes from GATEWAY_TEST_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/test); each test session creates its
own database there and drops it at the end. Outside CI, an unreachable server makes
those tests skip with instructions; in CI (CI=true) it is a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gateway.core import migrate
from gateway.core.db import make_engine
from gateway.core.settings import Settings
from tests.helpers import Gateway, reset_database

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
PG_HELP = (
    "PostgreSQL is not reachable at {url} ({error}). Start it, or point "
    "GATEWAY_TEST_DATABASE_URL at a server whose user may CREATE DATABASE, e.g. "
    "GATEWAY_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test make test"
)


def _async_url(url: str) -> str:
    return Settings(database_url=url).sqlalchemy_url


async def _admin(url: str, statement: str) -> None:
    engine = make_engine(_async_url(url), pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def _postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards; skip if no server."""
    base = os.environ.get("GATEWAY_TEST_DATABASE_URL", DEFAULT_PG)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError) as exc:  # no server answered (others must fail)
        message = PG_HELP.format(url=base, error=type(exc).__name__)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A migrated PostgreSQL database shared by the session's tests (emptied per test)."""
    with _postgres_database("opg_test") as url:
        migrate.upgrade(_async_url(url))
        yield url


@pytest.fixture
def empty_postgresql_url() -> Iterator[str]:
    """A new PostgreSQL database with no schema at all, dropped after the test."""
    with _postgres_database("opg_empty") as url:
        yield url


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest) -> str:
    """An unmigrated database of each backend, in turn."""
    return str(request.getfixturevalue(f"empty_{request.param}_url"))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "gateway.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url.replace("sqlite://", "sqlite+aiosqlite://", 1))
    return url


@pytest.fixture
def clean_sqlite_url(sqlite_url: str) -> str:
    """The shared, migrated SQLite database, emptied for this test (a test that starts
    the gateway with keys of its own needs no other test's data or key check values)."""
    asyncio.run(reset_database(sqlite_url))
    return sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database of each backend, in turn."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    asyncio.run(reset_database(url))
    return url


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    with Gateway.start(database_url, tmp_path) as gw:
        yield gw
