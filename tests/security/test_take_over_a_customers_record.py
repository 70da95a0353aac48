"""An attacker who can get one order written (a shopper, any channel token) tries to reach
a stranger's whole record: an order with the victim's phone beside the attacker's own
e-mail (or the victim's e-mail beside the attacker's phone), then a privacy request
verified through the attacker's own contact. Both directions, export and erasure, on
SQLite and PostgreSQL, through the public API: the victim's data is neither exported
nor erased, and the victim is told."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from gateway.orders import rekey
from gateway.subjects import store as subject_store
from tests.helpers import Gateway, assert_problem, bearer, sample_order

VICTIM = {
    "customer.name": "王芳",
    "customer.phone": "13811112222",
    "customer.email": "wangfang@example.cn",
    "customer.id_number": "11010519491231002X",
    "shipping_address.detail": "幸福路1号",
    "note": None,
    "gift_message": None,
}
VICTIM_VALUES = ["王芳", "wangfang@example.cn", "11010519491231002X", "幸福路1号"]
ATTACKER_PHONE, ATTACKER_EMAIL = "13900009999", "mallory@example.com"
# Which of the victim's contacts the attacker copies, and which of their own they add.
DIRECTIONS = {
    "victims_phone": (
        {"customer.phone": "13811112222", "customer.email": ATTACKER_EMAIL},
        ATTACKER_EMAIL,
    ),
    "victims_email": (
        {"customer.phone": ATTACKER_PHONE, "customer.email": "wangfang@example.cn"},
        ATTACKER_PHONE,
    ),
}


def _victim_orders(gw: Gateway) -> list[str]:
    writer = gw.principal("channel", name="shop")
    return [
        gw.create_order(writer, sample_order(external_id="V-1", **VICTIM)),
        gw.create_order(writer, sample_order(external_id="V-2", status="pending", **VICTIM)),
    ]


def _attackers_order(gw: Gateway, direction: str) -> str:
    copied, _ = DIRECTIONS[direction]
    writer = gw.principal("channel", name="attacker-shop")
    return gw.create_order(
        writer,
        sample_order(
            external_id="A-1",
            note=None,
            gift_message=None,
            **{
                **copied,
                "customer.name": "马洛",
                "customer.id_number": None,
                "shipping_address.detail": "陌生路9号",
            },
        ),
    )


def _verified_by_attacker(gw: Gateway, direction: str, kind: str) -> tuple[str, str]:
    _, own = DIRECTIONS[direction]
    request_id, token = gw.submit_privacy(kind=kind, contact=own, order_id="A-1")
    # The code goes to the attacker's own contact: they can read it.
    assert [m["to"] for m in gw.outbox() if m["request_id"] == request_id] == [own]
    verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert verified.json()["state"] == "verified", verified.text
    return request_id, token


def _not_typed_by_attacker(direction: str) -> list[str]:
    """The victim's values the attacker did not type into their own order."""
    return [v for v in VICTIM_VALUES if v not in DIRECTIONS[direction][0].values()]


