"""The token API's work (`POST /v1/vault/tokens`): an order system hands the gateway a
customer's personal values before it writes the row, and stores the tokens it gets.

Channel-scoped like order writes: a role that may write orders of its own channel
only gets tokens for that channel. Idempotent on (channel, request key): the same
request again answers the same tokens; the same key with other values is refused.
The subject is found by the proven-identity rule from the contacts given (send the
customer's phone and e-mail with the rest: they decide who the values belong to).
Each record opens only in the cell it was made for, and is bound to the first row
that carries it (`vault follow` binds it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.errors import FieldProblem, IdempotencyConflict, InvalidInput
from gateway.vault import store
from gateway.vault.plan import PATH_KINDS, Cell, VaultPlan
from gateway.vault.sealing import Sealer
from gateway.vault.tokens import new_token


@dataclass(frozen=True, slots=True)
class Issued:
    tokens: dict[str, str]  # field (as asked) -> token
    created: bool
    subject_id: uuid.UUID


def cells_of(plan: VaultPlan, fields: Mapping[str, str]) -> dict[str, Cell]:
    """Each asked field's vaulted cell: a document path (`customer.phone`) or a
    `table.column` the vault takes; anything else is refused, named, never echoed."""
    found: dict[str, Cell] = {}
    problems: list[FieldProblem] = []
    for name in fields:
        cell = plan.cell_of_path(name)
        if cell is None and name.count(".") == 1:
            table, column = name.split(".")
            cell = plan.cell(table, column)
        if cell is None:
            problems.append(
                FieldProblem(
                    "fields",
                    "holds a field the vault does not take for this system (a document "
                    "field of an encrypted category, or a table.column of the map)",
                )
            )
        elif (cell.dataset, cell.column) in {(c.dataset, c.column) for c in found.values()}:
            problems.append(FieldProblem("fields", "names one cell twice (a field and its column)"))
        else:
            found[name] = cell
    if problems:
        raise InvalidInput("the token request names fields the vault does not take", problems[:1])
    return found


async def issue(
    conn: AsyncConnection,
    sealer: Sealer,
    plan: VaultPlan,
    channel: str,
    request_key: str,
    fields: Mapping[str, str],
    now: datetime,
) -> Issued:
    """Seal the values and answer their tokens (inside the caller's transaction)."""
    cells = cells_of(plan, fields)
    earlier = await store.find_request(conn, plan.system, channel, request_key)
    if earlier:
        return _replayed(sealer, cells, fields, earlier)
    contacts = {PATH_KINDS[c.path]: fields[n] for n, c in cells.items() if c.path in PATH_KINDS}
    key = await sealer.subject(conn, contacts, now)
    tokens: dict[str, str] = {}
    for name, cell in cells.items():
        token = new_token()
        values = sealer.sealed(key, cell, token, fields[name])
        await store.insert_record(
            conn,
            {
                "token": token,
                "system": plan.system,
                "dataset": cell.dataset,
                "column_name": cell.column,
                "row_key": None,
                "subject_id": key.subject_id,
                "channel": channel,
                "request_key": request_key,
                "created_at": now,
                **values,
            },
        )
        tokens[name] = token
    return Issued(tokens, True, key.subject_id)


def _replayed(
    sealer: Sealer,
    cells: Mapping[str, Cell],
    fields: Mapping[str, str],
    earlier: list[store.Record],
) -> Issued:
    by_cell = {(r.dataset, r.column): r for r in earlier}
    tokens: dict[str, str] = {}
    for name, cell in cells.items():
        record = by_cell.get((cell.dataset, cell.column))
        if record is None or sealer.open(record) != fields[name]:
            raise IdempotencyConflict(
                "this channel's request key was used with other fields or values"
            )
        tokens[name] = record.token
    if len(by_cell) != len(cells):
        raise IdempotencyConflict("this channel's request key was used with other fields or values")
    return Issued(tokens, False, earlier[0].subject_id)


def is_race(exc: IntegrityError) -> bool:
    """Two requests with one key at once: the second answers as a replay. Known by the
    constraint: its name (PostgreSQL), or its columns (SQLite names no constraint)."""
    said = str(exc.orig)
    return "uq_vault_records_request" in said or "vault_records.request_key" in said
