"""What is wrong with the database, in an operator's words, when that is safe to say.

A driver's error message is withheld everywhere (it can quote the personal data a
statement carried). A few states hold none and leave an operator stuck if withheld:
the database does not exist, nothing listens at its address, or its schema is not
(or not fully) migrated. These are recognised here from the error's type and SQLSTATE
and from the schema's Alembic revision, and described from the settings' URL (database
name, host and port; never a user or password), not from the driver's message.
Anything else stays withheld: `explain` answers None.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from gateway.core import migrate
from gateway.core.errors import ConfigurationError

# PostgreSQL's SQLSTATE for a database name the server does not know.
_INVALID_CATALOG_NAME = "3D000"
_POSTGRES_PORT = 5432
MIGRATE = "run `privacy-gateway migrate`"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The error, the driver's error it wraps, and what caused each (bounded)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 10:  # noqa: PLR2004 - a wrapper chain is a few links long
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [
            e
            for e in (getattr(current, "orig", None), current.__cause__, current.__context__)
            if isinstance(e, BaseException)
        ]


def connection_problem(exc: BaseException, url: str) -> str | None:
    """'database "x" does not exist' or 'connection refused at host:port', else None."""
    address = make_url(url)
    for link in _chain(exc):
        if getattr(link, "sqlstate", None) == _INVALID_CATALOG_NAME:
            return (
                f'database "{address.database}" does not exist: create it (or correct '
                f"GATEWAY_DATABASE_URL), then {MIGRATE}"
            )
        if isinstance(link, ConnectionRefusedError) or (
            isinstance(link, OSError) and link.errno == errno.ECONNREFUSED
        ):
            host = address.host or "localhost"
            return (
                f"connection refused at {host}:{address.port or _POSTGRES_PORT}: is the "
                "database server running and listening there? (GATEWAY_DATABASE_URL)"
            )
    return None


async def schema_problem(url: str) -> str | None:
    """Why the schema does not match this code (not migrated, older, unknown), or None."""
    current = await migrate.current_revision(url)
    head = migrate.head_revision()
    if current == head:
        return None
    if current is None:
        return f"the database is not migrated: {MIGRATE}"
    if migrate.knows_revision(current):
        return (
            f"the database schema is older than this code (revision {current}, this code "
            f"needs {head}): {MIGRATE}"
        )
    return (
        f"the database schema is at revision {current}, which this code does not know "
        f"(its newest is {head}): run the gateway version that migrated it, or a newer one"
    )


async def require_migrated(url: str) -> None:
    """Stop (`ConfigurationError`) unless the database answers with this code's schema,
    saying why in plain words where that is safe, by the error's type where not."""
    try:
        problem = await schema_problem(url)
    except (SQLAlchemyError, OSError) as exc:
        problem = connection_problem(exc, url) or (
            f"cannot open the database ({type(exc).__name__}): check GATEWAY_DATABASE_URL, "
            f"then {MIGRATE}"
        )
    if problem is not None:
        raise ConfigurationError(problem)


async def explain(exc: BaseException, url: str) -> str | None:
    """A plain description of `exc` if it is one of the states above, else None (withheld).

    For an error that is not about the connection, the schema is looked at afresh: a
    missing table or column is what an unmigrated or older schema looks like.
    """
    problem = connection_problem(exc, url)
    if problem is not None or not isinstance(exc, SQLAlchemyError):
        return problem
    try:
        return await schema_problem(url)
    except (SQLAlchemyError, OSError):
        return None  # the database cannot even be asked: nothing more is safe to say
