"""DPO approval: verified requests that wait for a DPO before they run

With GATEWAY_PRIVACY_APPROVAL set to `erasure` or `all`, a request verified after the
upgrade is marked `approval_required` and runs only once a DPO approved it (who, when,
why). Requests verified before the upgrade need no approval, as before.

Revision ID: b71d4e0c9a52
Revises: 5e8c2a7d9f41
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b71d4e0c9a52"
down_revision: str | None = "5e8c2a7d9f41"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        batch.add_column(
            sa.Column("approval_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("approved_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("approval_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        for column in ("approval_reason", "approved_at", "approved_by", "approval_required"):
            batch.drop_column(column)
