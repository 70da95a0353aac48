"""Read-through (issue 17, mode 1): an existing OMS database on PostgreSQL and on
MariaDB (tests/fronted/oms.py, written apart from the mapping code) served through the
gateway's real API, with the same disclosure, row scope, reveal and audit as its own
store, and not a byte of the OMS's tables changed."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.core.errors import ConfigurationError
from tests.fronted.front import OMS_MAP, all_pages, fronting
from tests.fronted.oms import (
    STRANGER_CUSTOMER_ID,
    SUBJECT_CUSTOMER_ID,
    SUBJECT_MOBILE,
    OmsData,
    StandInOms,
    create_oms,
    expected_document,
    oms_rows,
)
from tests.helpers import Gateway, bearer, dump_audit, own_store_policies, totp_code
from tests.systems.chain import connect, fetch, new_database

ROWS = 2000
FREE_TEXT = ("note", "gift_message")
TABLES_QUERY = {
    "customers": "SELECT * FROM customers ORDER BY customer_id",
    "orders": "SELECT * FROM orders ORDER BY order_id",
    "order_lines": "SELECT * FROM order_lines ORDER BY line_id",
}


@pytest.fixture(scope="module", params=["postgresql", "mariadb"])
def oms(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, OmsData]]:
    data = oms_rows(ROWS)
    with new_database(request.param, tmp_path_factory.mktemp("oms")) as url:
        asyncio.run(create_oms(url, data))
        yield url, data


@pytest.fixture
def served(oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway serving the module's OMS read-through."""
    url, _ = oms
    with fronting(url, tmp_path, clean_sqlite_url) as gw:
        yield gw


def _flat(document: dict[str, Any]) -> dict[str, Any]:
    """A document as the plans render it from: flat paths, items as a list."""
    flat: dict[str, Any] = {"order_id": None}
    for key, value in document.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _without(document: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in keys}


@pytest.mark.parametrize(
    ("role", "region"),
    [("customer_service", None), ("warehouse", "north"), ("finance", None), ("analyst", None)],
)
def test_every_order_reads_as_the_oms_holds_it_under_the_roles_plan(
    served: Gateway, oms: tuple[str, OmsData], role: str, region: str | None
) -> None:
    gw = served
    _, data = oms
    token = gw.principal(role, region=region)
    plan = gw.services.policy.plan_for(role)
    live = [o for o in data.orders if not o["is_deleted"]]
    visible = [o for o in live if region is None or o["sales_region"] == region]
    read = all_pages(gw, token)
    assert [r["external_id"] for r in read] == [
        o["order_no"]
        for o in sorted(visible, key=lambda o: (o["created_time"], o["order_id"]), reverse=True)
    ]
    by_number = {r["external_id"]: r for r in read}
    for order in visible:
        expected = plan.render(_flat(expected_document(data, order)))
        shown = by_number[order["order_no"]]
        assert _without(shown, "order_id", *FREE_TEXT) == _without(expected, "order_id", *FREE_TEXT)
        for path in FREE_TEXT:  # masked by what is found in it, or hidden, as the plan says
            assert (path in shown) == (path in expected)
    one = visible[0]
    single = gw.client.get(
        f"/v1/orders/{by_number[one['order_no']]['order_id']}", headers=bearer(token)
    )
    assert single.json() == by_number[one["order_no"]]


def test_free_text_is_masked_by_what_is_found_in_it_when_read(
    served: Gateway, oms: tuple[str, OmsData]
) -> None:
    gw = served
    _, data = oms
    token = gw.principal("customer_service")
    read = {r["external_id"]: r for r in all_pages(gw, token)}
    memos = [o for o in data.orders if not o["is_deleted"] and o["buyer_memo"]]
    phones = re.compile(r"1\d{10}")  # a mobile number written in the memo
    with_phone = [o for o in memos if phones.search(o["buyer_memo"])]
    assert with_phone
    for order in with_phone:
        shown = read[order["order_no"]]["note"]
        for phone in phones.findall(order["buyer_memo"]):
            assert phone not in shown  # never in clear
        assert shown != order["buyer_memo"]


