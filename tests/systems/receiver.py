"""A real HTTP system with an API, for whole-chain tests: a marketing tool holding
contacts, reached by the gateway's webhook connector over a socket.

It does what the protocol (docs/concepts/webhook-systems.md) asks of a system: it
checks the gateway's signature and timestamp, does each delivery once (a retry of a
delivery it has done gets the same answer), signs what it answers, and can answer
`202` and call back later. How it behaves is set by the test (`mode`), never by the
gateway. Its clock is the gateway's controllable clock, as two servers' clocks agree
in production.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gateway.systems.signing import BadSignature, sign, verify

CONTACTS = (
    # The subject, stored as the marketing tool normalised it, and two strangers.
    {"id": 1, "phone": "8613812345678", "email": "zhangsan@example.com", "name": "张三"},
    {"id": 2, "phone": "13900001111", "email": "lisi@example.com", "name": "李四"},
    {"id": 3, "phone": "13812345679", "email": "wangwu@example.com", "name": "王五"},
)
MAP = """
[systems.mailer]
name = "Marketing e-mail tool"
owner = "Head of marketing"
purpose = "newsletters the customer subscribed to"
country = "CN"
connector = "webhook"

[systems.mailer.datasets.contacts]
fields = [
    { name = "phone", category = "contact", identifies = "phone", erase = "delete_row" },
    { name = "email", category = "contact", identifies = "email", erase = "delete_row" },
    { name = "name", category = "name", erase = "delete_row" },
]
"""


@dataclass
class Receiver:
    """The marketing tool's API. `mode`: "sync" (200 with counts), "async" (202, then
    `callback()`), "fail" (HTTP 503), "unsigned" (200 without a signature)."""

    secret: bytes
    now: Callable[[], datetime]
    mode: str = "sync"
    contacts: list[dict[str, Any]] = field(default_factory=lambda: [dict(c) for c in CONTACTS])
    jobs: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            delivery = verify(self.secret, headers, body, self.now())
        except BadSignature as exc:
            self.refused.append(exc.reason)
            return 401, {}, b'{"error": "bad signature"}'
        job = json.loads(body)
        self.jobs.append(job)
        if job["type"] == "check":
            served = {"contacts": {"rows_found": 0}}
            return self._signed(200, delivery, {"status": "done", "datasets": served})
        if self.mode == "fail":
            return 503, {}, b"maintenance"
        if self.mode == "async":
            return self._signed(202, delivery, {"status": "accepted", "receipt": "MKT-Q-1"})
        answer = self.done.get(str(delivery)) or self._do(job)
        self.done[str(delivery)] = answer
        if self.mode == "unsigned":
            return 200, {}, json.dumps(answer).encode()
        return self._signed(200, delivery, answer)

    def _do(self, job: dict[str, Any]) -> dict[str, Any]:
        """Find the subject by any identity the job names; erase or copy (its contacts
        are the one dataset the map gives it, whatever the map calls it)."""
        ids = job["identities"]
        dataset = next(iter(job["datasets"]))
        mine = [
            c
            for c in self.contacts
            if c["phone"] in ids.get("phone", []) or c["email"] in ids.get("email", [])
        ]
        if job["type"] == "access":
            return {"status": "done", "data": {dataset: [dict(c) for c in mine]}}
        self.contacts = [c for c in self.contacts if c not in mine]
        counts = {"rows_found": len(mine), "deleted": len(mine)}
        return {"status": "done", "receipt": "MKT-42", "datasets": {dataset: counts}}

    def _signed(
        self, status: int, delivery: uuid.UUID, document: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(document).encode()
        return status, sign(self.secret, delivery, body, self.now()), body

    def callback(self, *, secret: bytes | None = None) -> tuple[dict[str, str], bytes]:
        """Do the last job accepted and sign the completion, as the system would send it
        to the callback URL (the test posts it: the gateway under test is in-process)."""
        job = self.jobs[-1]
        if job["delivery"] not in self.done:  # done once, however often it is sent
            self.done[job["delivery"]] = self._do(job)
        answer = self.done[job["delivery"]]
        body = json.dumps(answer).encode()
        headers = sign(secret or self.secret, uuid.UUID(job["delivery"]), body, self.now())
        return {"Content-Type": "application/json", **headers}, body


@contextmanager
def serve(receiver: Receiver) -> Iterator[Receiver]:
    """Run the receiver on a free loopback port until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status, headers, answer = receiver.handle(dict(self.headers.items()), body)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/privacy"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
