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

from gateway.auditing.recorder import AccessLog
from gateway.auth.principal import Principal
from gateway.auth.tokens import Authenticator
from gateway.errors import AuthenticationFailed

# Routes whose refusals the audit log records (those that can disclose personal data).
AUDITED_KINDS = frozenset({"orders", "unmask-grants", "audit"})

# What route handlers receive behind this middleware: `request.user` is the caller.
AuthedRequest = Request[Principal, None, Any]


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
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
            # The path only, reduced to its kind and id: the rest is caller input.
            resource = _resource(connection.url.path)
            if resource is not None:
                await self._audit.denied(None, "auth.authenticate", resource, 401, exc.detail)
            raise
        return AuthenticationResult(user=principal, auth=None)


def _resource(path: str) -> str | None:
    """`orders` or `orders/<uuid>` for an audited route, else None. Only known kinds and
    parsed ids are kept: anything else in a path is caller input, not logged."""
    parts = path.strip("/").split("/")
    if len(parts) < 2 or parts[0] != "v1" or parts[1] not in AUDITED_KINDS:  # noqa: PLR2004 - /v1/<kind>
        return None
    kind = parts[1]
    if len(parts) > 2:  # noqa: PLR2004 - /v1/<kind>/<id>
        try:
            return f"{kind}/{uuid.UUID(parts[2])}"
        except ValueError:
            pass
    return kind