def test_search_finds_the_customer_however_the_oms_stored_the_phone(
    served: Gateway, oms: tuple[str, OmsData]
) -> None:
    gw = served
    _, data = oms
    token = gw.principal("customer_service")
    found = gw.client.post(
        "/v1/orders/search", json={"phone": SUBJECT_MOBILE}, headers=bearer(token)
    )
    assert found.status_code == 200, found.text
    mine = {o["order_no"] for o in data.orders_of(SUBJECT_CUSTOMER_ID)}
    assert {r["external_id"] for r in found.json()["items"]} == mine
    stranger = {o["order_no"] for o in data.orders_of(STRANGER_CUSTOMER_ID)}
    assert not mine & stranger


def test_reads_are_logged_by_pseudonym_and_a_reveal_needs_a_grant(
    served: Gateway, oms: tuple[str, OmsData]
) -> None:
    gw = served
    _, data = oms
    token = gw.principal("customer_service")
    secret = gw.enrol_totp(token)
    order = data.orders_of(SUBJECT_CUSTOMER_ID)[0]
    [found] = [r for r in all_pages(gw, token) if r["external_id"] == order["order_no"]]
    assert found["customer"]["phone"] != data.customer(SUBJECT_CUSTOMER_ID)["mobile"]
    granted = gw.client.post(
        "/v1/unmask-grants",
        json={
            "purpose": "customer called about a lost parcel",
            "code": totp_code(secret, gw.clock),
            "order_ids": [found["order_id"]],
        },
        headers=bearer(token),
    )
    assert granted.status_code == 201, granted.text
    clear = gw.client.get(
        f"/v1/orders/{found['order_id']}",
        params={"reveal": "customer.phone"},
        headers={**bearer(token), "X-Unmask-Grant": granted.json()["grant"]},
    )
    assert clear.status_code == 200, clear.text
    assert clear.json()["customer"]["phone"] == data.customer(SUBJECT_CUSTOMER_ID)["mobile"]
    log = asyncio.run(dump_audit(gw.settings.database_url)).decode()
    assert found["order_id"] in log  # the reads and the reveal name the order
    assert "orders.reveal" in log
    assert SUBJECT_MOBILE not in log
    assert data.customer(SUBJECT_CUSTOMER_ID)["full_name"] not in log


def test_nothing_in_the_oms_changes_and_writes_are_refused(
    served: Gateway, oms: tuple[str, OmsData]
) -> None:
    gw = served
    url, _ = oms
    before = {name: fetch(url, query) for name, query in TABLES_QUERY.items()}
    token = gw.principal("customer_service")
    all_pages(gw, token, "&status=paid&channel=tmall")
    gw.client.post("/v1/orders/search", json={"phone": SUBJECT_MOBILE}, headers=bearer(token))
    writer = gw.principal("channel")
    refused = gw.client.post("/v1/orders", json=_order_in(), headers=bearer(writer))
    assert refused.status_code == 409
    assert "written by the existing order system of 'oms'" in refused.json()["detail"]
    assert {name: fetch(url, query) for name, query in TABLES_QUERY.items()} == before


