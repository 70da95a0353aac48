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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.validators import normalise_email, normalise_phone, normalise_resident_id
from gateway.crypto import DecryptionFailed, decrypt_field, encrypt_field
from gateway.subjects import SubjectKey, SubjectKeys
from gateway.systems import MASK
from gateway.vault import store
from gateway.vault.existing import CONTACT, ExistingTable
from gateway.vault.plan import PATH_KINDS, Cell
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

    def index(self, kind: str, normalised: str) -> bytes:
        return self._subjects.index(kind, normalised)

    def open(self, record: Record) -> str | None:
        """A record's value; None once its subject is erased or if it does not open."""
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
        """Seal every clear cell of `rows` (inside the caller's transaction) and bind the
        token API's records the rows carry; what to write in the store, row by row."""
        spec = et.spec
        keys = [str(row[spec.key]) for row in rows]
        existing = {
            (r.row_key, r.column): r
            for r in await store.by_cells(conn, self.system, spec.name, keys)
        }
        carried = {v for row in rows for v in row.values() if is_token(v)}
        records = {r.token: r for r in await store.by_tokens(conn, self.system, carried)}
        subjects: dict[tuple[Any, ...], SubjectKey] = {}
        work: list[Work] = []
        for row in rows:
            row_key = str(row[spec.key])
            await self._bind(conn, et, row, row_key, records)
            clear, copied = self._to_seal(et, row, row_key, records)
            if not clear and not copied:
                continue
            contacts = self._contacts(et, row, records)
            wanted = tuple(sorted(contacts.items()))
            if wanted not in subjects:
                subjects[wanted] = await self.subject(conn, contacts, now)
            key = subjects[wanted]
            # A token the store's own system copied from another cell of the same
            # subject (an order's receiver from its customer) gets a record of its own;
            # a token of another subject is never copied into this row's records.
            texts = {name: text_of(value) for name, value in clear.items()}
            for name, record in copied.items():
                if record.subject_id == key.subject_id and (text := self.open(record)):
                    texts[name] = text
                    clear[name] = record.token
                else:
                    self.foreign += 1
            tokens: dict[str, str] = {}
            for name, text in texts.items():
                cell = next(c for c in spec.cells if c.column == name)
                assert text is not None  # noqa: S101 - filtered above
                old = existing.get((row_key, name))
                token = old.token if old is not None else new_token()
                values = self.sealed(key, cell, token, text)
                if et.ref is not None:
                    values["order_ref"] = text_of(row.get(et.ref))
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
            if not tokens:
                continue
            clear = {name: clear[name] for name in tokens}
            work.append(Work(int(row[spec.key]), clear, tokens))
        return work

    def _to_seal(
        self, et: ExistingTable, row: Mapping[str, Any], row_key: str, records: Mapping[str, Record]
    ) -> tuple[dict[str, Any], dict[str, Record]]:
        """The row's cells in clear (column -> value), and those holding a token whose
        record belongs to another cell (column -> that record)."""
        clear: dict[str, Any] = {}
        copied: dict[str, Record] = {}
        for cell in et.spec.cells:
            value = row[cell.column]
            if text_of(value) is None:
                continue
            if not is_token(value):
                clear[cell.column] = value
                continue
            record = records.get(value)
            if record is None:
                self.foreign += 1  # a token this vault never made: left as it is
                continue
            here = (record.dataset, record.column) == (cell.dataset, cell.column)
            if here and record.row_key in {None, row_key}:
                continue
            copied[cell.column] = record
        return clear, copied

    async def _bind(
        self,
        conn: AsyncConnection,
        et: ExistingTable,
        row: Mapping[str, Any],
        row_key: str,
        records: Mapping[str, Record],
    ) -> None:
        for cell in et.spec.cells:
            record = records.get(row.get(cell.column))  # type: ignore[arg-type]
            if (
                record is not None
                and record.row_key is None
                and (record.dataset, record.column) == (cell.dataset, cell.column)
            ):
                await store.bind(conn, record.token, row_key)
                if et.ref is not None and (ref := text_of(row.get(et.ref))) is not None:
                    await store.reseal(conn, record.token, record.subject_id, {"order_ref": ref})

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
