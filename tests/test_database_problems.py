"""What the command line and start-up say when the database cannot be used: in plain
words where that holds no personal data (no such database, nothing listening, schema
not migrated or older than the code), by error type only otherwise; never a password."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from gateway.cli import main
from gateway.core import migrate
from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings
from tests.helpers import Gateway, free_port, run_sql

PASSWORD = "s3cret-pw-7"
NOT_MIGRATED = "error: the database is not migrated: run `privacy-gateway migrate`"
# Commands that reach the database in different ways: alembic, the services, uvicorn's
# pre-flight checks, the log's own reader.
COMMANDS = (["migrate"], ["principals", "list"], ["audit", "verify"], ["serve"])


def _cli(url: str, tmp_path: Path, *args: str) -> Result:
    env = {"GATEWAY_DATABASE_URL": url, "GATEWAY_VAR_DIR": str(tmp_path / "var")}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _error_line(result: Result) -> str:
    return [line for line in result.output.splitlines() if line.startswith("error:")][-1]


def _with_password(url: str, **parts: object) -> str:
    return make_url(url).set(password=PASSWORD, **parts).render_as_string(hide_password=False)


def _start_failure(url: str, tmp_path: Path) -> str:
    """The message that stopped the app's start-up."""
    with pytest.raises(BaseExceptionGroup) as failed, Gateway.start(url, tmp_path):
        pass
    found = failed.value.subgroup(lambda e: isinstance(e, ConfigurationError))
    assert found is not None, failed.value
    while isinstance(found, BaseExceptionGroup):
        found = found.exceptions[0]
    return str(found)


def test_a_database_that_does_not_exist_is_named(postgresql_url: str, tmp_path: Path) -> None:
    name = f"opg_absent_{uuid.uuid4().hex[:8]}"
    url = _with_password(postgresql_url, database=name)
    expected = (
        f'error: database "{name}" does not exist: create it (or correct '
        "GATEWAY_DATABASE_URL), then run `privacy-gateway migrate`"
    )
    for args in (*COMMANDS, ["outbox"]):
        result = _cli(url, tmp_path, *args)
        assert (result.exit_code, _error_line(result)) == (2, expected), args
        assert PASSWORD not in result.output
        assert "withheld" not in result.output
    assert _start_failure(url, tmp_path) == expected.removeprefix("error: ")


def test_a_port_nothing_listens_on_is_named(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql://gateway:{PASSWORD}@127.0.0.1:{port}/orders"
    expected = (
        f"error: connection refused at 127.0.0.1:{port}: is the database server running "
        "and listening there? (GATEWAY_DATABASE_URL)"
    )
    for args in COMMANDS:
        result = _cli(url, tmp_path, *args)
        assert (result.exit_code, _error_line(result)) == (2, expected), args
        assert PASSWORD not in result.output
    assert _start_failure(url, tmp_path) == expected.removeprefix("error: ")


def test_an_unmigrated_database_says_run_migrate(empty_database_url: str, tmp_path: Path) -> None:
    for args in (["principals", "list"], ["audit", "verify"], ["outbox"], ["serve"]):
        result = _cli(empty_database_url, tmp_path, *args)
        assert (result.exit_code, _error_line(result)) == (2, NOT_MIGRATED), args
    assert _start_failure(empty_database_url, tmp_path) == NOT_MIGRATED.removeprefix("error: ")
    # The advice works: after `migrate` the same command runs.
    assert _cli(empty_database_url, tmp_path, "migrate").exit_code == 0
    listed = _cli(empty_database_url, tmp_path, "principals", "list")
    assert listed.exit_code == 0, listed.output


def test_a_schema_older_or_newer_than_the_code_says_so(
    empty_database_url: str, tmp_path: Path
) -> None:
    engine_url = Settings(database_url=empty_database_url).sqlalchemy_url
    migrate.upgrade(engine_url)
    head = migrate.head_revision(engine_url)
    migrate.downgrade(engine_url, "-1")
    older = asyncio.run(migrate.current_revision(engine_url))
    assert older is not None
    assert older != head
    expected = (
        f"error: the database schema is older than this code (revision {older}, this code "
        f"needs {head}): run `privacy-gateway migrate`"
    )
    for args in (["principals", "list"], ["audit", "verify"], ["serve"]):
        result = _cli(empty_database_url, tmp_path, *args)
        assert (result.exit_code, _error_line(result)) == (2, expected), args
    assert _start_failure(empty_database_url, tmp_path) == expected.removeprefix("error: ")

    migrate.upgrade(engine_url)
    asyncio.run(run_sql(empty_database_url, "UPDATE alembic_version SET version_num = 'f00d'"))
    newer = _cli(empty_database_url, tmp_path, "principals", "list")
    assert newer.exit_code == 2
    assert _error_line(newer) == (
        f"error: the database schema is at revision f00d, which this code does not know "
        f"(its newest is {head}): run the gateway version that migrated it, or a newer one"
    )


def test_other_database_errors_stay_withheld(empty_database_url: str, tmp_path: Path) -> None:
    # Migrated to the newest revision, but a table is gone: nothing safe to say about it.
    assert _cli(empty_database_url, tmp_path, "migrate").exit_code == 0
    asyncio.run(run_sql(empty_database_url, "ALTER TABLE outbox RENAME TO outbox_away"))
    result = _cli(empty_database_url, tmp_path, "outbox")
    assert result.exit_code == 1
    line = _error_line(result)
    assert line.endswith(
        "Error while talking to the database or files "
        "(details withheld: they may contain personal data)"
    )
    assert "outbox" not in line
