"""Read-through benchmark: orders of an existing store against the gateway's own, in one run.

Seeds N demo orders into the gateway's own store and the same orders into an
OMS-like database (customers, orders, order_lines, as a retailer's order system
keeps them: SQLite by default, or `--oms-url`), then drives `GET /v1/orders/{id}` as
customer_service on the gateway serving its own store and on the gateway fronting the
OMS (`GATEWAY_ORDER_SOURCE`), with the same load generator, and prints the ratio.

    python bench/fronted_read.py [--orders 2000] [--duration 10] [--connections 16]
                                 [--oms-url postgresql://...] [--json]

wrk when it is on PATH, else bench/read_path.py's asyncio client (see there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.read_path import free_port, run_python, run_wrk, seed, server  # noqa: E402
from gateway.core import migrate  # noqa: E402
from gateway.core.secretfiles import write_secret_file  # noqa: E402
from gateway.core.settings import Settings  # noqa: E402
from gateway.demo import LEGACY_KEY, LEGACY_SCHEMA, demo_orders, legacy_rows  # noqa: E402
from gateway.fronted import order_uuid  # noqa: E402
from gateway.systems import async_url  # noqa: E402


async def create_oms(url: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            for statement in LEGACY_SCHEMA:
                await conn.execute(text(statement))
            for name, table_rows in rows.items():
                columns = list(table_rows[0])
                marks = ", ".join(f":{c}" for c in columns)
                insert = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
                await conn.execute(text(insert), table_rows)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--oms-url", default="", help="an empty database (default: SQLite)")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="opg-bench-fronted-"))
    settings = Settings(var_dir=workdir)
    migrate.upgrade(settings.sqlalchemy_url)
    native_ids, token = asyncio.run(seed(settings, args.orders))
    oms_url = args.oms_url or f"sqlite:///{workdir / 'oms.db'}"
    documents = list(demo_orders(args.orders, seed=7))
    rows = legacy_rows(documents, text_values=oms_url.startswith("sqlite"))
    asyncio.run(create_oms(oms_url, rows))
    fronted_ids = [str(order_uuid(LEGACY_KEY, int(o["order_id"]))) for o in rows["orders"]]
    # The shipped map's legacy OMS mapping, the demo's: the same tables, on this database.
    write_secret_file(workdir / "systems" / f"{LEGACY_KEY}.url", oms_url)
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")

    def measure(port: int, ids: list[str]) -> dict[str, float]:
        ids_file = workdir / f"ids-{port}.txt"
        ids_file.write_text("\n".join(ids))
        warm = max(2, args.duration // 5)
        if tool == "wrk":
            run_wrk(port, token, ids_file, warm, args.connections)
            return run_wrk(port, token, ids_file, args.duration, args.connections)
        run_python(port, token, ids, warm, args.connections)
        return run_python(port, token, ids, args.duration, args.connections)

    env = {
        "GATEWAY_VAR_DIR": str(workdir),
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_PRIVACY_WORKER_SECONDS": "0",
    }
    port = free_port()
    with server("gateway.app:create_app", port, env, factory=True):
        native = measure(port, native_ids)
    port = free_port()
    fronting = {**env, "GATEWAY_ORDER_SOURCE": LEGACY_KEY}
    with server("gateway.app:create_app", port, fronting, factory=True):
        fronted = measure(port, fronted_ids)
    result = {
        "orders": args.orders,
        "tool": tool,
        "connections": args.connections,
        "oms": oms_url.split(":", 1)[0],
        "native_rps": round(native["rps"], 1),
        "fronted_rps": round(fronted["rps"], 1),
        "ratio": round(fronted["rps"] / native["rps"], 3),
        "native_p50_ms": round(native["p50_ms"], 2),
        "fronted_p50_ms": round(fronted["p50_ms"], 2),
        "native_p99_ms": round(native["p99_ms"], 2),
        "fronted_p99_ms": round(fronted["p99_ms"], 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"read-through vs the gateway's own store, {args.orders} orders, {tool}:")
    for key, value in result.items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
