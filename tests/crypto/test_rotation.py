"""KEK rotation through the CLI: data keys re-wrapped, order rows untouched, reads
working throughout, and an interrupted rotation resumed."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from gateway.auth.factor_store import totp_factors
from gateway.core.db import make_engine
from gateway.core.settings import Settings
from gateway.orders.tables import orders
from gateway.subjects.store import subject_keys
from tests.helpers import Gateway, bearer, sample_order, totp_code


async def _rows(url: str, table: Any) -> list[Any]:
    engine = make_engine(Settings(database_url=url).sqlalchemy_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return list(await conn.execute(select(table)))
    finally:
        await engine.dispose()


def _names(gateway: Gateway, token: str) -> list[str]:
    page = gateway.client.get("/v1/orders", headers=bearer(token)).json()
    return sorted(o["customer"]["name"] for o in page["items"])


def test_rotation_rewraps_data_keys_only_and_resumes(gateway: Gateway, database_url: str) -> None:
    writer = gateway.principal("channel")
    for n, name in enumerate(["张三", "李四", "王五"]):
        doc = sample_order(
            external_id=f"R-{n}",
            **{"customer.name": name, "customer.phone": f"1380000000{n}", "customer.email": None},
        )
        gateway.create_order(writer, doc)
    reader = gateway.principal("warehouse", "north")
    assert _names(gateway, reader) == ["张三", "李四", "王五"]
    orders_before = asyncio.run(_rows(database_url, orders))
    keys_before = {r.subject_id: r for r in asyncio.run(_rows(database_url, subject_keys))}
    assert {r.kek_version for r in keys_before.values()} == {1}

    # Interrupted after one batch of one key: a mix of versions, and reads still work.
    first = gateway.cli("keys", "rotate-kek", "--batch-size", "1", "--max-batches", "1")
    assert first.exit_code == 0, first.output
    assert "re-wrapped 1 data key(s) under KEK v2; 2 remain" in first.output
    assert "run `privacy-gateway keys rotate-kek` again to resume" in first.output
    assert (gateway.settings.var_dir / "keys" / "kek-v2.key").is_file()
    mixed = sorted(r.kek_version for r in asyncio.run(_rows(database_url, subject_keys)))
    assert mixed == [1, 1, 2]
    gateway.clock.advance(minutes=5)  # past the data-key cache: keys are unwrapped anew
    assert _names(gateway, reader) == ["张三", "李四", "王五"]

    resumed = gateway.cli("keys", "rotate-kek")
    assert resumed.exit_code == 0, resumed.output
    assert "re-wrapped 2 data key(s) under KEK v2; 0 remain" in resumed.output
    assert "KEK v1 wraps no key any more: retire it" in resumed.output

    keys_after = {r.subject_id: r for r in asyncio.run(_rows(database_url, subject_keys))}
    assert {r.kek_version for r in keys_after.values()} == {2}
    for subject_id, row in keys_after.items():
        assert row.wrapped_key != keys_before[subject_id].wrapped_key
    # Order rows are byte for byte what they were.
    assert asyncio.run(_rows(database_url, orders)) == orders_before
    gateway.clock.advance(minutes=5)
    assert _names(gateway, reader) == ["张三", "李四", "王五"]
    # A gateway started before the rotation still wraps new subjects' keys under the
    # KEK it started with; the next run picks such stragglers up before anything else.
    late = sample_order(
        external_id="R-new", **{"customer.phone": "13900000009", "customer.email": None}
    )
    gateway.create_order(writer, late)
    straggler = gateway.cli("keys", "rotate-kek")
    assert "re-wrapped 1 data key(s) under KEK v2; 0 remain" in straggler.output
    versions = {r.kek_version for r in asyncio.run(_rows(database_url, subject_keys))}
    assert versions == {2}

    # Nothing left to re-wrap: the next run starts a new rotation (v3).
    again = gateway.cli("keys", "rotate-kek")
    assert "under KEK v3; 0 remain" in again.output
    gateway.clock.advance(minutes=5)
    assert len(_names(gateway, reader)) == 4


def test_rotation_reseals_second_factor_secrets(gateway: Gateway, database_url: str) -> None:
    token = gateway.principal("dpo")
    secret = gateway.enrol_totp(token)
    before = asyncio.run(_rows(database_url, totp_factors))
    assert [(r.secret_kek_version, r.pending_secret) for r in before] == [(1, None)]
    # A re-enrolment under way: its pending secret is re-sealed too.
    pending = gateway.client.post(
        "/v1/auth/totp/enroll",
        json={"code": totp_code(secret, gateway.clock)},
        headers=bearer(token),
    )
    assert pending.status_code == 201, pending.text
    gateway.clock.advance(seconds=30)

    result = gateway.cli("keys", "rotate-kek")
    assert result.exit_code == 0, result.output
    assert "re-sealed 2 second-factor secret(s) under KEK v2" in result.output
    assert "KEK v1 wraps no key any more: retire it" in result.output
    (row,) = asyncio.run(_rows(database_url, totp_factors))
    assert (row.secret_kek_version, row.pending_kek_version) == (2, 2)
    assert row.secret != before[0].secret

    # The authenticator app holds the same secret: its codes still buy grants.
    response = gateway.client.post(
        "/v1/unmask-grants",
        json={"code": totp_code(secret, gateway.clock), "purpose": "check after key rotation"},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.text
