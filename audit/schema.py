"""The log's schema and the database rules that keep it append-only.

The tables are `audit.store.metadata`. The triggers make the database itself refuse
UPDATE, DELETE and TRUNCATE on entries, refs and checkpoints, and any move of the head
other than forwards: whoever holds the application's credentials cannot quietly
rewrite history (someone who can drop triggers can; the hash chain and the signed
checkpoints then catch it).

An application with its own migrations (the gateway's Alembic revision 0005) creates
the tables there and runs `append_only_statements_v1`; anything else calls `create`.
The version is in the name: a change to the rules is a new function (`..._v2`), never
an edit, because a migration that ran once must mean the same thing forever.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.entry import GENESIS_HASH
from audit.store import audit_head, metadata

APPEND_ONLY: Final = ("audit_entries", "audit_refs", "audit_checkpoints")

_POSTGRES_FUNCTIONS: Final = (
    """
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
    END $$
    """,
    """
    CREATE FUNCTION audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' OR NEW.seq < OLD.seq OR NEW.checkpoint_seq < OLD.checkpoint_seq
        THEN
            RAISE EXCEPTION 'the audit head only moves forward: % refused', TG_OP;
        END IF;
        RETURN NEW;
    END $$
    """,
)


def _postgres() -> list[str]:
    statements = list(_POSTGRES_FUNCTIONS)
    for table in APPEND_ONLY:
        statements += [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
        ]
    return [
        *statements,
        "CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head "
        "FOR EACH ROW EXECUTE FUNCTION audit_head_forward()",
        "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward()",
    ]


def _sqlite() -> list[str]:
    statements = [
        f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: {event} on "
        f"{table} refused'); END"
        for table in APPEND_ONLY
        for event in ("UPDATE", "DELETE")
    ]
    return [
        *statements,
        "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head "
        "WHEN NEW.seq < OLD.seq OR NEW.checkpoint_seq < OLD.checkpoint_seq "
        "BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END",
        "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
        "BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END",
    ]


def append_only_statements_v1(dialect: str) -> list[str]:
    """The statements that install the append-only rules, for `postgresql` or `sqlite`."""
    if dialect == "postgresql":
        return _postgres()
    if dialect == "sqlite":
        return _sqlite()
    raise ValueError(f"no append-only rules for the {dialect!r} database")


def drop_statements_v1(dialect: str) -> list[str]:
    """What dropping the rules needs beyond dropping the tables (which drops triggers)."""
    if dialect == "postgresql":
        return ["DROP FUNCTION audit_head_forward()", "DROP FUNCTION audit_append_only()"]
    return []


async def create(engine: AsyncEngine) -> None:
    """Create the tables, the head at the genesis hash, and the append-only rules."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(
            insert(audit_head).values(id=1, seq=0, hash=GENESIS_HASH.hex(), checkpoint_seq=0)
        )
        for statement in append_only_statements_v1(conn.dialect.name):
            await conn.execute(text(statement))
