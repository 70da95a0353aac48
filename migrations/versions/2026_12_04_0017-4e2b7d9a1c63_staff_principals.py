"""Staff principals: people and apps vouched for by an identity provider

`principals` also holds the people (and the provider's apps acting for themselves)
that sign in through the company's OpenID Connect provider: `kind` tells them from
the gateway's own token holders, `issuer` and `subject` say who they are at the
provider, `display_name` is for the DPO's look-up (never in the log). They have no
gateway token, so `token_id` and `token_hash` become optional; `name` grows to fit
`app:<issuer>:<client id>`.

Revision ID: 4e2b7d9a1c63
Revises: 8c5e1a9f3d72
Create Date: 2026-12-04 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e2b7d9a1c63"
down_revision: str | None = "8c5e1a9f3d72"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("principals") as batch:
        batch.alter_column("name", type_=sa.String(length=128), existing_nullable=False)
        batch.alter_column("token_id", existing_type=sa.String(length=32), nullable=True)
        batch.alter_column("token_hash", existing_type=sa.LargeBinary(length=32), nullable=True)
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="service")
        )
        batch.add_column(sa.Column("issuer", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM principals WHERE kind <> 'service'")
    with op.batch_alter_table("principals") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("display_name")
        batch.drop_column("subject")
        batch.drop_column("issuer")
        batch.drop_column("kind")
        batch.alter_column("token_hash", existing_type=sa.LargeBinary(length=32), nullable=False)
        batch.alter_column("token_id", existing_type=sa.String(length=32), nullable=False)
        batch.alter_column("name", type_=sa.String(length=100), existing_nullable=False)
