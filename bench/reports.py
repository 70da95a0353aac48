"""Reports over a big log: time and memory of `access` at N/10 and N entries, in one run.

Fills a new database's audit log with N entries shaped like the gateway's own
(order reads, lists, reveals with purposes, refusals, workflow steps, by ~60
principals of every role), properly chained and checkpointed, then runs
`privacy-gateway report access` (a separate process, as an operator would) at a
tenth of the log and at the whole log, and prints:

- the report's wall time, and the ratio to a direct database read of the same
  rows (the columns the report reads, fetched through the same driver and
  SQLAlchemy Core, nothing else);
- the report process's peak memory (max RSS) at N/10 and at N: flat means the
  ratio stays near 1 while the log grows tenfold;
- `audit-integrity` at N over the whole log (every hash, every signature from the
  first entry), and over the last tenth of the log's time (verified from the last
  signed checkpoint before it, as a monthly report on a long log is);
- the records the generator wrote, and the records the report counted (equal).

    python bench/reports.py [--entries 1000000] [--database-url postgresql://...] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audit.checkpoint import sign  # noqa: E402
from audit.entry import GENESIS_HASH, Entry  # noqa: E402
from audit.store import (  # noqa: E402
    audit_checkpoints,
    audit_entries,
    audit_head,
    audit_refs,
    entry_values,
    ref_values,
)
from gateway.core import migrate  # noqa: E402
from gateway.core.settings import Settings  # noqa: E402
from gateway.services import build_services  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=7)  # a million entries span about 81 days
PERIOD = ("2025-12-01", "2027-01-01")
CHUNK = 10_000
PURPOSES = [
    "customer called about a lost parcel",
    "refund to the original payment account",
    "courier cannot reach the customer",
    "complaint escalated by the store",
]
ROLES = [
    ("cs", "customer_service", 30),
    ("wh", "warehouse", 15),
    ("fin", "finance", 5),
    ("an", "analyst", 5),
    ("dpo", "dpo", 2),
]
COLUMNS = [c.name for c in audit_entries.c]


@dataclass
class Generator:
    """Entries in the gateway's shape; counts what it wrote, as the report should."""

    levels: dict[str, dict[str, str]]
    revealing: dict[str, str]
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    records: int = 0
    reveals: int = 0
    denials: int = 0
    orders: list[str] = field(default_factory=lambda: [str(uuid.uuid4()) for _ in range(5000)])
    principals: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for prefix, role, count in ROLES:
            self.principals += [(f"{prefix}-{i:02d}", role) for i in range(count)]

    def creations(self) -> list[dict[str, Any]]:
        return [
            {
                "actor": "operator",
                "action": "principal.create",
                "resource": f"principals/{n}",
                "details": {"role": role, "region": None, "channel": None},
            }
            for n, role in self.principals
        ]

    def one(self) -> dict[str, Any]:
        rng = self.rng
        name, role = rng.choice(self.principals)
        roll = rng.random()
        if roll < 0.02:
            self.denials += 1
            action = rng.choice(["orders.search", "audit.search", "report.access"])
            return {
                "actor": name,
                "action": action,
                "outcome": "denied",
                "resource": "orders",
                "details": {"status": 403, "reason": f"role {role!r} may not do this"},
            }
        if roll < 0.10:
            return {
                "actor": "operator",
                "action": "privacy.step",
                "resource": "privacy/x",
                "details": {"step": "orders", "records": rng.randint(1, 5)},
            }
        reveal = role == "customer_service" and (roll < 0.13 or (name == "cs-00" and roll < 0.4))
        if reveal:
            self.reveals += 1
            self.records += 1
            return {
                "actor": name,
                "action": "orders.reveal",
                "resource": "orders/x",
                "orders": [rng.choice(self.orders)],
                "subjects": [uuid.uuid4().hex],
                "fields": self.revealing[role],
                "purpose": rng.choice(PURPOSES),
                "details": {"revealed": ["customer.phone"]},
            }
        if roll < 0.28:
            count = rng.randint(1, 10)
            self.records += count
            return {
                "actor": name,
                "action": "orders.list",
                "resource": "orders",
                "orders": rng.sample(self.orders, count),
                "subjects": [uuid.uuid4().hex for _ in range(count)],
                "fields": self.levels[role],
                "details": {"count": count},
            }
        self.records += 1
        return {
            "actor": name,
            "action": "orders.read",
            "resource": "orders/x",
            "orders": [rng.choice(self.orders)],
            "subjects": [uuid.uuid4().hex],
            "fields": self.levels[role],
        }


def _entry(seq: int, at: datetime, spec: dict[str, Any]) -> Entry:
    return Entry(
        seq=seq,
        at=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        actor=spec["actor"],
        action=spec["action"],
        outcome=spec.get("outcome", "allowed"),
        resource=spec["resource"],
        orders=tuple(spec.get("orders", ())),
        subjects=tuple(sorted(spec.get("subjects", ()))),
        fields=spec.get("fields", {}),
        grant=None,
        purpose=spec.get("purpose"),
        request_id=None,
        client=None,
        details=spec.get("details", {}),
    )


