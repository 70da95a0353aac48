"""Real systems outside the gateway for whole-chain tests: a CRM-like and a WMS-like
schema in a new database of each kind (a second PostgreSQL database, a MariaDB
database on 127.0.0.1:3306, an SQLite file), seeded with the subject of the tests'
sample order and with other customers who must stay untouched.

As for the gateway's own PostgreSQL, an unreachable server skips outside CI and fails
in CI (`.ci/run` starts both servers when they are down).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from gateway.core.secretfiles import write_secret_file
from gateway.systems.sql import async_url
from tests.helpers import SAMPLE_ORDER, Gateway, bearer, sample_order

DEFAULT_MARIADB = "mysql://root@127.0.0.1:3306/test"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"

# The subject of tests.helpers.SAMPLE_ORDER, as other systems happen to store them.
SUBJECT_PHONE = "13812345678"
SUBJECT_EMAIL = "zhangsan@example.com"

CRM_SCHEMA = (
    "CREATE TABLE customers (customer_id VARCHAR(20) PRIMARY KEY, mobile VARCHAR(40), "
    "email VARCHAR(200), full_name VARCHAR(100), points INTEGER)"
)
CRM_ROWS = (
    # The subject: the phone with a country code and spaces, the e-mail in other case.
    ("C-1", "+86 138 1234 5678", "ZhangSan@Example.com", "张三", 120),
    ("C-2", "13900001111", "lisi@example.com", "李四", 50),
    # One digit away from the subject's phone: must stay.
    ("C-3", "138-1234-5679", "wangwu@example.com", "王五", 10),
)
WMS_SCHEMA = (
    "CREATE TABLE shipments (id INTEGER PRIMARY KEY, order_no VARCHAR(40) NOT NULL, "
    "receiver_phone VARCHAR(40), receiver_name VARCHAR(100), address_line VARCHAR(200), "
    "city VARCHAR(100))"
)
WMS_ROWS = (
    (1, "WEB-10001", "13812345678", "张三", "建国路88号", "北京市"),
    (2, "WEB-10002", "8613812345678", "张三", "建国路88号", "北京市"),
    (3, "WEB-20001", "13900001111", "李四", "南京路1号", "上海市"),
)

CRM_MAP = """
[systems.crm]
name = "Customer CRM"
owner = "Head of customer service"
purpose = "customer service history and loyalty points"
country = "CN"
connector = "sql"

[systems.crm.datasets.customers]
fields = [
    { name = "customer_id", category = "order_reference", identifies = "customer_id", erase = "delete_row" },
    { name = "mobile", category = "contact", identifies = "phone", erase = "delete_row" },
    { name = "email", category = "contact", identifies = "email", erase = "delete_row" },
    { name = "full_name", category = "name", erase = "delete_row" },
    { name = "points", category = "purchase", erase = "delete_row" },
]
"""
WMS_MAP = """
[systems.wms]
name = "Warehouse management"
owner = "Head of logistics"
purpose = "picking, packing and handing parcels to couriers"
country = "CN"
connector = "sql"

