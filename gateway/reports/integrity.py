"""`audit-integrity`: is the log whole, which signed checkpoints fall in the period, and
which key signs them (its fingerprint, to compare with the one the DPO keeps).

The chain is verified from the last signed checkpoint before the period's first
entry (its signature and its entry checked, then every entry after it re-hashed
up to the head), or from
the first entry when the period starts before any checkpoint: a report on last
month does not re-hash years of log. The report says where verification started;
`privacy-gateway audit verify` checks the whole log at any time.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import func, select

from audit import (
    Checkpoint,
    Report,
    audit_checkpoints,
    audit_entries,
    format_time,
    key_id,
    snapshot,
)
from gateway.reports.document import Built, Code, Context, Label, Pair, Section, Table, When


async def _anchor(ctx: Context) -> Checkpoint | None:
    """The last checkpoint before the period's first entry (by sequence number, not by
    time: processes with different clocks may sign them)."""
    e, cp = audit_entries.c, audit_checkpoints.c
    first = (
        select(func.min(e.seq))
        .where(e.at >= format_time(ctx.header.period.since))
        .scalar_subquery()
    )
    head = ctx.header.chain_head.seq
    statement = (
        select(audit_checkpoints)
        .where(cp.seq < func.coalesce(first, head + 1))
        .order_by(cp.seq.desc())
        .limit(1)
    )
    async with snapshot(ctx.engine) as conn:
        row = (await conn.execute(statement)).first()
    return (
        None
        if row is None
        else Checkpoint(int(row.seq), row.head, row.at, row.key_id, row.signature)
    )


async def verify_period(ctx: Context) -> tuple[Report, dict[str, Any]]:
    """The verification report, and where it started (`from_seq`, the anchor if any)."""
    anchor = await _anchor(ctx)
    report = await ctx.log.verify(anchor=anchor, progress=ctx.progress)
    scope = {
        "from_seq": 1 if anchor is None else anchor.seq + 1,
        "anchor": None
        if anchor is None
        else {"seq": anchor.seq, "at": anchor.at, "head": anchor.head},
    }
    return report, scope


MAX_LISTED = 1000  # the newest checkpoints of the period; all are counted


async def _checkpoints(ctx: Context) -> tuple[int, list[dict[str, Any]]]:
    """How many checkpoints the period holds, and the newest of them (ascending): a
    year at one checkpoint a minute is half a million, too many to print."""
    period, head = ctx.header.period, ctx.header.chain_head
    cp = audit_checkpoints.c
    where = (
        cp.seq <= head.seq,
        cp.at >= format_time(period.since),
        cp.at < format_time(period.until),
    )
    newest = select(cp.seq, cp.head, cp.at, cp.key_id).where(*where)
    async with snapshot(ctx.engine) as conn:
        count = int((await conn.execute(select(func.count()).where(*where))).scalar_one())
        rows = await conn.execute(newest.order_by(cp.seq.desc()).limit(MAX_LISTED))
        listed = [{"seq": int(r.seq), "head": r.head, "at": r.at, "key_id": r.key_id} for r in rows]
    return count, listed[::-1]


async def build(ctx: Context) -> Built:
    report, scope = await verify_period(ctx)
    count, checkpoints = await _checkpoints(ctx)
    public = ctx.log.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = {
        "key_id": key_id(ctx.log.public_key),
        "algorithm": "Ed25519",
        "fingerprint_sha256": hashlib.sha256(public).hexdigest(),
    }
    verification = {**report.document(), **scope}
    data = {
        "verification": verification,
        "public_key": key,
        "checkpoints_in_period": count,
        "checkpoints": checkpoints,
    }
    columns = ("seq", "at", "head", "key_id")
    rows = [
        [c["seq"], When(c["at"], True), Code(c["head"]), Code(c["key_id"])] for c in checkpoints
    ]
    table = Table("checkpoints", columns, rows)
    anchor = scope["anchor"]
    facts = [
        ("verification_ok", report.ok),
        ("verified_from", scope["from_seq"]),
        (
            "anchor",
            None if anchor is None else Pair(Code(f"#{anchor['seq']}"), When(anchor["at"], True)),
        ),
        ("entries_checked", report.entries_checked),
        ("first_bad_sequence", report.first_bad_sequence),
        # The verifier's own words for a failure are evidence: quoted as it wrote them.
        ("reason", Label(report.reason) if report.ok else report.reason),
        ("checkpoints_in_period", count),
        ("checkpoints_listed", len(checkpoints)),
    ]
    key_facts = [
        ("key_id", Code(key["key_id"])),
        ("algorithm", key["algorithm"]),
        ("fingerprint_sha256", Code(key["fingerprint_sha256"])),
    ]
    sections = [
        Section("verification", facts=facts, paragraphs=["verification_scope"]),
        Section("public_key", facts=key_facts),
        Section("checkpoints", tables=[table]),
    ]
    return Built(data, sections, csv=table)
