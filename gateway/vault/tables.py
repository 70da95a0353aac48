"""The vault's tables: the personal values moved out of an existing store, and how far
each walk over its tables has come.

A vault record is one value of one cell of an existing table (system, table, column,
row key), sealed under the data subject's key, named by the token left in that cell.
A record the token API made before its row existed has no row key until the row is
seen (`bound`); the first row to carry the token binds it, so a token copied into
another row or column opens nothing there.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)

from gateway.core.db import UtcDateTime, metadata

vault_records = Table(
    "vault_records",
    metadata,
    Column("token", String(16), primary_key=True),
    Column("system", String(40), nullable=False),
    Column("dataset", String(64), nullable=False),  # the existing table
    Column("column_name", String(64), nullable=False),
    # The row's key in its table, as text; NULL until a row carries a token API's token.
    Column("row_key", String(64), nullable=True),
    Column("subject_id", Uuid, ForeignKey("data_subjects.id", ondelete="RESTRICT"), nullable=False),
    Column("dek_version", Integer, nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    # Blind index of an identifying value (phone, email, id_number): search, and what a
    # privacy request finds the subject's records by. NULL for other values, and once
    # the subject is erased.
    Column("kind", String(16), nullable=True),
    Column("digest", LargeBinary, nullable=True),
    # The order's number (channel's external id) for a record of the orders table: a
    # privacy request names an order by it.
    Column("order_ref", String(64), nullable=True),
    # Made by the token API: the channel that asked, and its idempotency key.
    Column("channel", String(32), nullable=True),
    Column("request_key", String(80), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("erased_at", UtcDateTime, nullable=True),
    UniqueConstraint("system", "dataset", "column_name", "row_key", name="uq_vault_records_cell"),
    UniqueConstraint(
        "system",
        "channel",
        "request_key",
        "dataset",
        "column_name",
        name="uq_vault_records_request",
    ),
    Index("ix_vault_records_subject", "subject_id"),
    Index("ix_vault_records_digest", "system", "kind", "digest"),
    Index("ix_vault_records_order_ref", "order_ref"),
)

vault_walks = Table(
    "vault_walks",
    metadata,
    Column("system", String(40), primary_key=True),
    Column("dataset", String(64), primary_key=True),
    Column("purpose", String(16), primary_key=True),  # backfill | follow | restore
    # The last key done: the walk resumes after it (a batch is redone whole after a crash).
    Column("last_key", BigInteger, nullable=True),
    # The follower's watermark (the newest change time it has tokenised up to), if the
    # map names a watermark column: rows the store's own system changes are seen again.
    Column("last_mark", UtcDateTime, nullable=True),
    Column("rows_seen", BigInteger, nullable=False),
    Column("cells_sealed", BigInteger, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
)
