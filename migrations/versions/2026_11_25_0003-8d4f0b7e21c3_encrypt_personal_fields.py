"""Personal fields as ciphertext, per-subject data keys, blind-indexed identifiers

Orders' personal columns become binary (AES-256-GCM ciphertext); `subject_keys`
holds each subject's wrapped data key; `subject_identifiers` keeps a keyed blind
index and the encrypted value instead of the plaintext.

Plaintext rows cannot be converted here (the migration has no keys): on a store
that already holds orders it stops with instructions instead of losing data.

Revision ID: 8d4f0b7e21c3
Revises: 5c1e7d2a9b40
Create Date: 2026-11-25 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d4f0b7e21c3"
down_revision: str | None = "5c1e7d2a9b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENCRYPTED = [
    ("customer_name", False),
    ("customer_phone", True),
    ("customer_email", True),
    ("customer_id_number", True),
    ("ship_detail", False),
    ("payment_transaction_id", True),
    ("note", True),
    ("gift_message", True),
]


def _refuse_if_orders_exist() -> None:
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM orders")).scalar_one()
    if count:
        raise RuntimeError(
            f"the store holds {count} orders with personal data in clear, which this "
            "migration cannot encrypt (it has no keys). Export them as JSON Lines, "
            "start from an empty store and `privacy-gateway import` them; for the "
            "embedded demo, delete var/gateway.db* and run `make run` again."
        )


def upgrade() -> None:
    _refuse_if_orders_exist()
    op.create_table(
        "subject_keys",
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("dek_version", sa.Integer(), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_subject_keys_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_keys")),
    )
    op.drop_table("subject_identifiers")
    op.create_table(
        "subject_identifiers",
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=8), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_subject_identifiers_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "subject_id", "kind", "digest", name=op.f("pk_subject_identifiers")
        ),
    )
    op.create_index("ix_subject_identifiers_kind_digest", "subject_identifiers", ["kind", "digest"])
    with op.batch_alter_table("orders") as batch_op:
        for column, _ in ENCRYPTED:
            batch_op.drop_column(column)
    # The table is empty (checked above), so NOT NULL columns need no default.
    with op.batch_alter_table("orders") as batch_op:
        for column, nullable in ENCRYPTED:
            batch_op.add_column(sa.Column(column, sa.LargeBinary(), nullable=nullable))


def downgrade() -> None:
    _refuse_if_orders_exist()
    with op.batch_alter_table("orders") as batch_op:
        for column, _ in ENCRYPTED:
            batch_op.drop_column(column)
    with op.batch_alter_table("orders") as batch_op:
        for column, nullable in ENCRYPTED:
            batch_op.add_column(
                sa.Column(
                    column, sa.Text(), nullable=nullable, server_default=None if nullable else ""
                )
            )
    op.drop_index("ix_subject_identifiers_kind_digest", table_name="subject_identifiers")
    op.drop_table("subject_identifiers")
    op.create_table(
        "subject_identifiers",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_subject_identifiers_subject_id_data_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_subject_identifiers")),
    )
    op.create_index(
        op.f("ix_subject_identifiers_subject_id"), "subject_identifiers", ["subject_id"]
    )
    op.drop_table("subject_keys")
