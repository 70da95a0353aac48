"""Making the OpenAPI document tell the truth about what each operation answers.

Litestar describes the success answer of each handler and a generic 400 in its own
shape. The gateway answers every error as an RFC 9457 problem (`gateway.core.problems`), and
some routes are public. This runs once on the built document (before it is first
served) and, for every operation:
- declares the problem answers it can give, as `application/problem+json` with the
  `Problem` schema (replacing Litestar's 400);
- marks public operations (`exclude_from_auth`) with `security: []`, so they are not
  shown under the global bearer requirement, and lists 401 only for the others;
and it replaces the schema of every pydantic document with pydantic's own JSON Schema,
which keeps what Litestar's generator drops: patterns, lengths, `additionalProperties:
false` (the documents refuse unknown keys).
It is checked by schemathesis in the test suite (`tests/test_openapi_contract.py`).
"""

from __future__ import annotations

import importlib
from typing import Any, Literal

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from pydantic import BaseModel

from gateway.core.problems import PROBLEM_MEDIA_TYPE

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Every operation can be refused for bad input, missing rights, rate, a full log...
_ANY = {
    400: "Malformed request or invalid parameter",
    403: "Forbidden by policy, or a rejected code or grant",
    404: "No such resource, or outside the caller's row scope",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Invalid input: `errors` lists each field",
    429: "Too many requests: see Retry-After",
    500: "Internal error: nothing was changed",
    503: "The audit log cannot be written: nothing was disclosed",
}
_AUTHED = {401: "No valid bearer token"}
# Public operations authenticated otherwise (a webhook system's signature, `signed=True`).
_SIGNED = {401: "The signature does not verify (X-OPG-Signature, see the webhook docs)"}

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, description="`/problems/<slug>`, documented there"),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING, description="What is wrong; never a value"),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
        "locked_until": Schema(type=OpenAPIType.STRING, description="A locked factor's end"),
    },
    description="An RFC 9457 problem document",
)


# Where the API's documents are defined: every pydantic model there is described by
# pydantic itself (inputs as validated, outputs as serialised).
SCHEMA_MODULES = (
    "gateway.auth.schemas",
    "gateway.logsearch.schemas",
    "gateway.orders.schemas",
    "gateway.privacy.schemas",
    "gateway.reports.schemas",
    "gateway.reveal.schemas",
)


def _documents() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for name in SCHEMA_MODULES:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
                found[value.__name__] = value
    return found


def _pydantic_schemas(names: list[str]) -> dict[str, Any]:
    """Pydantic's JSON Schema of each named document (and of the documents it nests)."""
    documents = _documents()
    result: dict[str, Any] = {}
    for name in names:
        model = documents.get(name)
        if model is None:
            continue
        mode: Literal["validation", "serialization"] = (
            "validation" if name.endswith("In") else "serialization"
        )
        schema = model.model_json_schema(ref_template=_REF, mode=mode)
        result.update(schema.pop("$defs", {}))
        result[name] = schema
    return result


_REF = "#/components/schemas/{model}"


def _public_operations(app: Litestar) -> dict[tuple[str, str], bool]:
    """(path, method) of every operation that takes no bearer token: whether it is
    authenticated by a signature instead."""
    public = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and handler.opt.get("exclude_from_auth"):
                for method in handler.http_methods:
                    public[(route.path_format, method.lower())] = bool(handler.opt.get("signed"))
    return public


def complete(app: Litestar) -> None:
    """Add the problem answers and the public routes' security to `app`'s document."""
    openapi = app.openapi_schema
    if openapi.components is None:
        openapi.components = Components()
    schemas: dict[str, Any] = dict(openapi.components.schemas or {})
    schemas.update(_pydantic_schemas(sorted(schemas)))
    schemas["Problem"] = PROBLEM_SCHEMA
    openapi.components.schemas = schemas
    problem = {
        PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    }
    public = _public_operations(app)
    for path, item in (openapi.paths or {}).items():
        for method in _METHODS:
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            is_public = (path, method) in public
            if is_public:
                operation.security = []
            responses: dict[str, Any] = dict(operation.responses or {})
            errors = {**_AUTHED, **_ANY}
            if is_public:
                errors = {**_SIGNED, **_ANY} if public[(path, method)] else _ANY
            for status, description in errors.items():
                responses[str(status)] = OpenAPIResponse(description=description, content=problem)
            operation.responses = dict(sorted(responses.items()))
