"""Crafted input that used to answer 500 (and so told an attacker where the edges are):
a no-break space after a token, times that overflow when turned into UTC, forged
cursors, JSON nested thousands deep. Each is now a problem document that says what is
wrong, and changes nothing."""

from __future__ import annotations

import base64
import json

import pytest

from tests.helpers import Gateway, assert_problem, bearer

OVERFLOW = "9999-12-31T23:00:00-05:00"  # fine as given, past year 9999 in UTC


def _cursor(*parts: str) -> str:
    return _raw_cursor(list(parts))


def _raw_cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_no_break_space_after_the_token_is_a_401(gateway: Gateway) -> None:
    token = gateway.principal("customer_service")
    for tail in ("\xa0", "\u3000", "\n"):
        header = f"Bearer {token}{tail}".encode("latin-1", "replace")
        response = gateway.client.get("/v1/orders", headers={"Authorization": header})  # type: ignore[dict-item]
        assert_problem(response, 401, "unauthenticated")
    assert gateway.client.get("/v1/orders", headers=bearer(token + " ")).status_code == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/v1/orders?created_from={OVERFLOW}", "created_from"),
        ("/v1/orders?created_to=0001-01-01T00:00:00%2B01:00", "created_to"),
        (f"/v1/audit/events?since={OVERFLOW}", "since"),
        (f"/v1/audit/events?until={OVERFLOW}", "until"),
        (f"/v1/audit/export?since={OVERFLOW}", "since"),
        (f"/v1/reports/dsr-register?since={OVERFLOW}", "since"),
        (f"/v1/orders?cursor={_cursor(OVERFLOW, 'ab' * 16)}", "cursor"),
        (f"/v1/orders?cursor={_cursor('2026-01-01T00:00:00', 'ab' * 16)}", "cursor"),
        (
            "/v1/audit/events?cursor=" + base64.urlsafe_b64encode(b"a:" + b"9" * 40).decode(),
            "cursor",
        ),
        ("/v1/audit/events?cursor=" + base64.urlsafe_b64encode("a:١٢".encode()).decode(), "cursor"),
        ("/v1/audit/events?cursor=" + _raw_cursor(["seq", 2**63]), "cursor"),
        ("/v1/audit/events?cursor=" + _raw_cursor(["seq", -1]), "cursor"),
        ("/v1/audit/events?cursor=" + _raw_cursor(["seq", True]), "cursor"),
        ("/v1/audit/events?cursor=" + _raw_cursor(["seq", 1.5]), "cursor"),
        (f"/v1/audit/events?cursor={_cursor(OVERFLOW, 'ab' * 16)}", "cursor"),
        (f"/v1/subject-links?cursor={_cursor(OVERFLOW, 'ab' * 16)}", "cursor"),
    ],
)
def test_overflowing_times_and_forged_cursors_are_400s(
    gateway: Gateway, path: str, field: str
) -> None:
    dpo = gateway.principal("dpo")
    problem = assert_problem(
        gateway.client.get(path, headers=bearer(dpo)), 400, "invalid-parameter"
    )
    assert [e["field"] for e in problem["errors"]] == [field]


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_deeply_nested_json_on_a_public_route_is_a_400(gateway: Gateway, depth: int) -> None:
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        response = gateway.client.post(
            "/v1/privacy/requests", content=body, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 400, "malformed-request")
    assert gateway.count_rows("privacy_requests") == 0
