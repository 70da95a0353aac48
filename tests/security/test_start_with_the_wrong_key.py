"""An operator (or an attacker with the deployment's settings) starts the gateway with a
well-formed key that is not the store's: it used to start, report healthy, answer reads
with 500 and seal new data under the wrong key. Now it does not start, and says which
key is wrong; the container image never makes up keys of its own."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.core.errors import ConfigurationError
from tests.helpers import SAMPLE_ORDER, Gateway, run_sql

ROOT = Path(__file__).resolve().parents[2]


def _write_key(path: Path) -> None:
    """Another well-formed key, stored as the gateway wants key files (owner only)."""
    path.write_text(base64.b64encode(os.urandom(32)).decode())
    path.chmod(0o600)


def _refuses_to_start(database_url: str, tmp_path: Path, reason: str) -> None:
    """Start-up (the app's lifespan, as uvicorn runs it) fails with `reason`."""
    with pytest.raises(BaseExceptionGroup) as failed, Gateway.start(database_url, tmp_path):
        pass
    assert failed.group_contains(ConfigurationError, match=reason, depth=None)


def _seeded(database_url: str, tmp_path: Path) -> Path:
    with Gateway.start(database_url, tmp_path) as gw:
        gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    return tmp_path / "var" / "keys"


@pytest.mark.parametrize("check_values", [True, False], ids=["check-value", "older-store"])
def test_a_wrong_kek_stops_start_up_naming_its_version(
    database_url: str, tmp_path: Path, check_values: bool
) -> None:
    keys = _seeded(database_url, tmp_path)
    if not check_values:  # a store from before check values: the data keys tell
        asyncio.run(run_sql(database_url, "DELETE FROM key_checks"))
    _write_key(keys / "kek-v1.key")
    _refuses_to_start(database_url, tmp_path, "KEK version 1 is not the key this store")
    env = {"GATEWAY_DATABASE_URL": database_url, "GATEWAY_VAR_DIR": str(tmp_path / "var")}
    served = CliRunner().invoke(main, ["serve"], env=env)
    assert served.exit_code == 2
    assert "KEK version 1 is not the key this store was written with" in served.output
    assert "Traceback" not in served.output


def test_a_wrong_blind_index_key_stops_start_up(database_url: str, tmp_path: Path) -> None:
    keys = _seeded(database_url, tmp_path)
    asyncio.run(run_sql(database_url, "DELETE FROM key_checks"))  # found through the data
    _write_key(keys / "blind-index.key")
    _refuses_to_start(database_url, tmp_path, "blind-index key is not the one")


def test_the_right_keys_start_and_leave_check_values(database_url: str, tmp_path: Path) -> None:
    _seeded(database_url, tmp_path)
    with Gateway.start(database_url, tmp_path) as gw:
        assert gw.client.get("/healthz").json()["status"] == "ok"
        assert gw.count_rows("key_checks") == 2  # KEK version 1 and the blind-index key


def test_a_kek_version_in_use_but_missing_stops_start_up(database_url: str, tmp_path: Path) -> None:
    keys = _seeded(database_url, tmp_path)
    _write_key(keys / "kek-v2.key")
    (keys / "kek-v1.key").unlink()
    _refuses_to_start(database_url, tmp_path, "wrapped under KEK version 1, which is not")


def test_the_image_runs_in_production_mode() -> None:
    """In a container, embedded mode would make up fresh keys nobody keeps."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    runtime = dockerfile.rpartition("FROM ")[2]
    assert "GATEWAY_MODE=production" in runtime
    settings_env = {"GATEWAY_MODE": "production", "GATEWAY_VAR_DIR": "/nonexistent"}
    refused = CliRunner().invoke(main, ["serve"], env=settings_env)
    assert refused.exit_code == 2
    assert "error:" in refused.output
