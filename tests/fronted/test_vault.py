"""The vault (issue 17, mode 2): an existing OMS on PostgreSQL and on MariaDB moved
into the gateway's vault by `vault backfill` while the stand-in OMS keeps writing,
with a crash between a batch's two transactions; then followed by `vault follow`.
Every read through the gateway stays what the OMS held; the OMS's tables hold no
personal value in clear (raw scan)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.vault import Step
from tests.fronted.front import all_pages, fronting
from tests.fronted.oms import (
    SUBJECT_CUSTOMER_ID,
    SUBJECT_MOBILE,
    OmsData,
    StandInOms,
    create_oms,
    expected_document,
    oms_rows,
)
from tests.fronted.test_read_through import _flat, _without
from tests.fronted.vaulting import (
    VAULT_MAP,
    VAULTED,
    Crash,
    gateway_database,
    personal_values,
    raw_scan,
    run_walk,
)
from tests.helpers import Gateway, bearer
from tests.systems.chain import new_database, run_on

ROWS = 1200
FREE_TEXT = ("note", "gift_message")


@pytest.fixture(params=["postgresql", "mariadb"])
def oms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, OmsData]]:
    data = oms_rows(ROWS)
    with new_database(request.param, tmp_path / "oms") as url:
        asyncio.run(create_oms(url, data))
        yield url, data


@pytest.fixture
def vaulted(
    oms: tuple[str, OmsData], request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Gateway]:
    url, _ = oms
    with fronting(url, tmp_path, gateway_database(request, url), VAULT_MAP) as gw:
        yield gw


def _reads_as_held(gw: Gateway, data: OmsData, role: str = "customer_service") -> None:
    token = gw.principal(role, name=f"{role}-{len(gw.tokens)}-{len(data.orders)}")
    plan = gw.services.policy.plan_for(role)
    read = {r["external_id"]: r for r in all_pages(gw, token)}
    live = [o for o in data.orders if not o["is_deleted"]]
    assert sorted(read) == sorted(o["order_no"] for o in live)
    for order in live:
        expected = plan.render(_flat(expected_document(data, order)))
        shown = read[order["order_no"]]
        assert _without(shown, "order_id", *FREE_TEXT) == _without(expected, "order_id", *FREE_TEXT)
        for path in FREE_TEXT:
            assert (path in shown) == (path in expected)


def _cells(data: OmsData) -> int:
    """The non-empty personal cells the OMS holds: one vault record each."""
    return sum(
        1
        for table, rows in (("customers", data.customers), ("orders", data.orders))
        for row in rows
        for c in VAULTED[table]
        if row.get(c) not in (None, "")
    )


def test_backfill_under_writes_and_a_crash_leaves_no_clear_value_and_loses_nothing(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    gw, (url, data) = vaulted, oms
    originals = personal_values(data)
    oms_writer = StandInOms()
    changed_memo = "改送到公司前台，电话13700007777"
    edited: dict[str, Any] = {}

    async def meanwhile(step: Step) -> None:
        # The OMS keeps taking orders while the walk runs...
        if (step.table, step.phase, step.batch) == ("customers", "saved", 1):
            data.extend(await oms_writer.write_orders(url, 40, data.next_order_id()))
        # ...and edits a row between its records being sealed and its token written.
        if (step.table, step.phase, step.batch) == ("orders", "sealed", 1) and not edited:
            first = min(o["order_id"] for o in data.orders)
            edited["order_id"] = first
            await asyncio.to_thread(
                run_on,
                url,
                "UPDATE orders SET buyer_memo = :memo WHERE order_id = :id",
                params={"memo": changed_memo, "id": first},
            )
        # The process dies after the second batch of orders went into the vault and
        # before its tokens were written in the OMS.
        if (step.table, step.phase, step.batch) == ("orders", "sealed", 2):
            raise Crash

    with pytest.raises(Crash):
        run_walk(gw, "backfill", progress=meanwhile)
    for order in data.orders:
        if order["order_id"] == edited["order_id"]:
            order["buyer_memo"] = changed_memo
    originals |= personal_values(data)
    # Half way: some rows are tokens, the rest clear, the crashed batch sealed but clear.
    assert raw_scan(url, originals)
    _reads_as_held(gw, data)
    status = gw.cli("vault", "status", "--system", "oms", "--json")
    assert status.exit_code == 0, status.output
    walks = json.loads(status.output)["walks"]
    assert walks["customers.backfill"]["finished_at"] is not None
    assert walks["orders.backfill"]["finished_at"] is None  # under way: one batch saved
    assert walks["orders.backfill"]["rows_seen"] == 150
    assert json.loads(status.output)["clear_remaining"] > 0

    resumed = gw.cli("vault", "backfill", "--system", "oms", "--json")
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.output.strip().splitlines()[-1])
    assert summary["clear_remaining"] == 0
    assert summary["purpose"] == "backfill"

    # New orders after the backfill: the follower takes them.
    data.extend(asyncio.run(oms_writer.write_orders(url, 25, data.next_order_id())))
    originals |= personal_values(data)
    followed = gw.cli("vault", "follow", "--system", "oms", "--once", "--json")
    assert followed.exit_code == 0, followed.output
    passed = json.loads(followed.output.strip().splitlines()[-1])
    assert passed["clear_remaining"] == 0
    assert passed["rows_changed"] >= 25
    assert passed["lag_seconds"] is not None  # the new rows had waited

    assert raw_scan(url, originals) == []
    # One record per personal cell: the crashed batch's records were found again, not
    # made twice, and nothing was lost.
    assert gw.count_rows("vault_records") == _cells(data)
    _reads_as_held(gw, data)
    _reads_as_held(gw, data, "analyst")

    # Search by phone finds the customer's orders through the vault's blind index.
    token = gw.principal("customer_service", name="cs-search")
    found = gw.client.post(
        "/v1/orders/search", json={"phone": SUBJECT_MOBILE}, headers=bearer(token)
    )
    assert found.status_code == 200, found.text
    numbers = {o["order_no"] for o in data.orders_of(SUBJECT_CUSTOMER_ID)}
    assert {o["external_id"] for o in found.json()["items"]} == numbers
