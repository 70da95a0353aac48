"""The OMS's own system taking new orders at a fixed rate, for bench/fronted_read.py.

A process of its own, as the retailer's order system is: the vault's follower and
this writer then compete for the CPU and the database as they would in a pilot,
and the writer's pacing is not held up by the follower's sealing (nor by one GIL).

    python -m bench.oms_writer JOB.pickle RESULT.pickle

JOB holds the URL, the rate and the orders to write (each with its lines, and its
customer where the order brings a new one). Each order is one transaction; its
`created_time` is the time it is written (UTC, the map's zone), so the follower's
own lag estimate is comparable. RESULT lists (table, key, commit time) per row, the
commit time taken by `time.time()` just after the commit returned (wall clock, so
another process can compare it with its own).
"""

from __future__ import annotations

import asyncio
import pickle
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.systems import async_url  # noqa: E402


async def _insert(conn: AsyncConnection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    marks = ", ".join(f":{c}" for c in columns)
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    await conn.execute(text(insert), rows)


async def write(job: dict[str, Any]) -> dict[str, Any]:
    """Write the job's orders one by one at its rate (sleeping only until the next
    order is due; a writer behind schedule does not sleep)."""
    engine = create_async_engine(async_url(job["url"]), pool_size=1)
    committed: list[tuple[str, int, float]] = []
    try:
        async with engine.connect():  # the connection made before the clock starts
            pass
        start = time.perf_counter()
        began = time.time()
        for number, order in enumerate(job["orders"]):
            delay = start + number / job["rate"] - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            now = datetime.now(UTC).replace(tzinfo=None)
            row = {**order["order"], "created_time": now.isoformat(sep=" ") if job["text"] else now}
            async with engine.begin() as conn:
                if order["customer"] is not None:
                    await _insert(conn, "customers", [order["customer"]])
                await _insert(conn, "orders", [row])
                await _insert(conn, "order_lines", order["lines"])
            at = time.time()
            if order["customer"] is not None:
                committed.append(("customers", int(order["customer"]["customer_id"]), at))
            committed.append(("orders", int(row["order_id"]), at))
        return {"committed": committed, "began": began, "seconds": time.perf_counter() - start}
    finally:
        await engine.dispose()


def main() -> None:
    job = pickle.loads(Path(sys.argv[1]).read_bytes())  # noqa: S301 - the bench's own file
    result = asyncio.run(write(job))
    Path(sys.argv[2]).write_bytes(pickle.dumps(result))


if __name__ == "__main__":
    main()
