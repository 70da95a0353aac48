"""What a privacy request needs of the vault: who a vaulted order's customer is, which
order numbers and tokens name them in the existing store, and the erasure of their
records.

A request is verified by the contact of the order's *customer*: the customers cell of
the document's phone or e-mail, never another phone kept beside it (a gift's
receiver), which proves nothing about whose order it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.subjects import SubjectKey, SubjectKeys, identifiers_of, key_row
from gateway.systems import Identities, Identity, System
from gateway.vault import store
from gateway.vault.plan import VaultPlan
from gateway.vault.sealing import Sealer, normal
from gateway.vault.tokens import is_token

_CONTACT_PATHS = {"phone": "customer.phone", "email": "customer.email"}


async def match_order(
    conn: AsyncConnection,
    plans: Mapping[str, VaultPlan],
    subjects: SubjectKeys,
    order_ref: str,
    kind: str,
    contact: str,
) -> SubjectKey | None:
    """The subject of the vaulted order numbered `order_ref` whose customer's `kind`
    (phone or e-mail) is `contact` (normalised), or None."""
    path = _CONTACT_PATHS.get(kind)
    if path is None:
        return None
    for system, _, subject_id in await store.by_order_ref(conn, order_ref):
        plan = plans.get(system)
        cell = None if plan is None else plan.cell_of_path(path)
        if plan is None or cell is None:
            continue
        sealer = Sealer(system, subjects)
        for record in await store.of_subjects(conn, [subject_id]):
            if (record.system, record.dataset, record.column) != (
                system,
                cell.dataset,
                cell.column,
            ):
                continue
            value = sealer.open(record)
            if value is not None and normal(kind, value) == contact:
                row = await key_row(conn, subject_id)
                return None if row is None else subjects.unwrap(row)
    return None


async def order_numbers(
    conn: AsyncConnection, subjects: Collection[uuid.UUID]
) -> list[tuple[Identity, str]]:
    """The numbers of the subjects' vaulted orders: they name the orders in the store
    (and in other systems, as the gateway's own orders' numbers do)."""
    records = await store.of_subjects(conn, subjects)
    refs = {r.order_ref for r in records if r.order_ref is not None}
    return [("order_number", ref) for ref in sorted(refs)]


async def tokens_in(
    conn: AsyncConnection, key: str, system: System, subjects: Collection[uuid.UUID]
) -> Identities:
    """The tokens that stand for the subjects' identifiers in system `key`'s tables,
    as identities of the kind the map's dataset says the column identifies by: the SQL
    connector finds the rows by them. Given to that system's step only."""
    kinds: dict[tuple[str, str], Identity] = {
        (name, f.name): f.identifies
        for name, dataset in system.datasets.items()
        for f in dataset.fields
        if f.identifies is not None
    }
    found: dict[Identity, set[str]] = {}
    # The subjects' own records, and other subjects' records holding one of their
    # contacts (a gift's receiver is the subject: their phone goes too).
    held = await store.of_subjects(conn, subjects)
    held += await store.by_digests(conn, await _contacts(conn, subjects))
    for record in held:
        identity = kinds.get((record.dataset, record.column))
        if record.system == key and identity is not None:
            # Compared as the connector normalises the stored side: a token has no
            # space or phone punctuation, and is lower case (upper for an id number).
            form = record.token.upper() if identity == "resident_id" else record.token
            found.setdefault(identity, set()).add(form)
    return Identities({kind: frozenset(forms) for kind, forms in sorted(found.items())})


async def open_copy(
    conn: AsyncConnection,
    subjects: SubjectKeys,
    key: str,
    scope: Collection[uuid.UUID],
    data: Mapping[str, list[dict[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """An access copy of system `key`'s rows with the subjects' own tokens opened: the
    copy is of their data, not of the tokens standing for it. So is another customer's
    cell holding one of their contacts (their phone as a gift's receiver). Any other
    token, or one out of its own cell, stays as it is."""
    # Their own records, and others' holding one of their contacts (a gift's receiver).
    held = await store.of_subjects(conn, scope)
    held += await store.by_digests(conn, await _contacts(conn, scope))
    records = {r.token: r for r in held if r.system == key}
    sealer = Sealer(key, subjects)

    def opened(dataset: str, column: str, value: Any) -> Any:
        record = records.get(value) if isinstance(value, str) and is_token(value) else None
        if record is None or (record.dataset, record.column) != (dataset, column):
            return value
        found = sealer.open(record)
        return value if found is None else found

    return {
        dataset: [{c: opened(dataset, c, v) for c, v in row.items()} for row in rows]
        for dataset, rows in data.items()
    }


async def _contacts(
    conn: AsyncConnection, subjects: Collection[uuid.UUID]
) -> set[tuple[str, bytes]]:
    """The (kind, blind index) of the subjects' phones and e-mails."""
    found: set[tuple[str, bytes]] = set()
    for subject_id in subjects:
        for kind, digest, _ in await identifiers_of(conn, subject_id):
            if kind in _CONTACT_PATHS:
                found.add((kind, bytes(digest)))
    return found


async def erase(
    conn: AsyncConnection, subjects: Collection[uuid.UUID], now: datetime
) -> dict[str, int]:
    """The erasure's vault step: the subjects' ciphertexts and blind indexes wiped
    (their records stay, so a token in a store's cell opens to nothing), and any other
    subject's record of one of their phones or e-mails (a gift's receiver), by system.
    Runs while the subjects' identifiers are still there."""
    others = await store.by_digests(conn, await _contacts(conn, subjects))
    others = [r for r in others if r.subject_id not in set(subjects)]
    await store.wipe(conn, [r.token for r in others], now)
    counts = await store.erase(conn, subjects, now)
    for record in others:
        counts[record.system] = counts.get(record.system, 0) + 1
    return counts


async def still_open(conn: AsyncConnection, subjects: Collection[uuid.UUID]) -> int:
    """The subjects' records still holding a value or a blind index, and others' still
    holding one of their contacts (the erasure's final search)."""
    others = await store.by_digests(conn, await _contacts(conn, subjects))
    return await store.still_open(conn, subjects) + len(others)
