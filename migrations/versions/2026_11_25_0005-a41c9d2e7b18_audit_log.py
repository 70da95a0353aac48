"""The tamper-evident audit log: entries, refs, checkpoints, head; append-only triggers

The database itself refuses UPDATE, DELETE and TRUNCATE on entries, refs and
checkpoints, and any move of the head other than forwards: whoever holds the
application's credentials cannot quietly rewrite history (someone who can drop
triggers can, which is what the hash chain and signed checkpoints then catch).

Revision ID: a41c9d2e7b18
Revises: 3b9e6c1f5a27
Create Date: 2026-11-25 14:00:00
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from audit import append_only_statements_v1, drop_statements_v1

revision: str = "a41c9d2e7b18"
down_revision: str | None = "3b9e6c1f5a27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _genesis() -> str:
    # SHA-256("opg/audit/genesis/v1"): the documented previous hash of entry 1.
    return hashlib.sha256(b"opg/audit/genesis/v1").hexdigest()


def _tables() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("resource", sa.String(length=200), nullable=False),
        sa.Column("orders", sa.Text(), nullable=False),
        sa.Column("subjects", sa.Text(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("grant_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=500), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
    )
    for column in ("at", "actor", "action"):
        op.create_index(op.f(f"ix_audit_entries_{column}"), "audit_entries", [column])
    op.create_table(
        "audit_refs",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("kind", "ref", "seq", name=op.f("pk_audit_refs")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("checkpoint_seq", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_at", sa.String(length=32), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": _genesis(), "checkpoint_seq": 0}])


def upgrade() -> None:
    _tables()
    # The audit library owns its append-only rules; this revision installs version 1.
    for statement in append_only_statements_v1(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    # Dropping a table drops its triggers on both databases.
    for table in ("audit_head", "audit_checkpoints", "audit_refs", "audit_entries"):
        op.drop_table(table)
    for statement in drop_statements_v1(op.get_bind().dialect.name):
        op.execute(statement)
