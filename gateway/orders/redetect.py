"""Re-running free-text detection over stored orders, when the recognizers improve.

Each order's spans carry the stamp of the detector that found them
(`pii_version`); this job finds the orders with free text whose stamp differs
from the running detector's (or all of them), opens the text under the
subject's key, detects again (with the customer's name as a hint, as at write
time) and stores the new spans. Batches are read, detected outside any
transaction, then written in one short transaction each, each row only if it is
as it was read (stamp, subject, free text, no restriction since): a concurrent run,
write or erasure is never overwritten.

Orders whose subject's key is shredded (erased) or whose processing is
restricted (an erasure is under way, GDPR Art. 18) are left alone and counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.orders import sealing, tables
from gateway.orders.tables import orders
from gateway.pii import Detector
from gateway.subjects import KeyRow, SubjectKeys, subject_keys

_TEXT = tuple(tables.SPAN_COLUMNS)  # document paths of the free-text fields


@dataclass
class RedetectReport:
    detector: str
    scanned: int = 0
    updated: int = 0
    spans: dict[str, int] = field(default_factory=dict)
    skipped_shredded: int = 0
    skipped_restricted: int = 0
    skipped_changed: int = 0

    def details(self) -> dict[str, Any]:
        """For the audit log: counts and types only, never a value."""
        return {
            "detector": self.detector,
            "scanned": self.scanned,
            "updated": self.updated,
            "spans": dict(sorted(self.spans.items())),
            "skipped_shredded": self.skipped_shredded,
            "skipped_restricted": self.skipped_restricted,
            "skipped_changed": self.skipped_changed,
        }


def _due(version: str, everything: bool) -> ColumnElement[bool]:
    has_text = or_(*(orders.c[tables.ORDER_COLUMNS[p]].is_not(None) for p in _TEXT))
    if everything:
        return has_text
    stale = or_(orders.c.pii_version.is_(None), orders.c.pii_version != version)
    return and_(has_text, stale)


async def count_due(engine: AsyncEngine, version: str, *, everything: bool = False) -> int:
    """How many orders hold free text scanned by another detector version (or none)."""
    async with engine.connect() as conn:
        query = select(func.count()).select_from(orders).where(_due(version, everything))
        return int((await conn.execute(query)).scalar_one())


_BATCH_COLUMNS = (
    orders.c.id,
    orders.c.pii_version,
    orders.c.customer_name,
    *(orders.c[tables.ORDER_COLUMNS[p]] for p in _TEXT),
    orders.c.subject_id,
    subject_keys.c.dek_version,
    subject_keys.c.kek_version,
    subject_keys.c.wrapped_key,
    subject_keys.c.restricted_since,
)


async def redetect(
    engine: AsyncEngine,
    subjects: SubjectKeys,
    detector: Detector,
    *,
    everything: bool = False,
    batch_size: int = 200,
    progress: Callable[[int], None] | None = None,
) -> RedetectReport:
    """Re-detect every due order; `everything` also redoes those already current."""
    report = RedetectReport(detector.version)
    after: uuid.UUID | None = None
    while True:
        conditions = [_due(detector.version, everything)]
        if after is not None:
            conditions.append(orders.c.id > after)
        query = (
            select(*_BATCH_COLUMNS)
            .select_from(
                orders.outerjoin(subject_keys, subject_keys.c.subject_id == orders.c.subject_id)
            )
            .where(*conditions)
            .order_by(orders.c.id)
            .limit(batch_size)
        )
        async with engine.connect() as conn:
            rows = list(await conn.execute(query))
        if not rows:
            return report
        after = rows[-1].id
        updates = [
            (row._mapping, u)
            for row in rows
            if (u := _detect_row(row._mapping, subjects, detector, report))
        ]
        async with engine.begin() as conn:
            for row, values in updates:
                result = await conn.execute(
                    update(orders)
                    .where(*_unchanged_since_read(row))
                    .values(pii_version=detector.version, **values)
                )
                if result.rowcount == 1:
                    report.updated += 1
                else:
                    report.skipped_changed += 1
        report.scanned += len(rows)
        if progress is not None:
            progress(len(rows))


def _unchanged_since_read(row: Any) -> list[ColumnElement[bool]]:
    """The row as it was read: same stamp, same subject (a kept order moves to a new
    one), same free text (an erasure clears it), and the subject not restricted since
    (an erasure has begun). Otherwise the new spans are not written."""
    same = [orders.c.id == row["id"], orders.c.subject_id == row["subject_id"]]
    version = row["pii_version"]
    same.append(
        orders.c.pii_version.is_(None) if version is None else orders.c.pii_version == version
    )
    for path in _TEXT:
        column = orders.c[tables.ORDER_COLUMNS[path]]
        sealed = row[tables.ORDER_COLUMNS[path]]
        same.append(column.is_(None) if sealed is None else column == sealed)
    restricted = (
        select(subject_keys.c.subject_id)
        .where(
            subject_keys.c.subject_id == row["subject_id"],
            subject_keys.c.restricted_since.is_not(None),
        )
        .exists()
    )
    same.append(~restricted)
    return same


def _detect_row(
    row: Any, subjects: SubjectKeys, detector: Detector, report: RedetectReport
) -> dict[str, bytes | None] | None:
    if row["restricted_since"] is not None:
        report.skipped_restricted += 1
        return None
    if row["wrapped_key"] is None:
        report.skipped_shredded += 1
        return None
    key = subjects.unwrap(
        KeyRow(row["subject_id"], row["dek_version"], row["kek_version"], row["wrapped_key"])
    )
    order_id = row["id"]
    name_column = tables.ORDER_COLUMNS["customer.name"]
    name = sealing.decrypt(key, row[name_column], name_column, order_id)
    values: dict[str, bytes | None] = {}
    for path in _TEXT:
        sealed_text = row[tables.ORDER_COLUMNS[path]]
        if sealed_text is None:
            values[tables.SPAN_COLUMNS[path]] = None
            continue
        text = sealing.decrypt(key, sealed_text, tables.ORDER_COLUMNS[path], order_id)
        found = detector.detect(text, known_names=[name])
        for span in found:
            report.spans[span.type] = report.spans.get(span.type, 0) + 1
        values[tables.SPAN_COLUMNS[path]] = sealing.seal_spans(found, path, key, order_id)
    return values
