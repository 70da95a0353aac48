"""Erasure from verification to a signed certificate, on both databases, through the
real API, CLI and database: nothing of the subject is left readable, the log verifies."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.core import migrate
from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings
from tests.helpers import (
    PERSONAL_VALUES,
    SAMPLE_ORDER,
    Gateway,
    assert_problem,
    bearer,
    dump_database,
    run_sql,
    sample_order,
)

STEPS = [
    "free_text",
    "orders",
    "vault",
    "blind_index",
    "contact_traces",
    "data_key",
    "verification",
]


@pytest.fixture
def fresh(empty_database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A new database, so the whole log is signed by this gateway's key."""
    migrate.upgrade(Settings(database_url=empty_database_url).sqlalchemy_url)
    with Gateway.start(empty_database_url, tmp_path, audit_checkpoint_every=5) as gw:
        yield gw


def _orders(gw: Gateway) -> dict[str, str]:
    """The customer's paid order (kept for tax), a pending one (deleted), and a stranger's."""
    writer = gw.principal("channel")
    return {
        "paid": gw.create_order(writer, SAMPLE_ORDER),
        "pending": gw.create_order(
            writer, sample_order(external_id="WEB-10002", status="pending", note="放门口")
        ),
        "other": gw.create_order(
            writer,
            sample_order(
                external_id="WEB-20001",
                **{
                    "customer.phone": "13900001111",
                    "customer.email": "lisi@example.com",
                    "customer.name": "李四",
                    "customer.id_number": None,
                },
            ),
        ),
    }


def _verified(gw: Gateway, kind: str = "erasure") -> tuple[str, str]:
    request_id, token = gw.submit_privacy(kind=kind)
    response = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert response.status_code == 200, response.text
    return request_id, token


def _certificate(gw: Gateway, request_id: str, token: str) -> dict[str, Any]:
    response = gw.client.get(
        f"/v1/privacy/requests/{request_id}/certificate", headers={"X-Status-Token": token}
    )
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def test_erasure_leaves_nothing_readable_and_a_certificate_that_verifies(
    fresh: Gateway, tmp_path: Path
) -> None:
    gw = fresh
    ids = _orders(gw)
    assert gw.get_order(gw.principal("finance", name="finance-early"), ids["paid"]).is_success
    request_id, token = _verified(gw)
    gw.clock.advance(hours=1)
    assert gw.run_privacy_worker() == 1
    status = gw.privacy_status(request_id, token)
    assert status["state"] == "completed"
    assert [s["step"] for s in status["steps_done"]] == STEPS
    assert status["certificate_available"] is True
    _nothing_left(gw, ids)
    document = _certificate(gw, request_id, token)
    _check_certificate(gw, request_id, document)
    _verifies_everywhere(gw, document, tmp_path)
    # The kept order left the subject: its reads name a pseudonym of its own.
    dpo = gw.principal("dpo", name="dpo-pseudonyms")
    reads = gw.client.get(
        f"/v1/audit/events?order_id={ids['paid']}&action=orders.read", headers=bearer(dpo)
    ).json()["items"]
    before, after = reads[-1]["subjects"], reads[0]["subjects"]
    assert before == [document["certificate"]["subject_pseudonym"]]
    assert after not in ([], before)


def _nothing_left(gw: Gateway, ids: dict[str, str]) -> None:
    # Nothing of the subject in any table, in any form the database renders.
    raw = asyncio.run(dump_database(gw.settings.database_url))
    for value in PERSONAL_VALUES:
        assert value.encode() not in raw
    assert "李四".encode() not in raw  # encrypted, like every name: never in clear anyway
    # A search by their phone or e-mail finds nothing; the stranger is still found.
    dpo = gw.principal("dpo")
    for body, count in (
        ({"phone": "13812345678"}, 0),
        ({"email": "zhangsan@example.com"}, 0),
        ({"phone": "13900001111"}, 1),
    ):
        found = gw.client.post("/v1/orders/search", json=body, headers=bearer(dpo))
        assert len(found.json()["items"]) == count
    # The pending order is gone; the paid one is kept for tax, for finance only, anonymised.
    finance, service = gw.principal("finance"), gw.principal("customer_service")
    assert_problem(gw.get_order(finance, ids["pending"]), 404, "not-found")
    assert_problem(gw.get_order(service, ids["paid"]), 404, "not-found")
    kept = gw.get_order(finance, ids["paid"]).json()
    assert kept["total_amount"] == "299.00"
    assert "customer" not in kept
    assert "shipping_address" not in kept
    assert kept["payment"] == {"method": "alipay"}
    assert gw.get_order(service, ids["other"]).json()["customer"]["phone"] == "139****1111"


