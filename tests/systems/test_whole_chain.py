"""The whole chain end to end, through the gateway's real API and CLI: a CRM on
PostgreSQL, a warehouse system on MariaDB, a marketing tool with an HTTP API and a
paper archive a person handles, beside the gateway's own store (SQLite and PostgreSQL).

An erasure reaches every system and ends with a certificate that carries each one's
evidence and verifies offline; nothing of the subject is left where the map says it
goes, and nobody else's data changes. A system that cannot be reached blocks the
request with the reason and recovers on a DPO's retry; a system that keeps the
subject after erasure blocks certification.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    Gateway,
    assert_no_personal_data,
    assert_problem,
    bearer,
    dump_audit,
    own_store_policies,
    visible_text,
)
from tests.systems.chain import (
    ARCHIVE_MAP,
    CRM_MAP,
    CRM_ROWS,
    WMS_MAP,
    certificate_of,
    connect,
    dpo_token,
    fetch,
    new_database,
    register_view,
    run_on,
    sample_orders,
    seed_crm,
    seed_wms,
    verified,
)
from tests.systems.receiver import MAP as MAILER_MAP
from tests.systems.receiver import Receiver, serve

# A sync job that writes the customer back into the CRM whenever it is deleted.
COMES_BACK = (
    "CREATE FUNCTION comes_back() RETURNS trigger AS $$ BEGIN "
    "INSERT INTO customers VALUES (OLD.customer_id || 'x', OLD.mobile, OLD.email, "
    "OLD.full_name, OLD.points); RETURN OLD; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER sync_back AFTER DELETE ON customers FOR EACH ROW EXECUTE FUNCTION comes_back()",
)


@dataclass
class Chain:
    gw: Gateway
    mailer: Receiver
    crm: str
    wms: str
    systems_dir: Path


@pytest.fixture
def chain(database_url: str, tmp_path: Path) -> Iterator[Chain]:
    with (
        new_database("postgresql", tmp_path) as crm,
        new_database("mariadb", tmp_path) as wms,
    ):
        seed_crm(crm)
        seed_wms(wms)
        policies = tmp_path / "policies"
        shutil.copytree(own_store_policies(), policies)
        text = CRM_MAP + WMS_MAP + MAILER_MAP + ARCHIVE_MAP
        (policies / "systems.toml").write_text(text, encoding="utf-8")
        systems_dir = tmp_path / "systems"
        secret = secrets.token_urlsafe(32)
        with Gateway.start(
            database_url,
            tmp_path,
            policy_dir=policies,
            systems_dir=systems_dir,
            systems_callback_url="https://gateway.example.com",
        ) as gw:
            receiver = Receiver(secret.encode(), gw.clock.now)
            with serve(receiver):
                connect(systems_dir, "crm", crm)
                connect(systems_dir, "wms", wms)
                connect(systems_dir, "mailer", receiver.url, secret)
                yield Chain(gw, receiver, crm, wms, systems_dir)


def _verified(gw: Gateway, kind: str = "erasure") -> tuple[str, str]:
    sample_orders(gw)
    return verified(gw, kind)


def _complete(gw: Gateway, token: str, request_id: str, system: str, **record: Any) -> Any:
    body = {"action": "erased", "done_on": gw.clock.now().date().isoformat()} | record
    body.setdefault("reference", "DESTRUCTION-LOG 2026/118")
    return gw.client.post(
        f"/v1/privacy/register/{request_id}/systems/{system}/complete",
        json=body,
        headers=bearer(token),
    )


def test_an_erasure_reaches_every_system_and_certifies_each_ones_evidence(
    chain: Chain, tmp_path: Path
) -> None:
    gw = chain.gw
    request_id, token = _verified(gw)
    assert gw.run_privacy_worker() == 0  # the paper archive waits for a person
    parts = {p["system"]: p for p in register_view(gw, request_id)["systems"]}
    assert {k: p["status"] for k, p in parts.items()} == {
        "crm": "done",
        "mailer": "done",
        "paper_archive": "waiting",
        "wms": "done",
    }
    assert parts["paper_archive"]["waiting_for"] == "a person to record it"

    # Who may record the archive's part: a DPO or the archive's named owner, no one else.
    clerk = gw.principal("warehouse", region="north", name="archive-clerk")
    agent = gw.principal("customer_service")
    assert_problem(_complete(gw, agent, request_id, "paper_archive"), 403, "forbidden")
    task_url = f"/v1/privacy/register/{request_id}/systems/paper_archive/task"
    assert_problem(gw.client.get(task_url, headers=bearer(agent)), 403, "forbidden")
    task = gw.client.get(task_url, headers=bearer(clerk))
    assert task.status_code == 200, task.text
    assert task.headers["cache-control"] == "no-store"
    assert task.json()["find_by"] == {"order_number": ["WEB-10001"]}  # what the box is under
    assert_problem(_complete(gw, clerk, request_id, "crm"), 403, "forbidden")  # not theirs
    future = (gw.clock.now() + timedelta(days=1)).date().isoformat()
    bad = assert_problem(
        _complete(gw, clerk, request_id, "paper_archive", done_on=future), 422, "invalid-input"
    )
    assert bad["errors"] == [{"field": "done_on", "message": "is in the future"}]
    done = _complete(gw, clerk, request_id, "paper_archive")
    assert done.status_code == 200, done.text
    assert done.json()["part"]["status"] == "done"
    again = _complete(gw, clerk, request_id, "paper_archive")
    assert_problem(again, 409, "conflict")

    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    document = certificate_of(gw, request_id, token)
    systems = {e["system"]: e for e in document["certificate"]["systems"]}
    assert list(systems) == ["gateway", "crm", "wms", "mailer", "paper_archive"]
    assert systems["crm"]["datasets"] == [
        {"dataset": "customers", "rows_found": 1, "deleted": 1, "anonymised": 0, "kept": []}
    ]
    assert systems["crm"]["searched_again"] == {"customers": 0}
    [shipments] = systems["wms"]["datasets"]
    assert (shipments["rows_found"], shipments["anonymised"]) == (2, 2)
    [kept] = shipments["kept"]
    assert (kept["rule"], kept["fields"], kept["records"]) == (
        "ecommerce_transaction",
        ["city", "order_no"],
        2,
    )
    assert systems["mailer"]["receipt"] == "MKT-42"
    assert systems["paper_archive"]["manual"] == {
        "action": "erased",
        "done_on": gw.clock.now().date().isoformat(),
        "reference": "DESTRUCTION-LOG 2026/118",
        "recorded_by": "archive-clerk",
    }
    assert_no_personal_data(json.dumps(document, ensure_ascii=False))
    _pages_show_every_system(gw, request_id, token)
    _verifies_offline(gw, document, tmp_path)

    # Nothing of the subject left where the map says it goes; nobody else touched.
    assert fetch(chain.crm, "SELECT * FROM customers ORDER BY customer_id") == [
        row for row in CRM_ROWS if row[0] != "C-1"
    ]
    assert fetch(chain.wms, "SELECT * FROM shipments ORDER BY id") == [
        (1, "WEB-10001", None, None, "***", "北京市"),
        (2, "WEB-10002", None, None, "***", "北京市"),
        (3, "WEB-20001", "13900001111", "李四", "南京路1号", "上海市"),
    ]
    assert [c["name"] for c in chain.mailer.contacts] == ["李四", "王五"]
    assert_no_personal_data(asyncio.run(dump_audit(gw.settings.database_url)).decode())


def test_an_unreachable_system_blocks_with_its_reason_and_recovers_on_retry(
    chain: Chain,
) -> None:
    gw = chain.gw
    (chain.systems_dir / "wms.url").unlink()  # the operator has not connected it yet
    request_id, token = _verified(gw)
    clerk = gw.principal("warehouse", region="north", name="archive-clerk")
    gw.run_privacy_worker()
    assert _complete(gw, clerk, request_id, "paper_archive").status_code == 200
    assert gw.run_privacy_worker() == 0
    view = register_view(gw, request_id)
    assert view["blocked"] == (
        "system 'wms' (Warehouse management) failed once: no connection file wms.url in the "
        "systems directory (GATEWAY_SYSTEMS_DIR)"
    )
    assert gw.privacy_status(request_id, token)["state"] == "in_progress"
    assert fetch(chain.wms, "SELECT receiver_phone FROM shipments WHERE id = 1") == [
        ("13812345678",)
    ]

    connect(chain.systems_dir, "wms", chain.wms)
    retried = gw.client.post(
        f"/v1/privacy/register/{request_id}/retry",
        json={"reason": "the warehouse system is connected now"},
        headers=bearer(dpo_token(gw)),
    )
    assert retried.status_code == 200, retried.text
    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    assert fetch(chain.wms, "SELECT receiver_phone FROM shipments WHERE id = 1") == [(None,)]


def test_an_access_request_copies_what_every_system_holds(chain: Chain) -> None:
    gw = chain.gw
    crm_before = fetch(chain.crm, "SELECT * FROM customers ORDER BY customer_id")
    wms_before = fetch(chain.wms, "SELECT * FROM shipments ORDER BY id")
    request_id, token = _verified(gw, "access")
    assert gw.run_privacy_worker() == 0  # the paper archive's copy is made by a person
    clerk = gw.principal("warehouse", region="north", name="archive-clerk")
    wrong = assert_problem(_complete(gw, clerk, request_id, "paper_archive"), 422, "invalid-input")
    assert wrong["errors"][0]["field"] == "action"  # "erased" is no answer to a copy
    copied = _complete(gw, clerk, request_id, "paper_archive", action="copied")
    assert copied.status_code == 200, copied.text
    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"

    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    export = gw.client.get("/privacy/export").json()["systems"]
    assert sorted(export) == ["crm", "mailer", "paper_archive", "wms"]
    assert export["crm"]["datasets"]["customers"] == [
        {
            "customer_id": "C-1",
            "mobile": "+86 138 1234 5678",
            "email": "ZhangSan@Example.com",
            "full_name": "张三",
            "points": 120,
        }
    ]
    shipments = export["wms"]["datasets"]["shipments"]
    assert sorted(row["order_no"] for row in shipments) == ["WEB-10001", "WEB-10002"]
    assert export["mailer"]["datasets"]["contacts"][0]["name"] == "张三"
    assert export["paper_archive"]["manual"]["action"] == "copied"
    for lang, manual in (("en", "sent to you separately"), ("zh", "将另行提供给您")):
        page = visible_text(gw.client.get("/privacy/copy", headers={"Accept-Language": lang}).text)
        for shown in ("Customer CRM", "+86 138 1234 5678", "Warehouse management", manual):
            assert shown in page
        assert "李四" not in page  # nobody else's rows
    assert fetch(chain.crm, "SELECT * FROM customers ORDER BY customer_id") == crm_before
    assert fetch(chain.wms, "SELECT * FROM shipments ORDER BY id") == wms_before


def test_a_dpo_records_by_hand_the_part_of_a_system_that_cannot_be_reached(
    chain: Chain,
) -> None:
    gw = chain.gw
    (chain.systems_dir / "wms.url").unlink()
    request_id, token = _verified(gw)
    clerk = gw.principal("warehouse", region="north", name="archive-clerk")
    gw.run_privacy_worker()
    assert _complete(gw, clerk, request_id, "paper_archive").status_code == 200
    assert gw.run_privacy_worker() == 0
    assert register_view(gw, request_id)["held_up_by"] == ["wms"]
    assert_problem(_complete(gw, clerk, request_id, "wms"), 403, "forbidden")
    by_hand = _complete(
        gw, dpo_token(gw), request_id, "wms", action="anonymised", reference="WMS-TICKET 4471"
    )
    assert by_hand.status_code == 200, by_hand.text
    view = register_view(gw, request_id)
    assert (view["blocked"], view["held_up_by"]) == (None, [])
    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    wms = {e["system"]: e for e in certificate_of(gw, request_id, token)["certificate"]["systems"]}
    entry = wms["wms"]
    assert (entry["method"], entry["instead_of"], entry["result"]) == (
        "manual",
        "sql",
        "anonymised",
    )
    assert entry["manual"]["reference"] == "WMS-TICKET 4471"
    assert entry["searched_again"].startswith("not possible (no connection file wms.url")


def test_a_system_that_keeps_the_subject_fails_certification(chain: Chain) -> None:
    gw = chain.gw
    run_on(chain.crm, *COMES_BACK)
    request_id, token = _verified(gw)
    clerk = gw.principal("warehouse", region="north", name="archive-clerk")
    for _ in range(4):  # each round erases, searches again and finds the subject back
        gw.run_privacy_worker()
        parts = {p["system"]: p for p in register_view(gw, request_id)["systems"]}
        if parts["paper_archive"]["status"] == "waiting":
            assert _complete(gw, clerk, request_id, "paper_archive").status_code == 200
    view = register_view(gw, request_id)
    assert view["blocked"] == "the final search still finds the subject in: crm.customers"
    assert gw.privacy_status(request_id, token)["state"] == "in_progress"
    response = gw.client.get(
        f"/v1/privacy/requests/{request_id}/certificate", headers={"X-Status-Token": token}
    )
    assert response.status_code == 404

    run_on(chain.crm, "DROP TRIGGER sync_back ON customers")
    retried = gw.client.post(
        f"/v1/privacy/register/{request_id}/retry",
        json={"reason": "the CRM's sync job no longer writes erased customers back"},
        headers=bearer(dpo_token(gw)),
    )
    assert retried.status_code == 200, retried.text
    for _ in range(2):
        gw.run_privacy_worker()
        parts = {p["system"]: p for p in register_view(gw, request_id)["systems"]}
        if parts["paper_archive"]["status"] == "waiting":
            assert _complete(gw, clerk, request_id, "paper_archive").status_code == 200
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    crm = {e["system"]: e for e in certificate_of(gw, request_id, token)["certificate"]["systems"]}
    assert crm["crm"]["searched_again"] == {"customers": 0}
    assert crm["crm"]["datasets"][0]["deleted"] >= 4  # every round's deletions add up
    assert fetch(chain.crm, "SELECT count(*) FROM customers WHERE full_name = '张三'") == [(0,)]


def _pages_show_every_system(gw: Gateway, request_id: str, token: str) -> None:
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    for lang, heading, summary in (
        ("en", "In every system that held your data", "also erased in 4 other system(s)"),
        ("zh", "在保存您数据的每个系统中", "同时已在保存您数据的其他 4 个系统中删除"),
    ):
        page = gw.client.get("/privacy/certificate", headers={"Accept-Language": lang}).text
        shown = visible_text(page)
        assert heading in shown
        assert summary in shown
        for evidence in ("Customer CRM", "MKT-42", "DESTRUCTION-LOG 2026/118", "archive-clerk"):
            assert evidence in shown
        assert_no_personal_data(page)


def _verifies_offline(gw: Gateway, document: dict[str, Any], tmp_path: Path) -> None:
    """Offline, with the public key alone: valid; with one count changed: not."""
    key = tmp_path / "audit.pem"
    key.write_text(gw.cli("audit", "public-key").stdout)
    file = tmp_path / "certificate.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    shown = gw.cli("certificate", "verify", str(file), "--public-key", str(key))
    assert (shown.exit_code, shown.stdout.split(":")[0]) == (0, "valid")
    document["certificate"]["systems"][1]["datasets"][0]["deleted"] = 0
    file.write_text(json.dumps(document), encoding="utf-8")
    forged = gw.cli("certificate", "verify", str(file), "--public-key", str(key))
    assert (forged.exit_code, forged.stdout.split(":")[0]) == (1, "INVALID")
