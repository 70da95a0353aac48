"""Free-text PII detection: spans stored with each order, and the detector's stamp

`note_pii` and `gift_message_pii` hold the detected spans of `note` and
`gift_message`, sealed under the subject's data key like the texts (so an erasure
that shreds the key destroys them too). `pii_version` names the detector that
produced them; `privacy-gateway pii redetect` re-runs detection where it differs.
Existing orders start with no spans: until re-detected, their free text is masked
whole wherever the policy shows it masked.

Revision ID: 4f6a2d8c1b95
Revises: e3b8a1c5d904
Create Date: 2026-11-30 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4f6a2d8c1b95"
down_revision: str | None = "e3b8a1c5d904"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("note_pii", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("gift_message_pii", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("pii_version", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("pii_version")
        batch.drop_column("gift_message_pii")
        batch.drop_column("note_pii")
