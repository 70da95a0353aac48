"""Does a contact belong to an order? Answered by decrypting, never by a clear column.

A customer knows the order number their shop showed them (the channel's
`external_id`) more often than the gateway's id; both are accepted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.crypto import DecryptionFailed, decrypt_field
from gateway.orders import ORDER_COLUMNS, orders
from gateway.subjects import KeyRow, SubjectKey, SubjectKeys, subject_keys
from gateway.vault import VaultPlan, match_order

_CONTACT_PATHS = {"phone": "customer.phone", "email": "customer.email"}
MAX_REF_MATCHES = 20  # one external id per channel: a handful at most


@dataclass(frozen=True, slots=True)
class Match:
    order_id: uuid.UUID | None  # None: an order of an existing store, in the vault
    key: SubjectKey


async def match_contact(
    conn: AsyncConnection,
    subjects: SubjectKeys,
    order_ref: str,
    kind: str,
    contact: str,
    plans: Mapping[str, VaultPlan] | None = None,
) -> Match | None:
    """The order named by `order_ref` whose customer `kind` equals `contact`, if any:
    in the gateway's own store, else among the orders of existing stores whose
    personal values the vault holds (`plans`)."""
    found = await _own_store(conn, subjects, order_ref, kind, contact)
    if found is None and plans:
        key = await match_order(conn, plans, subjects, order_ref, kind, contact)
        found = None if key is None else Match(None, key)
    return found


async def _own_store(
    conn: AsyncConnection, subjects: SubjectKeys, order_ref: str, kind: str, contact: str
) -> Match | None:
    column = ORDER_COLUMNS[_CONTACT_PATHS[kind]]
    try:
        condition = orders.c.id == uuid.UUID(order_ref)
    except ValueError:
        condition = orders.c.external_id == order_ref
    query = (
        select(
            orders.c.id,
            orders.c[column].label("sealed"),
            subject_keys.c.subject_id,
            subject_keys.c.dek_version,
            subject_keys.c.kek_version,
            subject_keys.c.wrapped_key,
        )
        .join(subject_keys, subject_keys.c.subject_id == orders.c.subject_id)
        .where(condition)
        .limit(MAX_REF_MATCHES)
    )
    for row in await conn.execute(query):
        if row.sealed is None or row.wrapped_key is None:
            continue
        try:
            key = subjects.unwrap(
                KeyRow(row.subject_id, row.dek_version, row.kek_version, row.wrapped_key)
            )
            assert key.dek is not None  # noqa: S101 - the wrapped key is present
            value = decrypt_field(
                key.dek,
                row.sealed,
                table="orders",
                column=column,
                row_id=row.id,
                dek_version=key.dek_version,
            )
        except DecryptionFailed:
            continue  # not authentic under our keys: no match (nothing is disclosed)
        if value == contact:
            return Match(row.id, key)
    return None
