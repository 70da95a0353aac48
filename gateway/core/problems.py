"""RFC 9457 problem documents: the one place errors become HTTP answers.

Every error leaves the gateway as `application/problem+json` with a stable `type`
(`/problems/<slug>`, documented at that path), a `title`, the `status` and a
`detail` that says what is wrong. Details name fields and rules, never values,
and never carry a stack trace. Unexpected exceptions are logged by type only:
their messages may contain personal data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    ValidationException,
)
from litestar.params import FromPath
from litestar.types import ExceptionHandlersMap

from audit import LogUnavailable
from gateway.core.clock import utc_text
from gateway.core.errors import (
    AuthenticationFailed,
    CodeLocked,
    CodeRejected,
    ConfigurationError,
    Conflict,
    FieldProblem,
    GatewayError,
    GrantRefused,
    IdempotencyConflict,
    IdentityProviderUnavailable,
    InvalidInput,
    InvalidParameter,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RateLimited,
    SecondFactorLocked,
    SecondFactorMissing,
    SecondFactorRejected,
    StepUpRequired,
    Unavailable,
    field_problem,
)

log = logging.getLogger("gateway.core.problems")

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "/problems/"


@dataclass(frozen=True, slots=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str


_TYPES = (
    ProblemType("unauthenticated", 401, "Authentication required",
                "No bearer token, or a malformed, unknown or revoked one."),
    ProblemType("insufficient-user-authentication", 401, "Stronger authentication required",
                "RFC 9470: the person's authentication is not strong or recent enough for "
                "this step. Send them through the identity provider with the `acr_values` "
                "and `max_age` of the WWW-Authenticate header, then retry with the new token."),
    ProblemType("identity-provider-unavailable", 503, "Identity provider unavailable",
                "The identity provider's keys or token introspection cannot be reached, so "
                "the token could not be checked and nothing was done (fail closed)."),
    ProblemType("forbidden", 403, "Forbidden",
                "The policy does not allow the caller's role to do this."),
    ProblemType("second-factor-rejected", 403, "Second factor rejected",
                "The one-time code is wrong, outside the allowed clock skew, or was already "
                "used (each code is accepted once). Wrong codes count towards a lock."),
    ProblemType("second-factor-locked", 429, "Second factor locked",
                "Too many wrong codes: no code is accepted until `locked_until` "
                "(also given as Retry-After, in seconds)."),
    ProblemType("second-factor-missing", 409, "No second factor",
                "The step needs a TOTP factor: enrol with POST /v1/auth/totp/enroll, then "
                "activate it with POST /v1/auth/totp/activate."),
    ProblemType("unmask-grant-refused", 403, "Unmask grant refused",
                "The X-Unmask-Grant is malformed, unknown, expired, issued to another "
                "principal, or does not cover this order."),
    ProblemType("verification-code-rejected", 403, "Verification code rejected",
                "The code sent to the contact is wrong or has expired. Wrong codes count "
                "towards a lock."),
    ProblemType("verification-locked", 429, "Verification locked",
                "Too many wrong codes: this request can no longer be verified. Submit a new "
                "request to receive a new code."),
    ProblemType("rate-limited", 429, "Too many requests",
                "Too many requests from this address or for this contact. Retry after the "
                "number of seconds in Retry-After."),
    ProblemType("not-found", 404, "Not found",
                "No such resource, or it lies outside the caller's row scope."),
    ProblemType("method-not-allowed", 405, "Method not allowed",
                "The path exists but does not accept this HTTP method."),
    ProblemType("conflict", 409, "Conflict", "The request contradicts the current state."),
    ProblemType("idempotency-conflict", 409, "Idempotency conflict",
                "An order with the same channel and external_id exists with a different body."),
    ProblemType("invalid-transition", 409, "Invalid status transition",
                "The order's current status cannot be followed by the requested one."),
    ProblemType("malformed-request", 400, "Malformed request",
                "The request body is not valid JSON, or the request cannot be parsed."),
    ProblemType("invalid-parameter", 400, "Invalid parameter",
                "A query, path or header parameter is invalid; `errors` lists each one."),
    ProblemType("invalid-input", 422, "Invalid input",
                "The body or parameters break a rule; `errors` lists each bad field."),
    ProblemType("request-too-large", 413, "Request too large",
                "The request body is larger than the gateway accepts."),
    ProblemType("http-error", 400, "HTTP error", "The request could not be served."),
    ProblemType("audit-unavailable", 503, "Audit log unavailable",
                "The access could not be written to the audit log, so nothing was "
                "disclosed (fail closed). Retry shortly."),
    ProblemType("store-unavailable", 503, "Order store unavailable",
                "The order store the gateway fronts cannot be reached now, so nothing was "
                "read or disclosed. Retry shortly."),
    ProblemType("internal-error", 500, "Internal error",
                "Something failed inside the gateway; nothing was changed by this request."),
)  # fmt: skip # a table: one problem type per entry, its texts under it
PROBLEM_TYPES: Mapping[str, ProblemType] = {t.slug: t for t in _TYPES}

_DOMAIN_SLUGS: tuple[tuple[type[GatewayError], str], ...] = (
    (StepUpRequired, "insufficient-user-authentication"),
    (AuthenticationFailed, "unauthenticated"),
    (IdentityProviderUnavailable, "identity-provider-unavailable"),
    (SecondFactorRejected, "second-factor-rejected"),
    (GrantRefused, "unmask-grant-refused"),
    (CodeRejected, "verification-code-rejected"),
    (CodeLocked, "verification-locked"),
    (RateLimited, "rate-limited"),
    (PermissionDenied, "forbidden"),
    (SecondFactorLocked, "second-factor-locked"),
    (SecondFactorMissing, "second-factor-missing"),
    (NotFound, "not-found"),
    (IdempotencyConflict, "idempotency-conflict"),
    (InvalidTransition, "invalid-transition"),
    (Conflict, "conflict"),
    (InvalidParameter, "invalid-parameter"),
    (InvalidInput, "invalid-input"),
    (Unavailable, "store-unavailable"),
)
_PARAMETER_SOURCES = {"query", "path", "header", "cookie"}
_MISSING_PARAMETER = re.compile(
    r"^Missing required (header|query|cookie|path) parameter '([\w.-]+)'"
)


def problem(
    slug: str,
    detail: str,
    *,
    status: int | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
    members: Mapping[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    kind = PROBLEM_TYPES[slug]
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": kind.title,
        "status": status or kind.status,
        "detail": detail,
    }
    body.update(members or {})
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return Response(
        body,
        status_code=status or kind.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _domain_error(_: Request[Any, Any, Any], exc: GatewayError) -> Response[dict[str, Any]]:
    for cls, slug in _DOMAIN_SLUGS:
        if isinstance(exc, cls):
            errors = exc.errors if isinstance(exc, InvalidInput) else ()
            if isinstance(exc, AuthenticationFailed):
                return _unauthenticated(slug, exc)
            headers = None
            if isinstance(exc, SecondFactorLocked):
                return _locked(exc)
            if isinstance(exc, RateLimited):
                headers = {"Retry-After": str(exc.retry_after_seconds)}
            return problem(slug, exc.detail, errors=errors, headers=headers)
    if isinstance(exc, ConfigurationError):
        log.error("configuration error while serving a request")
    else:  # a gateway error no answer is defined for (a failed decryption, say): a fault
        log.error("unexpected %s while serving a request", type(exc).__name__)
    return problem("internal-error", "an internal error occurred")


def _quoted(text: str) -> str:
    """An RFC 7235 quoted string of our own text (no quote or backslash survives)."""
    return '"' + text.replace("\\", "").replace('"', "'") + '"'


def _unauthenticated(slug: str, exc: AuthenticationFailed) -> Response[dict[str, Any]]:
    """RFC 6750 section 3 (and RFC 9470 for step-up): the challenge says what failed."""
    challenge = "Bearer"
    if isinstance(exc, StepUpRequired):
        challenge += (
            f' error="insufficient_user_authentication", error_description={_quoted(exc.detail)}'
            f", acr_values={_quoted(' '.join(exc.acr_values))}, max_age={exc.max_age}"
        )
    elif exc.check is not None:
        challenge += f' error="invalid_token", error_description={_quoted(exc.detail)}'
    members = {} if exc.check is None else {"check": exc.check}
    return problem(slug, exc.detail, headers={"WWW-Authenticate": challenge}, members=members)


def _locked(exc: SecondFactorLocked) -> Response[dict[str, Any]]:
    return problem(
        "second-factor-locked",
        exc.detail,
        headers={"Retry-After": str(exc.retry_after_seconds)},
        members={"locked_until": utc_text(exc.locked_until)},
    )


def _validation_error(
    _: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    raw = [item for item in (exc.extra or []) if isinstance(item, dict)]
    errors = [
        field_problem(str(item.get("key") or ""), str(item.get("message", ""))) for item in raw
    ]
    # Litestar marks parameter errors with their source (query, path ...); body errors have none.
    sources = {str(getattr(item.get("source"), "value", "")) for item in raw}
    if not errors:
        missing = _MISSING_PARAMETER.match(str(exc.detail))
        if missing:  # Litestar names a missing parameter in its message only
            source, name = missing.groups()
            return problem(
                "invalid-parameter",
                f"the {source} parameter {name} is required",
                errors=[field_problem(name, "is required")],
            )
        return problem("malformed-request", "the request could not be parsed")
    if sources & _PARAMETER_SOURCES:
        return problem(
            "invalid-parameter", f"{len(errors)} invalid request parameter(s)", errors=errors
        )
    fields = ", ".join(e.field for e in errors)
    return problem("invalid-input", f"invalid field(s): {fields}", errors=errors)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status == 404:  # noqa: PLR2004
        return problem("not-found", "no such resource")
    if status == 405:  # noqa: PLR2004
        # RFC 9110: a 405 names the methods the path does accept.
        allow = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
        return problem("method-not-allowed", "this path does not accept this method", headers=allow)
    if status == 413:  # noqa: PLR2004
        return problem("request-too-large", "the request body is too large")
    if status == 401:  # noqa: PLR2004
        return problem("unauthenticated", "authentication is required")
    if status == 403:  # noqa: PLR2004
        return problem("forbidden", "this operation is not allowed")
    if status == 400:  # noqa: PLR2004
        # Litestar's own messages for malformed bodies describe syntax, not content.
        return problem("malformed-request", f"the request could not be parsed: {exc.detail}")
    if status >= 500:  # noqa: PLR2004
        log.error("HTTP %s raised while serving a request", status)
        return problem("internal-error", "an internal error occurred", status=status)
    return problem("http-error", str(exc.detail), status=status)


def _log_unavailable(_: Request[Any, Any, Any], exc: LogUnavailable) -> Response[dict[str, Any]]:
    log.error("audit log unavailable (%s): request refused", exc)
    return problem(
        "audit-unavailable",
        "the audit log cannot be written; nothing was disclosed",
        headers={"Retry-After": "5"},
    )


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # Type only: the message of a database or library error can carry personal data.
    log.error("unexpected %s while serving a request", type(exc).__name__)
    return problem("internal-error", "an internal error occurred; nothing was changed")


def _undecodable(_: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[dict[str, Any]]:
    return problem("malformed-request", "the request body is not valid UTF-8")


def _too_deep(_: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    # Parsing `[[[[...]]]]` thousands deep exhausts the stack before any handler runs.
    return problem("malformed-request", "the request body is nested too deeply")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    LogUnavailable: _log_unavailable,
    UnicodeDecodeError: _undecodable,
    RecursionError: _too_deep,
    GatewayError: _domain_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}


@get("/problems/{slug:str}", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def describe_problem(slug: FromPath[str]) -> dict[str, Any]:
    """Human-readable description of a problem `type`, so the URI resolves to its meaning."""
    kind = PROBLEM_TYPES.get(slug)
    if kind is None:
        raise NotFoundException()
    return {
        "type": TYPE_PREFIX + kind.slug,
        "title": kind.title,
        "status": kind.status,
        "description": kind.description,
    }
