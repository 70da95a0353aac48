"""Several bad query parameters at once: one problem names every one of them.

Values a parameter could not be read as (a number, a time, a flag) and values that
break a rule (a state, a format, a page limit) are named together, in one
`invalid-parameter` problem, on every route that takes a set of query parameters.
The values given are personal-looking on purpose: none comes back, none is logged.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest

from tests.helpers import Gateway, assert_problem, bearer, dump_audit

PHONE, EMAIL, NAME = "13812345678", "zhangsan@example.com", "张三"
CASES = [
    (
        "customer_service",
        "/v1/orders",
        {"limit": PHONE + "x", "created_from": NAME, "status": EMAIL},
        [
            ("created_from", "must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z"),
            ("limit", "must be a whole number"),
            ("status", "must be one of pending, paid, shipped, delivered, completed, "
             "cancelled, refunded"),
        ],
    ),
    (
        "dpo",
        "/v1/audit/events",
        {"limit": NAME, "outcome": PHONE, "subject": EMAIL},
        [
            ("limit", "must be a whole number"),
            ("outcome", "must be allowed, denied or error"),
            ("subject", "must be a subject pseudonym (32 hex)"),
        ],
    ),
    (
        "dpo",
        "/v1/audit/export",
        {"since": PHONE + "T", "until": EMAIL},
        [
            ("since", "must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z"),
            ("until", "must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z"),
        ],
    ),
    (
        "dpo",
        "/v1/privacy/register",
        {"overdue": NAME, "limit": "0", "kind": PHONE},
        [
            ("overdue", "must be true or false"),
            ("limit", "must be 1-1000"),
            ("kind", "must be erasure or access"),
        ],
    ),
    (
        "dpo",
        "/v1/privacy/register",
        {"due_within_hours": EMAIL, "limit": "1001"},
        [("due_within_hours", "must be a number"), ("limit", "must be 1-1000")],
    ),
    (
        "dpo",
        "/v1/subject-links",
        {"limit": PHONE + "0" * 20, "state": EMAIL},
        [
            ("limit", "must be a whole number"),
            ("state", "must be one of candidate, confirmed, rejected"),
        ],
    ),
    (
        "dpo",
        "/v1/reports/pipl-audit",
        {"since": "2027-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z", "format": "csv"},
        [
            ("format", "pipl-audit is not a table: use json or html"),
            ("since", "must be before until"),
        ],
    ),
    (
        "dpo",
        "/v1/reports/access",
        {"since": NAME, "lang": PHONE, "format": EMAIL},
        [
            ("since", "must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z"),
            ("format", "must be json, html or csv"),
            ("lang", "must be en or zh"),
        ],
    ),
    (
        "dpo",
        "/v1/reports/kept",
        {"limit": PHONE + ".5", "report": EMAIL},
        [("limit", "must be a whole number"), ("report", "must be pipl-pia or pipl-audit")],
    ),
]  # fmt: skip # a table: each route, its bad parameters and every problem named


@pytest.mark.parametrize(("role", "path", "params", "named"), CASES)
def test_every_bad_parameter_is_named_and_none_is_echoed(
    gateway: Gateway,
    role: str,
    path: str,
    params: dict[str, str],
    named: list[tuple[str, str]],
) -> None:
    token = gateway.principal(role)
    response = gateway.client.get(f"{path}?{urlencode(params)}", headers=bearer(token))
    body = assert_problem(response, 400, "invalid-parameter")
    assert [(e["field"], e["message"]) for e in body["errors"]] == named
    after = asyncio.run(dump_audit(gateway.settings.database_url))
    for value in (PHONE, EMAIL, NAME):
        assert value not in response.text
        assert value.encode() not in after
