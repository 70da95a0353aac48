"""Opening a subject's orders for identity resolution, and moving orders to another subject.

Identity resolution (see `gateway.privacy.model.scope`) needs to know which contacts each
order of a subject carries, and to split a subject whose orders do not all carry the
same contacts (records linked by the rules before identity resolution). Moving an order
re-seals every ciphertext of it under the new subject's data key, bound to the same row
and column, so the old key opens nothing of it afterwards.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.orders import sealing
from gateway.orders.store import binary_paths
from gateway.orders.tables import ORDER_COLUMNS, SPAN_COLUMNS, orders
from gateway.subjects import SubjectKey

CONTACT_PATHS = {"phone": "customer.phone", "email": "customer.email"}
ID_PATH = "customer.id_number"
_SEALED_COLUMNS = tuple(
    sorted({ORDER_COLUMNS[p] for p in binary_paths()} | set(SPAN_COLUMNS.values()))
)


@dataclass(frozen=True, slots=True)
class OrderContacts:
    """The identifiers one order carries, in clear (held in memory only)."""

    order_id: uuid.UUID
    phone: str | None
    email: str | None
    id_number: str | None

    @property
    def contacts(self) -> tuple[str | None, str | None]:
        return self.phone, self.email

    def carries(self, kind: str, value: str) -> bool:
        return {"phone": self.phone, "email": self.email, "id_number": self.id_number}.get(
            kind
        ) == value


def _open(key: SubjectKey, column: str, order_id: uuid.UUID, sealed: bytes | None) -> str | None:
    if not sealed or key.dek is None:
        return None
    return sealing.decrypt(key, sealed, column, order_id)


async def contacts_of(conn: AsyncConnection, key: SubjectKey) -> list[OrderContacts]:
    """Every order of the subject (not kept by a retention rule), with its identifiers."""
    columns = {kind: ORDER_COLUMNS[path] for kind, path in CONTACT_PATHS.items()}
    id_column = ORDER_COLUMNS[ID_PATH]
    rows = await conn.execute(
        select(orders.c.id, *(orders.c[c] for c in (*columns.values(), id_column)))
        .where(orders.c.subject_id == key.subject_id, orders.c.retention_rule.is_(None))
        .order_by(orders.c.created_at, orders.c.id)
    )
    result = []
    for row in rows:
        values = row._mapping
        result.append(
            OrderContacts(
                row.id,
                _open(key, columns["phone"], row.id, values[columns["phone"]]),
                _open(key, columns["email"], row.id, values[columns["email"]]),
                _open(key, id_column, row.id, values[id_column]),
            )
        )
    return result


async def move_orders(
    conn: AsyncConnection, order_ids: list[uuid.UUID], old: SubjectKey, new: SubjectKey
) -> None:
    """File `order_ids` under `new`, re-sealing each of their ciphertexts under its key."""
    for order_id in order_ids:
        row = (
            await conn.execute(
                select(*(orders.c[c] for c in _SEALED_COLUMNS)).where(
                    orders.c.id == order_id, orders.c.subject_id == old.subject_id
                )
            )
        ).first()
        if row is None:
            continue
        values: dict[str, Any] = {"subject_id": new.subject_id}
        for column in _SEALED_COLUMNS:
            sealed = row._mapping[column]
            if sealed:  # NULL and the empty "erased" value stay as they are
                plain = _open(old, column, order_id, sealed)
                assert plain is not None  # noqa: S101 - the old key is live
                values[column] = sealing.encrypt(new, plain, column, order_id)
        await conn.execute(update(orders).where(orders.c.id == order_id).values(**values))


async def subject_of(conn: AsyncConnection, order_id: uuid.UUID) -> uuid.UUID | None:
    """The subject an order is filed under now (it may have moved since it was matched)."""
    query = select(orders.c.subject_id).where(orders.c.id == order_id)
    value: uuid.UUID | None = (await conn.execute(query)).scalar_one_or_none()
    return value


async def order_ids_of(conn: AsyncConnection, subject_id: uuid.UUID, limit: int) -> list[str]:
    """The ids of a subject's orders, oldest first: what a DPO reads to judge a link."""
    query = (
        select(orders.c.id)
        .where(orders.c.subject_id == subject_id)
        .order_by(orders.c.created_at, orders.c.id)
        .limit(limit)
    )
    return [str(row.id) for row in await conn.execute(query)]
