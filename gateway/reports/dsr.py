"""`dsr-register`: every data subject request received in the period, and the SLA figures.

The deadline of a request is its legal one: the earlier of the GDPR deadline (one
month, or as extended) and the PIPL deadline. A request is
- `met` when it was completed, or rejected with its reasons (GDPR Art. 12(4)),
  by its deadline; `missed` when that happened after it, or when it is still
  open past it (as of the end of the period, or now if the period has not ended);
- `open` while it is still running within its deadline (including a request
  still waiting for its verification code);
- `not_applicable` when it expired unverified: no identified request to answer.
The SLA rate is met / (met + missed); completion times run from receipt to
completion (completed requests only), and the 95th percentile uses the
nearest-rank method.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import datetime
from typing import Any

from audit import snapshot
from gateway.privacy import hold_history, requests_received
from gateway.reports.document import Built, Code, Context, Label, Section, Table, When, iso

COLUMNS = (
    "request_id",
    "kind",
    "state",
    "received_at",
    "verified_at",
    "completed_at",
    "deadline_at",
    "extended",
    "outcome",
    "completion_hours",
    "holds",
    "reject_reason",
)
HOLD_COLUMNS = (
    "request_id",
    "held_at",
    "held_by",
    "hold_reason",
    "ended_at",
    "ended_as",
    "ended_by",
    "end_reason",
)


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `share` of values <= it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _outcome(row: Any, deadline: datetime, as_of: datetime) -> str:
    if row.state == "completed":
        return "met" if row.completed_at <= deadline else "missed"
    if row.state == "rejected":  # the reply with reasons is due by the deadline too
        return "met" if row.updated_at <= deadline else "missed"
    if row.state == "expired":  # never verified: no identified request to answer
        return "not_applicable"
    return "missed" if as_of > deadline else "open"


def _when(value: datetime | None) -> str | None:
    return None if value is None else iso(value)


def _hold(hold: Any) -> dict[str, Any]:
    """One hold and how it ended: a lifted hold stays in the register (who, when, why)."""
    return {
        "held_at": iso(hold.held_at),
        "held_by": hold.held_by,
        "hold_reason": hold.hold_reason,
        "ended_at": _when(hold.ended_at),
        "ended_as": hold.ended_as,
        "ended_by": hold.ended_by,
        "end_reason": hold.end_reason,
    }


async def collect(ctx: Context) -> list[dict[str, Any]]:
    period = ctx.header.period
    as_of = min(period.until, ctx.header.generated_at)
    rows = []
    async with snapshot(ctx.engine) as conn:  # read-only: no write lock on SQLite
        received = await requests_received(conn, period.since, period.until)
        holds = await hold_history(conn, [row.id for row in received])
        for row in received:
            deadline = min(row.gdpr_deadline_at, row.pipl_deadline_at)
            hours = None
            if row.completed_at is not None:
                hours = round((row.completed_at - row.received_at).total_seconds() / 3600, 2)
            rows.append(
                {
                    "request_id": str(row.id),
                    "kind": row.kind,
                    "state": row.state,
                    "received_at": iso(row.received_at),
                    "verified_at": _when(row.verified_at),
                    "completed_at": _when(row.completed_at),
                    "deadline_at": iso(deadline),
                    "extended": row.extension_reason is not None,
                    "outcome": _outcome(row, deadline, as_of),
                    "completion_hours": hours,
                    "holds": [_hold(hold) for hold in holds.get(row.id, [])],
                    "reject_reason": row.reject_reason,
                    "rejected_by": row.rejected_by,
                    "extension_reason": row.extension_reason,
                }
            )
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = Counter(row["outcome"] for row in rows)
    hours = [row["completion_hours"] for row in rows if row["completion_hours"] is not None]
    due = outcomes["met"] + outcomes["missed"]
    median = statistics.median(hours) if hours else None
    return {
        "requests": len(rows),
        "by_kind": dict(sorted(Counter(row["kind"] for row in rows).items())),
        "by_state": dict(sorted(Counter(row["state"] for row in rows).items())),
        "met": outcomes["met"],
        "missed": outcomes["missed"],
        "open": outcomes["open"],
        "not_applicable": outcomes["not_applicable"],
        "sla_rate": None if due == 0 else round(outcomes["met"] / due, 4),
        "median_completion_hours": None if median is None else round(median, 2),
        "p95_completion_hours": percentile(hours, 0.95),
        "legal_holds": sum(len(row["holds"]) for row in rows),
        "legal_holds_lifted": sum(
            1 for row in rows for hold in row["holds"] if hold["ended_as"] == "lifted"
        ),
        "rejections": sum(1 for row in rows if row["state"] == "rejected"),
        "extensions": sum(1 for row in rows if row["extended"]),
    }


TIMES = ("received_at", "verified_at", "completed_at", "deadline_at", "held_at", "ended_at")


def _cell(column: str, value: Any) -> Any:
    """A register value as a person reads it; the CSV form shows the same as codes."""
    if column == "holds":
        return len(value)
    if value is None:
        return None
    if column in ("kind", "state", "outcome", "ended_as"):
        return Label(value)
    if column == "request_id":
        return Code(value)
    if column in TIMES:
        return When(value)
    return value


async def build(ctx: Context) -> Built:
    rows = await collect(ctx)
    totals = summarise(rows)
    table = Table("requests", COLUMNS, [[_cell(c, row[c]) for c in COLUMNS] for row in rows])
    # On paper the holds and the reasons are in their own tables below: twelve columns
    # do not fit A4 without breaking words.
    shown = tuple(c for c in COLUMNS if c not in ("holds", "reject_reason"))
    on_page = Table("requests", shown, [[_cell(c, row[c]) for c in shown] for row in rows])
    holds = [{"request_id": r["request_id"]} | hold for r in rows for hold in r["holds"]]
    rejections = [r for r in rows if r["state"] == "rejected"]
    sections = [
        Section(
            "totals",
            facts=[(k, v) for k, v in totals.items() if k not in ("by_kind", "by_state")],
            paragraphs=["sla_rule"],
        ),
        Section("by_state", facts=[(f"value.{k}", v) for k, v in totals["by_state"].items()]),
        Section("requests", tables=[on_page]),
        Section(
            "legal_holds",
            tables=[
                Table(
                    "legal_holds",
                    HOLD_COLUMNS,
                    [[_cell(c, hold[c]) for c in HOLD_COLUMNS] for hold in holds],
                )
            ],
        ),
        Section(
            "rejections",
            tables=[
                Table(
                    "rejections",
                    ("request_id", "reject_reason", "rejected_by"),
                    [
                        [Code(r["request_id"]), r["reject_reason"], r["rejected_by"]]
                        for r in rejections
                    ],
                )
            ],
        ),
    ]
    return Built({"totals": totals, "requests": rows}, sections, csv=table)
