"""Bearer-token authentication for every route not marked `exclude_from_auth`.

Runs before the request body is parsed, so an anonymous caller learns nothing,
not even whether its body would have been valid.
"""

from __future__ import annotations

import re
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
AUDITED_PREFIXES = ("/v1/orders", "/v1/unmask-grants", "/v1/audit")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

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
            path = connection.url.path
            if path.startswith(AUDITED_PREFIXES):
                # The path only: a query string is caller input and is not kept.
                await self._audit.denied(
                    None, "auth.authenticate", _resource(path), 401, exc.detail
                )
            raise
        return AuthenticationResult(user=principal, auth=None)


def _resource(path: str) -> str:
    """`orders` or `orders/<uuid>`; anything else in a path is caller input, not logged."""
    parts = path.strip("/").split("/")[1:]
    if len(parts) >= 2 and _UUID.match(parts[1]):  # noqa: PLR2004 - /v1/<kind>/<id>
        return f"{parts[0]}/{parts[1].lower()}"
    return parts[0] if parts else path