def _order_in() -> dict[str, Any]:
    from tests.helpers import SAMPLE_ORDER

    return json.loads(json.dumps(SAMPLE_ORDER))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            ('"customer.name" = "customers.full_name"', '"customer.nick" = "customers.nick"'),
            "'customer.nick' is not a field of the order document",
        ),
        (
            ('external_id = "order_no"', 'external_id = "order_no; drop table orders"'),
            "names 'order_no; drop table orders', not a column",
        ),
        (('created_at = "created_time"\n', ""), "no column for created_at"),
        (
            ("hidden_when = { is_deleted = 1 }", 'time_zone = "Mars/Olympus"'),
            "time_zone 'Mars/Olympus' is not an IANA time zone",
        ),
    ],
)
def test_a_bad_mapping_stops_start_up_with_the_reason(
    tmp_path: Path, clean_sqlite_url: str, change: tuple[str, str], reason: str
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(own_store_policies(), policies)
    (policies / "systems.toml").write_text(OMS_MAP.replace(*change), encoding="utf-8")
    with (
        pytest.raises(ConfigurationError, match="systems map") as raised,
        Gateway.start(clean_sqlite_url, tmp_path, policy_dir=policies),
    ):
        pass
    assert reason in str(raised.value)


@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
def test_orders_the_oms_writes_meanwhile_are_read_at_once(
    kind: str, clean_sqlite_url: str, tmp_path: Path
) -> None:
    data = oms_rows(60)
    with new_database(kind, tmp_path) as url:
        asyncio.run(create_oms(url, data))
        with fronting(url, tmp_path, clean_sqlite_url) as gw:
            token = gw.principal("customer_service")
            before = len(all_pages(gw, token))
            written = asyncio.run(StandInOms().write_orders(url, 5, data.next_order_id()))
            after = all_pages(gw, token)
    new = {o["order_no"] for o in written.orders if not o["is_deleted"]}
    assert len(after) == before + len(new)
    assert new <= {r["external_id"] for r in after}


def test_a_store_out_of_reach_is_a_503_that_discloses_nothing(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    secret_url = "postgresql://reader:s3cret-pw@127.0.0.1:5432/no_such_oms"
    with fronting(secret_url, tmp_path, clean_sqlite_url) as gw:
        token = gw.principal("customer_service")
        before = asyncio.run(dump_audit(gw.settings.database_url)).decode()
        answer = gw.client.get("/v1/orders?limit=5", headers=bearer(token))
        after = asyncio.run(dump_audit(gw.settings.database_url)).decode()
    problem = answer.json()
    assert (answer.status_code, problem["type"]) == (503, "/problems/store-unavailable")
    assert problem["detail"].startswith("the order store 'oms' cannot be read now (")
    assert "s3cret" not in answer.text
    # Nothing was read, so nothing is logged as read.
    assert after.count("'orders.list'") == before.count("'orders.list'")


def test_systems_check_names_what_the_mapping_misses_in_the_store(
    oms: tuple[str, OmsData], tmp_path: Path
) -> None:
    url, _ = oms
    policies = tmp_path / "policies"
    shutil.copytree(own_store_policies(), policies)
    wrong = OMS_MAP.replace('gift_message = "gift_note"', 'gift_message = "gift_text"').replace(
        'order_by = "line_no"', 'order_by = "position"'
    )
    (policies / "systems.toml").write_text(wrong, encoding="utf-8")
    connect(tmp_path / "systems", "oms", url)
    env = {
        "GATEWAY_VAR_DIR": str(tmp_path / "var"),
        "GATEWAY_POLICY_DIR": str(policies),
        "GATEWAY_SYSTEMS_DIR": str(tmp_path / "systems"),
    }
    result = CliRunner().invoke(main, ["systems", "check"], env=env)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "oms: Order management (OMS) (sql): 2 problem(s)",
        "  - orders: table 'orders' has no column 'gift_text'",
        "  - orders: table 'order_lines' has no column 'position'",
    ]
    (policies / "systems.toml").write_text(OMS_MAP, encoding="utf-8")
    fine = CliRunner().invoke(main, ["systems", "check"], env=env)
    assert (fine.exit_code, fine.output) == (0, "oms: Order management (OMS) (sql): ok\n")


def test_reads_use_the_read_only_account_when_there_is_one(
    oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path
) -> None:
    url, _ = oms
    with fronting(
        "postgresql://eraser:pw@127.0.0.1:5432/not_this_one", tmp_path, clean_sqlite_url
    ) as gw:
        connect(tmp_path / "systems", "oms.read", url)  # oms.read.url: what reads go through
        token = gw.principal("customer_service")
        page = gw.client.get("/v1/orders?limit=3", headers=bearer(token))
    assert page.status_code == 200, page.text
    assert len(page.json()["items"]) == 3