def test_a_kept_order_reads_back_with_its_erased_fields_absent(gateway: Gateway) -> None:
    ids = _orders(gateway)
    _verified(gateway)
    assert gateway.run_privacy_worker() == 1
    finance = gateway.principal("finance", name="finance-1")
    kept = gateway.get_order(finance, ids["paid"])
    assert kept.status_code == 200, kept.text
    # Only the categories the tax rule keeps; what was erased is not there at all (not
    # "", not null): no customer, no address, no transaction reference.
    assert kept.json() == {
        "order_id": ids["paid"],
        "external_id": "WEB-10001",
        "channel": "web",
        "region": "north",
        "status": "paid",
        "created_at": "2026-11-20T10:00:00Z",
        "items": [{"sku": "SKU-1", "name": "电饭煲", "quantity": 1, "unit_price": "299.00"}],
        "total_amount": "299.00",
        "currency": "CNY",
        "payment": {"method": "alipay"},
    }
    listed = gateway.client.get("/v1/orders", headers=bearer(finance)).json()["items"]
    assert [o for o in listed if o["order_id"] == ids["paid"]] == [kept.json()]
    # The log lists what was shown: the kept fields only.
    dpo = gateway.principal("dpo", name="dpo-1")
    entry = gateway.client.get(
        "/v1/audit/events",
        params={"actor": "finance-1", "action": "orders.read"},
        headers=bearer(dpo),
    ).json()["items"][0]
    assert entry["details"]["retained"] == "tax_record"
    assert set(entry["fields"]) == {
        "order_id", "external_id", "channel", "region", "status", "created_at", "items.sku",
        "items.name", "items.quantity", "items.unit_price", "total_amount", "currency",
        "payment.method",
    }  # fmt: skip


def _check_certificate(gw: Gateway, request_id: str, document: dict[str, Any]) -> None:
    cert = document["certificate"]
    assert cert["request_id"] == request_id
    assert cert["received_at"] == "2026-11-20T10:00:00Z"
    assert cert["completed_at"] == "2026-11-20T11:00:00Z"
    assert cert["deadline"]["target_met"] is True
    assert cert["deadline"]["legal_deadline_met"] is True
    assert [s["step"] for s in cert["steps"]] == STEPS
    by_step = {s["step"]: s for s in cert["steps"]}
    assert by_step["orders"]["records_deleted"] == 1
    assert by_step["orders"]["records_anonymised"] == 1
    assert by_step["free_text"]["records"] == 2
    assert by_step["blind_index"]["records"] == 3  # phone, e-mail, id number
    assert by_step["data_key"]["records"] == 1
    assert by_step["data_key"]["action"] == "crypto-shredded"
    assert by_step["data_key"]["kek_version"] == 1  # what a backup's copy is wrapped under
    [retained] = cert["retained"]
    assert retained["rule"] == "tax_record"
    assert retained["until"] == "2036-11-20T10:00:00Z"
    assert "税收征收管理法实施细则" in retained["citation"]
    assert "13812345678" not in json.dumps(document, ensure_ascii=False)
    for value in PERSONAL_VALUES:
        assert value not in json.dumps(document, ensure_ascii=False)
    # The chain head it names is the completion entry, and the whole log verifies.
    dpo = gw.principal("dpo", name="dpo-check")
    events = gw.client.get("/v1/audit/events?action=privacy.complete", headers=bearer(dpo)).json()[
        "items"
    ]
    assert (events[0]["seq"], events[0]["hash"]) == (
        cert["audit_chain_head"]["seq"],
        cert["audit_chain_head"]["hash"],
    )
    assert events[0]["subjects"] == [cert["subject_pseudonym"]]
    verified_log = gw.client.get("/v1/audit/verify", headers=bearer(dpo)).json()
    assert verified_log["ok"] is True


