"""Read-path benchmark: the gateway against a bare pass-through, measured in one run.

Seeds N orders, starts the gateway, the gateway with its audit log off
(bench/unlogged_app.py) and the bare server (bench/bare_server.py: same Litestar +
uvicorn stack, same rows read with the raw driver, nothing else), then
drives `GET /v1/orders/{id}` as customer_service on both with the same load
generator and the same random order ids, and prints the ratio.

    python bench/read_path.py [--orders 2000] [--duration 10] [--connections 16]
                              [--database-url postgresql://...] [--json]

The load generator is wrk (Debian package `wrk`) when it is on PATH, else a small
asyncio HTTP/1.1 keep-alive client shipped here (slower: it competes with the
server for the CPU, so its ratio understates the gateway less faithfully).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.auth import NewPrincipal  # noqa: E402
from gateway.core import migrate  # noqa: E402
from gateway.core.settings import Settings  # noqa: E402
from gateway.crypto import decrypt_field, encrypt_field, new_data_key  # noqa: E402
from gateway.demo.data import demo_orders  # noqa: E402
from gateway.orders import import_lines, orders  # noqa: E402
from gateway.services import build_services  # noqa: E402

WRK_SCRIPT = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
math.randomseed(%(seed)d)
local headers = {["Authorization"] = "%(auth)s"}
request = function()
  return wrk.format("GET", "/v1/orders/" .. ids[math.random(#ids)], headers)
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
               + summary.errors.write + summary.errors.timeout
  local fmt = 'RESULT {"requests": %%d, "seconds": %%f, "p50_us": %%d, "p99_us": %%d, '
              .. '"errors": %%d}\\n'
  io.write(string.format(fmt, summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99), errors))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(settings: Settings, count: int) -> tuple[list[str], str]:
    services = build_services(settings)
    try:
        async with services.engine.connect() as conn:
            have = len((await conn.execute(select(orders.c.id))).all())
        if have < count:
            lines = (json.dumps(o, ensure_ascii=False) for o in demo_orders(count, seed=7))
            await import_lines(services.orders, None, lines)
        async with services.engine.connect() as conn:
            ids = [str(r.id) for r in await conn.execute(select(orders.c.id).limit(count))]
        name = f"bench-cs-{random.randrange(10**9)}"
        issued = await services.principals.create(NewPrincipal(name, "customer_service"))
        return ids, issued.token
    finally:
        await services.close()


@contextmanager
def server(app: str, port: int, env: dict[str, str], factory: bool) -> Iterator[None]:
    args = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    args += ["--no-access-log", "--log-level", "warning"] + (["--factory"] if factory else [])
    proc = subprocess.Popen(args, env={**os.environ, **env}, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{app} did not start")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_wrk(
    port: int, token: str, ids_file: Path, seconds: int, connections: int
) -> dict[str, float]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(WRK_SCRIPT % {"ids": ids_file, "seed": 42, "auth": f"Bearer {token}"})
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    if raw["errors"]:
        raise RuntimeError(f"{raw['errors']} failed requests against port {port}")
    return {
        "rps": raw["requests"] / raw["seconds"],
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


async def _client(port: int, token: str, ids: list[str], until: float, lat: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rng = random.Random(42)
    try:
        while time.perf_counter() < until:
            path = f"/v1/orders/{rng.choice(ids)}"
            start = time.perf_counter()
            request = f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n"
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n")[0].decode())
            length = next(
                int(h.split(b":")[1])
                for h in head.split(b"\r\n")
                if h.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            lat.append(time.perf_counter() - start)
    finally:
        writer.close()


def run_python(
    port: int, token: str, ids: list[str], seconds: int, connections: int
) -> dict[str, float]:
    latencies: list[float] = []

    async def main() -> float:
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(
            *(_client(port, token, ids, until, latencies) for _ in range(connections))
        )
        return time.perf_counter() - start

    elapsed = asyncio.run(main())
    cuts = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="opg-bench-"))
    # Keys belong to the data: a given database keeps its own keys between runs.
    keys_dir = None
    if args.database_url:
        digest = hashlib.sha256(args.database_url.encode()).hexdigest()[:12]
        keys_dir = ROOT / "var" / "bench" / digest / "keys"
    settings = Settings(database_url=args.database_url, var_dir=workdir, keys_dir=keys_dir)
    url = settings.sqlalchemy_url
    migrate.upgrade(url)
    ids, token = asyncio.run(seed(settings, args.orders))
    ids_file = workdir / "ids.txt"
    ids_file.write_text("\n".join(ids))
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")

    def measure(port: int) -> dict[str, float]:
        warm = max(2, args.duration // 5)
        if tool == "wrk":
            run_wrk(port, token, ids_file, warm, args.connections)
            return run_wrk(port, token, ids_file, args.duration, args.connections)
        run_python(port, token, ids, warm, args.connections)
        return run_python(port, token, ids, args.duration, args.connections)

    env = {
        "GATEWAY_DATABASE_URL": args.database_url,
        "GATEWAY_VAR_DIR": str(workdir),
        "GATEWAY_KEYS_DIR": str(settings.key_directory),
        "GATEWAY_LOG_LEVEL": "warning",
        "BENCH_DATABASE_URL": url,
    }
    port = free_port()
    with server("gateway.app:create_app", port, env, factory=True):
        gateway = measure(port)
    port = free_port()
    with server("bench.unlogged_app:create_app", port, env, factory=True):
        unlogged = measure(port)
    port = free_port()
    with server("bench.bare_server:app", port, env, factory=False):
        direct = measure(port)

    result = summarise(gateway, direct, args, len(ids), url, tool)
    result["unlogged_rps"] = round(unlogged["rps"], 1)
    result["unlogged_ratio"] = round(unlogged["rps"] / direct["rps"], 3)
    result["logging_cost"] = round(1 - gateway["rps"] / unlogged["rps"], 3)
    result["decrypt_us_per_field"] = round(decrypt_cost_us(), 2)
    if args.json:
        print(json.dumps(result))
    else:
        print_report(result)


def decrypt_cost_us(rounds: int = 50_000) -> float:
    """In-process cost of opening one encrypted field as the read path does (AES-256-GCM
    with its associated data), for a phone-sized value."""
    dek = new_data_key()
    row = uuid.uuid4()
    place = {"table": "orders", "column": "customer_phone", "row_id": row, "dek_version": 1}
    sealed = encrypt_field(dek, "13812345678", **place)  # type: ignore[arg-type]
    start = time.perf_counter()
    for _ in range(rounds):
        decrypt_field(dek, sealed, **place)  # type: ignore[arg-type]
    return (time.perf_counter() - start) / rounds * 1e6


def summarise(
    gateway: dict[str, float],
    direct: dict[str, float],
    args: argparse.Namespace,
    orders: int,
    url: str,
    tool: str,
) -> dict[str, Any]:
    return {
        "gateway_rps": round(gateway["rps"], 1),
        "direct_rps": round(direct["rps"], 1),
        "ratio": round(gateway["rps"] / direct["rps"], 3),
        "p50_ms": round(gateway["p50_ms"], 2),
        "p99_ms": round(gateway["p99_ms"], 2),
        "direct_p50_ms": round(direct["p50_ms"], 2),
        "direct_p99_ms": round(direct["p99_ms"], 2),
        "orders": orders,
        "connections": args.connections,
        "duration_s": args.duration,
        "database": url.split(":", 1)[0].split("+", maxsplit=1)[0],
        "tool": tool,
    }


def print_report(result: dict[str, Any]) -> None:
    print(
        f"GET /v1/orders/{{id}} as customer_service, {result['database']}, {result['tool']}, "
        f"{result['connections']} connections, {result['duration_s']}s each"
    )
    for label, rps, p50, p99 in (
        ("gateway", result["gateway_rps"], result["p50_ms"], result["p99_ms"]),
        ("direct", result["direct_rps"], result["direct_p50_ms"], result["direct_p99_ms"]),
    ):
        print(f"  {label:<8}: {rps:>9.1f} req/s  p50 {p50} ms  p99 {p99} ms")
    print(f"  unlogged: {result['unlogged_rps']:>9.1f} req/s  (the gateway, audit log off)")
    print(
        f"  ratio   : {result['ratio']:.3f} (gateway / direct), "
        f"{result['unlogged_ratio']:.3f} with the log off"
    )
    print(f"  logging : costs {result['logging_cost'] * 100:.1f} % of read-path throughput")
    print(f"  decrypt : {result['decrypt_us_per_field']} us per encrypted field (in-process)")


if __name__ == "__main__":
    main()
