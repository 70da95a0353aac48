"""Personal data at rest: nothing in clear in either database, ciphertexts bound to their
place, and crypto-shredding that makes a subject's data unreadable for good."""

from __future__ import annotations

import asyncio
import base64
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.core.db import make_engine
from gateway.core.settings import Settings
from gateway.crypto.envelope import DecryptionFailed, unwrap_data_key
from gateway.crypto.keys import load_keys
from gateway.orders.tables import orders
from gateway.subjects.service import SubjectKeys
from gateway.subjects.store import subject_keys
from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, dump_database, sample_order

SECRET_VALUES = [
    "张三",
    "13812345678",
    "zhangsan@example.com",
    "11010519491231002X",
    "建国路88号",
    "2026112022001",
    "请在下午6点后送达",
    "生日快乐",
    "13987654321",
    "李四五",
    "+4915112345678",
    "lisi@example.cn",
]


def encodings(value: str) -> list[bytes]:
    raw = value.encode("utf-8")
    return [
        raw,
        value.encode("utf-16-le"),
        raw.hex().encode(),
        raw.hex().upper().encode(),
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
    ]


def _seed(gw: Gateway) -> list[str]:
    writer = gw.principal("channel")
    second = sample_order(
        external_id="WEB-2",
        **{
            "customer.name": "李四五",
            "customer.phone": "+4915112345678",
            "customer.email": "lisi@example.cn",
        },
    )
    return [gw.create_order(writer, SAMPLE_ORDER), gw.create_order(writer, second)]


def test_no_personal_value_is_at_rest_in_clear(gateway: Gateway, database_url: str) -> None:
    _seed(gateway)
    blobs = [asyncio.run(dump_database(database_url))]
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        blobs += [p.read_bytes() for p in path.parent.glob(path.name + "*")]
    dumped = asyncio.run(dump_database(database_url))
    assert len(dumped) > 1000  # the dump really holds the store
    for blob in blobs:
        for value in SECRET_VALUES:
            for encoded in encodings(value):
                assert encoded not in blob, f"{value!r} found at rest"
    # ... while the API still returns them to a role that sees them in clear.
    reader = gateway.principal("warehouse", "north")
    assert (
        "李四五"
        in gateway.client.get("/v1/orders", headers={"Authorization": f"Bearer {reader}"}).text
    )


async def _move_name(url: str, source: uuid.UUID, target: uuid.UUID) -> None:
    engine = make_engine(Settings(database_url=url).sqlalchemy_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            moved = (
                await conn.execute(select(orders.c.customer_name).where(orders.c.id == source))
            ).scalar_one()
            await conn.execute(
                update(orders).where(orders.c.id == target).values(customer_name=moved)
            )
    finally:
        await engine.dispose()


def test_a_ciphertext_copied_to_another_row_fails_closed(
    gateway: Gateway, database_url: str
) -> None:
    first, second = _seed(gateway)
    reader = gateway.principal("finance")
    assert gateway.get_order(reader, second).json()["customer"]["name"] == "李**"
    asyncio.run(_move_name(database_url, uuid.UUID(first), uuid.UUID(second)))
    response = gateway.get_order(reader, second)
    assert_problem(response, 500, "internal-error")
    assert "张" not in response.text
    assert gateway.get_order(reader, first).json()["customer"]["name"] == "张*"


async def _key_rows(url: str) -> list[Any]:
    engine = make_engine(Settings(database_url=url).sqlalchemy_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(select(subject_keys)))
    finally:
        await engine.dispose()


async def _shred(gw: Gateway, subject_id: uuid.UUID) -> bool:
    """Shred from another process's point of view: its own engine and key cache."""
    engine = make_engine(gw.settings.sqlalchemy_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            keys = SubjectKeys(load_keys(gw.settings), gw.clock)
            return await keys.shred(conn, subject_id)
    finally:
        await engine.dispose()


def test_crypto_shredding_makes_a_subject_unreadable_for_good(
    gateway: Gateway, database_url: str
) -> None:
    first, second = _seed(gateway)
    before = {row.subject_id: row for row in asyncio.run(_key_rows(database_url))}
    assert len(before) == 2
    reader = gateway.principal("warehouse", "north")
    assert gateway.get_order(reader, first).json()["customer"]["name"] == "张三"  # key cached
    subject_of_first = asyncio.run(_subject_of(database_url, uuid.UUID(first)))
    assert asyncio.run(_shred(gateway, subject_of_first)) is True
    assert asyncio.run(_shred(gateway, subject_of_first)) is False

    shredded = gateway.get_order(reader, first).json()
    assert shredded["customer"] == {"name": None, "phone": None}
    assert shredded["shipping_address"]["detail"] is None
    assert shredded["items"][0]["sku"] == "SKU-1"  # non-personal data stays
    assert gateway.get_order(reader, second).json()["customer"]["name"] == "李四五"

    # Even with the KEK, the old wrapped key (say, from a backup) is all that could
    # open the data; it is gone from the store.
    rows = {row.subject_id: row for row in asyncio.run(_key_rows(database_url))}
    assert rows[subject_of_first].wrapped_key is None
    assert rows[subject_of_first].shredded_at is not None
    keys = load_keys(gateway.settings)
    old = before[subject_of_first]
    dek = unwrap_data_key(
        keys.kek(old.kek_version), old.wrapped_key, subject_id=subject_of_first, kek_version=1
    )
    # A backup's copy of the wrapped key plus the KEK would still open it: that is
    # why KEK versions are rotated and retired after erasures.
    assert len(dek) == 32
    with pytest.raises(DecryptionFailed):
        unwrap_data_key(keys.kek(1), old.wrapped_key, subject_id=uuid.uuid4(), kek_version=1)

    # The same customer ordering again becomes a new subject: shredded ones never relink.
    writer = gateway.principal("channel", name="w2")
    again = gateway.create_order(writer, sample_order(external_id="WEB-3"))
    assert asyncio.run(_subject_of(database_url, uuid.UUID(again))) not in before
    assert gateway.get_order(reader, again).json()["customer"]["name"] == "张三"


async def _subject_of(url: str, order_id: uuid.UUID) -> uuid.UUID:
    engine = make_engine(Settings(database_url=url).sqlalchemy_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            query = select(orders.c.subject_id).where(orders.c.id == order_id)
            return uuid.UUID(str((await conn.execute(query)).scalar_one()))
    finally:
        await engine.dispose()
