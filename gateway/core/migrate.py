"""Running Alembic from the gateway: upgrade, downgrade, and "is the schema current?"."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from gateway.core.db import make_engine
from gateway.core.errors import ConfigurationError
from gateway.core.resources import shipped_dir


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(shipped_dir("migrations")))
    # `%` would be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


@functools.cache
def _scripts() -> ScriptDirectory:
    """The shipped migrations, read once: they do not change while the process runs."""
    return ScriptDirectory.from_config(alembic_config(""))


def head_revision(url: str = "") -> str | None:
    """The newest migration this code has (whatever the database: `url` is not needed)."""
    return _scripts().get_current_head()


def knows_revision(revision: str) -> bool:
    """Whether `revision` is one of this code's migrations."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:  # alembic's answer for a revision it has never heard of
        return False


async def current_revision(url: str) -> str | None:
    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_read)
    finally:
        await engine.dispose()


def check_sqlite_directory(url: str) -> None:
    """A SQLite file's directory must exist: checked before connecting, because
    aiosqlite's failed connect would report to a closed event loop."""
    database = make_url(url).database
    if url.startswith("sqlite") and database and not Path(database).parent.is_dir():
        raise ConfigurationError(
            f"cannot open the database (directory {Path(database).parent} does not exist): "
            "check GATEWAY_DATABASE_URL, then run `privacy-gateway migrate`"
        )


def is_current(url: str) -> bool:
    """True if the schema is at the newest migration; unreachable databases are errors."""
    check_sqlite_directory(url)
    try:
        current = asyncio.run(current_revision(url))
    except (SQLAlchemyError, OSError) as exc:
        raise ConfigurationError(
            f"cannot open the database ({type(exc).__name__}): check GATEWAY_DATABASE_URL, "
            "then run `privacy-gateway migrate`"
        ) from None
    return current == head_revision(url)