[systems.wms.datasets.shipments]
fields = [
    { name = "order_no", category = "order_reference", identifies = "order_number", erase = "keep", rule = "ecommerce_transaction" },
    { name = "receiver_phone", category = "contact", identifies = "phone", erase = "null" },
    { name = "receiver_name", category = "name", erase = "null" },
    { name = "address_line", category = "location_precise", erase = "mask" },
    { name = "city", category = "location_coarse", erase = "keep", rule = "ecommerce_transaction" },
]
"""


async def _admin(url: str, statements: Sequence[str]) -> None:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _seed(url: str, schema: str, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(schema))
            marks = ", ".join(f":p{i}" for i in range(len(rows[0])))
            for row in rows:
                await conn.execute(
                    text(f"INSERT INTO {table} VALUES ({marks})"),  # noqa: S608 - fixed test data
                    {f"p{i}": v for i, v in enumerate(row)},
                )
    finally:
        await engine.dispose()


def run_on(url: str, *statements: str, params: dict[str, Any] | None = None) -> None:
    """SQL on a system's own database, in one transaction, as the system itself (not
    the gateway) would run it: a trigger, a schema change, a row written behind the
    gateway's back."""

    async def run() -> None:
        engine = create_async_engine(async_url(url), poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                for statement in statements:
                    await conn.execute(text(statement), params or {})
        finally:
            await engine.dispose()

    asyncio.run(run())


def fetch(url: str, query: str) -> list[tuple[Any, ...]]:
    """Rows of a query on a system's database, as the test reads them back."""

    async def read() -> list[tuple[Any, ...]]:
        engine = create_async_engine(async_url(url), poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in (await conn.execute(text(query))).all()]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _unreachable(what: str, url: str, exc: BaseException) -> None:
    message = f"{what} is not reachable at {url} ({type(exc).__name__})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def new_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of `kind` ("sqlite", "postgresql", "mariadb"), dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'system-{uuid.uuid4().hex[:8]}.db'}"
        return
    base = (
        os.environ.get("GATEWAY_TEST_DATABASE_URL", DEFAULT_PG)
        if kind == "postgresql"
        else os.environ.get("GATEWAY_TEST_MARIADB_URL", DEFAULT_MARIADB)
    )
    name = f"opg_system_{uuid.uuid4().hex[:12]}"
    quote = '"' if kind == "postgresql" else "`"
    try:
        asyncio.run(_admin(base, [f"CREATE DATABASE {quote}{name}{quote}"]))
    except (TimeoutError, OSError) as exc:
        _unreachable(kind, base, exc)
    drop = f"DROP DATABASE IF EXISTS {quote}{name}{quote}"
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(base, [drop + (" WITH (FORCE)" if kind == "postgresql" else "")]))


def seed_crm(url: str) -> None:
    asyncio.run(_seed(url, CRM_SCHEMA, "customers", CRM_ROWS))


def seed_wms(url: str) -> None:
    asyncio.run(_seed(url, WMS_SCHEMA, "shipments", WMS_ROWS))


def connect(systems_dir: Path, key: str, url: str, secret: str | None = None) -> None:
    """Write a system's connection files as an operator would (owner-only)."""
    write_secret_file(systems_dir / f"{key}.url", url)
    if secret is not None:
        write_secret_file(systems_dir / f"{key}.secret", secret)


# --- the gateway's side of a whole-chain request, through its API ----------------------

ARCHIVE_MAP = """
[systems.paper_archive]
name = "Signed delivery receipts (paper)"
owner = "Warehouse supervisor, Shanghai"
owner_principal = "archive-clerk"
purpose = "proof of delivery for disputes"
country = "CN"
connector = "manual"

[systems.paper_archive.datasets.receipts]
fields = [
    { name = "order number", category = "order_reference", identifies = "order_number", erase = "delete_row" },
    { name = "signature and name", category = "name", erase = "delete_row" },
]
"""
STRANGER = {"customer.phone": "13900001111", "customer.email": "lisi@example.com"}


def sample_orders(gw: Gateway) -> None:
    """The subject's sample order (WEB-10001) and a stranger's (WEB-20001)."""
    writer = gw.principal("channel", name=f"channel-{uuid.uuid4().hex[:8]}")
    gw.create_order(writer, SAMPLE_ORDER)
    gw.create_order(writer, sample_order(external_id="WEB-20001", **STRANGER))


def verified(
    gw: Gateway, kind: str = "erasure", contact: str = "13812345678", order: str = "WEB-10001"
) -> tuple[str, str]:
    """A request through the public API, verified with the code it sent."""
    request_id, token = gw.submit_privacy(kind=kind, contact=contact, order_id=order)
    response = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert response.status_code == 200, response.text
    return request_id, token


def dpo_token(gw: Gateway) -> str:
    if "dpo" not in gw.tokens:
        gw.tokens["dpo"] = gw.principal("dpo", name=f"dpo-{uuid.uuid4().hex[:8]}")
    return gw.tokens["dpo"]


def register_view(gw: Gateway, request_id: str) -> dict[str, Any]:
    """The request as the DPO's register shows it."""
    response = gw.client.get(f"/v1/privacy/register/{request_id}", headers=bearer(dpo_token(gw)))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def certificate_of(gw: Gateway, request_id: str, token: str) -> dict[str, Any]:
    """The signed certificate, as the subject downloads it."""
    response = gw.client.get(
        f"/v1/privacy/requests/{request_id}/certificate", headers={"X-Status-Token": token}
    )
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document
