"""Attacks on whole-chain requests, through the gateway's real interfaces (HTTP, the
real webhook receiver, real SQL databases), from a security review of issue 16: each
test is an attack that once worked, and now must not."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.core.errors import ConfigurationError
from gateway.systems import webhook
from gateway.systems.signing import sign
from tests.helpers import (
    DELETE,
    SAMPLE_ORDER,
    Gateway,
    assert_no_personal_data,
    bearer,
    dump_audit,
    own_store_policies,
    sample_order,
)
from tests.systems.chain import (
    ARCHIVE_MAP,
    CRM_MAP,
    CRM_SCHEMA,
    WMS_MAP,
    WMS_ROWS,
    WMS_SCHEMA,
    certificate_of,
    connect,
    fetch,
    new_database,
    register_view,
    run_on,
    sample_orders,
    verified,
)
from tests.systems.chain import _seed as seed_table
from tests.systems.receiver import MAP as MAILER_MAP
from tests.systems.receiver import Receiver, serve

CALLBACK_BASE = "https://gateway.example.com"
ATTACKER_PHONE = "13700000000"
VICTIM_EMAIL = "lisi@example.com"  # 李四, a stranger in the receiver's and CRM's data

LOYALTY_MAP = """
[systems.loyalty]
name = "Loyalty programme"
owner = "Head of marketing"
purpose = "points"
country = "CN"
connector = "webhook"

