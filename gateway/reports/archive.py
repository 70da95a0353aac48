"""Kept copies of the PIPL reports: PIPL Art. 56 asks for the impact assessment
report and the processing record to be kept for at least three years.

Every `pipl-pia` and `pipl-audit` generated is stored here as its JSON document
(whatever form was asked for), with its SHA-256; the log entry of the generation
names the copy. The migration makes the table refuse UPDATE always, and DELETE
of a copy whose `keep_until` has not passed, on both databases.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, Table, Text, Uuid, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.clock import add_months
from gateway.core.db import UtcDateTime, metadata
from gateway.reports.document import Header, iso

ARCHIVED = frozenset({"pipl-pia", "pipl-audit"})
KEEP_YEARS = 3

report_archive = Table(
    "report_archive",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("report", String(32), nullable=False),
    Column("lang", String(2), nullable=False),
    Column("generated_at", UtcDateTime, nullable=False),
    Column("generated_by", String(100), nullable=False),
    Column("period_since", UtcDateTime, nullable=False),
    Column("period_until", UtcDateTime, nullable=False),
    Column("chain_head", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("keep_until", UtcDateTime, nullable=False),
    Index("ix_report_archive_report_generated_at", "report", "generated_at"),
)


@dataclass(frozen=True, slots=True)
class Kept:
    id: uuid.UUID
    sha256: str
    keep_until: datetime
    header: Header
    document: bytes


def prepare(header: Header, document: bytes) -> Kept:
    """A copy to keep: its id and digest are known (and logged) before it is stored."""
    return Kept(
        uuid.uuid4(),
        hashlib.sha256(document).hexdigest(),
        add_months(header.generated_at, 12 * KEEP_YEARS),
        header,
        document,
    )


async def keep(conn: AsyncConnection, kept: Kept) -> None:
    header, document = kept.header, kept.document
    await conn.execute(
        insert(report_archive).values(
            id=kept.id,
            report=header.report,
            lang=header.lang,
            generated_at=header.generated_at,
            generated_by=header.generated_by,
            period_since=header.period.since,
            period_until=header.period.until,
            chain_head=header.chain_head.seq,
            sha256=kept.sha256,
            document=document.decode("utf-8"),
            keep_until=kept.keep_until,
        )
    )


def summary(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "report": row.report,
        "lang": row.lang,
        "generated_at": iso(row.generated_at),
        "generated_by": row.generated_by,
        "period": {"since": iso(row.period_since), "until": iso(row.period_until)},
        "chain_head": int(row.chain_head),
        "sha256": row.sha256,
        "keep_until": iso(row.keep_until),
    }


async def listing(conn: AsyncConnection, report: str | None, limit: int) -> list[dict[str, Any]]:
    a = report_archive.c
    columns = [c for c in report_archive.c if c.name != "document"]
    query = select(*columns).order_by(a.generated_at.desc(), a.chain_head.desc()).limit(limit)
    if report is not None:
        query = query.where(a.report == report)
    return [summary(row) for row in await conn.execute(query)]


async def fetch(conn: AsyncConnection, kept_id: uuid.UUID) -> Any:
    query = select(report_archive).where(report_archive.c.id == kept_id)
    return (await conn.execute(query)).first()
