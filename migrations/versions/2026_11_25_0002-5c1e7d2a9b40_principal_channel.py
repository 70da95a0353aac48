"""principals.channel: a channel-scoped principal writes its own channel's orders only

Revision ID: 5c1e7d2a9b40
Revises: 159ef300882b
Create Date: 2026-11-25 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e7d2a9b40"
down_revision: str | None = "159ef300882b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("principals") as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("principals") as batch_op:
        batch_op.drop_column("channel")
