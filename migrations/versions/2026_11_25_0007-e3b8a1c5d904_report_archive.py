"""Report archive: kept copies of the PIPL reports (PIPL Art. 56: at least three years)

The table refuses UPDATE always and DELETE of a copy whose `keep_until` has not
passed, on both databases, so a kept report cannot be quietly rewritten or dropped.

Revision ID: e3b8a1c5d904
Revises: c7d2e9f4a613
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3b8a1c5d904"
down_revision: str | None = "c7d2e9f4a613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_archive",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_by", sa.String(length=100), nullable=False),
        sa.Column("period_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chain_head", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_archive")),
    )
    op.create_index(
        "ix_report_archive_report_generated_at", "report_archive", ["report", "generated_at"]
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _postgres_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION report_archive_kept() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'DELETE' OR OLD.keep_until > now() THEN
                RAISE EXCEPTION 'kept reports are not changed or deleted early: % refused',
                    TG_OP;
            END IF;
            RETURN OLD;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER report_archive_kept BEFORE UPDATE OR DELETE ON report_archive "
        "FOR EACH ROW EXECUTE FUNCTION report_archive_kept()"
    )
    op.execute(
        "CREATE TRIGGER report_archive_no_truncate BEFORE TRUNCATE ON report_archive "
        "FOR EACH STATEMENT EXECUTE FUNCTION report_archive_kept()"
    )


def _sqlite_triggers() -> None:
    # SQLite stores the UTC time as 'YYYY-MM-DD HH:MM:SS.ffffff': it compares as text
    # with datetime('now') ('YYYY-MM-DD HH:MM:SS').
    op.execute(
        "CREATE TRIGGER report_archive_no_update BEFORE UPDATE ON report_archive "
        "BEGIN SELECT RAISE(ABORT, 'kept reports are not changed'); END"
    )
    op.execute(
        "CREATE TRIGGER report_archive_kept BEFORE DELETE ON report_archive "
        "WHEN OLD.keep_until > datetime('now') "
        "BEGIN SELECT RAISE(ABORT, 'kept reports are not deleted before keep_until'); END"
    )
    # INSERT OR REPLACE deletes the old row without firing delete triggers: refuse
    # any insert that names a kept id.
    op.execute(
        "CREATE TRIGGER report_archive_no_replace BEFORE INSERT ON report_archive "
        "WHEN EXISTS (SELECT 1 FROM report_archive WHERE id = NEW.id) "
        "BEGIN SELECT RAISE(ABORT, 'kept reports are not replaced'); END"
    )


def downgrade() -> None:
    op.drop_table("report_archive")  # drops its triggers on both databases
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION report_archive_kept()")