def _export(gw: Gateway, request_id: str, token: str) -> dict[str, Any]:
    assert gw.run_privacy_worker() == 1
    response = gw.client.get(
        f"/v1/privacy/requests/{request_id}/export", headers={"X-Status-Token": token}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("direction", sorted(DIRECTIONS))
def test_an_access_request_exports_only_the_attackers_own_order(
    gateway: Gateway, direction: str
) -> None:
    gw = gateway
    _victim_orders(gw)
    attackers = _attackers_order(gw, direction)
    request_id, token = _verified_by_attacker(gw, direction, "access")
    export = _export(gw, request_id, token)
    assert [o["order_id"] for o in export["orders"]] == [attackers]
    text = json.dumps(export, ensure_ascii=False)
    for value in _not_typed_by_attacker(direction):
        assert value not in text
    assert export["scope"]["rule"].startswith("orders carrying the verified")
    # The victim's contact on the attacker's order is told, with a code to object.
    copied_contact = next(
        v
        for k, v in DIRECTIONS[direction][0].items()
        if v in {"13811112222", "wangfang@example.cn"}
    )
    assert list(gw.notices_for(request_id)) == [copied_contact]


@pytest.mark.parametrize("direction", sorted(DIRECTIONS))
def test_an_erasure_erases_only_the_attackers_own_order(gateway: Gateway, direction: str) -> None:
    gw = gateway
    victims = _victim_orders(gw)
    attackers = _attackers_order(gw, direction)
    reader = gw.principal("customer_service")
    before = [gw.get_order(reader, o).json() for o in victims]
    request_id, token = _verified_by_attacker(gw, direction, "erasure")
    # Only the attacker's record is restricted meanwhile: the victim's reads as before.
    assert [gw.get_order(reader, o).json() for o in victims] == before
    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    assert [gw.get_order(reader, o).json() for o in victims] == before
    assert_problem(gw.get_order(reader, attackers), 404, "not-found")
    dpo = gw.principal("dpo")
    for body in ({"phone": "13811112222"}, {"email": "wangfang@example.cn"}):
        found = gw.client.post("/v1/orders/search", json=body, headers=bearer(dpo)).json()
        assert sorted(o["order_id"] for o in found["items"]) == sorted(victims)
    cert = gw.client.get(
        f"/v1/privacy/requests/{request_id}/certificate", headers={"X-Status-Token": token}
    ).json()["certificate"]
    assert cert["scope"]["records_by_contact"] == 1
    assert cert["scope"]["records_by_confirmed_link"] == 0
    assert len(cert["subject_pseudonyms"]) == 1
    orders = {s["step"]: s for s in cert["steps"]}["orders"]
    assert orders["records_deleted"] + orders["records_anonymised"] == 1  # the paid one: kept


def test_the_victim_objects_in_the_cooling_off_period(database_url: str, tmp_path: Path) -> None:
    with Gateway.start(database_url, tmp_path, privacy_cooling_off_hours=24) as gw:
        _victim_orders(gw)
        _attackers_order(gw, "victims_phone")
        request_id, token = _verified_by_attacker(gw, "victims_phone", "erasure")
        status = gw.privacy_status(request_id, token)
        assert status["cooling_off_until"] == "2026-11-21T10:00:00Z"
        gw.clock.advance(hours=2)
        assert gw.run_privacy_worker() == 0  # waits out the cooling-off period
        [(to, code)] = gw.notices_for(request_id).items()
        assert to == "13811112222"
        objected = gw.object_to(code.lower().replace("-", " "))
        assert objected.status_code == 200, objected.text
        assert objected.json()["state"] == "on_hold"
        gw.clock.advance(hours=30)
        assert gw.run_privacy_worker() == 0  # held for a DPO, past the cooling-off too
        dpo = gw.principal("dpo")
        row = gw.client.get(f"/v1/privacy/register/{request_id}", headers=bearer(dpo)).json()
        assert row["state"] == "on_hold"
        assert (
            row["hold"]["reason"] == "a contact on file for the orders this request covers objected"
        )
        # A code works once; a made-up one finds nothing (and says nothing about whose).
        assert_problem(gw.object_to(code), 404, "not-found")
        assert_problem(gw.object_to("AAAA-BBBB-CCCC-DDDD-EEEE"), 404, "not-found")


async def _link_the_old_way(gw: Gateway, victim_order: str, attacker_order: str) -> None:
    """What `SubjectKeys.link` did before identity resolution: the attacker's order filed
    under the victim's record, and the attacker's e-mail added to it."""
    services = gw.services
    async with services.engine.begin() as conn:
        victim = await rekey.subject_of(conn, victim_order)
        attacker = await rekey.subject_of(conn, attacker_order)
        assert victim is not None
        assert attacker is not None
        keys = [
            services.subjects.unwrap(await subject_store.key_row(conn, s))
            for s in (victim, attacker)
        ]
        await rekey.move_orders(conn, [attacker_order], keys[1], keys[0])
        await services.subjects.attach(conn, keys[0], "email", ATTACKER_EMAIL)
        # The old rules made neither the attacker's own record nor a candidate link.
        await subject_store.delete_identifiers(conn, attacker)
        await conn.execute(subject_store.subject_links.delete())


def test_a_record_linked_by_the_old_rules_is_split_not_trusted(gateway: Gateway) -> None:
    gw = gateway
    victims = _victim_orders(gw)
    attackers = _attackers_order(gw, "victims_phone")
    gw.in_app(_link_the_old_way, gw, uuid.UUID(victims[0]), uuid.UUID(attackers))
    dpo = gw.principal("dpo")
    poisoned = gw.client.post(
        "/v1/orders/search", json={"email": ATTACKER_EMAIL}, headers=bearer(dpo)
    ).json()["items"]
    assert len(poisoned) == 3  # the old link: the attacker's e-mail finds the victim's orders
    request_id, token = _verified_by_attacker(gw, "victims_phone", "access")
    export = _export(gw, request_id, token)
    assert [o["order_id"] for o in export["orders"]] == [attackers]
    for value in VICTIM_VALUES:
        assert value not in json.dumps(export, ensure_ascii=False)
    # The record was split: the attacker's e-mail now finds the attacker's order only, the
    # victim's orders read as before, and a DPO sees the two parts as a candidate link.
    found = gw.client.post(
        "/v1/orders/search", json={"email": ATTACKER_EMAIL}, headers=bearer(dpo)
    ).json()["items"]
    assert [o["order_id"] for o in found] == [attackers]
    reader = gw.principal("customer_service")
    assert gw.get_order(reader, victims[0]).json()["customer"]["name"] == "王*"
    links = gw.client.get("/v1/subject-links", headers=bearer(dpo)).json()["items"]
    assert [(link["state"], link["shared"]) for link in links] == [("candidate", ["phone"])]
    assert sorted(o for r in links[0]["records"] for o in r["order_ids"]) == sorted(
        [*victims, attackers]
    )
