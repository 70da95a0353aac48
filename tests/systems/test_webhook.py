"""Whole-chain requests to a system with an API, through the gateway's real interfaces
and a real HTTP server: jobs are signed and done once, answers and callbacks count only
with the system's own signature, failures back off, block and recover."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    Gateway,
    assert_no_personal_data,
    assert_problem,
    bearer,
    own_store_policies,
    visible_text,
)
from tests.systems.chain import (
    certificate_of,
    connect,
    dpo_token,
    register_view,
    sample_orders,
    verified,
)
from tests.systems.receiver import MAP, Receiver, serve

CALLBACK_BASE = "https://gateway.example.com"


@pytest.fixture
def mailer(
    database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Gateway, Receiver]]:
    policies = tmp_path / "policies"
    shutil.copytree(own_store_policies(), policies)
    (policies / "systems.toml").write_text(getattr(request, "param", MAP), encoding="utf-8")
    systems_dir = tmp_path / "systems"
    secret = secrets.token_urlsafe(32)
    with Gateway.start(
        database_url,
        tmp_path,
        policy_dir=policies,
        systems_dir=systems_dir,
        systems_callback_url=CALLBACK_BASE,
        systems_max_attempts=3,
    ) as gw:
        receiver = Receiver(secret.encode(), gw.clock.now)
        with serve(receiver):
            connect(systems_dir, "mailer", receiver.url, secret)
            yield gw, receiver


def _verified(gw: Gateway, kind: str = "erasure") -> tuple[str, str]:
    sample_orders(gw)
    return verified(gw, kind)


def _part(gw: Gateway, request_id: str) -> dict[str, Any]:
    parts = {p["system"]: p for p in register_view(gw, request_id)["systems"]}
    return parts["mailer"]


def _mailer_entry(certificate: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(certificate)
    entries = {e["system"]: e for e in certificate["certificate"]["systems"]}
    assert "13812345678" not in text
    return entries["mailer"]


def test_a_signed_job_is_done_once_and_its_signed_answer_certified(
    mailer: tuple[Gateway, Receiver],
) -> None:
    gw, receiver = mailer
    request_id, token = _verified(gw)
    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    [job] = receiver.jobs
    assert job["type"] == "erasure"
    assert job["request"] == request_id
    # Only what the subject proved: the phone they verified (in each form it may be
    # stored in) and their order number; not the e-mail typed on the order.
    assert job["identities"] == {
        "order_number": ["WEB-10001"],
        "phone": ["13812345678", "8613812345678"],
    }
    assert job["callback_url"] == f"{CALLBACK_BASE}/v1/privacy/systems/mailer/callback"
    assert [c["name"] for c in receiver.contacts] == ["李四", "王五"]  # strangers stay
    entry = _mailer_entry(certificate_of(gw, request_id, token))
    assert entry["method"] == "webhook"
    assert entry["result"] == "erased"
    assert entry["receipt"] == "MKT-42"
    assert entry["datasets"] == [
        {"dataset": "contacts", "rows_found": 1, "deleted": 1, "anonymised": 0, "kept": []}
    ]
    assert "not possible (webhook)" in entry["searched_again"]
    assert receiver.refused == []


def test_a_callback_counts_only_with_the_systems_signature_and_only_once(
    mailer: tuple[Gateway, Receiver],
) -> None:
    gw, receiver = mailer
    receiver.mode = "async"
    request_id, token = _verified(gw)
    assert gw.run_privacy_worker() == 0
    part = _part(gw, request_id)
    assert (part["status"], part["waiting_for"]) == ("waiting", "the system's callback")
    url = "/v1/privacy/systems/mailer/callback"

    headers, body = receiver.callback(secret=secrets.token_bytes(32))  # an attacker's key
    refused = assert_problem(
        gw.client.post(url, content=body, headers=headers), 401, "unauthenticated"
    )
    assert "signature does not verify" in refused["detail"]
    headers, body = receiver.callback()
    moved = gw.client.post("/v1/privacy/systems/crm/callback", content=body, headers=headers)
    assert_problem(moved, 401, "unauthenticated")  # another system's key would not verify
    tampered = body.replace(b'"deleted": 1', b'"deleted": 7')
    assert_problem(gw.client.post(url, content=tampered, headers=headers), 401, "unauthenticated")
    assert _part(gw, request_id)["status"] == "waiting"

    gw.clock.advance(seconds=301)  # the same message, replayed after the window
    stale = assert_problem(
        gw.client.post(url, content=body, headers=headers), 401, "unauthenticated"
    )
    assert "300 s" in stale["detail"]
    headers, body = receiver.callback()
    answer = gw.client.post(url, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"request": request_id, "system": "mailer", "result": "recorded"}
    again = gw.client.post(url, content=body, headers=headers)
    assert again.json()["result"] == "already recorded"

    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    entry = _mailer_entry(certificate_of(gw, request_id, token))
    assert entry["receipt"] == "MKT-42"
    assert entry["datasets"][0]["deleted"] == 1
    assert entry["attempts"] == 1


def test_a_failing_system_backs_off_blocks_with_the_reason_and_recovers_on_retry(
    mailer: tuple[Gateway, Receiver],
) -> None:
    gw, receiver = mailer
    receiver.mode = "fail"
    request_id, token = _verified(gw)
    assert gw.run_privacy_worker() == 0
    part = _part(gw, request_id)
    assert (part["attempts"], part["last_error"]) == (1, "the system answered HTTP 503")
    assert gw.run_privacy_worker() == 0
    assert len(receiver.jobs) == 1  # not before the backoff (1 minute)
    gw.clock.advance(minutes=1)
    gw.run_privacy_worker()
    gw.clock.advance(minutes=2)
    gw.run_privacy_worker()
    assert len(receiver.jobs) == 3
    assert len({j["delivery"] for j in receiver.jobs}) == 1  # one delivery id: done once
    view = register_view(gw, request_id)
    assert view["blocked"] == (
        "system 'mailer' (Marketing e-mail tool) failed 3 times: the system answered HTTP 503"
    )
    gw.clock.advance(hours=2)
    assert gw.run_privacy_worker() == 0
    assert len(receiver.jobs) == 3  # blocked: a DPO must look

    receiver.mode = "sync"
    retried = gw.client.post(
        f"/v1/privacy/register/{request_id}/retry",
        json={"reason": "the marketing tool is back from maintenance"},
        headers=bearer(dpo_token(gw)),
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["blocked"] is None
    assert gw.run_privacy_worker() == 1
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    assert [c["name"] for c in receiver.contacts] == ["李四", "王五"]


@pytest.mark.parametrize(
    "mailer",
    [MAP.replace('connector = "webhook"', 'connector = "webhook"\ndeadline_hours = 2')],
    indirect=True,
)
def test_a_system_past_its_own_deadline_blocks_at_once(mailer: tuple[Gateway, Receiver]) -> None:
    gw, receiver = mailer
    receiver.mode = "fail"
    request_id, _ = _verified(gw)
    gw.run_privacy_worker()
    assert len(receiver.jobs) == 1
    assert receiver.jobs[0]["deadline"] == "2026-11-20T12:00:00Z"  # 2 h, not the 72 h target
    assert register_view(gw, request_id)["blocked"] is None  # 1 of 3 attempts: tried again
    gw.clock.advance(hours=2)
    gw.run_privacy_worker()
    assert register_view(gw, request_id)["blocked"] == (
        "system 'mailer' (Marketing e-mail tool) failed 2 times: the system answered HTTP "
        "503; its deadline (2026-11-20T12:00:00Z) has passed"
    )
    assert register_view(gw, request_id)["held_up_by"] == ["mailer"]


def test_an_unsigned_answer_is_not_taken_for_an_erasure(
    mailer: tuple[Gateway, Receiver],
) -> None:
    gw, receiver = mailer
    receiver.mode = "unsigned"
    request_id, token = _verified(gw)
    assert gw.run_privacy_worker() == 0
    view = register_view(gw, request_id)
    assert view["blocked"] == (
        "system 'mailer' (Marketing e-mail tool) failed once: the answer is not signed: "
        "missing header(s) X-OPG-Timestamp, X-OPG-Delivery, X-OPG-Signature"
    )
    assert gw.privacy_status(request_id, token)["state"] == "in_progress"


def test_the_access_copy_carries_what_the_system_holds(mailer: tuple[Gateway, Receiver]) -> None:
    gw, receiver = mailer
    request_id, token = _verified(gw, "access")
    assert gw.run_privacy_worker() == 1
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    download = gw.client.get("/privacy/export")
    assert download.status_code == 200, download.text
    mailer_part = download.json()["systems"]["mailer"]
    assert mailer_part["method"] == "webhook"
    assert mailer_part["datasets"]["contacts"] == [
        {"id": 1, "phone": "8613812345678", "email": "zhangsan@example.com", "name": "张三"}
    ]
    assert len(receiver.contacts) == 3  # a copy changes nothing
    for lang, heading in (
        ("en", "What our other systems hold about you"),
        ("zh", "我们的其他系统保存的您的数据"),
    ):
        page = visible_text(gw.client.get("/privacy/copy", headers={"Accept-Language": lang}).text)
        assert heading in page
        assert "Marketing e-mail tool" in page
        assert "8613812345678" in page  # as the marketing tool stores it
        assert "zhangsan@example.com" in page
    assert_no_personal_data(json.dumps(register_view(gw, request_id)))
