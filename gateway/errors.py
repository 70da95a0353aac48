"""Domain errors: what went wrong, in the gateway's own terms.

Errors carry meaning, never an HTTP status; `gateway.problems` maps each class to
an RFC 9457 problem document in one place. Messages must never contain personal
data: they name fields and rules, not values.

    GatewayError
    ├── ConfigurationError        bad settings, policy or classification (start-up)
    ├── AuthenticationFailed      no, malformed, unknown or revoked bearer token
    ├── PermissionDenied          the policy does not allow this operation
    ├── NotFound                  no such resource, or outside the caller's row scope
    ├── Conflict
    │   ├── IdempotencyConflict   same channel + external_id, different document
    │   └── InvalidTransition     order status change not allowed
    └── InvalidInput              input that passed parsing but breaks a rule
        └── InvalidParameter      ... in a query or path parameter
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AuthenticationFailed",
    "ConfigurationError",
    "Conflict",
    "FieldProblem",
    "GatewayError",
    "IdempotencyConflict",
    "InvalidInput",
    "InvalidParameter",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "field_problem",
]


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfigurationError(GatewayError):
    """Settings, policy or classification files are unusable; start-up must stop."""


class AuthenticationFailed(GatewayError):
    """The caller could not be identified."""


class PermissionDenied(GatewayError):
    """The caller is known but the policy does not allow the operation."""


class NotFound(GatewayError):
    """The resource does not exist, or the caller may not know that it exists."""


class Conflict(GatewayError):
    """The request contradicts the current state."""


class IdempotencyConflict(Conflict):
    """An order with this channel and external id exists with a different body."""


class InvalidTransition(Conflict):
    """The requested order status cannot follow the current one."""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One bad input field: where it is and what rule it breaks (never its value)."""

    field: str
    message: str


EXTRA_FIELD = "Extra inputs are not permitted"  # pydantic's message for a forbidden key
UNKNOWN_FIELD = "holds a field that is not part of this document (its name is not repeated)"


def field_problem(path: str, message: str) -> FieldProblem:
    """A value-free description of one bad input field, from a validator's path and message.

    An unknown key is reported at its parent: the key itself is caller input and
    may be personal data (`{"customer": {"13812345678": ...}}`).
    """
    if message == EXTRA_FIELD:
        return FieldProblem(path.rpartition(".")[0] or "body", UNKNOWN_FIELD)
    # pydantic prefixes our validators' messages; the rule reads better alone.
    return FieldProblem(path or "body", message.removeprefix("Value error, ") or "is invalid")


class InvalidInput(GatewayError):
    """Input is well-formed but breaks a rule; lists each bad field."""

    def __init__(self, detail: str, errors: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.errors = tuple(errors)


class InvalidParameter(InvalidInput):
    """A query or path parameter breaks a rule (the body, if any, was not looked at)."""
