"""A pass of the vault's follower ends while the store keeps writing.

A pass walked each table's new rows "to the end": under a steady write rate, with a
new order arriving before the last batch was done, it chased them one batch after
another and did not end (bench/fronted_read.py saw passes of 7-10 s at 20 orders/s
on PostgreSQL), so the customers walked first in the next pass waited for it, their
personal values in clear. Now a pass stops at the newest key it found when it began
the table; what is written after goes to the next pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.vault import Step
from tests.fronted.front import fronting
from tests.fronted.oms import SUBJECT_CUSTOMER_ID, OmsData, StandInOms, create_oms, oms_rows
from tests.fronted.vaulting import VAULT_MAP, run_walk
from tests.systems.chain import new_database

CHASE = 15  # new orders the store writes, one after each batch the follower saves


@pytest.fixture
def oms(tmp_path: Path) -> Iterator[tuple[str, OmsData]]:
    data = oms_rows(40)
    with new_database("postgresql", tmp_path / "oms") as url:
        asyncio.run(create_oms(url, data))
        yield url, data


def test_a_pass_stops_at_the_newest_row_it_found_while_the_store_writes_on(
    oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path
) -> None:
    url, data = oms
    writer = StandInOms()
    with fronting(url, tmp_path, clean_sqlite_url, VAULT_MAP) as gw:
        assert run_walk(gw, "backfill").clear_remaining == 0
        data.extend(asyncio.run(writer.write_orders(url, 1, data.next_order_id())))
        batches: list[int] = []

        async def store_writes_on(step: Step) -> None:
            if (step.table, step.phase) != ("orders", "saved"):
                return
            batches.append(step.rows)
            if len(batches) <= CHASE:  # the next order arrives before the pass is done
                one = data.next_order_id()
                data.extend(await writer.write_orders(url, 1, one, customer_id=SUBJECT_CUSTOMER_ID))

        run_walk(gw, "follow_once", progress=store_writes_on)
        assert batches == [1]  # the order there when the pass began, not those after
        # The next passes take what was written meanwhile: nothing stays clear.
        for _ in range(3):
            last = run_walk(gw, "follow_once")
        assert last.clear_remaining == 0
