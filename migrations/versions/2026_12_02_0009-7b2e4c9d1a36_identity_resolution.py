"""Identity resolution: candidate links, request scopes, objections, an order lookup index

- `subject_links`: subjects that share an identifier and may be one person, for a DPO to
  confirm or reject (new orders no longer add identifiers to an existing subject).
- `privacy_scope`: the subjects a verified request covers; `privacy_objections`: one-time
  codes sent to the other contacts of those subjects; `privacy_requests.order_id` (the
  order the contact was matched on) and `cooling_off_until` (an erasure waits until then).
- `ix_orders_external_id`: a public request names an order by its number alone.

Existing links are kept (orders stay under their subjects), but no longer trusted for
requests: every request verified from now on covers only the orders carrying the verified
contact. Requests verified before, and not finished, are put on hold with a reason, so a
DPO checks what they cover before they run on.

Revision ID: 7b2e4c9d1a36
Revises: 4f6a2d8c1b95
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "7b2e4c9d1a36"
down_revision: str | None = "4f6a2d8c1b95"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_HOLD = (
    "verified before identity resolution (0.2): it covers every order its record held, "
    "including orders that may not be this person's; check its scope, then lift the hold"
)


def upgrade() -> None:
    op.create_table(
        "subject_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_a", sa.Uuid(), nullable=False),
        sa.Column("subject_b", sa.Uuid(), nullable=False),
        sa.Column("shared", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_a"],
            ["data_subjects.id"],
            name=op.f("fk_subject_links_subject_a_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_b"],
            ["data_subjects.id"],
            name=op.f("fk_subject_links_subject_b_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_links")),
        sa.UniqueConstraint(
            "subject_a", "subject_b", name=op.f("uq_subject_links_subject_a_subject_b")
        ),
    )
    op.create_index("ix_subject_links_state_created_at", "subject_links", ["state", "created_at"])
    op.create_index("ix_subject_links_subject_b", "subject_links", ["subject_b"])
    op.create_table(
        "privacy_scope",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["privacy_requests.id"],
            name=op.f("fk_privacy_scope_request_id_privacy_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_privacy_scope_subject_id_data_subjects"),
        ),
        sa.PrimaryKeyConstraint("request_id", "subject_id", name=op.f("pk_privacy_scope")),
    )
    op.create_index("ix_privacy_scope_subject_id", "privacy_scope", ["subject_id"])
    op.create_table(
        "privacy_objections",
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["privacy_requests.id"],
            name=op.f("fk_privacy_objections_request_id_privacy_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_privacy_objections")),
    )
    op.create_index("ix_privacy_objections_request_id", "privacy_objections", ["request_id"])
    with op.batch_alter_table("privacy_requests") as batch:
        batch.add_column(sa.Column("order_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("cooling_off_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_orders_external_id", "orders", ["external_id"])
    requests = sa.table(
        "privacy_requests",
        sa.column("state", sa.String),
        sa.column("held_from", sa.String),
        sa.column("hold_reason", sa.Text),
        sa.column("hold_by", sa.String),
        sa.column("held_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # how the gateway stores UTC times there
    op.execute(
        requests.update()
        .where(requests.c.state.in_(("verified", "in_progress")))
        .values(
            held_from=requests.c.state,
            state="on_hold",
            hold_reason=LEGACY_HOLD,
            hold_by="migration 0009",
            held_at=now,
        )
    )


def downgrade() -> None:
    op.drop_index("ix_orders_external_id", table_name="orders")
    with op.batch_alter_table("privacy_requests") as batch:
        batch.drop_column("cooling_off_until")
        batch.drop_column("order_id")
    op.drop_index("ix_privacy_objections_request_id", table_name="privacy_objections")
    op.drop_table("privacy_objections")
    op.drop_index("ix_privacy_scope_subject_id", table_name="privacy_scope")
    op.drop_table("privacy_scope")
    op.drop_index("ix_subject_links_subject_b", table_name="subject_links")
    op.drop_index("ix_subject_links_state_created_at", table_name="subject_links")
    op.drop_table("subject_links")
