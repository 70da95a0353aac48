"""Sealing an existing table's rows into vault records (the gateway's side of a batch).

Each record is sealed under its data subject's key (AES-GCM, bound to the record's
token and cell), with a blind index where it holds an identifier. The subject is found
by the proven-identity rule the gateway's own orders follow (`SubjectKeys.link`): a
row joins the subject founded with exactly its customer's contacts, or founds one. A
cell that already has a record (a batch redone after a crash, or a value the store
changed before its token was written) keeps its token and is sealed again with what
the cell holds now, so a redone batch leaves nothing behind twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.validators import normalise_email, normalise_phone, normalise_resident_id
from gateway.crypto import DecryptionFailed, decrypt_field, encrypt_field
from gateway.subjects import SubjectKey, SubjectKeys
from gateway.systems import MASK
from gateway.vault import store
from gateway.vault.existing import CONTACT, ExistingTable
from gateway.vault.plan import PATH_KINDS, Cell, TablePlan
from gateway.vault.store import Record
from gateway.vault.tokens import is_token, new_token

_NORMALISE = {
    "phone": normalise_phone,
    "email": normalise_email,
    "id_number": normalise_resident_id,
}
_DECIDING = ("phone", "email")


def place(system: str, dataset: str, column: str, token: str) -> dict[str, Any]:
    """Where a record's ciphertext belongs: it opens only as this token's, in this cell."""
    return {
        "table": "vault_records",
        "column": f"{system}.{dataset}.{column}",
        "row_id": uuid.uuid5(uuid.NAMESPACE_URL, "opg-vault:" + token),
    }


def normal(kind: str, value: str) -> str | None:
    """An identifier as the gateway compares it; None if it is not one (a landline an
    OMS kept is sealed, but cannot be searched or verified by)."""
    try:
        return _NORMALISE[kind](value)
    except ValueError:
        return None


def text_of(value: Any) -> str | None:
    """A cell's value as the text the vault keeps (None: nothing to keep)."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    text = value if isinstance(value, str) else str(value)
    if text == MASK:  # what an erasure wrote over a value: nothing personal left
        return None
    return text or None


@dataclass(slots=True)
class _Cells:
    """A row's vaulted cells by what they hold (column -> value or record)."""

    clear: dict[str, Any] = field(default_factory=dict)
    own: dict[str, Record] = field(default_factory=dict)
    unbound: dict[str, Record] = field(default_factory=dict)
    copied: dict[str, Record] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Work:
    """One row's cells to write in the existing store: what they held, their tokens."""

    key: int
    was: Mapping[str, Any]
    now: Mapping[str, str]


