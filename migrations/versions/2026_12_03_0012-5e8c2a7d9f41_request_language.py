"""Request language: notices in the language the subject asked in

A request made on the /privacy page remembers the page's language, and one made
through the API may name it; notices about it (code, extension, rejection) are then
written in that language only. Requests made before the upgrade have none: their
notices keep coming in Chinese and English.

Revision ID: 5e8c2a7d9f41
Revises: 9d3f6b1e8a24
Create Date: 2026-12-03 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e8c2a7d9f41"
down_revision: str | None = "9d3f6b1e8a24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        batch.add_column(sa.Column("lang", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        batch.drop_column("lang")
