"""Reading the audit log for reports: grouped in the database, so memory stays flat.

A report over a million entries must not hold a million entries. Entries that
say the same thing (same principal, action, outcome, fields shown and details)
are counted together by the database (`GROUP BY` over text columns, the same SQL
on SQLite and PostgreSQL), and only the groups come back: their number depends
on how varied the log is (principals x roles' field sets x list sizes), not on
how long it is. Every scan stops at the chain head the report was built against,
so a report never counts an entry written after the head it names.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from audit import audit_entries, audit_head, format_time
from gateway.reports.document import ChainHead, Period

PRINCIPAL_PREFIX = "principals/"


@dataclass(frozen=True, slots=True)
class Group:
    actor: str
    action: str
    outcome: str
    fields: Mapping[str, str]
    details: Mapping[str, Any]
    purpose: str | None
    count: int
    first_at: str
    last_at: str


async def chain_head(conn: AsyncConnection) -> ChainHead:
    row = (await conn.execute(select(audit_head.c.seq, audit_head.c.hash))).first()
    return ChainHead(0, "") if row is None else ChainHead(int(row.seq), row.hash)


def _in_period(head: ChainHead, period: Period) -> Any:
    c = audit_entries.c
    return and_(
        c.seq <= head.seq,
        c.at >= format_time(period.since),
        c.at < format_time(period.until),
    )


async def groups(
    conn: AsyncConnection,
    head: ChainHead,
    period: Period,
    actions: Collection[str] = (),
    *,
    denied: bool = False,
) -> AsyncIterator[Group]:
    """Entries of `actions` (and, with `denied`, every refusal) in the period, counted."""
    c = audit_entries.c
    wanted: list[ColumnElement[bool]] = [c.action.in_(sorted(actions))] if actions else []
    if denied:
        wanted.append(c.outcome == "denied")
    keys = (c.actor, c.action, c.outcome, c.fields, c.details, c.purpose)
    statement = (
        select(*keys, func.count().label("n"), func.min(c.at), func.max(c.at))
        .where(_in_period(head, period), or_(*wanted))
        .group_by(*keys)
        .order_by(*keys)
    )
    parsed: dict[str, Any] = {}  # the same fields text recurs in most groups

    def load(text: str) -> Any:
        value = parsed.get(text)
        if value is None:
            value = parsed[text] = json.loads(text)
        return value

    for row in await conn.execute(statement):
        yield Group(
            actor=row[0],
            action=row[1],
            outcome=row[2],
            fields=load(row[3]),
            details=json.loads(row[4]),
            purpose=row[5],
            count=int(row[6]),
            first_at=row[7],
            last_at=row[8],
        )


async def roles_of_principals(conn: AsyncConnection, head: ChainHead) -> dict[str, str]:
    """Each principal's role, from the log itself (`principal.create` entries name it, and
    `principal.role` a person's later one), so the access report needs nothing but the log."""
    c = audit_entries.c
    statement = (
        select(c.resource, c.details)
        .where(
            c.action.in_(("principal.create", "principal.role")),
            c.outcome == "allowed",
            c.seq <= head.seq,
        )
        .order_by(c.seq)
    )
    roles: dict[str, str] = {}
    for resource, details in await conn.execute(statement):
        if resource.startswith(PRINCIPAL_PREFIX):
            roles[resource.removeprefix(PRINCIPAL_PREFIX)] = str(json.loads(details)["role"])
    return roles
