"""Storage of data subject requests: the requests, their steps, the outbox, rate limits.

A request row never holds a contact in clear. The contact the code was sent to is
sealed under the subject's own data key (so crypto-shredding also destroys it),
and requests whose contact and order did not match hold no contact at all.
Tokens and codes are stored as keyed hashes, compared in constant time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.db import UtcDateTime, metadata

privacy_requests = Table(
    "privacy_requests",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("state", String(16), nullable=False),
    # The language the subject asked in ("en", "zh"): their notices are written in it.
    # NULL (an API request that named none): notices come in both.
    Column("lang", String(2), nullable=True),
    # NULL when the contact and order given did not match: such a request is never
    # verifiable, but answers exactly like one that matched (no enumeration).
    Column("subject_id", Uuid, ForeignKey("data_subjects.id"), nullable=True),
    Column("contact_kind", String(8), nullable=True),
    # The order the contact was matched on (a random id, no personal data).
    Column("order_id", Uuid, nullable=True),
    Column("contact_sealed", LargeBinary, nullable=True),
    # Keyed hash of the contact as given (rate limits per contact); dropped when the
    # request ends.
    Column("contact_key", LargeBinary(16), nullable=True),
    Column("token_hash", LargeBinary(32), nullable=False),
    # Keyed hash of the return code sent to the verified contact (one use, until
    # `return_expires_at`): it opens the request in a new browser with a new token.
    Column("return_hash", LargeBinary(32), nullable=True),
    Column("return_expires_at", UtcDateTime, nullable=True),
    # What identifies the subject in the map's other systems, sealed under the key of
    # the record the request names: gathered before the own store is erased, so each
    # system can be reached (and searched again) after; destroyed with that key.
    Column("identities_sealed", LargeBinary, nullable=True),
    Column("code_hash", LargeBinary(32), nullable=True),
    Column("code_expires_at", UtcDateTime, nullable=True),
    Column("code_failures", Integer, nullable=False, default=0),
    Column("received_at", UtcDateTime, nullable=False),
    Column("verified_at", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("target_at", UtcDateTime, nullable=True),
    # A verified erasure waits until then, so that the other contacts of the orders it
    # covers, who were told, can object (GATEWAY_PRIVACY_COOLING_OFF_HOURS).
    Column("cooling_off_until", UtcDateTime, nullable=True),
    # GATEWAY_PRIVACY_APPROVAL: a verified request that must wait for a DPO's approval
    # runs only once approved (who, when, why).
    Column("approval_required", Boolean, nullable=False, default=False),
    Column("approved_by", String(100), nullable=True),
    Column("approved_at", UtcDateTime, nullable=True),
    Column("approval_reason", Text, nullable=True),
    Column("gdpr_deadline_at", UtcDateTime, nullable=False),
    Column("pipl_deadline_at", UtcDateTime, nullable=False),
    Column("extension_reason", Text, nullable=True),
    Column("extended_by", String(100), nullable=True),
    Column("hold_reason", Text, nullable=True),
    Column("hold_by", String(100), nullable=True),
    Column("held_at", UtcDateTime, nullable=True),
    Column("held_from", String(16), nullable=True),
    Column("reject_reason", Text, nullable=True),
    Column("rejected_by", String(100), nullable=True),
    Column("sla", String(16), nullable=False, default=""),
    # Final searches that still found the subject; past a limit the request waits for
    # a DPO (`blocked_reason`) instead of running again and again.
    Column("verification_failures", Integer, nullable=False, default=0),
    Column("blocked_reason", Text, nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claim_expires_at", UtcDateTime, nullable=True),
    # Keyed digests of the subject's identifiers, kept only while an erasure runs,
    # so the final search can find copies after the data key is gone.
    Column("match_digests", Text, nullable=True),
    Column("certificate", Text, nullable=True),
    Column("export_sealed", LargeBinary, nullable=True),
    Column("export_expires_at", UtcDateTime, nullable=True),
    Index("ix_privacy_requests_state_received_at", "state", "received_at"),
    Index("ix_privacy_requests_subject_id", "subject_id"),
)

privacy_steps = Table(
    "privacy_steps",
    metadata,
    Column(
        "request_id",
        Uuid,
        ForeignKey("privacy_requests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("result", Text, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("request_id", Uuid, nullable=True),
    Column("subject_id", Uuid, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("recipient", LargeBinary, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_outbox_subject_id", "subject_id"),
)

# The subjects a verified request covers (`gateway.privacy.model.scope`): by the verified
# contact, or by a link a DPO confirmed. Fixed at verification.
privacy_scope = Table(
    "privacy_scope",
    metadata,
    Column(
        "request_id", Uuid, ForeignKey("privacy_requests.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("subject_id", Uuid, ForeignKey("data_subjects.id"), primary_key=True),
    Column("via", String(8), nullable=False),
    Index("ix_privacy_scope_subject_id", "subject_id"),
)

# One-time objection codes sent to the other contacts of the orders a request covers.
# Only a keyed hash of each code is stored; the code itself is the secret.
privacy_objections = Table(
    "privacy_objections",
    metadata,
    Column("code_hash", LargeBinary(32), primary_key=True),
    Column(
        "request_id", Uuid, ForeignKey("privacy_requests.id", ondelete="CASCADE"), nullable=False
    ),
    Column("channel", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Index("ix_privacy_objections_request_id", "request_id"),
)

# Every legal hold a request was ever put under, and how it ended: a lifted hold leaves
# the request's row, not its history (the register and the DSR report show them all).
privacy_holds = Table(
    "privacy_holds",
    metadata,
    Column(
        "request_id", Uuid, ForeignKey("privacy_requests.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("number", Integer, primary_key=True),
    Column("held_at", UtcDateTime, nullable=False),
    Column("held_by", String(100), nullable=False),
    Column("held_from", String(16), nullable=False),
    Column("hold_reason", Text, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("ended_by", String(100), nullable=True),
    Column("ended_as", String(8), nullable=True),  # lifted | rejected
    Column("end_reason", Text, nullable=True),
)


# Columns of a request the service reads; secrets and sealed blobs are read on demand.
_REQUEST_COLUMNS = [
    c
    for c in privacy_requests.c
    if c.name
    not in {"contact_sealed", "export_sealed", "certificate", "match_digests", "identities_sealed"}
]


@dataclass(frozen=True, slots=True)
class RequestRow:
    """One request as stored, without its sealed blobs (`_REQUEST_COLUMNS`)."""

    id: uuid.UUID
    kind: str
    state: str
    lang: str | None
    subject_id: uuid.UUID | None
    contact_kind: str | None
    order_id: uuid.UUID | None
    contact_key: bytes | None
    token_hash: bytes
    return_hash: bytes | None
    return_expires_at: datetime | None
    code_hash: bytes | None
    code_expires_at: datetime | None
    code_failures: int
    received_at: datetime
    verified_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    target_at: datetime | None
    cooling_off_until: datetime | None
    approval_required: bool
    approved_by: str | None
    approved_at: datetime | None
    approval_reason: str | None
    gdpr_deadline_at: datetime
    pipl_deadline_at: datetime
    extension_reason: str | None
    extended_by: str | None
    hold_reason: str | None
    hold_by: str | None
    held_at: datetime | None
    held_from: str | None
    reject_reason: str | None
    rejected_by: str | None
    sla: str
    verification_failures: int
    blocked_reason: str | None
    claimed_by: str | None
    claim_expires_at: datetime | None
    export_expires_at: datetime | None

    @classmethod
    def of(cls, row: Any) -> RequestRow:
        """From a result row of `_REQUEST_COLUMNS`: every column, by name."""
        return cls(**dict(row._mapping))


async def insert_request(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(insert(privacy_requests).values(**values))


async def get_request(
    conn: AsyncConnection, request_id: uuid.UUID, *, lock: bool = False
) -> RequestRow | None:
    query = select(*_REQUEST_COLUMNS).where(privacy_requests.c.id == request_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return None if row is None else RequestRow.of(row)


async def get_blob(conn: AsyncConnection, request_id: uuid.UUID, column: str) -> Any:
    query = select(privacy_requests.c[column]).where(privacy_requests.c.id == request_id)
    return (await conn.execute(query)).scalar_one_or_none()


async def update_request(
    conn: AsyncConnection, request_id: uuid.UUID, expect_state: str | None, **values: Any
) -> bool:
    """Update if the request is still in `expect_state` (None: any); False otherwise."""
    condition = privacy_requests.c.id == request_id
    if expect_state is not None:
        condition = and_(condition, privacy_requests.c.state == expect_state)
    result = await conn.execute(update(privacy_requests).where(condition).values(**values))
    return result.rowcount == 1


async def list_requests(
    conn: AsyncConnection,
    *,
    states: Sequence[str] = (),
    kind: str | None = None,
    sla: Sequence[str] = (),
    due_before: datetime | None = None,
    limit: int = 100,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[RequestRow]:
    conditions: list[Any] = []
    if states:
        conditions.append(privacy_requests.c.state.in_(states))
    if kind is not None:
        conditions.append(privacy_requests.c.kind == kind)
    if sla:
        conditions.append(privacy_requests.c.sla.in_(sla))
    if due_before is not None:
        conditions.append(
            or_(
                privacy_requests.c.target_at < due_before,
                privacy_requests.c.gdpr_deadline_at < due_before,
                privacy_requests.c.pipl_deadline_at < due_before,
            )
        )
    if after is not None:
        conditions.append(
            or_(
                privacy_requests.c.received_at > after[0],
                and_(privacy_requests.c.received_at == after[0], privacy_requests.c.id > after[1]),
            )
        )
    query = (
        select(*_REQUEST_COLUMNS)
        .where(*conditions)
        .order_by(privacy_requests.c.received_at, privacy_requests.c.id)
        .limit(limit)
    )
    return [RequestRow.of(r) for r in await conn.execute(query)]


async def claim_next(
    conn: AsyncConnection, states: Sequence[str], now: datetime, limit: int = 1
) -> list[uuid.UUID]:
    """Requests ready to run and not leased by a live worker; row-locked, skipping rows
    another worker holds (PostgreSQL; SQLite's writer lock serialises claims)."""
    query = (
        select(privacy_requests.c.id)
        .where(
            privacy_requests.c.state.in_(states),
            privacy_requests.c.blocked_reason.is_(None),
            or_(
                privacy_requests.c.cooling_off_until.is_(None),
                privacy_requests.c.cooling_off_until <= now,
            ),
            or_(
                privacy_requests.c.approval_required.is_(False),
                privacy_requests.c.approved_at.is_not(None),
            ),
            or_(
                privacy_requests.c.claim_expires_at.is_(None),
                privacy_requests.c.claim_expires_at < now,
            ),
        )
        .order_by(privacy_requests.c.verified_at, privacy_requests.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [row.id for row in await conn.execute(query)]


async def set_sla(conn: AsyncConnection, request_id: uuid.UUID, old: str, new: str) -> bool:
    """Change the SLA flag only if it is still `old`: concurrent sweepers log it once."""
    result = await conn.execute(
        update(privacy_requests)
        .where(privacy_requests.c.id == request_id, privacy_requests.c.sla == old)
        .values(sla=new)
    )
    return result.rowcount == 1


async def open_erasures(conn: AsyncConnection, subject_id: uuid.UUID, besides: uuid.UUID) -> int:
    """Other erasure requests covering the subject that still restrict it."""
    covered = select(privacy_scope.c.request_id).where(privacy_scope.c.subject_id == subject_id)
    query = select(privacy_requests.c.id).where(
        or_(privacy_requests.c.subject_id == subject_id, privacy_requests.c.id.in_(covered)),
        privacy_requests.c.id != besides,
        privacy_requests.c.kind == "erasure",
        privacy_requests.c.state.in_(("verified", "in_progress", "on_hold")),
    )
    return len(list(await conn.execute(query)))


# --- scope and objections ------------------------------------------------------------


async def set_scope(
    conn: AsyncConnection, request_id: uuid.UUID, subjects: Mapping[uuid.UUID, str]
) -> None:
    """The subjects the request covers (subject -> `contact` or `link`)."""
    if subjects:
        await conn.execute(
            insert(privacy_scope),
            [{"request_id": request_id, "subject_id": s, "via": v} for s, v in subjects.items()],
        )


async def scope_of(conn: AsyncConnection, row: RequestRow) -> tuple[uuid.UUID, ...]:
    """The subjects a request covers; a request verified before identity resolution
    has no scope rows and covers its one subject (the migration put it on hold)."""
    query = (
        select(privacy_scope.c.subject_id)
        .where(privacy_scope.c.request_id == row.id)
        .order_by(privacy_scope.c.via, privacy_scope.c.subject_id)
    )
    found = tuple(r.subject_id for r in await conn.execute(query))
    if found or row.subject_id is None:
        return found
    return (row.subject_id,)


async def scope_counts(conn: AsyncConnection, request_id: uuid.UUID) -> dict[str, int]:
    query = select(privacy_scope.c.via).where(privacy_scope.c.request_id == request_id)
    counts: dict[str, int] = {}
    for row in await conn.execute(query):
        counts[row.via] = counts.get(row.via, 0) + 1
    return counts


async def insert_objection(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(insert(privacy_objections).values(**values))


async def take_objection(
    conn: AsyncConnection, code_hash: bytes, now: datetime
) -> uuid.UUID | None:
    """Use an objection code once; the request it belongs to, or None."""
    result = await conn.execute(
        update(privacy_objections)
        .where(privacy_objections.c.code_hash == code_hash, privacy_objections.c.used_at.is_(None))
        .values(used_at=now)
        .returning(privacy_objections.c.request_id)
    )
    row = result.first()
    return None if row is None else row.request_id


async def open_requests(conn: AsyncConnection, states: Sequence[str]) -> list[RequestRow]:
    query = select(*_REQUEST_COLUMNS).where(privacy_requests.c.state.in_(states))
    return [RequestRow.of(r) for r in await conn.execute(query)]


async def requests_of_subject(conn: AsyncConnection, subject_id: uuid.UUID) -> list[RequestRow]:
    """Requests the subject made or that cover it."""
    covered = select(privacy_scope.c.request_id).where(privacy_scope.c.subject_id == subject_id)
    query = (
        select(*_REQUEST_COLUMNS)
        .where(or_(privacy_requests.c.subject_id == subject_id, privacy_requests.c.id.in_(covered)))
        .order_by(privacy_requests.c.received_at)
    )
    return [RequestRow.of(r) for r in await conn.execute(query)]


# --- outbox --------------------------------------------------------------------------


async def insert_message(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(insert(outbox).values(**values))


async def messages(conn: AsyncConnection, limit: int) -> Sequence[Any]:
    query = select(outbox).order_by(outbox.c.created_at.desc(), outbox.c.id).limit(limit)
    return list(await conn.execute(query))


async def delete_messages(conn: AsyncConnection, subject_id: uuid.UUID) -> int:
    result = await conn.execute(delete(outbox).where(outbox.c.subject_id == subject_id))
    return int(result.rowcount)


async def count_messages(conn: AsyncConnection, subject_id: uuid.UUID) -> int:
    query = select(outbox.c.id).where(outbox.c.subject_id == subject_id)
    return len(list(await conn.execute(query)))


async def requests_received(
    conn: AsyncConnection, since: datetime, until: datetime
) -> Sequence[Any]:
    """Every request received in [since, until), oldest first: the DSR register's rows."""
    r = privacy_requests.c
    query = (
        select(privacy_requests)
        .where(r.received_at >= since, r.received_at < until)
        .order_by(r.received_at, r.id)
    )
    return list(await conn.execute(query))


@dataclass(frozen=True, slots=True)
class HoldRow:
    """One hold of a request: who placed it, when and why, and how it ended (if it has)."""

    request_id: uuid.UUID
    number: int
    held_at: datetime
    held_by: str
    held_from: str
    hold_reason: str
    ended_at: datetime | None
    ended_by: str | None
    ended_as: str | None
    end_reason: str | None


async def start_hold(
    conn: AsyncConnection,
    request_id: uuid.UUID,
    *,
    held_from: str,
    by: str,
    reason: str,
    at: datetime,
) -> None:
    """Add a hold to the request's history, numbered after the ones before it."""
    h = privacy_holds.c
    count = (
        await conn.execute(
            select(func.count()).select_from(privacy_holds).where(h.request_id == request_id)
        )
    ).scalar_one()
    await conn.execute(
        insert(privacy_holds).values(
            request_id=request_id,
            number=count + 1,
            held_at=at,
            held_by=by,
            held_from=held_from,
            hold_reason=reason,
        )
    )


async def end_hold(
    conn: AsyncConnection,
    request_id: uuid.UUID,
    *,
    ended_as: str,
    by: str,
    reason: str,
    at: datetime,
) -> None:
    """Close the request's open hold (lifted, or ended by a rejection)."""
    h = privacy_holds.c
    await conn.execute(
        update(privacy_holds)
        .where(h.request_id == request_id, h.ended_at.is_(None))
        .values(ended_at=at, ended_by=by, ended_as=ended_as, end_reason=reason)
    )


async def holds_of(
    conn: AsyncConnection, request_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[HoldRow]]:
    """The hold history of each request, oldest first (requests without one are absent)."""
    if not request_ids:
        return {}
    h = privacy_holds.c
    query = (
        select(privacy_holds)
        .where(h.request_id.in_(list(request_ids)))
        .order_by(h.request_id, h.number)
    )
    found: dict[uuid.UUID, list[HoldRow]] = {}
    for row in await conn.execute(query):
        found.setdefault(row.request_id, []).append(HoldRow(**dict(row._mapping)))
    return found
