"""Console sessions

One row per signed-in DPO or auditor of the console: the SHA-256 of the session
cookie (never the cookie), who signed in, when it was opened and last used, and when
it ended (sign-out, idle time, age).

Revision ID: 9b3c5e7f2a14
Revises: 4e2b7d9a1c63
Create Date: 2026-12-04 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b3c5e7f2a14"
down_revision: str | None = "4e2b7d9a1c63"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("principal_name", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id_hash", name="pk_console_sessions"),
    )


def downgrade() -> None:
    op.drop_table("console_sessions")
