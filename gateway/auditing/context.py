"""Who asked, from where, under which request id: known to the log without being passed
through every service call.

An ASGI middleware sets a context variable for each HTTP request and returns the
request id in `X-Request-Id`. A caller's own `X-Request-Id` is kept when it is a
plain token (so logs on both sides line up), replaced otherwise: it ends up in
the audit log and must not carry anything else.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True, slots=True)
class RequestInfo:
    request_id: str | None
    client: str | None


_NONE = RequestInfo(None, None)  # frozen: safe to share as the default
_current: ContextVar[RequestInfo | None] = ContextVar("request_info", default=None)


def current_request() -> RequestInfo:
    return _current.get() or _NONE


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        client = scope.get("client")
        token = _current.set(RequestInfo(request_id, client[0] if client else None))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            _current.reset(token)

    return middleware
