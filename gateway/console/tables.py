"""Console sessions: one row per signed-in DPO or auditor, found by a hash of the
session cookie (never the cookie itself)."""

from __future__ import annotations

from sqlalchemy import Column, LargeBinary, String, Table, Uuid

from gateway.core.db import UtcDateTime, metadata

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", LargeBinary(32), primary_key=True),
    Column("principal_id", Uuid, nullable=False),
    Column("principal_name", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
)