class Sealer:
    """Seals rows of one system's tables into its vault records."""

    def __init__(self, system: str, subjects: SubjectKeys) -> None:
        self.system = system
        self._subjects = subjects
        self.foreign = 0  # tokens left in place: unknown, or another subject's
        self._known: dict[str, str] = {}  # values sealed again in the batch under way

    def index(self, kind: str, normalised: str) -> bytes:
        return self._subjects.index(kind, normalised)

    def open(self, record: Record) -> str | None:
        """A record's value; None once its subject is erased or if it does not open."""
        if record.token in self._known:  # sealed again in this batch, under another key
            return self._known[record.token]
        key = self._subjects.unwrap(record.key)
        if key.dek is None or not record.sealed:
            return None
        try:
            return decrypt_field(
                key.dek,
                record.sealed,
                dek_version=record.key.dek_version,
                **place(record.system, record.dataset, record.column, record.token),
            )
        except DecryptionFailed:
            return None

    def sealed(self, key: SubjectKey, cell: Cell, token: str, text: str) -> dict[str, Any]:
        """The record's sealed columns for `text` under the subject's key."""
        assert key.dek is not None  # noqa: S101 - live subjects only
        values: dict[str, Any] = {
            "sealed": encrypt_field(
                key.dek,
                text,
                dek_version=key.dek_version,
                **place(self.system, cell.dataset, cell.column, token),
            ),
            "dek_version": key.dek_version,
            "kind": None,
            "digest": None,
        }
        normalised = None if cell.kind is None else normal(cell.kind, text)
        if cell.kind is not None and normalised is not None:
            values["kind"] = cell.kind
            values["digest"] = self._subjects.index(cell.kind, normalised)
        return values

    async def subject(
        self, conn: AsyncConnection, contacts: Mapping[str, str | None], now: datetime
    ) -> SubjectKey:
        """The subject of a row whose customer has these contacts (kind -> clear)."""
        known = {k: normal(k, v) if v else None for k, v in contacts.items()}
        linked = await self._subjects.link(
            conn,
            {k: known.get(k) for k in _DECIDING},
            now,
            also={"id_number": known.get("id_number")},
        )
        return linked.key

    async def seal_rows(
        self, conn: AsyncConnection, et: ExistingTable, rows: list[dict[str, Any]], now: datetime
    ) -> list[Work]:
        """Settle every row (inside the caller's transaction): seal its clear cells, bind
        the token API's records it carries, file all of them under the row's customer,
        and drop records its cells no longer hold. What to write in the store, by row."""
        spec = et.spec
        keys = [str(row[spec.key]) for row in rows]
        held = {
            (r.row_key, r.column): r
            for r in await store.by_cells(
                conn, self.system, spec.name, [c.column for c in spec.cells], keys
            )
        }
        carried = {v for row in rows for v in row.values() if is_token(v)}
        records = {r.token: r for r in await store.by_tokens(conn, self.system, carried)}
        subjects: dict[tuple[Any, ...], SubjectKey] = {}
        work: list[Work] = []
        self._known.clear()
        for row in rows:
            cells = self._classify(et, row, records)
            row_key = str(row[spec.key])
            # Records of this row's cells that the cells no longer hold (emptied, masked
            # by an erasure, or replaced by another token): their values are gone from
            # the store, so they go from the vault. A clear cell keeps its record: a
            # batch redone after a crash seals the value again under the same token.
            stale = [
                r.token
                for (owner, column), r in held.items()
                if owner == row_key and r.token != row[column] and column not in cells.clear
            ]
            await store.forget(conn, stale)
            if not (cells.clear or cells.unbound or cells.copied):
                continue
            contacts = self._contacts(et, row, records)
            wanted = tuple(sorted(contacts.items()))
            key = subjects.get(wanted) if any(contacts.values()) else None
            if key is None:
                key = subjects[wanted] = await self.subject(conn, contacts, now)
            tokens = await self._settle(conn, et, row, cells, key, held, records, now)
            if tokens:
                was = {name: cells.clear.get(name, row[name]) for name in tokens}
                work.append(Work(int(row[spec.key]), was, tokens))
        return work

    def _classify(
        self, et: ExistingTable, row: Mapping[str, Any], records: Mapping[str, Record]
    ) -> _Cells:
        """What each vaulted cell of the row holds: a clear value, its own token, a token
        API record still to bind here, a token copied from another cell, or nothing."""
        found = _Cells()
        row_key = str(row[et.spec.key])
        for cell in et.spec.cells:
            value = row[cell.column]
            if text_of(value) is None:
                continue
            if not is_token(value):
                found.clear[cell.column] = value
                continue
            record = records.get(value)
            here = record is not None and (record.dataset, record.column) == (
                cell.dataset,
                cell.column,
            )
            if record is None:
                self.foreign += 1  # a token this vault never made: left as it is
            elif here and record.row_key == row_key:
                found.own[cell.column] = record
            elif here and record.row_key is None and self._same_channel(et, row, record):
                found.unbound[cell.column] = record
            else:
                found.copied[cell.column] = record
        return found

    def _same_channel(self, et: ExistingTable, row: Mapping[str, Any], record: Record) -> bool:
        """A token the API made for one channel's order binds only in that channel's."""
        if et.channel is None or record.channel is None:
            return True
        return text_of(row.get(et.channel)) == record.channel

    async def _settle(
        self,
        conn: AsyncConnection,
        et: ExistingTable,
        row: Mapping[str, Any],
        cells: _Cells,
        key: SubjectKey,
        held: Mapping[tuple[str | None, str], Record],
        records: dict[str, Record],
        now: datetime,
    ) -> dict[str, str]:
        """File the row's cells under `key`; the tokens to write for its clear cells and
        for tokens copied into it from another cell of the same subject."""
        spec, row_key = et.spec, str(row[et.spec.key])
        ref = None if et.ref is None else text_of(row.get(et.ref))
        texts: dict[str, str] = {n: t for n, v in cells.clear.items() if (t := text_of(v))}
        # A copy of one of this customer's own values (an order's receiver from its
        # customer) gets a record of its own; another customer's is never taken in.
        for name, record in cells.copied.items():
            text = self.open(record) if record.subject_id == key.subject_id else None
            if text is None:
                self.foreign += 1
            else:
                texts[name] = text
        # The token API's records, and this row's own: filed under the row's customer
        # (the API's caller may not have named them), bound to this row.
        for name, record in {**cells.unbound, **cells.own}.items():
            if name in cells.unbound:
                await store.bind(conn, record.token, row_key)
            if record.subject_id != key.subject_id or name in cells.unbound:
                text = self.open(record)
                if text is not None:
                    cell = self._cell(spec, name)
                    values = self.sealed(key, cell, record.token, text) | {"order_ref": ref}
                    await store.reseal(conn, record.token, key.subject_id, values)
                    self._known[record.token] = text
            records[record.token] = replace(record, row_key=row_key, subject_id=key.subject_id)
        tokens: dict[str, str] = {}
        for name, text in texts.items():
            old = held.get((row_key, name)) if name in cells.clear else None
            token = old.token if old is not None else new_token()
            values = self.sealed(key, self._cell(spec, name), token, text) | {"order_ref": ref}
            if old is not None:
                await store.reseal(conn, token, key.subject_id, values)
            else:
                await store.insert_record(
                    conn,
                    {
                        "token": token,
                        "system": self.system,
                        "dataset": spec.name,
                        "column_name": name,
                        "row_key": row_key,
                        "subject_id": key.subject_id,
                        "created_at": now,
                        **values,
                    },
                )
            tokens[name] = token
        return tokens

    @staticmethod
    def _cell(spec: TablePlan, name: str) -> Cell:
        return next(c for c in spec.cells if c.column == name)

    def _contacts(
        self, et: ExistingTable, row: Mapping[str, Any], records: Mapping[str, Record]
    ) -> dict[str, str | None]:
        """The customer's contacts in clear: from the row itself (a customers row, or an
        orders row without a customers table) or from its customer joined to it. A
        token counts only in the cell its record belongs to: one copied from another
        customer's row proves nothing about this one."""
        found: dict[str, str | None] = {}
        cells = [c for c in et.spec.cells if c.path in PATH_KINDS]
        prefix, owner = "", row.get(et.spec.key)
        if et.contacts is not None and et.customer is not None:
            customers = et.plan.table(et.contacts.name)
            cells = [c for c in customers.cells if c.path in PATH_KINDS]
            prefix, owner = CONTACT, row.get(et.customer)
        for cell in cells:
            value = row.get(prefix + cell.column)
            if isinstance(value, str) and is_token(value):
                record = records.get(value)
                mine = (
                    record is not None
                    and (record.dataset, record.column)
                    == (
                        cell.dataset,
                        cell.column,
                    )
                    and record.row_key in {None, str(owner)}
                )
                found[PATH_KINDS[cell.path or ""]] = (
                    self.open(record) if mine and record is not None else None
                )
            else:
                found[PATH_KINDS[cell.path or ""]] = text_of(value)
        return found
