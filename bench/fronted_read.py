"""Fronting benchmark: an existing store read through, then vaulted, then followed.

Seeds N demo orders into the gateway's own store and the same orders into an
OMS-like database (customers, orders, order_lines, as a retailer's order system
keeps them: a new SQLite file by default, or a new database on the server
`--oms-url` names, dropped after), then, on the same data and machine, in one run:

1. reads `GET /v1/orders/{id}` as customer_service on the gateway serving its own
   store, on the gateway fronting the OMS read-through (`GATEWAY_ORDER_SOURCE`), and
   on the same gateway after `vault backfill` (the OMS holds tokens, the reads open
   them from the vault), with the same load generator and ids; req/s, the ratio to
   the own store, p50/p99. A sample of orders must read the same through the vault
   as read-through;
2. times the backfill: rows of the vaulted tables and cells sealed per second;
3. starts a writer (bench/oms_writer.py, a process of its own) adding new orders to
   the OMS at `--write-rate` orders/s for `--write-seconds`, new and returning
   customers as the demo has them, while `follow_once` runs back to back; per row
   written, the lag from its commit to the commit of the batch that left tokens in
   it (p50/p99/max), and at the end no clear personal value may be left
   (`Summary.clear_remaining`, else the exit status is 1).

    python bench/fronted_read.py [--orders 2000] [--duration 10] [--connections 16]
                                 [--write-rate 20] [--write-seconds 10]
                                 [--oms-url postgresql://...] [--json]

wrk when it is on PATH, else bench/read_path.py's asyncio client (`tool` says which).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fronting import (  # noqa: E402
    create_oms,
    follow_under_writes,
    lag_figures,
    oms_database,
    split_rows,
    timed_backfill,
)
from bench.read_path import free_port, run_python, run_wrk, seed, server  # noqa: E402
from gateway.core import migrate  # noqa: E402
from gateway.core.secretfiles import write_secret_file  # noqa: E402
from gateway.core.settings import Settings  # noqa: E402
from gateway.demo import LEGACY_KEY, demo_orders, legacy_rows  # noqa: E402
from gateway.fronted import order_uuid  # noqa: E402

SAMPLE = 25  # orders read once through both fronted servers and compared


def bodies(port: int, token: str, ids: list[str]) -> list[Any]:
    """The documents of `ids` as the server answers them (for comparing two servers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    found = []
    try:
        for order_id in ids:
            auth = {"Authorization": f"Bearer {token}"}
            conn.request("GET", f"/v1/orders/{order_id}", headers=auth)
            answer = conn.getresponse()
            body = answer.read()
            if answer.status != 200:
                raise RuntimeError(f"GET /v1/orders/{order_id}: {answer.status}")
            found.append(json.loads(body))
    finally:
        conn.close()
    return found


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--oms-url",
        default="",
        help="a server to create the OMS's database on (default: a new SQLite file)",
    )
    parser.add_argument("--write-rate", type=float, default=20.0, help="new orders a second")
    parser.add_argument("--write-seconds", type=float, default=10.0, help="how long to write")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.write_rate <= 0 or args.write_seconds <= 0:
        parser.error("--write-rate and --write-seconds must be positive")
    return args


def main() -> None:
    args = parse()
    workdir = Path(tempfile.mkdtemp(prefix="opg-bench-fronted-"))
    settings = Settings(var_dir=workdir)
    migrate.upgrade(settings.sqlalchemy_url)
    native_ids, token = asyncio.run(seed(settings, args.orders))
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")
    with oms_database(args.oms_url, workdir) as oms_url:
        result = run(args, workdir, settings, oms_url, native_ids, token, tool)
    if args.json:
        print(json.dumps(result))
    else:
        report(result)
    if result["clear_remaining"]:
        sys.exit(f"{result['clear_remaining']} row(s) of the OMS still hold a clear value")


