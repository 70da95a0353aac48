"""Hold history: every legal hold of a request, and how it ended

Until now a request kept only its current hold: a lifted hold left no trace in the
register or the DSR report (the audit log has always had it). `privacy_holds` keeps
each hold (who, when, why, from which state) and its end (lifted or rejected, who,
when, why). Holds open at the upgrade are carried over; holds lifted before it are
only in the audit log.

Revision ID: 9d3f6b1e8a24
Revises: c4a9e2f7b310
Create Date: 2026-12-02 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d3f6b1e8a24"
down_revision: str | None = "c4a9e2f7b310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_holds",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_by", sa.String(length=100), nullable=False),
        sa.Column("held_from", sa.String(length=16), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=100), nullable=True),
        sa.Column("ended_as", sa.String(length=8), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["privacy_requests.id"],
            name=op.f("fk_privacy_holds_request_id_privacy_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "number", name=op.f("pk_privacy_holds")),
    )
    # The holds in place now, as the first of each request's history.
    op.execute(
        "INSERT INTO privacy_holds (request_id, number, held_at, held_by, held_from, "
        "hold_reason) SELECT id, 1, held_at, hold_by, held_from, hold_reason "
        "FROM privacy_requests WHERE state = 'on_hold' AND hold_reason IS NOT NULL "
        "AND held_at IS NOT NULL AND hold_by IS NOT NULL AND held_from IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("privacy_holds")
