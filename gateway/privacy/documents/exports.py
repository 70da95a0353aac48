"""The access export (GDPR Art. 15 and 20, PIPL Art. 45): everything held about a subject.

Machine-readable JSON: the orders with every field in clear, the requests the
subject made, and who read their data and when (from the audit log). Built by
the workflow, sealed under the subject's key, downloadable with the status
token until it expires, then deleted by the sweeper.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, select
from sqlalchemy.ext.asyncio import AsyncConnection

from audit import Entry
from gateway.core.clock import utc_text
from gateway.crypto import decrypt_field
from gateway.orders import ITEM_COLUMNS, ORDER_COLUMNS, order_items, orders
from gateway.privacy.model import store
from gateway.subjects import SubjectKey

EXPORT_FORMAT = "opg-access-export/v1"


async def build_export(
    conn: AsyncConnection,
    keys: Sequence[SubjectKey],
    scope: dict[str, Any],
    reads: Sequence[Entry],
    now: datetime,
) -> dict[str, Any]:
    """The export of the records in a request's scope (`keys`, one per record)."""
    found: list[dict[str, Any]] = []
    requests: dict[uuid.UUID, Any] = {}
    for key in keys:
        found += await _orders(conn, key, key.subject_id)
        for r in await store.requests_of_subject(conn, key.subject_id):
            requests[r.id] = r
    found.sort(key=lambda order: (order["created_at"], order["order_id"]))
    return {
        "format": EXPORT_FORMAT,
        "generated_at": utc_text(now),
        "legal_basis": ["GDPR Art. 15", "GDPR Art. 20", "PIPL Art. 45"],
        "scope": scope,
        "orders": found,
        "requests": [
            {
                "request_id": str(r.id),
                "kind": r.kind,
                "state": r.state,
                "received_at": utc_text(r.received_at),
                "completed_at": None if r.completed_at is None else utc_text(r.completed_at),
            }
            for r in sorted(requests.values(), key=lambda r: (r.received_at, str(r.id)))
        ],
        "accesses": [
            {
                "at": e.at,
                "by": e.actor,
                "action": e.action,
                "outcome": e.outcome,
                "fields": dict(e.fields),
                "purpose": e.purpose,
            }
            for e in reads
        ],
    }


async def _orders(
    conn: AsyncConnection, key: SubjectKey, subject_id: uuid.UUID
) -> list[dict[str, Any]]:
    assert key.dek is not None  # noqa: S101 - exports are built for live subjects
    rows = list(
        await conn.execute(
            select(orders).where(orders.c.subject_id == subject_id).order_by(orders.c.created_at)
        )
    )
    result = []
    for row in rows:
        document: dict[str, Any] = {}
        for path, column in ORDER_COLUMNS.items():
            value = row._mapping[column]
            if isinstance(orders.c[column].type, LargeBinary) and value:
                value = decrypt_field(
                    key.dek,
                    value,
                    table="orders",
                    column=column,
                    row_id=row.id,
                    dek_version=key.dek_version,
                )
            elif isinstance(value, datetime):
                value = utc_text(value)
            elif isinstance(value, uuid.UUID):
                value = str(value)
            document[path] = value
        items = await conn.execute(
            select(*(order_items.c[c] for c in ITEM_COLUMNS.values()))
            .where(order_items.c.order_id == row.id)
            .order_by(order_items.c.position)
        )
        document["items"] = [dict(item._mapping) for item in items]
        result.append(document)
    return result
