"""Many concurrent requests, served by two gateway processes on one database, build one
gap-free, valid chain with exactly one entry per logged request."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from audit.store import audit_entries
from gateway.app import create_app
from gateway.core import migrate
from gateway.core.db import make_engine
from gateway.core.settings import Settings
from tests.helpers import SAMPLE_ORDER, Gateway, bearer, free_port

ROOT = Path(__file__).resolve().parents[2]
REQUESTS_PER_PROCESS = 60


@contextmanager
def _second_process(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "gateway.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(args, env={**os.environ, **env}, cwd=ROOT)  # noqa: S603 - our own server
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("the second gateway process did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _hammer(settings: Settings, remote: str, token: str, order_id: str) -> list[int]:
    app = create_app(settings)
    path = f"/v1/orders/{order_id}"
    async with AsyncTestClient(app) as local, httpx.AsyncClient(base_url=remote) as other:
        calls = [
            client.get(path, headers=bearer(token))
            for _ in range(REQUESTS_PER_PROCESS)
            for client in (local, other)
        ]
        responses = await asyncio.gather(*calls)
    return [r.status_code for r in responses]


async def _count(url: str, **where: str) -> tuple[int, int]:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            conditions = [audit_entries.c[k] == v for k, v in where.items()]
            query = select(func.count(), func.max(audit_entries.c.seq)).where(*conditions)
            count, top = (await conn.execute(query)).one()
            return int(count), int(top or 0)
    finally:
        await engine.dispose()


def test_two_processes_and_many_concurrent_requests_build_one_chain(
    empty_database_url: str, tmp_path: Path
) -> None:
    url = Settings(database_url=empty_database_url).sqlalchemy_url
    migrate.upgrade(url)
    with Gateway.start(empty_database_url, tmp_path) as gw:  # generates the shared keys
        order_id = gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
        token = gw.principal("warehouse", "north", name="wh-racer")
        with _second_process(gw.env) as remote:
            statuses = asyncio.run(_hammer(gw.settings, remote, token, order_id))
        assert statuses == [200] * (2 * REQUESTS_PER_PROCESS)

        reads, _ = asyncio.run(_count(url, actor="wh-racer", action="orders.read"))
        assert reads == 2 * REQUESTS_PER_PROCESS  # exactly one entry per request
        total, top = asyncio.run(_count(url))
        assert total == top  # gap-free: sequence numbers 1..n, each once
        result = gw.cli("audit", "verify", "--json")
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert result.exit_code == 0, report
        assert report["ok"] is True
        assert report["entries_checked"] == total