def _verifies_everywhere(gw: Gateway, document: dict[str, Any], tmp_path: Path) -> None:
    # The certificate verifies through the API, the CLI with the database, and offline.
    assert gw.client.post("/v1/privacy/certificates/verify", json=document).json() == {
        "valid": True,
        "reason": "signature valid",
        "chain_head_in_log": True,
    }
    path, key = tmp_path / "certificate.json", tmp_path / "key.pem"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    key.write_text(gw.cli("audit", "public-key").stdout)
    online = gw.cli("certificate", "verify", str(path), "--json")
    assert (online.exit_code, json.loads(online.stdout)["chain_head_in_log"]) == (0, True)
    offline = gw.cli("certificate", "verify", str(path), "--public-key", str(key))
    assert (offline.exit_code, offline.stdout.strip()) == (0, "valid: signature valid")


@pytest.mark.parametrize(
    "tamper",
    ["completed_at", "retained_until", "records", "signature", "chain_head", "one_byte"],
)
def test_a_tampered_certificate_fails(fresh: Gateway, tmp_path: Path, tamper: str) -> None:
    gw = fresh
    _orders(gw)
    request_id, token = _verified(gw)
    gw.run_privacy_worker()
    document = _certificate(gw, request_id, token)
    cert = document["certificate"]
    text = json.dumps(document, ensure_ascii=False)
    if tamper == "completed_at":
        cert["completed_at"] = "2026-11-20T09:00:00Z"
    elif tamper == "retained_until":
        cert["retained"][0]["until"] = "2027-11-20T10:00:00Z"
    elif tamper == "records":
        cert["steps"][1]["records_deleted"] = 5
    elif tamper == "signature":
        value = document["signature"]["value"]
        document["signature"]["value"] = ("A" if value[0] != "A" else "B") + value[1:]
    elif tamper == "chain_head":
        cert["audit_chain_head"]["seq"] = 1
    if tamper == "one_byte":
        position = text.index('"completed_at": "') + len('"completed_at": "2026-11-2')
        text = text[:position] + ("1" if text[position] != "1" else "2") + text[position + 1 :]
    else:
        text = json.dumps(document, ensure_ascii=False)
    api = gw.client.post(
        "/v1/privacy/certificates/verify",
        content=text.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert api.status_code == 200
    assert api.json()["valid"] is False
    assert "altered" in api.json()["reason"]
    path, key = tmp_path / "certificate.json", tmp_path / "key.pem"
    path.write_text(text, encoding="utf-8")
    key.write_text(gw.cli("audit", "public-key").stdout)
    for extra in ((), ("--public-key", str(key))):
        result = gw.cli("certificate", "verify", str(path), *extra)
        assert result.exit_code == 1
        assert result.stdout.startswith("INVALID: signature does not match")


def test_a_crash_mid_way_resumes_where_it_stopped(gateway: Gateway) -> None:
    gw = gateway
    _orders(gw)
    request_id, token = _verified(gw)
    # A worker that dies after two steps (its lease runs out; nothing is re-done).
    assert gw.run_privacy_worker(max_steps=2) == 0
    status = gw.privacy_status(request_id, token)
    assert status["state"] == "in_progress"
    assert [s["step"] for s in status["steps_done"]] == ["free_text", "orders"]
    # The next step fails inside the database: it rolls back and is retried later.
    url = gw.settings.database_url
    block, unblock = _blocker(url)
    asyncio.run(run_sql(url, *block))
    gw.clock.advance(minutes=1)
    assert gw.run_privacy_worker() == 0
    status = gw.privacy_status(request_id, token)
    assert [s["step"] for s in status["steps_done"]] == ["free_text", "orders", "vault"]
    assert gw.count_rows("subject_identifiers") == 5  # ours: 3; the stranger: phone, e-mail
    asyncio.run(run_sql(url, *unblock))
    assert gw.run_privacy_worker() == 1
    status = gw.privacy_status(request_id, token)
    assert status["state"] == "completed"
    steps = status["steps_done"]
    assert [s["step"] for s in steps] == STEPS
    # The first two steps kept their first run's time: they were not run again.
    assert steps[0]["finished_at"] == steps[1]["finished_at"] == "2026-11-20T10:00:00Z"
    assert steps[2]["finished_at"] == "2026-11-20T10:01:00Z"
    assert gw.count_rows("subject_identifiers") == 2


def _blocker(url: str) -> tuple[list[str], list[str]]:
    if url.startswith("sqlite"):
        return (
            [
                "CREATE TRIGGER block_erasure BEFORE DELETE ON subject_identifiers "
                "BEGIN SELECT RAISE(ABORT, 'blocked'); END"
            ],
            ["DROP TRIGGER block_erasure"],
        )
    return (
        [
            "CREATE FUNCTION block_erasure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'blocked'; END $$",
            "CREATE TRIGGER block_erasure BEFORE DELETE ON subject_identifiers "
            "FOR EACH ROW EXECUTE FUNCTION block_erasure()",
        ],
        ["DROP TRIGGER block_erasure ON subject_identifiers", "DROP FUNCTION block_erasure()"],
    )


def test_an_order_placed_after_confirmation_is_a_new_record(gateway: Gateway) -> None:
    """The customer orders again while their erasure runs: the new order starts a new
    record (it is not swept into the running erasure) and does not block it."""
    gw = gateway
    _orders(gw)
    request_id, token = _verified(gw)
    assert gw.run_privacy_worker(max_steps=2) == 0  # free text, orders
    gw.clock.advance(minutes=5)
    late = gw.create_order(
        gw.principal("channel", name="late-writer"),
        sample_order(external_id="WEB-10003", status="pending"),
    )
    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    dpo = gw.principal("dpo")
    found = gw.client.post(
        "/v1/orders/search", json={"phone": "13812345678"}, headers=bearer(dpo)
    ).json()["items"]
    assert [o["order_id"] for o in found] == [late]


def test_a_copy_under_another_record_blocks_the_certificate_until_erased(
    gateway: Gateway,
) -> None:
    """A record that holds the verified contact but escaped the scope (its scope row
    deleted here, a stand-in for any bug that misses one): the final search finds it,
    nothing is certified, and after three rounds the request waits for a DPO; once that
    record is erased too, a retry completes it."""
    gw = gateway
    _orders(gw)
    writer = gw.principal("channel", name="app-writer")
    gw.create_order(
        writer, sample_order(external_id="APP-7", **{"customer.email": "alias@example.com"})
    )
    request_id, token = _verified(gw)
    asyncio.run(
        run_sql(
            gw.settings.database_url,
            (
                "DELETE FROM privacy_scope WHERE subject_id = (SELECT subject_id FROM orders "
                "WHERE external_id = 'APP-7')"
            ),
        )
    )
    for _ in range(3):
        assert gw.run_privacy_worker() == 0
    dpo = gw.principal("dpo")
    row = gw.client.get(f"/v1/privacy/register/{request_id}", headers=bearer(dpo)).json()
    assert row["state"] == "in_progress"
    assert row["blocked"] == "the final search still finds the subject in: identifier_copies"
    assert gw.privacy_status(request_id, token)["certificate_available"] is False
    assert gw.run_privacy_worker() == 0  # blocked: not run again by itself
    # The other record's own erasure, asked for through its other contact.
    other, other_token = gw.submit_privacy(contact="alias@example.com", order_id="APP-7")
    gw.verify_privacy(other, other_token, gw.code_for(other))
    assert gw.run_privacy_worker() == 1
    retried = gw.client.post(
        f"/v1/privacy/register/{request_id}/retry",
        json={"reason": "the other record was erased today"},
        headers=bearer(dpo),
    )
    assert retried.json()["blocked"] is None
    assert gw.run_privacy_worker() == 1
    cert = _certificate(gw, request_id, token)["certificate"]
    steps = {s["step"]: s for s in cert["steps"]}
    # Counts add up over the runs: what the first run did is not lost.
    assert (steps["blind_index"]["records"], steps["blind_index"]["runs"]) == (3, 4)
    assert steps["data_key"]["records"] == 1
    assert steps["orders"]["records_deleted"] == 1


def test_a_legal_hold_stops_the_run_until_lifted(gateway: Gateway) -> None:
    gw = gateway
    _orders(gw)
    request_id, token = _verified(gw)
    dpo = gw.principal("dpo")
    reason = {"reason": "litigation hold requested by legal counsel"}
    held = gw.client.post(
        f"/v1/privacy/register/{request_id}/hold", json=reason, headers=bearer(dpo)
    )
    assert held.status_code == 200, held.text
    assert held.json()["state"] == "on_hold"
    assert held.json()["hold"]["by"] == "dpo-all"
    assert gw.run_privacy_worker() == 0
    public = gw.privacy_status(request_id, token)
    assert public["state"] == "on_hold"
    assert "litigation" not in json.dumps(public)  # the reason is for the DPO
    again = gw.client.post(
        f"/v1/privacy/register/{request_id}/hold", json=reason, headers=bearer(dpo)
    )
    assert_problem(again, 409, "invalid-transition")
    lifted = gw.client.post(
        f"/v1/privacy/register/{request_id}/lift",
        json={"reason": "counsel released the hold today"},
        headers=bearer(dpo),
    )
    assert lifted.json()["state"] == "verified"
    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"


def test_a_started_erasure_cannot_be_rejected_through_a_hold(gateway: Gateway) -> None:
    gw = gateway
    _orders(gw)
    started, _ = _verified(gw)
    gw.run_privacy_worker(max_steps=1)
    waiting, _ = gw.submit_privacy(contact="zhangsan@example.com", kind="access")
    gw.verify_privacy(waiting, _, gw.code_for(waiting))
    dpo = gw.principal("dpo")
    reason = {"reason": "litigation hold requested by legal counsel"}
    for request_id in (started, waiting):
        held = gw.client.post(
            f"/v1/privacy/register/{request_id}/hold", json=reason, headers=bearer(dpo)
        )
        assert held.status_code == 200, held.text
    refuse = {"reason": "the requester is not the account holder"}
    refused = gw.client.post(
        f"/v1/privacy/register/{started}/reject", json=refuse, headers=bearer(dpo)
    )
    assert "cannot be rejected" in assert_problem(refused, 409, "invalid-transition")["detail"]
    rejected = gw.client.post(
        f"/v1/privacy/register/{waiting}/reject", json=refuse, headers=bearer(dpo)
    )
    assert rejected.json()["state"] == "rejected"


def test_two_workers_never_run_the_same_request(gateway: Gateway) -> None:
    gw = gateway
    _orders(gw)
    requests = [_verified(gw)]
    writer = gw.principal("channel", name="second-writer")
    for n in range(3):
        phone = f"1370000000{n}"
        gw.create_order(
            writer,
            sample_order(
                external_id=f"APP-{n}",
                **{
                    "customer.phone": phone,
                    "customer.email": f"c{n}@example.com",
                    "customer.id_number": None,
                },
            ),
        )
        request_id, token = gw.submit_privacy(contact=phone, order_id=f"APP-{n}")
        gw.verify_privacy(request_id, token, gw.code_for(request_id))
        requests.append((request_id, token))
    services = gw.services
    other = type(services.workflow)(  # a second worker, as a second process would have
        services.engine,
        services.workflow._steps,
        services.subjects,
        services.keys,
        services.access_log,
        services.clock,
        export_hours=1,
        free_text_detection=True,
        voice=services.voice,
    )

    async def both() -> list[int]:
        return list(await asyncio.gather(services.workflow.run_pending(), other.run_pending()))

    finished = gw.in_app(both)
    assert sum(finished) == len(requests)
    for request_id, token in requests:
        assert gw.privacy_status(request_id, token)["state"] == "completed"
    dpo = gw.principal("dpo")
    items = gw.client.get(
        "/v1/audit/events?action=privacy.step&limit=100", headers=bearer(dpo)
    ).json()["items"]
    runs = [
        (e["resource"], e["details"]["step"])
        for e in items
        if e["resource"] in {f"privacy/{r}" for r, _ in requests}
    ]
    assert len(runs) == len(set(runs)) == len(requests) * len(STEPS)


def test_the_certificate_prints_in_both_languages_and_dpos_may_fetch_it(gateway: Gateway) -> None:
    gw = gateway
    _orders(gw)
    request_id, token = _verified(gw)
    gw.run_privacy_worker()
    path = f"/v1/privacy/requests/{request_id}/certificate"
    pages = {
        lang: gw.client.get(f"{path}?format=html&lang={lang}", headers={"X-Status-Token": token})
        for lang in ("en", "zh")
    }
    for response in pages.values():
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert request_id in response.text
        assert "税收征收管理法实施细则" in response.text
    assert '<html lang="en"' in pages["en"].text
    assert '<html lang="zh' in pages["zh"].text
    assert pages["en"].text != pages["zh"].text
    dpo, service = gw.principal("dpo"), gw.principal("customer_service")
    as_dpo = gw.client.get(path, headers=bearer(dpo)).json()
    assert as_dpo == _certificate(gw, request_id, token)
    assert_problem(gw.client.get(path, headers=bearer(service)), 403, "forbidden")
    assert_problem(gw.client.get(path), 401, "unauthenticated")


def test_an_older_copy_is_unreadable_once_its_kek_is_retired(tmp_path: Path) -> None:
    """A backup taken before the erasure still holds the wrapped data key: readable while
    the KEK that wraps it lives, unreadable once `keys rotate-kek` retired it."""
    url, backup_url = (f"sqlite:///{tmp_path / name}" for name in ("gateway.db", "backup.db"))
    migrate.upgrade(Settings(database_url=url).sqlalchemy_url)
    with Gateway.start(url, tmp_path) as gw:
        order_id = gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
        reader = gw.principal("customer_service")
        with (
            sqlite3.connect(tmp_path / "gateway.db") as live,
            sqlite3.connect(tmp_path / "backup.db") as copy,
        ):
            live.backup(copy)  # the nightly backup, before the request
        _verified(gw)
        assert gw.run_privacy_worker() == 1
        rotated = gw.cli("keys", "rotate-kek")
        assert rotated.exit_code == 0, rotated.output
        assert "KEK v1 wraps no key any more" in rotated.output
    with Gateway.start(backup_url, tmp_path) as old:
        before = old.get_order(reader, order_id)
        assert before.json()["customer"]["phone"] == "138****5678"  # v1 still there
    (tmp_path / "var" / "keys" / "kek-v1.key").unlink()  # retired, as the command advises
    # The backup's data keys need KEK v1, which is gone: nothing can open them, and the
    # gateway says so at start-up instead of serving 500s.
    with pytest.raises(BaseExceptionGroup) as failed, Gateway.start(backup_url, tmp_path):
        pass
    assert failed.group_contains(
        ConfigurationError,
        match="wrapped under KEK version 1, which is not configured",
        depth=None,
    )
    # The live store (its keys re-wrapped under KEK v2) still starts and reads.
    with Gateway.start(url, tmp_path) as gw:
        assert gw.client.get("/v1/orders", headers=bearer(reader)).status_code == 200
