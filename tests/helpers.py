"""Test helpers: a running gateway on a real database, driven through its real interfaces."""

from __future__ import annotations

import asyncio
import atexit
import copy
import html
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pyotp
from click.testing import CliRunner, Result
from litestar.testing import TestClient
from sqlalchemy import delete, func, inspect, select, text

from gateway.app import create_app
from gateway.auth import NewPrincipal
from gateway.cli import main
from gateway.core.clock import ManualClock
from gateway.core.db import make_engine
from gateway.core.resources import shipped_dir
from gateway.core.settings import Settings
from gateway.models import (
    data_subjects,
    key_checks,
    metadata,
    order_items,
    orders,
    outbox,
    principals,
    privacy_objections,
    privacy_requests,
    privacy_scope,
    privacy_steps,
    privacy_system_steps,
    rate_limits,
    subject_identifiers,
    subject_keys,
    subject_links,
    totp_factors,
    unmask_grants,
    vault_records,
    vault_walks,
)
from gateway.privacy import read_outbox

# The order document of the issue: fake values, used as the canonical seed.
SAMPLE_ORDER: dict[str, Any] = {
    "external_id": "WEB-10001",
    "channel": "web",
    "region": "north",
    "status": "paid",
    "created_at": "2026-11-20T10:00:00Z",
    "customer": {
        "name": "张三",
        "phone": "13812345678",
        "email": "zhangsan@example.com",
        "id_number": "11010519491231002X",
    },
    "shipping_address": {
        "province": "北京市",
        "city": "北京市",
        "district": "朝阳区",
        "detail": "建国路88号",
        "postal_code": "100022",
    },
    "items": [{"sku": "SKU-1", "name": "电饭煲", "quantity": 1, "unit_price": "299.00"}],
    "total_amount": "299.00",
    "currency": "CNY",
    "payment": {"method": "alipay", "transaction_id": "2026112022001"},
    # Free text with personal data in it: a phone number, and the customer's own name.
    "note": "请在下午6点后送达,联系电话13987654321",
    "gift_message": "张三,生日快乐!",
}


PERSONAL_VALUES = [
    "张三",
    "13812345678",
    "zhangsan@example.com",
    "11010519491231002X",
    "建国路88号",
    "13987654321",
]


def assert_no_personal_data(text: str) -> None:
    """None of the sample order's personal values appears in `text`."""
    for value in PERSONAL_VALUES:
        assert value not in text


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sample_order(**changes: Any) -> dict[str, Any]:
    """A deep copy of SAMPLE_ORDER; `changes` keys may be dotted paths (`customer.phone`)."""
    doc = copy.deepcopy(SAMPLE_ORDER)
    for path, value in changes.items():
        *parents, last = path.split("__") if "__" in path else path.split(".")
        target = doc
        for part in parents:
            target = target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return doc


_DELETE = object()
DELETE = _DELETE


async def reset_database(url: str) -> None:
    engine = make_engine(_async(url), pool_size=1)
    try:
        async with engine.begin() as conn:
            for table in (
                privacy_scope,
                privacy_objections,
                privacy_steps,
                privacy_system_steps,
                privacy_requests,
                outbox,
                rate_limits,
                unmask_grants,
                totp_factors,
                order_items,
                orders,
                vault_records,
                vault_walks,
                subject_identifiers,
                subject_links,
                subject_keys,
                data_subjects,
                key_checks,
                principals,
            ):
                await conn.execute(delete(table))
    finally:
        await engine.dispose()


async def dump_database(url: str) -> bytes:
    """Every value of every column of every table, as the database itself renders it."""
    engine = make_engine(Settings(database_url=url).sqlalchemy_url, pool_size=1)
    chunks: list[bytes] = []
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            for table in tables:
                columns = await conn.run_sync(
                    lambda c, t=table: [col["name"] for col in inspect(c).get_columns(t)]
                )
                for column in columns:
                    # Names come from the database's own catalogue, not from input.
                    query = text(f'SELECT "{column}" FROM "{table}"')  # noqa: S608
                    rows = await conn.execute(query)
                    for (value,) in rows:
                        if isinstance(value, bytes | memoryview):
                            chunks.append(bytes(value))
                        elif value is not None:
                            chunks.append(str(value).encode("utf-8"))
    finally:
        await engine.dispose()
    return b"\n".join(chunks)


async def dump_audit(url: str) -> bytes:
    """Every column of every audit table, as stored."""
    engine = make_engine(_async(url), pool_size=1)
    chunks: list[bytes] = []
    try:
        async with engine.connect() as conn:
            for table in ("audit_entries", "audit_refs", "audit_checkpoints", "audit_head"):
                rows = await conn.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608
                chunks += [str(tuple(row)).encode() for row in rows]
    finally:
        await engine.dispose()
    return b"\n".join(chunks)


