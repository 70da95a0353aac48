"""Who asked, from where, under which request id: known to the log without being passed
through every service call.

An ASGI middleware sets a context variable for each HTTP request and returns the
request id in `X-Request-Id`. A caller's own `X-Request-Id` is kept when it is a
plain token (so logs on both sides line up), replaced otherwise: it ends up in
the audit log and must not carry anything else.

The client address is the TCP peer's, unless the peer is one of the operator's
trusted proxies (`GATEWAY_TRUSTED_PROXIES`): then `X-Forwarded-For` is read from the
right, hop by hop, and the first address that is not a trusted proxy is the client.
Every hop must parse as an IP address; a hop that does not (text a client wrote into
the header) ends the walk at the last trusted proxy. Nobody is trusted by default, so
a caller cannot choose its own address (and with it a fresh rate-limit bucket).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_HOPS = 20  # more hops than this in X-Forwarded-For are not read


@dataclass(frozen=True, slots=True)
class RequestInfo:
    request_id: str | None
    client: str | None
    app: str | None = None  # the client a person called through, once authenticated


_NONE = RequestInfo(None, None)  # frozen: safe to share as the default
_current: ContextVar[RequestInfo | None] = ContextVar("request_info", default=None)


def current_request() -> RequestInfo:
    """The request being served (its id and client), or an empty one outside a request."""
    return _current.get() or _NONE


def bind_app(app: str | None) -> None:
    """Name the app (client id) the authenticated person calls through, for the rest of
    this request: every entry it writes records it beside the person."""
    info = _current.get()
    if info is not None and app is not None:
        _current.set(replace(info, app=app))


def client_is_loopback() -> bool:
    """Whether this request's client (the TCP peer, or as trusted proxies say) is this
    machine: what decides, with the mode, that `make run`'s plain-http cookies may go
    without Secure. Never the Host header, which the caller writes."""
    client = current_request().client
    address = None if client is None else parse_address(client)
    return address is not None and address.is_loopback


def parse_address(text: str) -> Address | None:
    """An IP address (IPv4-mapped IPv6 as IPv4, `[v6]` unbracketed), or None."""
    try:
        address = ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The reverse proxies whose `X-Forwarded-For` is believed; nobody's by default."""

    def __init__(self, networks: Sequence[Network] = ()) -> None:
        self._networks = tuple(networks)

    def _trusted(self, address: Address) -> bool:
        return any(address in network for network in self._networks)

    def client(self, peer: str | None, forwarded: Sequence[str]) -> str | None:
        """The client's address as text, or None if the peer is not an IP (a socket file)."""
        current = None if peer is None else parse_address(peer)
        if current is None:
            return None
        if not self._networks or not self._trusted(current):
            return str(current)
        hops = [hop for header in forwarded for hop in header.split(",")][-MAX_HOPS:]
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                break  # not an address: a client wrote it; stop at the last trusted proxy
            current = address
            if not self._trusted(address):
                break
        return str(current)


def request_context(trusted: TrustedProxies) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware factory Litestar takes, bound to the operator's trusted proxies."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            headers = scope["headers"]
            given = next((v.decode("latin-1") for k, v in headers if k == b"x-request-id"), "")
            request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
            forwarded = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
            peer = scope.get("client")
            client = trusted.client(peer[0] if peer else None, forwarded)
            if client is not None and peer:
                scope["client"] = (client, peer[1])
            token = _current.set(RequestInfo(request_id, client))

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    MutableScopeHeaders.from_message(message)["X-Request-Id"] = request_id
                await send(message)

            try:
                await app(scope, receive, send_with_id)
            finally:
                _current.reset(token)

        return middleware

    return factory
