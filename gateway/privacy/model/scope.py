"""What a verified request covers: the orders that carry the verified contact, and the
records a DPO confirmed as the same person. Never more, whatever else the store links.

The rule. A one-time code proves control of one contact, nothing else. An order proves
nothing about who owns its contacts: anyone can type a stranger's phone beside their own
e-mail. So a request verified through contact C covers
1. every order that carries C (as its customer's phone or e-mail), and
2. every record a DPO confirmed (a `subject_links` row in state `confirmed`) as the same
   person as a record of 1, and so on along confirmed links.
It never covers an order only because it shares some other identifier with one of them.

Since identity resolution, every subject is founded by one set of contacts and only
orders with exactly that set join it (`SubjectKeys.link`), so rule 1 selects whole
subjects, and erasing them can destroy their keys. Subjects linked by the rules before
(a phone matched, then a stranger's e-mail was added) can hold orders with different
contacts: such a subject is split here, at verification, into one subject per set of
contacts (each order re-sealed under its new subject's key), and the parts are recorded
as candidate links for a DPO. A subject already under erasure is never split: an erasure
covers it whole; an access request leaves it out (its data is withheld while it is erased).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway import orders as order_records
from gateway import subjects as subject_records
from gateway.core.readpath import AsyncReader
from gateway.subjects import SubjectKey, SubjectKeys

# A request covering more records than this is resolved that far only and put on hold.
MAX_SCOPE_SUBJECTS = 200
RULE = (
    "orders carrying the verified {kind}, and records a DPO confirmed as the same person; "
    "records that only share another identifier with them are not covered"
)


@dataclass(frozen=True, slots=True)
class Scope:
    by_contact: tuple[uuid.UUID, ...]
    by_link: tuple[uuid.UUID, ...]
    split: int  # subjects linked by the old rules that were split to resolve this scope
    truncated: bool  # more than MAX_SCOPE_SUBJECTS: a DPO must look

    @property
    def subjects(self) -> tuple[uuid.UUID, ...]:
        return self.by_contact + self.by_link


async def resolve(
    conn: AsyncConnection,
    subjects: SubjectKeys,
    kind: str,
    contact: str,
    now: datetime,
    *,
    erasure: bool,
) -> Scope:
    """The scope of a request verified through `contact` (normalised, of `kind`)."""
    by_contact: list[uuid.UUID] = []
    split = 0
    for subject_id in await subjects.find(AsyncReader(conn), kind, contact):
        key = await _live_key(conn, subjects, subject_id)
        if key is None:
            continue
        if await subject_records.is_restricted(conn, subject_id):
            if erasure:
                by_contact.append(subject_id)
            continue
        parts = await separate(conn, subjects, key, now)
        split += len(parts) > 1
        by_contact += [part for part, held in parts.items() if (kind, contact) in held]
    by_link = await _confirmed(conn, subjects, by_contact, erasure=erasure)
    everything = by_contact + by_link
    return Scope(
        tuple(by_contact[:MAX_SCOPE_SUBJECTS]),
        tuple(by_link[: max(0, MAX_SCOPE_SUBJECTS - len(by_contact))]),
        split,
        len(everything) > MAX_SCOPE_SUBJECTS,
    )


async def _live_key(
    conn: AsyncConnection, subjects: SubjectKeys, subject_id: uuid.UUID
) -> SubjectKey | None:
    row = await subject_records.key_row(conn, subject_id)
    if row is None or row.wrapped_key is None:
        return None
    return subjects.unwrap(row)


async def separate(
    conn: AsyncConnection, subjects: SubjectKeys, key: SubjectKey, now: datetime
) -> dict[uuid.UUID, set[tuple[str, str]]]:
    """Split the subject into one subject per set of contacts its orders carry.

    Returns each resulting subject with the contacts it holds. A subject whose orders
    all carry the same contacts (every subject written since identity resolution) is
    returned as it is, unchanged. The largest group keeps the subject's id and key.
    """
    groups: dict[tuple[str | None, str | None], list[order_records.OrderContacts]] = defaultdict(
        list
    )
    for order in await order_records.contacts_of(conn, key):
        groups[order.contacts].append(order)
    if len(groups) <= 1:
        held = await held_identifiers(conn, subjects, key.subject_id)
        held = {(kind, value) for kind, value in held if kind in CONTACT_KINDS}
        if not groups or held == _contacts(next(iter(groups))):
            return {key.subject_id: held}
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), str(item[0])))
    result: dict[uuid.UUID, set[tuple[str, str]]] = {}
    for position, (contacts, members) in enumerate(ordered):
        part = key if position == 0 else await subjects.create(conn, now)
        if position:
            await order_records.move_orders(conn, [m.order_id for m in members], key, part)
        ids = {("id_number", m.id_number) for m in members if m.id_number}
        await subjects.reset_identifiers(conn, part, _contacts(contacts) | ids)
        result[part.subject_id] = _contacts(contacts)
    await _record_candidates(conn, result, now)
    return result


CONTACT_KINDS = ("phone", "email")


def _contacts(contacts: tuple[str | None, str | None]) -> set[tuple[str, str]]:
    return {(kind, value) for kind, value in zip(CONTACT_KINDS, contacts, strict=True) if value}


async def held_identifiers(
    conn: AsyncConnection, subjects: SubjectKeys, subject_id: uuid.UUID
) -> set[tuple[str, str]]:
    """The (kind, value) identifiers a subject holds, opened with its key (none if shredded)."""
    row = await subject_records.key_row(conn, subject_id)
    held = set()
    if row is not None:
        for kind, _, sealed in await subject_records.identifiers_of(conn, subject_id):
            candidate = subject_records.Candidate(subject_id, sealed, row)
            value = subjects.open_identifier(candidate, kind)
            if value is not None:
                held.add((kind, value))
    return held


async def _record_candidates(
    conn: AsyncConnection, parts: dict[uuid.UUID, set[tuple[str, str]]], now: datetime
) -> None:
    """Parts of a split subject that share a contact may be one person: a DPO decides."""
    items = sorted(parts.items(), key=lambda item: str(item[0]))
    for index, (one, held) in enumerate(items):
        for other, theirs in items[index + 1 :]:
            shared = sorted({kind for kind, _ in held & theirs})
            if shared:
                await subject_records.add_candidate_link(conn, one, other, shared, now)


async def _confirmed(
    conn: AsyncConnection, subjects: SubjectKeys, start: list[uuid.UUID], *, erasure: bool
) -> list[uuid.UUID]:
    """Subjects reachable from `start` along confirmed links, live ones only."""
    seen = set(start)
    found: list[uuid.UUID] = []
    frontier = list(start)
    while frontier and len(seen) <= MAX_SCOPE_SUBJECTS:
        step = await subject_records.confirmed_neighbours(conn, frontier)
        frontier = []
        for subject_id in sorted(step - seen, key=str):
            seen.add(subject_id)
            if await _live_key(conn, subjects, subject_id) is None:
                continue
            if not erasure and await subject_records.is_restricted(conn, subject_id):
                continue
            found.append(subject_id)
            frontier.append(subject_id)
    return found
