"""The vault: personal values moved out of an existing order store, and its walks

`vault_records` holds one sealed value per cell of an existing table (system, table,
column, row key), named by the token left in the cell, with a blind index for
identifiers and the order's number for rows of the orders table. `vault_walks` holds
how far each backfill, follow or restore has come, so any of them resumes.

Revision ID: 8c5e1a9f3d72
Revises: 6a1f9c3e7d58
Create Date: 2026-12-04 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c5e1a9f3d72"
down_revision: str | None = "6a1f9c3e7d58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vault_records",
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("system", sa.String(length=40), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=True),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("dek_version", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("digest", sa.LargeBinary(), nullable=True),
        sa.Column("order_ref", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("request_key", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_vault_records_subject_id_data_subjects"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_vault_records")),
        sa.UniqueConstraint(
            "system", "dataset", "column_name", "row_key", name="uq_vault_records_cell"
        ),
        sa.UniqueConstraint(
            "system",
            "channel",
            "request_key",
            "dataset",
            "column_name",
            name="uq_vault_records_request",
        ),
    )
    op.create_index("ix_vault_records_subject", "vault_records", ["subject_id"])
    op.create_index("ix_vault_records_digest", "vault_records", ["system", "kind", "digest"])
    op.create_index("ix_vault_records_order_ref", "vault_records", ["order_ref"])
    op.create_table(
        "vault_walks",
        sa.Column("system", sa.String(length=40), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("last_key", sa.BigInteger(), nullable=True),
        sa.Column("last_mark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows_seen", sa.BigInteger(), nullable=False),
        sa.Column("cells_sealed", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("system", "dataset", "purpose", name=op.f("pk_vault_walks")),
    )


def downgrade() -> None:
    op.drop_table("vault_walks")
    op.drop_index("ix_vault_records_order_ref", table_name="vault_records")
    op.drop_index("ix_vault_records_digest", table_name="vault_records")
    op.drop_index("ix_vault_records_subject", table_name="vault_records")
    op.drop_table("vault_records")
