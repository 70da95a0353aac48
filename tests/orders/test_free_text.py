"""Free text through the real API on both databases: detected when written, stored
sealed with the order, shown masked by type, revealed only with a grant, re-detected
by the command line after the detector changes."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from gateway.cli.pii import due_warning
from gateway.orders.redetect import redetect
from gateway.pii.analyzer import Detector, shared_detector
from gateway.pii.spans import Span
from tests.helpers import (
    Gateway,
    assert_problem,
    bearer,
    dump_audit,
    dump_database,
    run_sql,
    sample_order,
    scalar_sql,
)
from tests.pii.values import iban, luhn, resident_id

ID = resident_id("44030519811215239")
CARD = luhn("622202100012345")
IBAN = iban("DE", "370400440532013000")
NOTE = f"收件人李四,电话13987654321,身份证{ID},退款到卡{CARD}"
GIFT = f"Dear Anna Schmidt, refund to IBAN {IBAN} or mail anna@example.de. 张三"
NOTE_MASKED = (
    f"收件人李*,电话139****4321,身份证440305********{ID[-4:]},"
    f"退款到卡{'*' * (len(CARD) - 4)}{CARD[-4:]}"
)
GIFT_MASKED = (
    f"Dear A*** S******, refund to IBAN {'*' * (len(IBAN) - 4)}{IBAN[-4:]} "
    "or mail a***@example.de. 张*"
)
IN_CLEAR = ["李四", "13987654321", ID, CARD, "Anna Schmidt", "Schmidt", IBAN, "anna@example.de"]


def order(**changes: Any) -> dict[str, Any]:
    return sample_order(note=NOTE, gift_message=GIFT, **changes)


def assert_nothing_in_clear(body: str) -> None:
    for value in IN_CLEAR:
        assert value not in body


def test_free_text_is_masked_by_type_for_each_role(gateway: Gateway) -> None:
    order_id = gateway.create_order(gateway.principal("channel"), order())
    for role, note, gift in (
        ("customer_service", NOTE_MASKED, GIFT_MASKED),
        ("warehouse", NOTE_MASKED, None),
        ("dpo", NOTE_MASKED, GIFT_MASKED),
        ("finance", None, None),
        ("analyst", None, None),
    ):
        token = gateway.principal(role, "north" if role == "warehouse" else None, name=role)
        single = gateway.get_order(token, order_id)
        listed = gateway.client.get("/v1/orders", headers=bearer(token))
        for response, doc in ((single, single.json()), (listed, listed.json()["items"][0])):
            assert response.status_code == 200, response.text
            assert doc.get("note") == note, role
            assert doc.get("gift_message") == gift, role
            assert_nothing_in_clear(json.dumps(doc, ensure_ascii=False))


def test_spans_are_sealed_with_the_text_and_the_log_holds_no_value(
    gateway: Gateway, database_url: str
) -> None:
    order_id = gateway.create_order(gateway.principal("channel"), order())
    gateway.get_order(gateway.principal("customer_service"), order_id)
    stored = asyncio.run(dump_database(database_url))
    for value in [*IN_CLEAR, "PHONE_NUMBER", "PERSON", "CN_RESIDENT_ID"]:
        assert value.encode() not in stored, value
    logged = asyncio.run(dump_audit(database_url)).decode("unicode_escape", "replace")
    assert_nothing_in_clear(logged)


def test_the_dpo_reveals_a_note_with_a_grant_and_a_gift_message_never(gateway: Gateway) -> None:
    order_id = gateway.create_order(gateway.principal("channel"), order())
    dpo = gateway.principal("dpo")
    secret = gateway.enrol_totp(dpo)
    granted = gateway.grant(dpo, secret, fields=["note"], purpose="complaint about a refund")
    assert granted.status_code == 201, granted.text
    headers = {**bearer(dpo), "X-Unmask-Grant": granted.json()["grant"]}
    shown = gateway.client.get(f"/v1/orders/{order_id}", params={"reveal": "note"}, headers=headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["note"] == NOTE
    assert shown.json()["gift_message"] == GIFT_MASKED
    gateway.clock.advance(seconds=30)
    refused = gateway.grant(
        dpo, secret, fields=["gift_message"], purpose="complaint about a refund"
    )
    problem = assert_problem(refused, 422, "invalid-input")
    assert problem["errors"][0]["field"] == "fields.0"
    assert "may reveal: customer.email, customer.id_number" in problem["errors"][0]["message"]


def test_text_written_without_detection_is_masked_whole_until_redetected(
    database_url: str, tmp_path: Path
) -> None:
    with Gateway.start(database_url, tmp_path, pii_detection=False) as off:
        order_id = off.create_order(off.principal("channel"), order())
        reader = off.principal("customer_service")
        doc = off.get_order(reader, order_id).json()
        assert (doc["note"], doc["gift_message"]) == ("****", "****")
        assert due_warning(off.settings) is None  # nothing to say with detection off
        env = off.env
    with Gateway.start(database_url, tmp_path) as on:
        on.env = env
        warning = due_warning(on.settings)
        assert warning is not None
        assert warning.startswith("warning: 1 order(s) with free text were scanned")
        status = on.cli("pii", "status")
        assert status.exit_code == 0, status.output
        assert "0 of 1 order(s) with free text are current, 1 due" in status.output
        done = on.cli("pii", "redetect", "--batch-size", "1")
        assert done.exit_code == 0, done.output
        assert "re-detected 1 of 1 order(s)" in done.output
        assert "found 1 BANK_CARD, 1 CN_RESIDENT_ID, 1 EMAIL_ADDRESS, 1 IBAN_CODE, " in done.output
        assert "re-detecting" in done.output  # the progress bar (stderr)
        assert_nothing_in_clear(done.output)
        doc = on.get_order(reader, order_id).json()
        assert (doc["note"], doc["gift_message"]) == (NOTE_MASKED, GIFT_MASKED)
        again = on.cli("pii", "redetect")
        assert "re-detected 0 of 0 order(s)" in again.output
        assert due_warning(on.settings) is None
        dpo = on.principal("dpo", name="dpo-1")
        events = on.client.get(
            "/v1/audit/events", params={"action": "pii.redetect"}, headers=bearer(dpo)
        ).json()["items"]
        assert [e["details"]["updated"] for e in events] == [0, 1]
        assert events[1]["details"]["spans"]["PERSON"] == 3
        assert events[1]["actor"] == "operator"


def test_spans_sealed_for_another_place_do_not_open(gateway: Gateway, database_url: str) -> None:
    order_id = gateway.create_order(gateway.principal("channel"), order())
    # Spans sealed for another order (or any tampering) do not open: fail closed.
    asyncio.run(run_sql(database_url, "UPDATE orders SET note_pii = gift_message_pii"))
    reader = gateway.principal("customer_service")
    response = gateway.get_order(reader, order_id)
    assert_problem(response, 500, "internal-error")
    assert "13987654321" not in response.text


@pytest.mark.parametrize("disabled", ["false", "0"])
def test_detection_can_be_turned_off_only_as_a_setting(disabled: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gateway.cli import main

    env = {"GATEWAY_VAR_DIR": str(tmp_path), "GATEWAY_PII_DETECTION": disabled}
    result = CliRunner().invoke(main, ["pii", "status"], env=env)
    assert result.exit_code == 2
    assert "free-text detection is off (GATEWAY_PII_DETECTION=false)" in result.output


class _ErasedMeanwhile(Detector):
    """The real detector; while it works, an erasure clears the free text (through
    another connection, as the privacy workflow would)."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url
        self.erased = False

    def detect(self, text: str, known_names: Sequence[str] = ()) -> tuple[Span, ...]:
        if not self.erased:
            self.erased = True
            statement = (
                "UPDATE orders SET note = NULL, gift_message = NULL, "
                "note_pii = NULL, gift_message_pii = NULL"
            )
            worker = threading.Thread(
                target=lambda: asyncio.run(run_sql(self.database_url, statement))
            )
            worker.start()
            worker.join()
        return super().detect(text, known_names)


