"""Which cells of an existing store the vault takes: the plan of one system.

The vault takes what the gateway's own store encrypts: every column the order mapping
reads for a document field of an encrypted category (`classification.toml`), and
every field of the map's datasets for the same tables whose category is encrypted
(an OMS's `receiver_mobile` that no document field reads is still a phone). Province,
city and the other clear categories stay where they are, as in the gateway's own
store. A table is walked in its key's order, customers before orders (an order's
subject is its customer's).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.core.errors import ConfigurationError
from gateway.disclosure import Classification
from gateway.systems import OrderSource, System

_CUSTOMERS = "customers."
# The identifying document fields, and the kinds their blind indexes are kept under.
PATH_KINDS = {
    "customer.phone": "phone",
    "customer.email": "email",
    "customer.id_number": "id_number",
}
_FIELD_KINDS = {"phone": "phone", "email": "email", "resident_id": "id_number"}


@dataclass(frozen=True, slots=True)
class Cell:
    """One vaulted column: where it is, the document field it serves (if any), and the
    kind of identifier it holds (if any: its records get a blind index)."""

    dataset: str
    column: str
    path: str | None
    kind: str | None


@dataclass(frozen=True, slots=True)
class TablePlan:
    name: str
    key: str
    cells: tuple[Cell, ...]
    watermark: str | None
    customers: bool  # the customers table (else the orders table)


@dataclass(frozen=True, slots=True)
class VaultPlan:
    system: str
    source: OrderSource
    tables: tuple[TablePlan, ...]
    batch: int

    def table(self, name: str) -> TablePlan:
        return next(t for t in self.tables if t.name == name)

    def cell_of_path(self, path: str) -> Cell | None:
        for t in self.tables:
            for cell in t.cells:
                if cell.path == path:
                    return cell
        return None

    def cell(self, dataset: str, column: str) -> Cell | None:
        for t in self.tables:
            if t.name == dataset:
                return next((c for c in t.cells if c.column == column), None)
        return None


def plan_of(key: str, system: System, classification: Classification) -> VaultPlan:
    """The vault's plan for system `key`; a system without an order mapping has none."""
    source = system.orders
    if source is None:
        raise ConfigurationError(f"vault: the systems map gives {key!r} no [orders] mapping")
    encrypted = classification.encrypted_paths()
    by_table: dict[str, dict[str, Cell]] = {source.table: {}}
    if source.customers is not None:
        by_table[source.customers.table] = {}
    for path, mapped in source.columns.items():
        if path not in encrypted:
            continue
        name, column = source.table, mapped
        if mapped.startswith(_CUSTOMERS) and source.customers is not None:
            name, column = source.customers.table, mapped.removeprefix(_CUSTOMERS)
        by_table[name][column] = Cell(name, column, path, PATH_KINDS.get(path))
    for name, dataset in system.datasets.items():
        if name not in by_table:
            continue
        for f in dataset.fields:
            category = classification.categories.get(f.category)
            if category is None or not category.encrypted or f.name in by_table[name]:
                continue
            kind = _FIELD_KINDS.get(f.identifies or "")
            by_table[name][f.name] = Cell(name, f.name, None, kind)
    options = system.vault
    watermarks = {} if options is None else options.watermarks
    tables = []
    for name, cells in by_table.items():
        is_customers = source.customers is not None and name == source.customers.table
        table_key = source.customers.key if is_customers and source.customers else source.key
        tables.append(
            TablePlan(
                name,
                table_key,
                tuple(sorted(cells.values(), key=lambda c: c.column)),
                watermarks.get(name),
                is_customers,
            )
        )
    tables.sort(key=lambda t: not t.customers)  # customers first
    return VaultPlan(key, source, tuple(tables), 500 if options is None else options.batch)
