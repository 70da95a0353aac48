"""Whole-chain requests: one step per system of the map, and the subject's identities

`privacy_system_steps` holds each system's part of a request: its status (pending,
waiting for a callback or a person, failed, done), attempts, last error (no
personal data), when it may be tried again, the delivery id the system deduplicates
on, its evidence, and for an access request the data it returned, sealed under the
subject's key until the export is built. `privacy_requests.identities_sealed` holds
the values that identify the subject in other systems, sealed under the subject's
key, gathered before the gateway's own copy is erased.

Revision ID: 6a1f9c3e7d58
Revises: d3a8f1c6e270
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6a1f9c3e7d58"
down_revision: str | None = "d3a8f1c6e270"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        batch.add_column(sa.Column("identities_sealed", sa.LargeBinary(), nullable=True))
    op.create_table(
        "privacy_system_steps",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("system", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("data_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["privacy_requests.id"],
            name="fk_privacy_system_steps_request_id_privacy_requests",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "system", name="pk_privacy_system_steps"),
        sa.UniqueConstraint("delivery_id", name="uq_privacy_system_steps_delivery_id"),
    )


def downgrade() -> None:
    op.drop_table("privacy_system_steps")
    with op.batch_alter_table("privacy_requests") as batch:
        batch.drop_column("identities_sealed")
