"""Demo copies of the map's SQL systems, so `make run` shows a whole-chain erasure.

For each SQL system of the map that has no connection file yet, an SQLite database
under `<systems_dir>/` gets one table per dataset, a column per mapped field and a row
per demo customer, filled from the demo orders by what each field identifies or holds
(the phone where the map says `identifies = "phone"`, the city where it says
`location_coarse`, ...). Then the owner-only connection file names it. An operator's
own connection file is never replaced; a system of another kind is left to them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from gateway.core.secretfiles import owner_only_dir, write_secret_file
from gateway.systems import Dataset, SystemsMap

# How a demo customer's value is found for a field: by what it identifies, then by its
# category; anything else gets a neutral marker.
_BY_IDENTITY: dict[str, Callable[[dict[str, Any], int], Any]] = {
    "phone": lambda o, _: o["customer"]["phone"],
    "email": lambda o, _: o["customer"]["email"],
    "order_number": lambda o, _: o["external_id"],
    "customer_id": lambda _, n: f"C-{n:05d}",
    "resident_id": lambda o, _: o["customer"].get("id_number"),
}
_BY_CATEGORY: dict[str, Callable[[dict[str, Any], int], Any]] = {
    "name": lambda o, _: o["customer"]["name"],
    "contact": lambda o, _: o["customer"]["phone"],
    "location_precise": lambda o, _: o["shipping_address"]["detail"],
    "location_coarse": lambda o, _: o["shipping_address"]["city"],
    "purchase": lambda o, _: o["total_amount"],
    "order_reference": lambda o, _: o["external_id"],
}


def seed_systems(
    systems: SystemsMap, directory: Path, orders: Sequence[dict[str, Any]]
) -> list[str]:
    """Create the missing SQL systems' demo databases; the keys of those created."""
    created = []
    for key, system in systems.systems.items():
        url_file = directory / f"{key}.url"
        if system.connector != "sql" or system.orders is not None or url_file.exists():
            continue  # an order store is the legacy OMS's (`gateway.demo.legacy`)
        owner_only_dir(directory)
        path = directory / f"{key}.db"
        path.unlink(missing_ok=True)
        with closing(sqlite3.connect(path)) as db, db:
            for name, dataset in system.datasets.items():
                _fill(db, name, dataset, orders)
        path.chmod(0o600)
        write_secret_file(url_file, f"sqlite:///{path.resolve()}")
        created.append(key)
    return created


def _fill(
    db: sqlite3.Connection, name: str, dataset: Dataset, orders: Sequence[dict[str, Any]]
) -> None:
    columns = [f.name for f in dataset.fields]
    quoted = ", ".join(_quote(c) for c in columns)
    db.execute(f"CREATE TABLE {_quote(name)} ({quoted})")
    rows = []
    for number, order in enumerate(_records(dataset, orders), start=1):
        row = []
        for f in dataset.fields:
            pick = (_BY_IDENTITY.get(f.identifies) if f.identifies else None) or _BY_CATEGORY.get(
                f.category
            )
            row.append(pick(order, number) if pick else "demo")
        rows.append(row)
    marks = ", ".join("?" for _ in columns)
    insert = f"INSERT INTO {_quote(name)} ({quoted}) VALUES ({marks})"  # noqa: S608 - the map's names
    db.executemany(insert, rows)


def _records(dataset: Dataset, orders: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A row per order where the dataset is found by order number, else per customer."""
    if any(f.identifies == "order_number" for f in dataset.fields):
        return list(orders)
    customers: dict[str, dict[str, Any]] = {}
    for order in orders:
        customers.setdefault(order["customer"]["phone"], order)
    return list(customers.values())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
