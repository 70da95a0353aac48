"""Key check values: a wrong but well-formed key stops start-up

`key_checks` holds one value per key: for each KEK version a random canary sealed
under it (AES-GCM), for the blind-index key a keyed hash of a fixed label. Neither
reveals the key. Existing stores get their values at the next start, after the keys
were tried on a stored data key and identifier.

Revision ID: c4a9e2f7b310
Revises: 7b2e4c9d1a36
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4a9e2f7b310"
down_revision: str | None = "7b2e4c9d1a36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_checks",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "version", name=op.f("pk_key_checks")),
    )


def downgrade() -> None:
    op.drop_table("key_checks")
