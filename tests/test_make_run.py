"""`make run` serves where the settings say: GATEWAY_PORT is honoured, not overridden by
a port the Makefile made up. Runs the real target (migrate, demo, serve) on a free port
with its state in a temporary directory."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_make_run_serves_on_gateway_port(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env |= {"GATEWAY_PORT": str(port), "GATEWAY_VAR_DIR": str(tmp_path / "var")}
    log = tmp_path / "make-run.log"
    with log.open("w") as output:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run"],  # noqa: S607 - make from PATH, as a user runs it
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            health = _when_up(f"http://127.0.0.1:{port}/healthz", make, log)
        finally:
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(timeout=30)
    assert health["status"] == "ok"
    assert (tmp_path / "var" / "demo-tokens.json").is_file()  # the demo was seeded there


def _when_up(url: str, make: subprocess.Popen[bytes], log: Path) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if make.poll() is not None:
            raise AssertionError(f"make run exited: {log.read_text()}")
        try:
            return dict(httpx.get(url, timeout=2).json())
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered on {url}: {log.read_text()}")
