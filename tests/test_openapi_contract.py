"""Schemathesis against the gateway's own OpenAPI document, over real HTTP, with a
reader's and a DPO's token: no 5xx, and every answer as documented (status codes,
media types, bodies, headers, public routes without a token, refusals without one).

Bounded: eight valid and eight invalid requests per operation (well under a minute here). SQLite
only: the contract is the HTTP layer's; both databases are exercised by every other test.

Checks left out, each for a reason the schema cannot express:
- `positive_data_acceptance`: valid by schema is not always valid here. Cursors are
  opaque tokens from a previous page, ids in paths must exist, purposes and reasons
  must be "a few words" with no contact details, page limits follow settings, and some
  rules join fields ("exactly one of phone, e-mail, id number").
- `negative_data_rejection`: Litestar ignores query parameters a route does not
  declare, and reads a bare number as a Unix time; neither reaches a decision.
- `allow_header_conformance`: Litestar 2's own OPTIONS handler names only the first of
  several handlers on one path (litestar-org/litestar#4169, fixed in Litestar 3).
"""

from __future__ import annotations

from itertools import product
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from gateway.core.settings import Settings
from tests.browser import live_gateway
from tests.helpers import SAMPLE_ORDER, Gateway

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
    missing_required_header,
    unsupported_method,
]


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_answers_as_documented(clean_sqlite_url: str, tmp_path: Path) -> None:
    with Gateway.start(clean_sqlite_url, tmp_path) as gw:
        gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
        tokens = [gw.principal(role) for role in ("customer_service", "dpo")]
    live = Settings(
        database_url=clean_sqlite_url, var_dir=tmp_path / "var", privacy_worker_seconds=0
    )
    with live_gateway(live) as base_url:
        schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json")
        operations = _operations(schema)
        assert len(operations) >= 35  # every route is in the document
        for operation, mode in product(operations, GenerationMode):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=8,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def answers_as_documented(case: Any) -> None:
                for token in tokens:
                    case.call_and_validate(
                        base_url=base_url,
                        headers={"Authorization": f"Bearer {token}"},
                        checks=CHECKS,
                    )

            try:
                answers_as_documented()
            except Unsatisfiable:
                # An operation with nothing to get wrong (no parameters, no body) has no
                # invalid requests; any other failure is a real one.
                assert mode is GenerationMode.NEGATIVE
