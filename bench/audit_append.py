"""Audit log append throughput: entries per second at 1, 8 and 64 concurrent writers.

Each writer appends entries shaped like an order read (one order, one subject,
the fields customer_service sees) and waits for its commit, as a request does.
Group commit lets concurrent writers share transactions; the figures show how
far that carries.

    python bench/audit_append.py [--seconds 5] [--writers 1,8,64]
                                 [--database-url postgresql://...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audit import AuditLog, Draft, LogPolicy, Outcome  # noqa: E402
from gateway.core import migrate  # noqa: E402
from gateway.core.db import make_engine  # noqa: E402
from gateway.core.settings import Settings  # noqa: E402
from gateway.crypto import load_keys  # noqa: E402

FIELDS = {
    "customer.name": "clear_after_2fa",
    "customer.phone": "clear_after_2fa",
    "customer.email": "clear_after_2fa",
    "shipping_address.detail": "masked",
    "shipping_address.province": "clear",
    "shipping_address.city": "clear",
    "items.sku": "clear",
    "items.name": "clear",
    "total_amount": "clear",
    "payment.transaction_id": "masked",
    "order_id": "clear",
    "status": "clear",
}


def _draft() -> Draft:
    order = str(uuid.uuid4())
    return Draft(
        at=datetime.now(UTC),
        actor="cs-bench",
        action="orders.read",
        outcome=Outcome.ALLOWED,
        resource=f"orders/{order}",
        orders=[order],
        subjects=[uuid.uuid4().hex],
        fields=FIELDS,
        request_id=uuid.uuid4().hex,
        client="127.0.0.1",
    )


async def run(url: str, key: Ed25519PrivateKey, writers: int, seconds: float) -> dict[str, Any]:
    engine = make_engine(url, pool_size=4)
    log = AuditLog(engine, key, lambda: datetime.now(UTC), LogPolicy())
    stop = time.perf_counter() + seconds
    counts = [0] * writers

    async def writer(i: int) -> None:
        while time.perf_counter() < stop:
            await log.append(_draft())
            counts[i] += 1

    try:
        await log.append(_draft())  # warm up: connection, head row
        commits_before = log.commits
        start = time.perf_counter()
        await asyncio.gather(*(writer(i) for i in range(writers)))
        elapsed = time.perf_counter() - start
        commits = log.commits - commits_before
        report = await log.verify()
    finally:
        await log.close()
        await engine.dispose()
    total = sum(counts)
    return {
        "writers": writers,
        "entries_per_s": round(total / elapsed, 1),
        "mean_batch": round(total / max(commits, 1), 1),
        "chain_ok": report.ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers", default="1,8,64")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # A given database keeps its signing key between runs (its chain spans them).
        keys_dir = None
        if args.database_url:
            digest = hashlib.sha256(args.database_url.encode()).hexdigest()[:12]
            keys_dir = ROOT / "var" / "bench" / digest / "keys"
        settings = Settings(
            database_url=args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}",
            var_dir=Path(tmp),
            keys_dir=keys_dir,
        )
        migrate.upgrade(settings.sqlalchemy_url)
        key = load_keys(settings).audit_signing_key
        results = [
            asyncio.run(run(settings.sqlalchemy_url, key, int(n), args.seconds))
            for n in args.writers.split(",")
        ]
    database = settings.sqlalchemy_url.split(":", 1)[0].split("+", maxsplit=1)[0]
    if args.json:
        print(json.dumps({"database": database, "results": results}))
        return
    print(f"audit log appends, {database}, {args.seconds:g}s per run")
    for r in results:
        print(
            f"  {r['writers']:>3} writers: {r['entries_per_s']:>9.1f} entries/s, "
            f"{r['mean_batch']:>6.1f} entries per commit, chain ok: {r['chain_ok']}"
        )


if __name__ == "__main__":
    main()
