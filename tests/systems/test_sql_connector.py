"""The SQL connector against real databases of each kind: it finds the subject however
the system stores the phone or e-mail, erases per field treatment, leaves other
customers alone, searches again, and names a bad mapping precisely."""

from __future__ import annotations

import asyncio
import tomllib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.systems import Identities, System
from gateway.systems.connections import FileConnections
from gateway.systems.connector import ConnectorFailed, Job, connector_for
from tests.systems.chain import (
    CRM_MAP,
    SUBJECT_EMAIL,
    SUBJECT_PHONE,
    WMS_MAP,
    connect,
    fetch,
    new_database,
    seed_crm,
    seed_wms,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _system(map_text: str, key: str) -> System:
    return System.model_validate(tomllib.loads(map_text)["systems"][key])


def _job(key: str, system: System, kind: str = "erasure", **ids: list[str]) -> Job:
    pairs = [(k, v) for k, values in ids.items() for v in values]
    return Job(
        request_id=uuid.uuid4(),
        kind=kind,  # type: ignore[arg-type]
        system=key,
        spec=system,
        identities=Identities.of(pairs),  # type: ignore[arg-type]
        delivery_id=uuid.uuid4(),
        attempt=1,
        now=NOW,
        deadline=NOW + timedelta(hours=72),
        rule_years={"ecommerce_transaction": 3},
    )


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def system_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with new_database(request.param, tmp_path) as url:
        seed_crm(url)
        seed_wms(url)
        connections = tmp_path / "systems"
        connect(connections, "crm", url)
        connect(connections, "wms", url)
        yield url, connections


def test_erasure_deletes_and_anonymises_only_the_subject(system_db: tuple[str, Path]) -> None:
    url, directory = system_db
    connections = FileConnections(directory)
    crm, wms = _system(CRM_MAP, "crm"), _system(WMS_MAP, "wms")
    ids = {"phone": [SUBJECT_PHONE], "email": [SUBJECT_EMAIL], "order_number": ["WEB-10001"]}
    crm_job, wms_job = _job("crm", crm, **ids), _job("wms", wms, **ids)

    done = asyncio.run(connector_for("crm", crm, connections).erase(crm_job))
    assert done.status == "done"
    assert done.evidence["datasets"]["customers"]["deleted"] == 1
    assert fetch(url, "SELECT customer_id FROM customers ORDER BY customer_id") == [
        ("C-2",),
        ("C-3",),
    ]

    shipments = asyncio.run(connector_for("wms", wms, connections).erase(wms_job))
    counts = shipments.evidence["datasets"]["shipments"]
    # WEB-10001 by order number and phone, WEB-10002 by the phone with its country code.
    assert (counts["rows_found"], counts["anonymised"], counts["deleted"]) == (2, 2, 0)
    assert counts["kept"] == [
        {
            "rule": "ecommerce_transaction",
            "fields": ["city", "order_no"],
            "records": 2,
            "until": "2029-12-02",
        }
    ]
    assert fetch(url, "SELECT * FROM shipments ORDER BY id") == [
        (1, "WEB-10001", None, None, "***", "北京市"),
        (2, "WEB-10002", None, None, "***", "北京市"),
        (3, "WEB-20001", "13900001111", "李四", "南京路1号", "上海市"),
    ]
    # Searched again: nothing the map says goes is left; a second run changes nothing.
    assert asyncio.run(connector_for("crm", crm, connections).rescan(crm_job)) == {"customers": 0}
    assert asyncio.run(connector_for("wms", wms, connections).rescan(wms_job)) == {"shipments": 0}
    again = asyncio.run(connector_for("wms", wms, connections).erase(wms_job))
    assert again.evidence["datasets"]["shipments"]["anonymised"] == 0


def test_rescan_finds_what_erasure_has_not_reached(system_db: tuple[str, Path]) -> None:
    _, directory = system_db
    crm = _system(CRM_MAP, "crm")
    job = _job("crm", crm, phone=[f"+86{SUBJECT_PHONE}"])
    assert asyncio.run(connector_for("crm", crm, FileConnections(directory)).rescan(job)) == {
        "customers": 1
    }


def test_access_export_holds_only_the_subjects_rows(system_db: tuple[str, Path]) -> None:
    _, directory = system_db
    crm = _system(CRM_MAP, "crm")
    job = _job("crm", crm, kind="access", email=[SUBJECT_EMAIL.upper()])
    outcome = asyncio.run(connector_for("crm", crm, FileConnections(directory)).export(job))
    assert outcome.data == {
        "customers": [
            {
                "customer_id": "C-1",
                "mobile": "+86 138 1234 5678",
                "email": "ZhangSan@Example.com",
                "full_name": "张三",
                "points": 120,
            }
        ]
    }
    assert outcome.evidence["datasets"] == {"customers": {"rows": 1, "truncated": False}}


def test_check_names_missing_tables_columns_and_impossible_treatments(
    system_db: tuple[str, Path],
) -> None:
    _, directory = system_db
    text = WMS_MAP.replace('name = "city"', 'name = "town"').replace(
        '{ name = "order_no", category = "order_reference", identifies = "order_number", '
        'erase = "keep", rule = "ecommerce_transaction" }',
        '{ name = "order_no", category = "order_reference", identifies = "order_number", '
        'erase = "null" }',
    )
    text += '\n[systems.wms.datasets.parcels]\nfields = [{ name = "phone", category = "contact", identifies = "phone" }]\n'
    problems = asyncio.run(
        connector_for("wms", _system(text, "wms"), FileConnections(directory)).check()
    )
    assert problems == [
        "dataset 'shipments': column 'order_no' is NOT NULL, so it cannot be erased with "
        'erase = "null" (use "mask" or "delete_row")',
        "dataset 'shipments': table 'shipments' has no column 'town'",
        "dataset 'parcels': no table 'parcels'",
    ]


def test_an_unreachable_system_fails_without_personal_data(tmp_path: Path) -> None:
    directory = tmp_path / "systems"
    connect(directory, "crm", "postgresql://nobody@127.0.0.1:1/none")
    crm = _system(CRM_MAP, "crm")
    job = _job("crm", crm, phone=[SUBJECT_PHONE], email=[SUBJECT_EMAIL])
    with pytest.raises(ConnectorFailed) as failed:
        asyncio.run(connector_for("crm", crm, FileConnections(directory)).erase(job))
    assert failed.value.retry
    assert failed.value.reason == "'crm': could not connect (ConnectionRefusedError)"


def test_connection_files_must_exist_and_be_owner_only(tmp_path: Path) -> None:
    directory = tmp_path / "systems"
    crm = _system(CRM_MAP, "crm")
    job = _job("crm", crm, phone=[SUBJECT_PHONE])
    with pytest.raises(ConnectorFailed, match=r"no connection file crm\.url") as missing:
        asyncio.run(connector_for("crm", crm, FileConnections(directory)).erase(job))
    assert not missing.value.retry
    connect(directory, "crm", f"sqlite:///{tmp_path / 'crm.db'}")
    (directory / "crm.url").chmod(0o644)
    with pytest.raises(ConnectorFailed, match=r"crm\.url is readable by others"):
        asyncio.run(connector_for("crm", crm, FileConnections(directory)).erase(job))
