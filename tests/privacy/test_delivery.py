"""Notifiers that reach the subject directly (SMTP, an SMS webhook) and plug-ins, each
against a real server on this machine."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.policy import default
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gateway.app import create_app
from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings
from gateway.privacy.notify.message import Message
from tests.helpers import SAMPLE_ORDER, Gateway, bearer, free_port

SENT: list[Message] = []


class _Recorder:
    async def send(self, message: Message) -> None:
        SENT.append(message)


def recording_notifier(_settings: Settings) -> _Recorder:
    """A plug-in, loaded by GATEWAY_NOTIFIER=tests.privacy.test_delivery:recording_notifier."""
    return _Recorder()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


@contextmanager
def _smtp_server() -> Iterator[tuple[int, _Mailbox]]:
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


@contextmanager
def _sms_webhook() -> Iterator[tuple[str, list[tuple[str, dict[str, str]]]]]:
    received: list[tuple[str, dict[str, str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(
                (self.headers.get("Authorization", ""), json.loads(self.rfile.read(length)))
            )
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            """Quiet: the test reads what arrived."""

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/sms", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _code(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match is not None
    return match.group(1)


def test_codes_go_by_smtp_and_by_the_sms_webhook(database_url: str, tmp_path: Path) -> None:
    with (
        _smtp_server() as (port, mailbox),
        _sms_webhook() as (url, texts),
        Gateway.start(
            database_url,
            tmp_path,
            notifier="direct",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from="privacy@shop.example",
            smtp_starttls=False,
            sms_webhook_url=url,
            sms_webhook_token="relay-secret",
        ) as gw,
    ):
        gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
        by_mail, token = gw.submit_privacy(contact="zhangsan@example.com")
        [mail] = mailbox.messages
        assert mail["To"] == "zhangsan@example.com"
        assert mail["From"] == "privacy@shop.example"
        verified = gw.verify_privacy(by_mail, token, _code(mail.get_content()))
        assert verified.json()["state"] == "verified"
        # The order's other contact is told by SMS, with a code to object.
        [(authorization, notice)] = texts
        assert authorization == "Bearer relay-secret"
        assert (notice["to"], "objection code" in notice["text"]) == ("13812345678", True)
        by_sms, token = gw.submit_privacy(kind="access")
        [_, (_, body)] = texts
        assert body["to"] == "13812345678"
        assert gw.verify_privacy(by_sms, token, _code(body["text"])).status_code == 200
        assert gw.outbox() == []  # nothing queued: it went out


def test_a_failed_delivery_is_logged_and_answers_alike(database_url: str, tmp_path: Path) -> None:
    port = free_port()  # nobody listens there
    with Gateway.start(
        database_url,
        tmp_path,
        notifier="direct",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="privacy@shop.example",
        smtp_starttls=False,
    ) as gw:
        gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
        for contact in ("zhangsan@example.com", "13812345678"):  # SMTP down; no SMS at all
            response = gw.client.post(
                "/v1/privacy/requests",
                json={"kind": "erasure", "contact": contact, "order_id": "WEB-10001"},
            )
            assert response.status_code == 202
        dpo = gw.principal("dpo")
        events = gw.client.get("/v1/audit/events?action=privacy.notify", headers=bearer(dpo))
        errors = sorted(
            (e["details"]["channel"], e["details"]["error"])
            for e in events.json()["items"]
            if e["outcome"] == "error"
        )
        assert errors == [("email", "DeliveryFailed"), ("sms", "DeliveryFailed")]


def test_a_plug_in_notifier_is_loaded_by_name(database_url: str, tmp_path: Path) -> None:
    SENT.clear()
    name = "tests.privacy.test_delivery:recording_notifier"
    with Gateway.start(database_url, tmp_path, notifier=name) as gw:
        gw.create_order(gw.principal("channel", name="plugin-writer"), SAMPLE_ORDER)
        gw.submit_privacy(contact="13812345678")
    assert [(m.channel, m.recipient) for m in SENT] == [("sms", "13812345678")]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"notifier": "tests.nowhere:factory"}, "cannot load"),
        ({"notifier": "direct"}, "needs GATEWAY_SMTP_HOST"),
        ({"notifier": "direct", "smtp_host": "mail"}, "GATEWAY_SMTP_FROM is required"),
        ({"notifier": "direct", "sms_webhook_url": "http://relay.example/sms"}, "must be https"),
    ],
)
def test_a_bad_notifier_setting_stops_start_up(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    settings = Settings(var_dir=tmp_path / "var", **overrides)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=message):
        create_app(settings)