[systems.loyalty.datasets.members]
fields = [
    { name = "phone", category = "contact", identifies = "phone", erase = "delete_row" },
    { name = "name", category = "name", erase = "delete_row" },
]
"""


# --- fixtures ----------------------------------------------------------------------


@dataclass
class Scripted(Receiver):
    """The real receiver, answering what the test scripts (`answer`) instead of its own
    erasure; still checks and signs everything."""

    answer: dict[str, Any] | None = None

    def _do(self, job: dict[str, Any]) -> dict[str, Any]:
        if self.answer is not None:
            return dict(self.answer)
        return super()._do(job)


def _policies(tmp_path: Path, text: str) -> Path:
    policies = tmp_path / "policies"
    if policies.exists():
        shutil.rmtree(policies)
    shutil.copytree(own_store_policies(), policies)
    (policies / "systems.toml").write_text(text, encoding="utf-8")
    return policies


@contextmanager
def _gateway(database_url: str, tmp_path: Path, text: str, **overrides: Any) -> Iterator[Gateway]:
    overrides.setdefault("systems_callback_url", CALLBACK_BASE)
    with Gateway.start(
        database_url,
        tmp_path,
        policy_dir=_policies(tmp_path, text),
        systems_dir=tmp_path / "systems",
        systems_max_attempts=3,
        **overrides,
    ) as gw:
        yield gw


@pytest.fixture
def mailer(database_url: str, tmp_path: Path) -> Iterator[tuple[Gateway, Scripted]]:
    secret = secrets.token_urlsafe(32)
    with _gateway(database_url, tmp_path, MAILER_MAP) as gw:
        receiver = Scripted(secret.encode(), gw.clock.now)
        with serve(receiver):
            connect(tmp_path / "systems", "mailer", receiver.url, secret)
            yield gw, receiver


def _entries(gw: Gateway, request_id: str, token: str) -> dict[str, dict[str, Any]]:
    return {e["system"]: e for e in certificate_of(gw, request_id, token)["certificate"]["systems"]}


# --- 1. identities an attacker typed on an order (HIGH) ------------------------------


def _attacker_order(gw: Gateway) -> None:
    """An order placed with the attacker's own phone and a stranger's e-mail: nothing
    checks the e-mail at checkout (the scope rule says so: "anyone can type a stranger's
    phone beside their own e-mail")."""
    writer = gw.principal("channel")
    gw.create_order(writer, SAMPLE_ORDER)
    typed = {
        "customer.name": "攻击者",
        "customer.phone": ATTACKER_PHONE,
        "customer.email": VICTIM_EMAIL,
    }
    gw.create_order(writer, sample_order(external_id="WEB-30001", **typed))


def test_an_access_request_does_not_copy_a_strangers_records_found_by_an_email_typed_on_an_order(
    mailer: tuple[Gateway, Scripted],
) -> None:
    """The attacker proves control of their own phone only, yet the marketing tool is
    asked for (and returns) everything it holds under the stranger's e-mail."""
    gw, receiver = mailer
    _attacker_order(gw)
    request_id, token = verified(gw, "access", contact=ATTACKER_PHONE, order="WEB-30001")
    assert gw.run_privacy_worker() == 1
    [job] = receiver.jobs
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    export = gw.client.get("/privacy/export")
    assert export.status_code == 200, export.text
    copied = export.json()["systems"]["mailer"]["datasets"].get("contacts", [])
    assert [c for c in copied if c["email"] == VICTIM_EMAIL] == [], "stranger's data copied"
    assert VICTIM_EMAIL not in job["identities"].get("email", []), "stranger's e-mail sent out"


def test_an_erasure_does_not_delete_a_strangers_crm_row_found_by_an_email_typed_on_an_order(
    database_url: str, tmp_path: Path
) -> None:
    with new_database("sqlite", tmp_path) as crm:
        asyncio.run(
            seed_table(
                crm,
                CRM_SCHEMA,
                "customers",
                [("C-2", "13900001111", VICTIM_EMAIL, "李四", 50)],
            )
        )
        with _gateway(database_url, tmp_path, CRM_MAP) as gw:
            connect(tmp_path / "systems", "crm", crm)
            _attacker_order(gw)
            verified(gw, "erasure", contact=ATTACKER_PHONE, order="WEB-30001")
            gw.run_privacy_worker()
        assert fetch(crm, "SELECT full_name FROM customers") == [("李四",)]


# --- 2. certification honesty -------------------------------------------------------


def test_a_system_added_to_the_map_mid_request_is_not_certified_as_erased_unreached(
    database_url: str, tmp_path: Path
) -> None:
    """The map is deployed with a new system while a request is past its `systems` step:
    the new system is never sent a job, yet the certificate says `erased` there."""
    mailer_secret, loyalty_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with _gateway(database_url, tmp_path, MAILER_MAP) as gw:
        mailer = Receiver(mailer_secret.encode(), gw.clock.now)
        with serve(mailer):
            connect(tmp_path / "systems", "mailer", mailer.url, mailer_secret)
            sample_orders(gw)
            request_id, token = verified(gw)
            gw.run_privacy_worker(max_steps=2)  # identities, systems: then a restart
            assert [p["status"] for p in register_view(gw, request_id)["systems"]] == ["done"]
    with _gateway(database_url, tmp_path, MAILER_MAP + LOYALTY_MAP) as gw:
        loyalty = Receiver(loyalty_secret.encode(), gw.clock.now)
        with serve(loyalty):
            connect(tmp_path / "systems", "loyalty", loyalty.url, loyalty_secret)
            gw.run_privacy_worker()  # the final search finds loyalty not reached: again
            gw.run_privacy_worker()
            assert gw.privacy_status(request_id, token)["state"] == "completed"
            entry = _entries(gw, request_id, token)["loyalty"]
    assert [job["type"] for job in loyalty.jobs] == ["erasure"]  # reached before certified
    assert entry["result"] == "erased"


def test_a_webhook_answer_that_found_the_subject_and_erased_nothing_is_not_certified(
    mailer: tuple[Gateway, Scripted],
) -> None:
    gw, receiver = mailer
    receiver.answer = {"status": "done", "datasets": {"contacts": {"rows_found": 3}}}
    sample_orders(gw)
    request_id, token = verified(gw)
    gw.run_privacy_worker()
    assert gw.privacy_status(request_id, token)["state"] == "in_progress"
    assert register_view(gw, request_id)["blocked"] == (
        "system 'mailer' (Marketing e-mail tool) failed once: dataset 'contacts': 3 record(s) "
        "found, but only 0 deleted, anonymised or kept"
    )


def test_a_webhook_done_answer_that_omits_a_mapped_dataset_is_not_certified(
    mailer: tuple[Gateway, Scripted],
) -> None:
    gw, receiver = mailer
    receiver.answer = {"status": "done", "receipt": "MKT-1"}  # no word on `contacts`
    sample_orders(gw)
    request_id, token = verified(gw)
    gw.run_privacy_worker()
    assert gw.privacy_status(request_id, token)["state"] == "in_progress"
    blocked = register_view(gw, request_id)["blocked"]
    assert blocked.endswith("the answer says nothing of dataset(s) contacts")


def test_the_final_search_sees_a_subject_stored_with_a_trailing_newline(
    database_url: str, tmp_path: Path
) -> None:
    """Python's strip() and SQL's trim() differ: a value imported with a trailing newline
    or tab is neither erased nor found by the final search, and the certificate says
    `searched_again: {customers: 0}`."""
    with new_database("sqlite", tmp_path) as crm:
        rows = [
            ("C-1", "13812345678\n", "zhangsan@example.com\n", "张三", 120),
            ("C-2", "13900001111", VICTIM_EMAIL, "李四", 50),
        ]
        asyncio.run(seed_table(crm, CRM_SCHEMA, "customers", rows))
        with _gateway(database_url, tmp_path, CRM_MAP) as gw:
            connect(tmp_path / "systems", "crm", crm)
            sample_orders(gw)
            request_id, token = verified(gw)
            gw.run_privacy_worker()
            completed = gw.privacy_status(request_id, token)["state"] == "completed"
            searched = (
                _entries(gw, request_id, token)["crm"]["searched_again"] if completed else None
            )
        left = fetch(crm, "SELECT customer_id FROM customers WHERE full_name = '张三'")
    assert (completed, left, searched) == (True, [], {"customers": 0})


def test_mariadb_matching_does_not_erase_a_stranger_whose_email_differs_by_an_accent(
    database_url: str, tmp_path: Path
) -> None:
    """MariaDB's default collation (utf8mb4_general_ci) compares accent-insensitively:
    the subject's `zhangsan@example.com` matches a stranger's `zhängsan@example.com`."""
    with new_database("mariadb", tmp_path) as crm:
        rows = [
            ("C-1", "13812345678", "zhangsan@example.com", "张三", 120),
            ("C-4", "13700000001", "zhängsan@example.com", "赵四", 7),
        ]
        asyncio.run(seed_table(crm, CRM_SCHEMA, "customers", rows))
        with _gateway(database_url, tmp_path, CRM_MAP) as gw:
            connect(tmp_path / "systems", "crm", crm)
            sample_orders(gw)
            verified(gw)
            gw.run_privacy_worker()
        left = fetch(crm, "SELECT customer_id FROM customers ORDER BY customer_id")
    assert left == [("C-4",)], f"a stranger's row was erased too: left {left}"


def test_an_overlapping_erasure_that_destroyed_the_named_key_does_not_certify_unreached_systems(
    database_url: str, tmp_path: Path
) -> None:
    """Two erasures overlap: A (by phone) covers record S1 {phone, e-mail}; B (by
    e-mail, naming S1's order) covers S1 and S2 {e-mail only}. A finishes first and
    destroys S1's key, which is the key B seals its identities under: B gathers nothing,
    marks every system `done` without a job (`identities is None` reads as "reached
    before the key went"), skips the final search, and certifies the warehouse as
    erased while it still holds S2's parcel."""
    with new_database("sqlite", tmp_path) as wms:
        rows = [*WMS_ROWS, (4, "WEB-10003", None, "张三", "建国路88号", "北京市")]
        asyncio.run(seed_table(wms, WMS_SCHEMA, "shipments", rows))
        with _gateway(database_url, tmp_path, WMS_MAP) as gw:
            connect(tmp_path / "systems", "wms", wms)
            sample_orders(gw)
            writer = gw.principal("channel", name="channel-web-2")
            e_only = sample_order(external_id="WEB-10003", **{"customer.phone": DELETE})
            gw.create_order(writer, e_only)
            a_id, a_token = verified(gw, contact="13812345678", order="WEB-10001")
            gw.clock.advance(seconds=1)
            b_id, _ = verified(gw, contact="zhangsan@example.com", order="WEB-10001")
            for _ in range(3):
                gw.run_privacy_worker()
            assert gw.privacy_status(a_id, a_token)["state"] == "completed"
            b = register_view(gw, b_id)
        left = fetch(wms, "SELECT receiver_name FROM shipments WHERE order_no = 'WEB-10003'")
    # B cannot reach the warehouse without the identities A's erasure destroyed: it
    # waits for a DPO, saying why, instead of certifying a system it never reached.
    assert (b["state"], left) == ("in_progress", [("张三",)])
    assert b["blocked"] == (
        "system 'wms' (Warehouse management) failed once: the identities this request "
        "gathered are gone: another erasure destroyed the data key of the record it names "
        "first; have this system's part done by hand and record it"
    )


TICKETS_MAP = """
[systems.crm.datasets.tickets]
fields = [
    { name = "phone", category = "contact", identifies = "phone", erase = "delete_row" },
    { name = "subject_name", category = "name", erase = "delete_row" },
]
"""


def test_rows_erased_in_an_attempt_that_failed_later_still_count_in_thecertificate_of(
    database_url: str, tmp_path: Path
) -> None:
    """One transaction per dataset: when the second dataset fails, the first one's
    deletions are committed but its counts are dropped with the failed attempt; the
    retry finds nothing there and the certificate says `deleted: 0`."""
    with new_database("sqlite", tmp_path) as crm:
        rows = [("C-1", "13812345678", "zhangsan@example.com", "张三", 120)]
        asyncio.run(seed_table(crm, CRM_SCHEMA, "customers", rows))
        with _gateway(database_url, tmp_path, CRM_MAP + TICKETS_MAP) as gw:
            connect(tmp_path / "systems", "crm", crm)
            sample_orders(gw)
            request_id, token = verified(gw)
            gw.run_privacy_worker()  # customers: deleted; tickets: no such table yet
            assert fetch(crm, "SELECT count(*) FROM customers") == [(0,)]
            ddl = "CREATE TABLE tickets (phone VARCHAR(40), subject_name VARCHAR(100))"
            run_on(crm, ddl)
            gw.clock.advance(minutes=2)
            gw.run_privacy_worker()
            assert gw.privacy_status(request_id, token)["state"] == "completed"
            datasets = {d["dataset"]: d for d in _entries(gw, request_id, token)["crm"]["datasets"]}
    assert datasets["customers"]["deleted"] == 1, f"the certificate says {datasets['customers']}"


CUSTOMER_ID_MAP = """
[systems.loyalty]
name = "Loyalty programme"
owner = "Head of marketing"
purpose = "points, by the shop's customer number"
country = "CN"
connector = "webhook"

[systems.loyalty.datasets.members]
fields = [
    { name = "customer_no", category = "order_reference", identifies = "customer_id", erase = "delete_row" },
    { name = "name", category = "name", erase = "delete_row" },
]
"""


def test_a_system_found_only_by_customer_id_is_not_silently_excluded(
    database_url: str, tmp_path: Path
) -> None:
    """The map accepts `identifies = "customer_id"` (the docs list it), but the gateway
    never gathers a customer id: such a system is `excluded` from every request, never
    reached, and nothing (start-up check, systems list, register) says so."""
    with (
        pytest.raises(ConfigurationError, match="finds subjects only by customer_id"),
        _gateway(database_url, tmp_path, CUSTOMER_ID_MAP),
    ):
        pass


# --- 3. personal data in errors and evidence ----------------------------------------


def test_a_systems_answer_keyed_by_the_subjects_email_is_not_echoed_into_theregister_view(
    mailer: tuple[Gateway, Scripted],
) -> None:
    """A system that keys its counts by the identity it was sent (a plausible bug): the
    dataset names are echoed into last_error, the blocked reason and the audit log."""
    gw, receiver = mailer
    counts = {"rows_found": 1, "deleted": 1}
    receiver.answer = {"status": "done", "datasets": {"zhangsan@example.com": counts}}
    sample_orders(gw)
    request_id, _ = verified(gw)
    gw.run_privacy_worker()
    view = json.dumps(register_view(gw, request_id), ensure_ascii=False)
    assert "the answer names 1 dataset(s) the map does not have" in view  # refused
    assert_no_personal_data(view)
    assert_no_personal_data(asyncio.run(dump_audit(gw.settings.database_url)).decode())


def test_a_pydantic_location_in_an_answer_is_not_echoed_into_theregister_view(
    mailer: tuple[Gateway, Scripted],
) -> None:
    gw, receiver = mailer
    bad = {"contacts": {"rows_found": 1, "13812345678": 1}}  # an extra key: the phone
    receiver.answer = {"status": "done", "datasets": bad}
    sample_orders(gw)
    request_id, _ = verified(gw)
    gw.run_privacy_worker()
    view = json.dumps(register_view(gw, request_id), ensure_ascii=False)
    assert "does not follow the protocol" in view
    assert_no_personal_data(view)


ERASED = {"rows_found": 1, "deleted": 1}
KEPT = {"rows_found": 1, "deleted": 0}


@pytest.mark.parametrize(
    "answer",
    [
        {"receipt": "13812345678", "datasets": {"contacts": ERASED}},
        {"receipt": "张三", "datasets": {"contacts": ERASED}},
        {
            "datasets": {
                "contacts": {**KEPT, "kept": [{"rule": "zhangsan@example.com", "records": 1}]}
            }
        },
        {
            "datasets": {
                "contacts": {
                    **KEPT,
                    "kept": [{"rule": "tax", "fields": ["13812345678"], "records": 1}],
                }
            }
        },
    ],
    ids=["receipt-phone", "receipt-name", "kept-rule", "kept-field"],
)
def test_system_chosen_strings_do_not_put_the_subjects_data_in_thecertificate_of(
    mailer: tuple[Gateway, Scripted], answer: dict[str, Any]
) -> None:
    r"""`receipt` is checked against `^[\w.:/#-]+$` only (\w is Unicode: digits and
    Han characters pass), `kept[].rule` and `kept[].fields` not at all (nor against the
    map's retention rules): whatever a system writes there goes into the signed
    certificate the subject receives and the DPO's pages."""
    gw, receiver = mailer
    receiver.answer = {"status": "done", **answer}
    sample_orders(gw)
    request_id, token = verified(gw)
    gw.run_privacy_worker()
    assert gw.privacy_status(request_id, token)["state"] == "in_progress"  # refused
    view = json.dumps(register_view(gw, request_id), ensure_ascii=False)
    assert "failed once" in view
    assert_no_personal_data(view)


# --- 4. the callback's signature check -----------------------------------------------


def test_a_callback_with_a_superscript_digit_timestamp_is_refused_not_a_server_error(
    mailer: tuple[Gateway, Scripted],
) -> None:
    """`str.isdigit()` is true for '²' (latin-1 byte 0xB2, which uvicorn/h11 pass through
    as obs-text), `int()` is not: an unauthenticated caller gets a 500 from the public
    callback. Sent as the raw ASGI request an HTTP server hands the app (the TestClient
    would re-encode the byte as UTF-8)."""
    gw, _ = mailer
    headers = [
        (b"host", b"gateway.example.com"),
        (b"content-type", b"application/json"),
        (b"content-length", b"2"),
        (b"x-opg-timestamp", b"\xb2"),
        (b"x-opg-delivery", str(uuid.uuid4()).encode()),
        (b"x-opg-signature", b"v1=" + b"0" * 64),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/v1/privacy/systems/mailer/callback",
        "raw_path": b"/v1/privacy/systems/mailer/callback",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("203.0.113.9", 40000),
        "server": ("gateway.example.com", 443),
    }
    statuses: list[int] = []

    async def call() -> None:
        sent = [{"type": "http.request", "body": b"{}", "more_body": False}]

        async def receive() -> dict[str, Any]:
            return sent.pop() if sent else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await gw.client.app(scope, receive, send)

    gw.in_app(call)
    assert statuses == [401]


# --- 5. manual records ----------------------------------------------------------------


def test_a_manual_record_cannot_be_dated_before_the_request_was_received(
    database_url: str, tmp_path: Path
) -> None:
    with _gateway(database_url, tmp_path, ARCHIVE_MAP) as gw:
        sample_orders(gw)
        request_id, _ = verified(gw)
        gw.run_privacy_worker()
        clerk = gw.principal("warehouse", region="north", name="archive-clerk")
        response = gw.client.post(
            f"/v1/privacy/register/{request_id}/systems/paper_archive/complete",
            json={"action": "erased", "done_on": "2001-01-01", "reference": "LOG-1"},
            headers=bearer(clerk),
        )
        assert response.status_code == 422, f"erased in 2001 for a 2026 request: {response.text}"


def test_a_manual_records_reference_cannot_carry_the_subjects_phone_into_thecertificate_of(
    database_url: str, tmp_path: Path
) -> None:
    r"""The schema says "no personal data" but checks `^[\w .:/#-]+$`: a phone (or a
    name in Han characters) is a valid reference and is signed into the certificate."""
    with _gateway(database_url, tmp_path, ARCHIVE_MAP) as gw:
        sample_orders(gw)
        request_id, token = verified(gw)
        gw.run_privacy_worker()
        clerk = gw.principal("warehouse", region="north", name="archive-clerk")
        record = {"action": "erased", "done_on": gw.clock.now().date().isoformat()}
        response = gw.client.post(
            f"/v1/privacy/register/{request_id}/systems/paper_archive/complete",
            json=record | {"reference": "张三 13812345678"},
            headers=bearer(clerk),
        )
        assert response.status_code == 422  # Han characters: not a reference
        digits = gw.client.post(
            f"/v1/privacy/register/{request_id}/systems/paper_archive/complete",
            json=record | {"reference": "LOG 8613812345678"},
            headers=bearer(clerk),
        )
        problem = digits.json()
        assert (digits.status_code, problem["errors"]) == (
            422,
            [{"field": "reference", "message": "holds a value that identifies the subject"}],
        )
        assert "13812345678" not in digits.text
        gw.run_privacy_worker()
        assert gw.privacy_status(request_id, token)["state"] == "in_progress"


# --- 6. the webhook client -------------------------------------------------------------


@contextmanager
def _raw_server(respond: Callable[[socket.socket, bytes], None]) -> Iterator[str]:
    """A loopback HTTP server that reads one request and lets `respond` write anything."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    stop = threading.Event()

    def serve_forever() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(body) < length:
                    body += conn.recv(65536)
                with suppress(OSError):
                    respond(conn, head + b"\r\n\r\n" + body)

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/privacy"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _delivery_of(request: bytes) -> uuid.UUID:
    for line in request.split(b"\r\n"):
        if line.lower().startswith(b"x-opg-delivery:"):
            return uuid.UUID(line.split(b":", 1)[1].strip().decode())
    raise AssertionError("no delivery header")


@dataclass
class Sent:
    total: int = 0
    answered: list[float] = field(default_factory=list)


def test_the_webhook_client_stops_reading_an_answer_past_5_mib(
    database_url: str, tmp_path: Path
) -> None:
    """The 5 MiB limit is checked after httpx has read the whole body into memory: a
    system (or whoever answers at its address) can make the worker hold any amount."""
    sent = Sent()
    size = 64 * 1024 * 1024

    def respond(conn: socket.socket, _: bytes) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        chunk = b" " * 65536
        while sent.total < size:
            conn.sendall(chunk)
            sent.total += len(chunk)

    with _gateway(database_url, tmp_path, MAILER_MAP) as gw, _raw_server(respond) as url:
        connect(tmp_path / "systems", "mailer", url, secrets.token_urlsafe(32))
        sample_orders(gw)
        request_id, _ = verified(gw)
        gw.run_privacy_worker()
        [part] = register_view(gw, request_id)["systems"]
    assert part["status"] != "done"
    assert sent.total < 16 * 1024 * 1024, f"the gateway read {sent.total >> 20} MiB of an answer"


def test_a_trickling_system_cannot_hold_the_worker_past_the_timeout(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TIMEOUT_SECONDS is handed to httpx as a per-read timeout, not a deadline for the
    call: a system that sends a byte now and then keeps the (single) worker forever.
    Scaled down here: a 0.5 s timeout, an answer trickled over 3 s."""
    monkeypatch.setattr(webhook, "TIMEOUT_SECONDS", 0.5)
    secret = secrets.token_urlsafe(32)
    clock: list[Callable[[], datetime]] = []

    def respond(conn: socket.socket, request: bytes) -> None:
        body = json.dumps({"status": "done", "datasets": {"contacts": {"rows_found": 0}}}).encode()
        headers = sign(secret.encode(), _delivery_of(request), body, clock[0]())
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        step = max(1, len(body) // 10)
        for i in range(0, len(body), step):
            time.sleep(0.3)  # the attacker's server trickles: 10 pieces over 3 s
            conn.sendall(body[i : i + step])

    with _gateway(database_url, tmp_path, MAILER_MAP) as gw, _raw_server(respond) as url:
        clock.append(gw.clock.now)
        connect(tmp_path / "systems", "mailer", url, secret)
        sample_orders(gw)
        request_id, _ = verified(gw)
        started = time.monotonic()
        gw.run_privacy_worker()
        took = time.monotonic() - started
        [part] = register_view(gw, request_id)["systems"]
    assert took < 2, f"one call with a 0.5 s timeout held the worker {took:.1f} s ({part})"
    assert part["last_error"] == "the system did not answer within 0.5 s"
