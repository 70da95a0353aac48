"""Helpers of bench/fronted_read.py: the OMS's database, the vault's backfill timed,
and its follower timed under a steady write rate (bench/oms_writer.py).
"""

from __future__ import annotations

import asyncio
import math
import pickle
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import column, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from gateway.core.settings import Settings
from gateway.demo import LEGACY_SCHEMA
from gateway.services import build_services
from gateway.systems import async_url
from gateway.vault import Step, Summary, VaultPlan, is_token
from gateway.vault.sealing import text_of

ROOT = Path(__file__).resolve().parent.parent
Rows = dict[str, list[dict[str, Any]]]


# --- the OMS -------------------------------------------------------------------------


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def oms_database(server_url: str, workdir: Path) -> Iterator[str]:
    """A new, empty database for the OMS, so no run sees another's tables or tokens: a
    SQLite file of the run (or the SQLite URL given), else a database created on the
    server that `server_url` names (its own database is only connected to), dropped
    after."""
    if not server_url or server_url.startswith("sqlite"):
        yield server_url or f"sqlite:///{workdir / 'oms.db'}"
        return
    name = f"opg_bench_oms_{uuid.uuid4().hex[:8]}"
    postgres = server_url.startswith("postgres")
    quoted = f'"{name}"' if postgres else f"`{name}`"
    asyncio.run(_admin(server_url, f"CREATE DATABASE {quoted}"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        force = " WITH (FORCE)" if postgres else ""
        asyncio.run(_admin(server_url, f"DROP DATABASE IF EXISTS {quoted}{force}"))


async def create_oms(url: str, rows: Rows) -> None:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
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


def split_rows(rows: Rows, orders: int) -> tuple[Rows, list[dict[str, Any]]]:
    """The OMS's first `orders` orders (with their customers and lines), and the orders
    after them as the writer takes them: each with its lines, and its customer when
    the order is that customer's first (the demo's customers come back, so many new
    orders are of a customer the OMS has). Customer keys are given in order of first
    appearance, so the first orders' customers are a prefix."""
    seeded_orders = rows["orders"][:orders]
    last_customer = max(int(o["customer_id"]) for o in seeded_orders)
    last_order = int(seeded_orders[-1]["order_id"])
    seeded = {
        "customers": [c for c in rows["customers"] if int(c["customer_id"]) <= last_customer],
        "orders": seeded_orders,
        "order_lines": [x for x in rows["order_lines"] if int(x["order_id"]) <= last_order],
    }
    customers = {int(c["customer_id"]): c for c in rows["customers"]}
    lines: dict[int, list[dict[str, Any]]] = {}
    for line in rows["order_lines"]:
        lines.setdefault(int(line["order_id"]), []).append(line)
    later: list[dict[str, Any]] = []
    for order in rows["orders"][orders:]:
        cid = int(order["customer_id"])
        new = cid > last_customer
        last_customer = max(last_customer, cid)
        later.append(
            {
                "customer": customers[cid] if new else None,
                "order": order,
                "lines": lines[int(order["order_id"])],
            }
        )
    return seeded, later


# --- the backfill --------------------------------------------------------------------


async def timed_backfill(settings: Settings, system: str) -> tuple[Summary, float]:
    """`vault backfill` as the CLI runs it (the services built first, not timed)."""
    services = build_services(settings)
    try:
        start = time.perf_counter()
        summary = await services.vault.backfill(system)
        return summary, time.perf_counter() - start
    finally:
        await services.close()


# --- the follower under writes -------------------------------------------------------


@dataclass(slots=True)
class FollowRun:
    """What the follower did while the writer wrote, and when each row became tokens."""

    passes: list[float] = field(default_factory=list)  # each pass's seconds
    batches: int = 0  # batches whose tokens were written
    reported_lag: list[float] = field(default_factory=list)  # Summary.lag_seconds
    cells: int = 0
    tokenised_at: dict[tuple[str, int], float] = field(default_factory=dict)
    last: Summary | None = None
    written: dict[str, Any] = field(default_factory=dict)  # the writer's result


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (no interpolation, fine for a handful of values)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def _tokenised(
    oms: AsyncEngine, plan: VaultPlan, after: dict[str, int], done: set[tuple[str, int]]
) -> list[tuple[str, int]]:
    """Rows written since the seed (keys beyond `after`) holding no clear personal
    value any more, not counted before."""
    found: list[tuple[str, int]] = []
    async with oms.connect() as conn:
        for t in plan.tables:
            cells = [c.column for c in t.cells]
            shape = table(t.name, column(t.key), *(column(c) for c in cells))
            query = select(shape).where(shape.c[t.key] > after[t.name])
            for row in (await conn.execute(query)).mappings():
                key = (t.name, int(row[t.key]))
                if key in done:
                    continue
                if all(text_of(row[c]) is None or is_token(row[c]) for c in cells):
                    found.append(key)
    return found


async def follow_under_writes(
    settings: Settings,
    system: str,
    job: dict[str, Any],
    after: dict[str, int],
    workdir: Path,
    catch_up_passes: int = 50,
) -> FollowRun:
    """Start the writer and run `follow_once` back to back while it writes; stop when
    the writer is done and every row it wrote holds tokens (at most `catch_up_passes`
    passes after). A pass walks on while new rows keep coming, so a row's time is
    taken when the batch that tokenised it has committed its tokens (the walk's
    "tokenised" step), not at the end of its pass: then the rows written since the
    seed are read (a few hundred, by key) and those newly holding no clear value are
    stamped."""
    job_file, out_file = workdir / "writer-job.pickle", workdir / "writer-result.pickle"
    job_file.write_bytes(pickle.dumps(job))
    args = [sys.executable, "-m", "bench.oms_writer", str(job_file), str(out_file)]
    run = FollowRun()
    services = build_services(settings)
    plan = services.vault.plan(system)
    # One pooled connection for the checks: a new one per batch would slow the follower.
    oms = create_async_engine(async_url(job["url"]), pool_size=1, max_overflow=0)

    async def stamp(step: Step) -> None:
        if step.phase != "tokenised" or not step.rows:
            return
        now = time.time()
        run.batches += 1
        for key in await _tokenised(oms, plan, after, set(run.tokenised_at)):
            run.tokenised_at[key] = now

    writer = subprocess.Popen(args, cwd=ROOT)
    try:
        after_writer = 0
        while True:
            start = time.time()
            summary = await services.vault.follow_once(system, progress=stamp)
            run.passes.append(time.time() - start)
            run.cells += summary.cells
            run.last = summary
            if summary.lag_seconds is not None:
                run.reported_lag.append(summary.lag_seconds)
            if writer.poll() is None:
                continue
            if writer.returncode != 0:
                raise RuntimeError(f"the OMS writer failed (exit {writer.returncode})")
            if not run.written:
                run.written = pickle.loads(out_file.read_bytes())  # noqa: S301 - ours
            wanted = {(name, key) for name, key, _ in run.written["committed"]}
            if wanted <= set(run.tokenised_at):
                return run
            after_writer += 1
            if after_writer > catch_up_passes:
                missing = len(wanted - set(run.tokenised_at))
                raise RuntimeError(f"{missing} written row(s) still clear after the writer")
    finally:
        if writer.poll() is None:
            writer.terminate()
            writer.wait(timeout=10)
        await oms.dispose()
        await services.close()


def lag_figures(run: FollowRun) -> dict[str, Any]:
    """Per written row, the time from its commit to the batch after which it held tokens
    (never below 0: the writer takes its time just after its commit returns, and the
    follower may have seen the row first)."""
    committed = run.written["committed"]
    lags = [max(0.0, run.tokenised_at[(name, key)] - at) for name, key, at in committed]
    order_times = [at for name, _, at in committed if name == "orders"]
    span = order_times[-1] - order_times[0]
    return {
        "written_orders": len(order_times),
        "written_rows": len(committed),
        "write_rate_achieved": round((len(order_times) - 1) / span, 1) if span > 0 else None,
        "follow_passes": len(run.passes),
        "follow_pass_p50_s": round(percentile(run.passes, 0.5), 3),
        "follow_pass_max_s": round(max(run.passes), 3),
        "follow_batches": run.batches,
        "follow_cells": run.cells,
        "follow_lag_p50_s": round(percentile(lags, 0.5), 3),
        "follow_lag_p99_s": round(percentile(lags, 0.99), 3),
        "follow_lag_max_s": round(max(lags), 3),
        "follow_reported_lag_max_s": (
            round(max(run.reported_lag), 3) if run.reported_lag else None
        ),
    }