def test_redetection_never_writes_spans_back_over_an_erasure(
    gateway: Gateway, database_url: str
) -> None:
    gateway.create_order(gateway.principal("channel"), order())
    detector = _ErasedMeanwhile(database_url)
    services = gateway.services
    report = gateway.in_app(
        lambda: redetect(services.engine, services.subjects, detector, everything=True)
    )
    assert detector.erased
    assert (report.scanned, report.updated, report.skipped_changed) == (1, 0, 1)
    spans_left = asyncio.run(
        scalar_sql(database_url, "SELECT count(*) FROM orders WHERE note_pii IS NOT NULL")
    )
    assert spans_left == 0


def test_redetection_skips_restricted_subjects(gateway: Gateway, database_url: str) -> None:
    gateway.create_order(gateway.principal("channel"), order())
    asyncio.run(run_sql(database_url, "UPDATE subject_keys SET restricted_since = created_at"))
    services = gateway.services
    report = gateway.in_app(
        lambda: redetect(services.engine, services.subjects, shared_detector(), everything=True)
    )
    assert (report.scanned, report.updated, report.skipped_restricted) == (1, 0, 1)


def test_serve_stops_on_an_ner_model_that_is_not_installed(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gateway.cli import main

    env = {"GATEWAY_VAR_DIR": str(tmp_path), "GATEWAY_DATABASE_URL": ""}
    runner = CliRunner()
    assert runner.invoke(main, ["migrate"], env=env).exit_code == 0
    env["GATEWAY_PII_NER_MODELS"] = '{"en": "en_model_that_is_not_there"}'
    refused = runner.invoke(main, ["serve"], env=env)
    assert refused.exit_code == 2
    assert "PII NER model 'en_model_that_is_not_there' for 'en' is not installed" in refused.output
