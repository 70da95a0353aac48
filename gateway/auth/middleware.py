"""Bearer-token authentication for every route not marked `exclude_from_auth`.

Runs before the request body is parsed, so an anonymous caller learns nothing,
not even whether its body would have been valid.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from gateway.auth.principal import Principal
from gateway.auth.tokens import Authenticator

# What route handlers receive behind this middleware: `request.user` is the caller.
AuthedRequest = Request[Principal, None, Any]


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, authenticator: Authenticator, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._authenticator = authenticator

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        principal = await self._authenticator.authenticate(connection.headers.get("authorization"))
        return AuthenticationResult(user=principal, auth=None)
