"""Opening the vault's tokens never waits for a writer of the gateway's own database.

On the embedded SQLite store every transaction of the gateway's engine begins
IMMEDIATE, taking the database's write lock (`gateway.core.db`): a vault read that
began so waited for, and held up, every write, the audit log's commits among them,
so under concurrent reads through the vault the log could not be written and reads
were refused (bench/fronted_read.py). Reproduced by holding the write lock from
another connection while an order is read through the vault.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from gateway.vault import is_token
from tests.fronted.front import all_pages, fronting
from tests.fronted.oms import create_oms, oms_rows
from tests.fronted.vaulting import VAULT_MAP, run_walk
from tests.systems.chain import new_database

# The engine's busy timeout is 10 s: a read that waits for the lock takes that long.
QUICK = 2.0


def test_a_token_opens_while_another_connection_holds_the_write_lock(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    with new_database("postgresql", tmp_path / "oms") as url:
        asyncio.run(create_oms(url, oms_rows(20)))
        with fronting(url, tmp_path, clean_sqlite_url, VAULT_MAP) as gw:
            assert run_walk(gw, "backfill").clear_remaining == 0
            token = gw.principal("customer_service", name="cs-vault-lock")
            order_id = uuid.UUID(all_pages(gw, token)[0]["order_id"])
            read = functools.partial(gw.services.fronted.fetch, order_id, None, frozenset())
            holder = sqlite3.connect(str(make_url(clean_sqlite_url).database), isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")  # a writer of the gateway's database
                start = time.monotonic()
                opened = gw.in_app(read)
                took = time.monotonic() - start
            finally:
                holder.rollback()
                holder.close()
    assert took < QUICK
    phone = opened["customer.phone"]
    assert isinstance(phone, str)
    assert phone
    assert not is_token(phone)