async def fill(services: Any, gen: Generator, upto: int, state: dict[str, Any]) -> None:
    """Append entries up to sequence number `upto`, chained and checkpointed."""
    key = services.keys.audit_signing_key
    async with services.engine.begin() as conn:
        while state["seq"] < upto:
            entries: list[Entry] = []
            specs = gen.creations() if state["seq"] == 0 else []
            while len(entries) < CHUNK and state["seq"] < upto:
                state["seq"] += 1
                spec = specs.pop(0) if specs else gen.one()
                entry = _entry(state["seq"], START + STEP * state["seq"], spec)
                entry = entry.chained(state["hash"])
                state["hash"] = bytes.fromhex(entry.hash)
                entries.append(entry)
            rows = [dict(zip(COLUMNS, entry_values(e), strict=True)) for e in entries]
            await conn.execute(insert(audit_entries), rows)
            refs = [{"kind": k, "ref": r, "seq": s} for k, r, s in ref_values(entries)]
            if refs:
                await conn.execute(insert(audit_refs), refs)
            last = entries[-1]
            cp = sign(key, last.seq, last.hash, last.at)
            await conn.execute(insert(audit_checkpoints).values(**cp.document()))
            await conn.execute(
                update(audit_head).values(
                    seq=last.seq, hash=last.hash, checkpoint_seq=cp.seq, checkpoint_at=cp.at
                )
            )
            print(f"  filled {state['seq']:,} / {upto:,}", file=sys.stderr, end="\r")
    print(file=sys.stderr)


def run_report(env: dict[str, str], name: str, out: Path, since: str = PERIOD[0]) -> dict[str, Any]:
    """One `privacy-gateway report` process: wall time, and its own peak memory."""
    command = str(Path(sys.executable).parent / "privacy-gateway")
    args = [command, "report", name, "--since", since, "--until", PERIOD[1], "-o", str(out)]
    began = time.perf_counter()
    process = subprocess.Popen(args, env={**os.environ, **env}, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"report {name} failed: {process.stderr.read().decode()}")  # type: ignore[union-attr]
    return {"seconds": round(seconds, 2), "max_rss_mb": round(usage.ru_maxrss / 1024, 1)}


async def follow_head(services: Any, state: dict[str, Any]) -> None:
    async with services.engine.connect() as conn:
        row = (await conn.execute(select(audit_head.c.seq, audit_head.c.hash))).one()
    state["seq"], state["hash"] = int(row.seq), bytes.fromhex(row.hash)


async def direct_read(services: Any) -> float:
    """The same rows the report reads, fetched with no report around them."""
    began = time.perf_counter()
    async with services.engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT actor, action, outcome, fields, details, purpose FROM audit_entries "
                "WHERE at >= :since AND at < :until"
            ),
            {"since": PERIOD[0], "until": PERIOD[1]},
        )
        rows = len(result.all())
    seconds = time.perf_counter() - began
    print(f"  direct read: {rows:,} rows in {seconds:.2f} s", file=sys.stderr)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="A new, empty database.")
    parser.add_argument("--json", action="store_true", help="One JSON object on the last line.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opg-bench-reports-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        env = {"GATEWAY_DATABASE_URL": url, "GATEWAY_VAR_DIR": f"{tmp}/var"}
        settings = Settings(database_url=url, var_dir=Path(tmp) / "var")
        migrate.upgrade(settings.sqlalchemy_url)
        figures = asyncio.run(measure(settings, env, args.entries, Path(tmp)))
    figures["database"] = "postgresql" if url.startswith("postgresql") else "sqlite"
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>28}: {value}")


async def measure(settings: Settings, env: dict[str, str], n: int, tmp: Path) -> dict[str, Any]:
    services = build_services(settings)
    try:
        policy = services.policy
        levels = {role: dict(plan.shown_levels) for role, plan in policy.plans.items()}
        revealing = {
            role: dict(policy.revealing(plan, frozenset({"customer.phone"})).shown_levels)
            for role, plan in policy.plans.items()
        }
        gen = Generator(levels, revealing)
        state: dict[str, Any] = {"seq": 0, "hash": GENESIS_HASH}
        small = max(n // 10, 100)
        await fill(services, gen, small, state)
        at_small = run_report(env, "access", tmp / "small.json")
        await follow_head(services, state)  # the report logged itself
        await fill(services, gen, n, state)
        at_full = run_report(env, "access", tmp / "full.json")
        integrity = run_report(env, "audit-integrity", tmp / "integrity.json")
        # The last tenth of the log's time: verified from the last checkpoint before it.
        recent_since = (START + STEP * (n - n // 10)).isoformat()
        recent = run_report(env, "audit-integrity", tmp / "recent.json", since=recent_since)
        direct = await direct_read(services)
    finally:
        await services.close()
    report = json.loads((tmp / "full.json").read_text("utf-8"))
    verified = json.loads((tmp / "integrity.json").read_text("utf-8"))["verification"]
    recently = json.loads((tmp / "recent.json").read_text("utf-8"))["verification"]
    return {
        "entries": n,
        "access_seconds": at_full["seconds"],
        "direct_read_seconds": round(direct, 4),
        "ratio_to_direct_read": round(at_full["seconds"] / round(direct, 4), 2),
        "access_max_rss_mb_at_tenth": at_small["max_rss_mb"],
        "access_max_rss_mb": at_full["max_rss_mb"],
        "rss_growth_for_10x_entries": round(at_full["max_rss_mb"] / at_small["max_rss_mb"], 2),
        "integrity_seconds": integrity["seconds"],
        "integrity_max_rss_mb": integrity["max_rss_mb"],
        "integrity_ok": verified["ok"],
        "integrity_entries_checked": verified["entries_checked"],
        "recent_tenth_integrity_seconds": recent["seconds"],
        "recent_tenth_entries_checked": recently["entries_checked"],
        "recent_tenth_integrity_ok": recently["ok"],
        "records_written": gen.records,
        "records_reported": report["totals"]["records"],
        "reveals_written": gen.reveals,
        "reveals_reported": report["totals"]["reveals"],
        "outliers": [o["principal"] for o in report["outliers"]],
    }


if __name__ == "__main__":
    main()
