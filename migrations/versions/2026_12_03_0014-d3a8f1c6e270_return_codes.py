"""Return codes: a customer who closed the tab comes back to their request

At verification the verified contact is sent a return code (its keyed hash is kept
here, with when it expires). It opens the request once, in any browser, and issues a
new status token; the message never carries the status token itself. Requests
verified before the upgrade have none.

Revision ID: d3a8f1c6e270
Revises: b71d4e0c9a52
Create Date: 2026-12-03 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d3a8f1c6e270"
down_revision: str | None = "b71d4e0c9a52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        batch.add_column(sa.Column("return_hash", sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column("return_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        batch.drop_column("return_expires_at")
        batch.drop_column("return_hash")
