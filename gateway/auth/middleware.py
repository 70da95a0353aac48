"""Bearer-token authentication for every route not marked `exclude_from_auth`.

Runs before the request body is parsed, so an anonymous caller learns nothing,
not even whether its body would have been valid.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from audit import Outcome
from gateway.accesslog import AccessLog, bind_app
from gateway.auth.tokens import Authenticator
from gateway.core.errors import AuthenticationFailed, NoMappedRole
from gateway.core.principal import Principal

# The first segment of every /v1 route behind this middleware: a refusal names its kind
# (and an id, if one parses), never the rest of the path, which is caller input.
ROUTE_KINDS = frozenset(
    {
        "orders",
        "unmask-grants",
        "audit",
        "principals",
        "people",
        "auth",
        "privacy",
        "reports",
        "subject-links",
        "vault",
    }
)

# What route handlers receive behind this middleware: `request.user` is the caller.
AuthedRequest = Request[Principal, None, Any]


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """Authenticates every route not excluded; a failure is a logged 401 problem."""

    def __init__(
        self, app: ASGIApp, authenticator: Authenticator, audit: AccessLog, **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self._authenticator = authenticator
        self._audit = audit

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        try:
            principal = await self._authenticator.authenticate(
                connection.headers.get("authorization")
            )
        except AuthenticationFailed as exc:
            # Every refusal is logged, on every route: the path reduced to its kind and id.
            resource = _resource(connection.url.path)
            await self._audit.denied(None, "auth.authenticate", resource, 401, exc.detail)
            raise
        except NoMappedRole as exc:  # a verified person without a mapped group: named
            resource = _resource(connection.url.path)
            details = {"status": 403, "reason": exc.detail}
            await self._audit.record(
                exc.actor, "auth.authenticate", resource, Outcome.DENIED, details=details
            )
            raise
        bind_app(principal.app)
        return AuthenticationResult(user=principal, auth=None)


def _resource(path: str) -> str:
    """`orders` or `orders/<uuid>` for a known route, else `api`. Only known kinds and
    parsed ids are kept: anything else in a path is caller input, not logged."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "v1" or parts[1] not in ROUTE_KINDS:  # noqa: PLR2004 - /v1/<kind>
        return "api"
    kind = parts[1]
    if len(parts) > 2:  # noqa: PLR2004 - /v1/<kind>/<id>
        try:
            return f"{kind}/{uuid.UUID(parts[2])}"
        except ValueError:
            pass
    return kind
