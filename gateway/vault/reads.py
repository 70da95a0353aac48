"""Opening the tokens an existing store's rows carry, for the read path.

A token opens only the record bound to its own cell (same table, column and row; a
token API record not yet bound opens in the cell it was made for), so a token copied
into another row, or typed into a form by someone who saw one, opens nothing. A
record whose subject was erased opens to nothing: the field is absent, as an erased
field of the gateway's own store is.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit import SNAPSHOT_OPTION
from gateway.core.readpath import ReadPool
from gateway.vault import store
from gateway.vault.plan import VaultPlan
from gateway.vault.sealing import Sealer, normal
from gateway.vault.tokens import is_token

SUBJECT = "_vault_subject"  # labels the read path finds on a row that had tokens
RESTRICTED = "_vault_restricted"
_SEARCHED = {
    "phone": "customer.phone",
    "email": "customer.email",
    "id_number": "customer.id_number",
}
_PREFERRED = ("customer.phone", "customer.email", "customer.name")


@dataclass(frozen=True, slots=True)
class Lookup:
    """Rows of a table whose identifier matches a search: (table, row keys)."""

    customers: tuple[int, ...]
    orders: tuple[int, ...]


class VaultReads:
    """The read path's view of one system's vault."""

    def __init__(
        self, engine: AsyncEngine, plan: VaultPlan, sealer: Sealer, reads: ReadPool | None = None
    ) -> None:
        self._engine = engine
        # The read path's pool where there is one (SQLite inline, PostgreSQL pooled).
        self._reads = reads
        self.plan = plan
        self._sealer = sealer
        source = plan.source
        self._customers = None if source.customers is None else source.customers.table
        # Document path -> (table, column) of the cells a read may find tokens in.
        self._cells = {
            cell.path: (cell.dataset, cell.column)
            for t in plan.tables
            for cell in t.cells
            if cell.path is not None
        }

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read. The engine's transactions begin IMMEDIATE on
        SQLite, taking the write lock: a read that began so would wait for every
        writer (the audit log's commits) and hold them up. Begun deferred instead, as
        the log's own read-only passes are (`audit.snapshot`, without its REPEATABLE
        READ on PostgreSQL, which one statement does not need)."""
        async with self._engine.connect() as conn:
            await conn.execution_options(**{SNAPSHOT_OPTION: True})
            yield conn

    def _row_key(self, row: Mapping[str, Any], dataset: str) -> str | None:
        value = row.get("_customer") if dataset == self._customers else row.get("_key")
        return None if value is None else str(value)

    async def open_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Replace the tokens in `rows` (in place) by their values (None where they do
        not open), and name each row's subject where its tokens say it."""
        wanted = {row[p] for row in rows for p in self._cells if is_token(row.get(p))}
        if not wanted:
            return
        if self._reads is not None:
            async with self._reads.connect() as reader:
                found = await store.read_tokens(reader, self.plan.system, wanted)
        else:
            async with self._reading() as conn:
                found = await store.by_tokens(conn, self.plan.system, wanted)
        records = {r.token: r for r in found}
        for row in rows:
            subjects: dict[str, tuple[uuid.UUID, bool]] = {}
            for path, (dataset, column) in self._cells.items():
                value = row.get(path)
                if not isinstance(value, str) or not is_token(value):
                    continue
                record = records.get(value)
                row[path] = None
                if record is None or (record.dataset, record.column) != (dataset, column):
                    continue
                if record.row_key is not None and record.row_key != self._row_key(row, dataset):
                    continue
                row[path] = self._sealer.open(record)
                subjects[path] = (record.subject_id, record.restricted)
            for path in (*_PREFERRED, *subjects):
                if path in subjects:
                    row[SUBJECT], row[RESTRICTED] = subjects[path]
                    break

    async def lookup(self, kind: str, value: str) -> Lookup:
        """The rows whose customer's vaulted identifier of `kind` is `value` (blind
        index): the document's customer field only, as a search in clear compares it,
        never a receiver's phone kept beside it."""
        normalised = normal(kind, value)
        cell = self.plan.cell_of_path(_SEARCHED[kind])
        if normalised is None or cell is None:
            return Lookup((), ())
        digest = self._sealer.index(kind, normalised)
        async with self._reading() as conn:
            found = await store.rows_with(
                conn, self.plan.system, (cell.dataset, cell.column), kind, [digest]
            )
        customers = tuple(sorted({int(k) for t, k in found if k and t == self._customers}))
        orders = tuple(sorted({int(k) for t, k in found if k and t == self.plan.source.table}))
        return Lookup(customers, orders)
