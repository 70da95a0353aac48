"""Data subject requests: requests, steps, outbox, rate limits; restriction and retention

Adds `subject_keys.restricted_since` (restriction while an erasure runs) and
`orders.retention_rule` / `orders.retained_until` (records kept by law after an
erasure). Plain ADD COLUMNs: no table is rebuilt, no row is touched.

Revision ID: c7d2e9f4a613
Revises: a41c9d2e7b18
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7d2e9f4a613"
down_revision: str | None = "a41c9d2e7b18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "subject_keys", sa.Column("restricted_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("orders", sa.Column("retention_rule", sa.String(length=64), nullable=True))
    op.add_column("orders", sa.Column("retained_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_orders_retained_until", "orders", ["retained_until"])
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("contact_kind", sa.String(length=8), nullable=True),
        sa.Column("contact_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("contact_key", sa.LargeBinary(length=16), nullable=True),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_failures", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("target_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gdpr_deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pipl_deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extended_by", sa.String(length=100), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("hold_by", sa.String(length=100), nullable=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("held_from", sa.String(length=16), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("rejected_by", sa.String(length=100), nullable=True),
        sa.Column("sla", sa.String(length=16), nullable=False),
        sa.Column("verification_failures", sa.Integer(), nullable=False),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("match_digests", sa.Text(), nullable=True),
        sa.Column("certificate", sa.Text(), nullable=True),
        sa.Column("export_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("export_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_privacy_requests_subject_id_data_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index(
        "ix_privacy_requests_state_received_at", "privacy_requests", ["state", "received_at"]
    )
    op.create_index("ix_privacy_requests_subject_id", "privacy_requests", ["subject_id"])
    op.create_table(
        "privacy_steps",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["privacy_requests.id"],
            name=op.f("fk_privacy_steps_request_id_privacy_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "name", name=op.f("pk_privacy_steps")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_subject_id", "outbox", ["subject_id"])
    op.create_table(
        "rate_limits",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.LargeBinary(length=16), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", "window_start", name=op.f("pk_rate_limits")),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
    op.drop_index("ix_outbox_subject_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("privacy_steps")
    op.drop_index("ix_privacy_requests_subject_id", table_name="privacy_requests")
    op.drop_index("ix_privacy_requests_state_received_at", table_name="privacy_requests")
    op.drop_table("privacy_requests")
    op.drop_index("ix_orders_retained_until", table_name="orders")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("retained_until")
        batch_op.drop_column("retention_rule")
    with op.batch_alter_table("subject_keys") as batch_op:
        batch_op.drop_column("restricted_since")
