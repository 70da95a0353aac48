"""Data subjects: the people orders belong to, and the identifiers that link them.

One subject per person as far as the gateway can tell: the same normalised phone
or e-mail means the same subject. Identifiers are kept in their own table so that
the encryption issue can replace the values with keyed blind indexes without
touching orders, and an erasure can drop them with the subject.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Uuid, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.db import UtcDateTime, metadata

data_subjects = Table(
    "data_subjects",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

subject_identifiers = Table(
    "subject_identifiers",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column(
        "subject_id",
        Uuid,
        ForeignKey("data_subjects.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
)


async def link_subject(
    conn: AsyncConnection, identifiers: dict[str, str | None], now: datetime
) -> uuid.UUID:
    """Find the subject owning any of `identifiers` (kind -> normalised value), or create one.

    Identifiers not yet known are attached to the subject found, so a later order
    with only the e-mail still reaches the same person. Kinds are looked up in the
    order given: the first match wins if two subjects would match.
    """
    known = {kind: value for kind, value in identifiers.items() if value}
    subject_id: uuid.UUID | None = None
    owned: set[str] = set()
    for kind, value in known.items():
        row = (
            await conn.execute(
                select(subject_identifiers.c.subject_id).where(
                    subject_identifiers.c.kind == kind, subject_identifiers.c.value == value
                )
            )
        ).first()
        if row is None:
            continue
        owned.add(kind)
        if subject_id is None:
            subject_id = row.subject_id
    if subject_id is None:
        subject_id = uuid.uuid4()
        await conn.execute(insert(data_subjects).values(id=subject_id, created_at=now))
    for kind, value in known.items():
        if kind not in owned:
            await conn.execute(
                insert(subject_identifiers).values(kind=kind, value=value, subject_id=subject_id)
            )
    return subject_id
