"""`audit-integrity`: is the log whole, which signed checkpoints fall in the period, and
which key signs them (its fingerprint, to compare with the one the DPO keeps)."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from audit.checkpoint import key_id
from audit.entry import format_time
from audit.store import audit_checkpoints, snapshot
from gateway.reports.document import Built, Context, Section, Table


async def build(ctx: Context) -> Built:
    report = await ctx.log.verify()
    period, head = ctx.header.period, ctx.header.chain_head
    cp = audit_checkpoints.c
    statement = (
        select(cp.seq, cp.head, cp.at, cp.key_id)
        .where(
            cp.seq <= head.seq,
            cp.at >= format_time(period.since),
            cp.at < format_time(period.until),
        )
        .order_by(cp.seq)
    )
    async with snapshot(ctx.engine) as conn:
        checkpoints = [
            {"seq": int(r.seq), "head": r.head, "at": r.at, "key_id": r.key_id}
            for r in await conn.execute(statement)
        ]
    public = ctx.log.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = {
        "key_id": key_id(ctx.log.public_key),
        "algorithm": "Ed25519",
        "fingerprint_sha256": hashlib.sha256(public).hexdigest(),
    }
    verification = report.document()
    data = {"verification": verification, "public_key": key, "checkpoints": checkpoints}
    columns = ("seq", "at", "head", "key_id")
    table = Table("checkpoints", columns, [[c[k] for k in columns] for c in checkpoints])
    facts = [
        ("verification_ok", report.ok),
        ("entries_checked", report.entries_checked),
        ("first_bad_sequence", report.first_bad_sequence),
        ("reason", report.reason),
        ("checkpoints_in_period", len(checkpoints)),
    ]
    sections = [
        Section("verification", facts=facts, paragraphs=["verification_scope"]),
        Section("public_key", facts=list(key.items())),
        Section("checkpoints", tables=[table]),
    ]
    return Built(data, sections, csv=table)
