"""Opening the vault's tokens on the embedded SQLite store: a read never waits for a
writer of the gateway's database, and finds its records by token.

Every transaction of the gateway's engine begins IMMEDIATE on SQLite, taking the
database's write lock (`gateway.core.db`): a vault read that began so waited for, and
held up, every write, the audit log's commits among them, so under concurrent reads
through the vault the log could not be written and reads were refused
(bench/fronted_read.py). And with `system = ?` beside the tokens of an order, SQLite's
planner read every record of the system through another index, at each read.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from gateway.vault import is_token
from tests.fronted.front import all_pages, fronting
from tests.fronted.oms import create_oms, oms_rows
from tests.fronted.vaulting import VAULT_MAP, run_walk
from tests.helpers import Gateway
from tests.systems.chain import new_database

# The engine's busy timeout is 10 s: a read that waits for the lock takes that long.
QUICK = 2.0


@pytest.fixture
def vaulted(clean_sqlite_url: str, tmp_path: Path) -> Iterator[Gateway]:
    with new_database("postgresql", tmp_path / "oms") as url:
        asyncio.run(create_oms(url, oms_rows(60)))
        with fronting(url, tmp_path, clean_sqlite_url, VAULT_MAP) as gw:
            assert run_walk(gw, "backfill").clear_remaining == 0
            yield gw


def _read_one(gw: Gateway) -> Any:
    """A call reading the first order through the vault, as `GET /v1/orders/{id}` does
    (without its audit entry, which is a write of its own)."""
    token = gw.principal("customer_service", name=f"cs-vault-{len(gw.tokens)}")
    order_id = uuid.UUID(all_pages(gw, token)[0]["order_id"])
    return functools.partial(gw.services.fronted.fetch, order_id, None, frozenset())


def _database(url: str) -> str:
    return str(make_url(url).database)


def test_a_token_opens_while_another_connection_holds_the_write_lock(
    vaulted: Gateway, clean_sqlite_url: str
) -> None:
    read = _read_one(vaulted)
    holder = sqlite3.connect(_database(clean_sqlite_url), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # a writer of the gateway's database
        start = time.monotonic()
        opened = vaulted.in_app(read)
        took = time.monotonic() - start
    finally:
        holder.rollback()
        holder.close()
    assert took < QUICK
    phone = opened["customer.phone"]
    assert isinstance(phone, str)
    assert phone
    assert not is_token(phone)


def test_a_read_finds_its_records_by_token_not_among_all_of_the_systems(
    vaulted: Gateway, clean_sqlite_url: str
) -> None:
    read = _read_one(vaulted)
    seen: list[tuple[str, Any]] = []

    def note(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM vault_records" in statement:
            seen.append((statement, parameters))

    # Every engine's statements (the read path's pool has an engine of its own).
    event.listen(Engine, "before_cursor_execute", note)
    try:
        opened = vaulted.in_app(read)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert not is_token(opened["customer.phone"])
    assert len(seen) == 1
    statement, parameters = seen[0]
    assert statement.count("?") > 2  # the order's tokens (and its customer's)
    db = sqlite3.connect(_database(clean_sqlite_url))
    try:
        plan = [r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    finally:
        db.close()
    records = next(step for step in plan if " vault_records " in step)
    assert "(token=?)" in records, plan