async def run_sql(url: str, *statements: str) -> None:
    engine = make_engine(_async(url), pool_size=1)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def scalar_sql(url: str, statement: str) -> Any:
    engine = make_engine(_async(url), pool_size=1)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(statement))).scalar_one()
    finally:
        await engine.dispose()


def audit_blockers(url: str) -> tuple[list[str], list[str]]:
    """A stand-in for a full disk or a lost grant: inserts into the log fail."""
    if url.startswith("sqlite"):
        return (
            [
                "CREATE TRIGGER block_audit BEFORE INSERT ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'blocked'); END"
            ],
            ["DROP TRIGGER block_audit"],
        )
    return (
        [
            "CREATE FUNCTION block_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'blocked'; END $$",
            "CREATE TRIGGER block_audit BEFORE INSERT ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION block_audit()",
        ],
        ["DROP TRIGGER block_audit ON audit_entries", "DROP FUNCTION block_audit()"],
    )


def _async(url: str) -> str:
    return Settings(database_url=url).sqlalchemy_url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@cache
def own_store_policies() -> Path:
    """The shipped policies without the systems map: the gateway's own store is then the
    only system (the map's other systems need servers of their own: tests/systems)."""
    folder = tempfile.mkdtemp(prefix="opg-policies-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    target = Path(folder) / "policies"
    shutil.copytree(shipped_dir("policies"), target, ignore=shutil.ignore_patterns("systems.toml"))
    return target


def totp_code(secret: str, clock: ManualClock, steps: int = 0) -> str:
    """The code an authenticator app shows at the gateway's (controllable) time."""
    return pyotp.TOTP(secret).at(clock.now(), counter_offset=steps)


@dataclass
class Gateway:
    client: TestClient[Any]
    settings: Settings
    clock: ManualClock
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    @contextmanager
    def start(cls, database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Gateway]:
        var_dir = tmp_path / "var"
        # Tests drive the privacy workflow themselves (run_privacy_worker), unless told.
        overrides.setdefault("privacy_worker_seconds", 0)
        # Verified erasures run at once unless a test is about the cooling-off period.
        overrides.setdefault("privacy_cooling_off_hours", 0)
        # The gateway's own store alone, unless a test is about the systems map.
        overrides.setdefault("policy_dir", own_store_policies())
        settings = Settings(database_url=database_url, var_dir=var_dir, **overrides)
        clock = ManualClock()
        env = {
            "GATEWAY_DATABASE_URL": database_url,
            "GATEWAY_VAR_DIR": str(var_dir),
            "GATEWAY_POLICY_DIR": str(settings.policy_dir),
        }
        for name in ("systems_dir", "order_source"):  # what the CLI needs to see alike
            if overrides.get(name) is not None:
                env[f"GATEWAY_{name.upper()}"] = str(overrides[name])
        with TestClient(create_app(settings, clock=clock)) as client:
            yield cls(client, settings, clock, env)

    @property
    def services(self) -> Any:
        return self.client.app.state.services

    def in_app(self, func: Any, *args: Any) -> Any:
        """Run an async service call on the app's own event loop (its engines live there)."""
        return self.client.blocking_portal.call(func, *args)  # type: ignore[union-attr]

    def run_privacy_worker(self, max_steps: int | None = None) -> int:
        return int(self.in_app(lambda: self.services.workflow.run_pending(max_steps)))

    def sweep(self) -> Any:
        return self.in_app(self.services.sweeper.sweep)

    def submit_privacy(
        self, kind: str = "erasure", contact: str = "13812345678", order_id: str = "WEB-10001"
    ) -> tuple[str, str]:
        """A privacy request through the public API: (request_id, status_token)."""
        response = self.client.post(
            "/v1/privacy/requests", json={"kind": kind, "contact": contact, "order_id": order_id}
        )
        assert response.status_code == 202, response.text
        body = response.json()
        return str(body["request_id"]), str(body["status_token"])

    def outbox(self) -> list[dict[str, Any]]:
        """The newest 100 queued messages, as `privacy-gateway outbox --json` prints them
        (read through the app's own services: the command is tested in test_cli.py, and
        building a second set of services for every read made the suite slow)."""
        queued = self.in_app(lambda: read_outbox(self.services.engine, self.services.subjects, 100))
        return [m.as_json() for m in queued]

    def code_for(self, request_id: str) -> str:
        """The code the outbox holds for the request (the subject's phone would show it)."""
        texts = [
            m["text"]
            for m in self.outbox()
            if m["request_id"] == request_id
            and ("Your code:" in m["text"] or "您的验证码" in m["text"])
        ]
        assert texts, "no code was sent for this request"
        match = re.search(r"\b(\d{6})\b", texts[0])
        assert match is not None
        return match.group(1)

    def notices_for(self, request_id: str) -> dict[str, str]:
        """Recipient -> objection code, of the notices a verified request sent."""
        found = {}
        for message in self.outbox():
            if message["request_id"] == request_id and "objection code" in message["text"]:
                match = re.search(r"\b([A-Z2-7]{4}(?:-[A-Z2-7]{4}){4})\b", message["text"])
                assert match is not None
                found[message["to"]] = match.group(1)
        return found

    def object_to(self, code: str) -> httpx.Response:
        return self.client.post("/v1/privacy/objections", json={"code": code})

    def verify_privacy(self, request_id: str, token: str, code: str) -> httpx.Response:
        return self.client.post(
            f"/v1/privacy/requests/{request_id}/verify",
            json={"code": code},
            headers={"X-Status-Token": token},
        )

    def privacy_status(self, request_id: str, token: str) -> dict[str, Any]:
        response = self.client.get(
            f"/v1/privacy/requests/{request_id}", headers={"X-Status-Token": token}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def block_audit_log(self) -> None:
        asyncio.run(
            run_sql(self.settings.database_url, *audit_blockers(self.settings.database_url)[0])
        )

    def unblock_audit_log(self) -> None:
        asyncio.run(
            run_sql(self.settings.database_url, *audit_blockers(self.settings.database_url)[1])
        )

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=self.env, catch_exceptions=False)

    def principal(
        self,
        role: str,
        region: str | None = None,
        name: str | None = None,
        channel: str | None = None,
    ) -> str:
        """Create a principal as the operator does and return its token.

        Through the service `privacy-gateway principals create` calls, on the app's own
        services (the command itself is tested in test_cli.py; building a second set of
        services per principal made the suite slow). A `channel` principal writes the
        sample order's channel (`web`) unless told otherwise.
        """
        if role == "channel" and channel is None:
            channel = SAMPLE_ORDER["channel"]
        name = name or f"{role}-{region or channel or 'all'}"
        new = NewPrincipal(name, role, region, channel)
        issued = self.in_app(lambda: self.services.principals.create(new))
        return str(issued.token)

    def enrol_totp(self, token: str) -> str:
        """Enrol and activate a TOTP factor; return its secret. The clock moves on one step,
        so the next code asked for is not a replay of the activation code."""
        enrolled = self.client.post("/v1/auth/totp/enroll", headers=bearer(token))
        assert enrolled.status_code == 201, enrolled.text
        secret = str(enrolled.json()["secret"])
        code = totp_code(secret, self.clock)
        activated = self.client.post(
            "/v1/auth/totp/activate", json={"code": code}, headers=bearer(token)
        )
        assert activated.status_code == 200, activated.text
        self.clock.advance(seconds=30)
        return secret

    def grant(self, token: str, secret: str, **body: Any) -> httpx.Response:
        """Ask for an unmask grant with the current code (and a valid purpose by default)."""
        body.setdefault("purpose", "customer called about a lost parcel")
        body.setdefault("code", totp_code(secret, self.clock))
        return self.client.post("/v1/unmask-grants", json=body, headers=bearer(token))

    def post_order(self, token: str, doc: dict[str, Any]) -> httpx.Response:
        return self.client.post("/v1/orders", json=doc, headers=bearer(token))

    def create_order(self, token: str, doc: dict[str, Any]) -> str:
        response = self.post_order(token, doc)
        assert response.status_code == 201, response.text
        return str(response.json()["order_id"])

    def get_order(self, token: str, order_id: str) -> httpx.Response:
        return self.client.get(f"/v1/orders/{order_id}", headers=bearer(token))

    def count_orders(self) -> int:
        return self.count_rows("orders")

    def count_rows(self, table: str) -> int:
        """Rows of `table`, read straight from the database (not through the API)."""

        async def count() -> int:
            engine = make_engine(self.settings.sqlalchemy_url, pool_size=1)
            try:
                async with engine.connect() as conn:
                    query = select(func.count()).select_from(metadata.tables[table])
                    return int((await conn.execute(query)).scalar_one())
            finally:
                await engine.dispose()

        return asyncio.run(count())


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem document of the given type; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def visible_text(page: str) -> str:
    """What a reader sees of an HTML page: tags dropped, entities decoded, spaces
    collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
