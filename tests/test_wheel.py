"""The built wheel runs anywhere: installed into a fresh venv, in an empty directory.

The wheel is built from this checkout (hatchling, no network) and installed without
its dependencies into a new venv whose only other path is the dev venv's
site-packages, added as a plain path: the dev venv's editable install of this
checkout is not processed there, so `gateway` can come only from the wheel. Then
`migrate`, `demo` and `serve` run in an empty temporary directory, which has no
`policies/` or `migrations/` to find.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(work / "dist"),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = (work / "dist").glob("order_privacy_gateway-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Dependencies from the dev venv, appended after the wheel's own site-packages.
    Path(site, "dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _env(directory: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return {**keep, "GATEWAY_VAR_DIR": str(directory / "var"), "PYTHONPATH": ""}


def test_the_wheel_migrates_seeds_and_serves_in_an_empty_directory(
    wheel_venv: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    cli = str(wheel_venv / "bin" / "privacy-gateway")
    python = str(wheel_venv / "bin" / "python")
    env = _env(empty)

    where = subprocess.run(
        [python, "-c", "import gateway, audit; print(gateway.__file__); print(audit.__file__)"],
        cwd=empty,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert all(path.startswith(str(wheel_venv)) for path in where), where

    migrated = subprocess.run(
        [cli, "migrate"], check=False, cwd=empty, env=env, capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr
    demo = subprocess.run(
        [cli, "demo", "--orders", "5"],
        check=False,
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
    )
    assert demo.returncode == 0, demo.stderr
    tokens = json.loads((empty / "var" / "demo-tokens.json").read_text())
    token = next(t["token"] for t in tokens if t["role"] == "customer_service")
    assert sorted(p.name for p in empty.iterdir()) == ["var"]  # nothing else was needed

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [cli, "serve", "--port", str(port)],
            cwd=empty,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            body = _get_when_up(f"http://127.0.0.1:{port}/v1/orders?limit=2", token, server, log)
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert len(body["items"]) == 2
    assert all(order["customer"]["phone"].count("*") >= 4 for order in body["items"])


def _get_when_up(
    url: str, token: str, server: subprocess.Popen[bytes], log: Path
) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - our own local server
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise AssertionError(
                f"serve exited early: {server.stderr.read() if server.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - our own local server
                return dict(json.load(answer))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
