"""The rest of the HTTP surface: unknown routes, problem types, OpenAPI, health, failing closed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.core.db import make_engine
from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings
from tests.helpers import (
    SAMPLE_ORDER,
    Gateway,
    assert_no_personal_data,
    assert_problem,
    bearer,
)


def test_unknown_routes_and_methods_are_problems(gateway: Gateway) -> None:
    reader = gateway.principal("analyst")
    assert_problem(gateway.client.get("/v1/nothing", headers=bearer(reader)), 404, "not-found")
    response = gateway.client.delete("/v1/orders/x", headers=bearer(reader))
    assert_problem(response, 405, "method-not-allowed")


def test_problem_types_resolve_to_a_description(gateway: Gateway) -> None:
    described = gateway.client.get("/problems/idempotency-conflict").json()
    assert described["status"] == 409
    assert "external_id" in described["description"]
    assert_problem(gateway.client.get("/problems/nope"), 404, "not-found")


def test_openapi_document_describes_the_order_routes(gateway: Gateway) -> None:
    spec = gateway.client.get("/schema/openapi.json").json()
    assert {"/v1/orders", "/v1/orders/{order_id}"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    order_in = spec["components"]["schemas"]["OrderIn"]
    assert {"customer", "items", "external_id"} <= set(order_in["properties"])


def test_health_reports_the_policy_version(gateway: Gateway) -> None:
    body = gateway.client.get("/healthz").json()
    assert body["status"] == "ok"
    assert len(body["policy_version"]) == 16


def test_a_broken_database_stops_start_up_without_details(tmp_path: Path) -> None:
    # The store is unreachable: the keys cannot be checked against it, so nothing serves.
    url = f"sqlite:///{tmp_path / 'missing' / 'gateway.db'}"
    with pytest.raises(BaseExceptionGroup) as failed, Gateway.start(url, tmp_path):
        pass
    assert failed.group_contains(
        ConfigurationError, match=r"^cannot open the database to check the keys \(\w+\)", depth=None
    )
    assert "missing" not in str(failed.value.exceptions)


async def _rename_orders(url: str, old: str, new: str) -> None:
    engine = make_engine(Settings(database_url=url).sqlalchemy_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
    finally:
        await engine.dispose()


def test_a_store_failing_after_authentication_fails_closed_and_recovers(
    gateway: Gateway, database_url: str
) -> None:
    reader = gateway.principal("dpo")
    order_id = gateway.create_order(gateway.principal("channel"), SAMPLE_ORDER)
    assert gateway.get_order(reader, order_id).status_code == 200  # token now cached
    asyncio.run(_rename_orders(database_url, "orders", "orders_away"))
    try:
        for response in (
            gateway.get_order(reader, order_id),
            gateway.client.get("/v1/orders", headers=bearer(reader)),
        ):
            body = assert_problem(response, 500, "internal-error")
            assert set(body) == {"type", "title", "status", "detail"}
            assert_no_personal_data(response.text)
    finally:
        asyncio.run(_rename_orders(database_url, "orders_away", "orders"))
    assert gateway.get_order(reader, order_id).json()["order_id"] == order_id
