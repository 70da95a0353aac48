"""Domain errors: what went wrong, in the gateway's own terms.

Errors carry meaning, never an HTTP status; `gateway.core.problems` maps each class to
an RFC 9457 problem document in one place. Messages must never contain personal
data: they name fields and rules, not values.

    GatewayError
    ├── ConfigurationError        bad settings, policy or classification (start-up)
    ├── AuthenticationFailed      no, malformed, unknown or revoked bearer token
    ├── PermissionDenied          the policy does not allow this operation
    │   ├── SecondFactorRejected  wrong, expired or replayed one-time code
    │   ├── GrantRefused          unmask grant unknown, expired, another's or out of scope
    │   └── CodeRejected          wrong or expired verification code of a privacy request
    ├── SecondFactorLocked        too many wrong codes: the factor is locked for a while
    ├── CodeLocked                too many wrong codes for a privacy request
    ├── RateLimited               too many public requests from one address or for one contact
    ├── NotFound                  no such resource, or outside the caller's row scope
    ├── Conflict
    │   ├── IdempotencyConflict   same channel + external_id, different document
    │   ├── InvalidTransition     order status change not allowed
    │   └── SecondFactorMissing   no (active or pending) TOTP factor for this step
    ├── InvalidInput              input that passed parsing but breaks a rule
    │   └── InvalidParameter      ... in a query or path parameter
    ├── Unavailable               a store the answer comes from cannot be reached now
    │
    │   defined where they happen; no answer is defined for them (a fault if one escapes):
    ├── DecryptionFailed          gateway.crypto: a ciphertext not authentic for its key and place
    ├── DeliveryFailed            gateway.privacy: a message could not be handed to its channel
    ├── ErasureIncomplete         gateway.privacy: the final search still found the subject
    └── Refused                   gateway.privacy: a public page's refusal, shown as a page
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "AuthenticationFailed",
    "CodeLocked",
    "CodeRejected",
    "ConfigurationError",
    "Conflict",
    "FieldProblem",
    "GatewayError",
    "GrantRefused",
    "IdempotencyConflict",
    "InvalidInput",
    "InvalidParameter",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "SecondFactorLocked",
    "SecondFactorMissing",
    "SecondFactorRejected",
    "Unavailable",
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
    """The caller could not be identified. `check` names the check an access token
    failed (`expired`, `audience`, `signature`...); a gateway bearer token has none."""

    def __init__(self, detail: str, *, check: str | None = None) -> None:
        super().__init__(detail)
        self.check = check


class StepUpRequired(AuthenticationFailed):
    """RFC 9470: the person must authenticate again, more strongly or more recently."""

    def __init__(self, detail: str, *, acr_values: tuple[str, ...], max_age: int) -> None:
        super().__init__(detail, check="insufficient_user_authentication")
        self.acr_values = acr_values
        self.max_age = max_age


class IdentityProviderUnavailable(GatewayError):
    """An identity provider's documents or introspection cannot be had now: fail closed."""


class PermissionDenied(GatewayError):
    """The caller is known but the policy does not allow the operation."""


class NoMappedRole(PermissionDenied):
    """A verified staff token maps to no role; `actor` names the person as the log does."""

    def __init__(self, detail: str, *, actor: str) -> None:
        super().__init__(detail)
        self.actor = actor


class SecondFactorRejected(PermissionDenied):
    """The one-time code is wrong, outside the allowed clock skew, or already used."""


class GrantRefused(PermissionDenied):
    """The unmask grant cannot be used for this request."""


class CodeRejected(PermissionDenied):
    """The verification code of a privacy request is wrong or has expired."""


class CodeLocked(GatewayError):
    """Too many wrong verification codes: the request can no longer be verified."""


class RateLimited(GatewayError):
    """Too many requests from this address or for this contact; retry later."""

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class SecondFactorLocked(GatewayError):
    """Too many wrong codes; no code is accepted until `locked_until`."""

    def __init__(self, detail: str, locked_until: datetime, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.locked_until = locked_until
        self.retry_after_seconds = retry_after_seconds


class NotFound(GatewayError):
    """The resource does not exist, or the caller may not know that it exists."""


class Conflict(GatewayError):
    """The request contradicts the current state."""


class IdempotencyConflict(Conflict):
    """An order with this channel and external id exists with a different body."""


class InvalidTransition(Conflict):
    """The requested order status cannot follow the current one."""


class SecondFactorMissing(Conflict):
    """The step needs a TOTP factor the principal has not enrolled or activated."""


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


class Unavailable(GatewayError):
    """A store the answer comes from (a fronted order store) cannot be reached now:
    nothing was read or disclosed; retry shortly."""


class InvalidInput(GatewayError):
    """Input is well-formed but breaks a rule; lists each bad field."""

    def __init__(self, detail: str, errors: Sequence[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.errors = tuple(errors)


class InvalidParameter(InvalidInput):
    """A query or path parameter breaks a rule (the body, if any, was not looked at)."""