def run(
    args: argparse.Namespace,
    workdir: Path,
    settings: Settings,
    oms_url: str,
    native_ids: list[str],
    token: str,
    tool: str,
) -> dict[str, Any]:
    """The three read runs, the backfill and the follower, in that order."""
    sqlite = oms_url.startswith("sqlite")
    writes = max(2, math.ceil(args.write_rate * args.write_seconds))
    documents = list(demo_orders(args.orders + writes, seed=7))
    seeded, later = split_rows(legacy_rows(documents, text_values=sqlite), args.orders)
    asyncio.run(create_oms(oms_url, seeded))
    fronted_ids = [str(order_uuid(LEGACY_KEY, int(o["order_id"]))) for o in seeded["orders"]]
    # The shipped map's legacy OMS mapping, the demo's: the same tables, on this database.
    write_secret_file(workdir / "systems" / f"{LEGACY_KEY}.url", oms_url)

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
    fronting = {**env, "GATEWAY_ORDER_SOURCE": LEGACY_KEY}
    port = free_port()
    with server("gateway.app:create_app", port, env, factory=True):
        native = measure(port, native_ids)
    port = free_port()
    with server("gateway.app:create_app", port, fronting, factory=True):
        fronted = measure(port, fronted_ids)
        held = bodies(port, token, fronted_ids[:SAMPLE])

    backfill, backfill_s = asyncio.run(timed_backfill(settings, LEGACY_KEY))
    if backfill.clear_remaining:
        raise RuntimeError(f"the backfill left {backfill.clear_remaining} row(s) clear")
    port = free_port()
    with server("gateway.app:create_app", port, fronting, factory=True):
        if bodies(port, token, fronted_ids[:SAMPLE]) != held:
            raise RuntimeError("orders read through the vault differ from the read-through")
        vault = measure(port, fronted_ids)

    job = {"url": oms_url, "rate": args.write_rate, "orders": later, "text": sqlite}
    after = {
        "customers": len(seeded["customers"]),
        "orders": int(seeded["orders"][-1]["order_id"]),
    }
    follow = asyncio.run(follow_under_writes(settings, LEGACY_KEY, job, after, workdir))
    assert follow.last is not None  # noqa: S101 - a run has at least one pass
    return {
        "orders": args.orders,
        "tool": tool,
        "connections": args.connections,
        "duration_s": args.duration,
        "oms": oms_url.split(":", 1)[0],
        "native_rps": round(native["rps"], 1),
        "fronted_rps": round(fronted["rps"], 1),
        "vault_rps": round(vault["rps"], 1),
        "ratio": round(fronted["rps"] / native["rps"], 3),
        "vault_ratio": round(vault["rps"] / native["rps"], 3),
        "vault_fronted_ratio": round(vault["rps"] / fronted["rps"], 3),
        "native_p50_ms": round(native["p50_ms"], 2),
        "fronted_p50_ms": round(fronted["p50_ms"], 2),
        "vault_p50_ms": round(vault["p50_ms"], 2),
        "native_p99_ms": round(native["p99_ms"], 2),
        "fronted_p99_ms": round(fronted["p99_ms"], 2),
        "vault_p99_ms": round(vault["p99_ms"], 2),
        "backfill_rows": backfill.rows_seen,
        "backfill_cells": backfill.cells,
        "backfill_s": round(backfill_s, 2),
        "backfill_rows_per_s": round(backfill.rows_seen / backfill_s, 1),
        "backfill_cells_per_s": round(backfill.cells / backfill_s, 1),
        "write_rate": args.write_rate,
        "write_seconds": args.write_seconds,
        **lag_figures(follow),
        "clear_remaining": follow.last.clear_remaining,
    }


def report(result: dict[str, Any]) -> None:
    r = result
    print(
        f"fronting an OMS ({r['oms']}), {r['orders']} orders, {r['tool']}, "
        f"{r['connections']} connections, {r['duration_s']} s a run"
    )
    for label, name in (("own store", "native"), ("read-through", "fronted"), ("vault", "vault")):
        ratio = 1.0 if name == "native" else r["ratio" if name == "fronted" else "vault_ratio"]
        print(
            f"  {label:<12}: {r[name + '_rps']:>8.1f} req/s  x{ratio:.3f}  "
            f"p50 {r[name + '_p50_ms']} ms  p99 {r[name + '_p99_ms']} ms"
        )
    print(
        f"  backfill    : {r['backfill_rows']} rows, {r['backfill_cells']} cells in "
        f"{r['backfill_s']} s: {r['backfill_rows_per_s']} rows/s, "
        f"{r['backfill_cells_per_s']} cells/s"
    )
    print(
        f"  follow      : {r['written_orders']} orders ({r['written_rows']} rows) at "
        f"{r['write_rate_achieved']}/s (asked {r['write_rate']}), {r['follow_passes']} passes "
        f"(p50 {r['follow_pass_p50_s']} s, max {r['follow_pass_max_s']} s), "
        f"{r['follow_batches']} batches"
    )
    print(
        f"  follow lag  : p50 {r['follow_lag_p50_s']} s, p99 {r['follow_lag_p99_s']} s, "
        f"max {r['follow_lag_max_s']} s (the follower's own estimate: at most "
        f"{r['follow_reported_lag_max_s']} s at a pass's start)"
    )
    print(f"  clear values left in the OMS: {r['clear_remaining']} row(s)")


if __name__ == "__main__":
    main()
