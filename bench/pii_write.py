"""Free-text detection on the write path: analyzer latency, and orders written per
second with detection on and off, in one run on the same machine.

Part 1 runs the gateway's detector over the texts of a labelled corpus (default:
the dev corpus copied in tests/data) and reports the latency per text (median,
p95, p99) and its cold start (building the analyzer, after the imports).

Part 2 writes N orders through the gateway's own order service (validation,
subject linking, blind index, AES-GCM sealing, detection, the SQL transaction:
everything a `POST /v1/orders` does but HTTP), each with a note and a gift
message drawn from the corpus, once with detection on and once off, each into a
new database, and prints orders/s for both and the ratio.

    python bench/pii_write.py [--orders 2000] [--corpus FILE]
                              [--rounds 2] [--database-url postgresql://...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.core import migrate  # noqa: E402
from gateway.core.principal import Principal  # noqa: E402
from gateway.core.settings import Settings  # noqa: E402
from gateway.demo.data import demo_orders  # noqa: E402
from gateway.orders.schemas import OrderIn  # noqa: E402
from gateway.pii.analyzer import Detector  # noqa: E402
from gateway.services import build_services  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "data" / "pii-dev.jsonl"


def texts_of(corpus: Path) -> list[str]:
    return [json.loads(line)["text"] for line in corpus.read_text("utf-8").splitlines() if line]


def analyzer_latency(texts: list[str], rounds: int = 5) -> dict[str, float]:
    started = time.perf_counter()
    detector = Detector()
    build_ms = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter_ns()
            detector.detect(text)
            samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    return {
        "texts": len(texts),
        "build_ms": round(build_ms, 2),
        "median_us": round(statistics.median(samples), 1),
        "p95_us": round(samples[int(len(samples) * 0.95)], 1),
        "p99_us": round(samples[int(len(samples) * 0.99)], 1),
        "mean_chars": round(statistics.mean(len(t) for t in texts), 1),
    }


def orders_with_text(count: int, texts: list[str]) -> list[OrderIn]:
    rng = random.Random(7)
    documents = []
    for i, doc in enumerate(demo_orders(count)):
        doc["external_id"] = f"BENCH-{i}"
        doc["note"], doc["gift_message"] = rng.choice(texts)[:500], rng.choice(texts)[:500]
        documents.append(OrderIn.model_validate(doc))
    return documents


async def write_rate(url: str, var_dir: Path, detection: bool, orders: list[OrderIn]) -> float:
    settings = Settings(database_url=url, var_dir=var_dir, pii_detection=detection)
    services = build_services(settings)
    writers = {
        order.channel: Principal(uuid.uuid4(), "bench-writer", "channel", channel=order.channel)
        for order in orders
    }
    try:
        started = time.perf_counter()
        for order in orders:
            await services.orders.create(writers[order.channel], order)
        return len(orders) / (time.perf_counter() - started)
    finally:
        await services.close()


async def fresh_postgres(base: str, name: str) -> str:
    import asyncpg

    admin = base.replace("postgresql://", "postgres://", 1)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return base.rsplit("/", 1)[0] + "/" + name


def write_rates(
    count: int, texts: list[str], database_url: str | None, rounds: int
) -> dict[str, Any]:
    """Alternate off/on rounds, each into a new database; keep each mode's best."""
    orders = orders_with_text(count, texts)
    rates: dict[str, float] = {"off": 0.0, "on": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            for detection in (False, True):
                label = "on" if detection else "off"
                name = f"{label}{n}"
                if database_url:
                    url = asyncio.run(fresh_postgres(database_url, f"opg_bench_pii_{name}"))
                else:
                    url = f"sqlite:///{tmp}/{name}.db"
                migrate.upgrade(Settings(database_url=url).sqlalchemy_url)
                rate = asyncio.run(write_rate(url, Path(tmp) / name, detection, orders))
                rates[label] = max(rates[label], rate)
    return {
        "orders": count,
        "rounds": rounds,
        "backend": "postgresql" if database_url else "sqlite",
        "orders_per_second_detection_off": round(rates["off"], 1),
        "orders_per_second_detection_on": round(rates["on"], 1),
        "ratio_on_to_off": round(rates["on"] / rates["off"], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL base URL (default: SQLite)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="off/on rounds (best kept)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    texts = texts_of(args.corpus)
    result = {
        "analyzer": analyzer_latency(texts),
        "writes": write_rates(args.orders, texts, args.database_url, args.rounds),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    a, w = result["analyzer"], result["writes"]
    print(
        f"analyzer: {a['texts']} texts of {a['mean_chars']} characters on average; "
        f"median {a['median_us']} µs, p95 {a['p95_us']} µs, p99 {a['p99_us']} µs per text; "
        f"built in {a['build_ms']} ms"
    )
    print(
        f"writes ({w['backend']}, {w['orders']} orders with a note and a gift message): "
        f"detection off {w['orders_per_second_detection_off']} orders/s, "
        f"on {w['orders_per_second_detection_on']} orders/s (ratio {w['ratio_on_to_off']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
