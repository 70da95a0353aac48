"""The gateway's side of the audit log: what each request, reveal and workflow step
writes, with the caller's context, and the pseudonyms that keep personal data out of it.
"""

from gateway.accesslog.context import (
    TrustedProxies,
    bind_app,
    client_is_loopback,
    current_request,
    parse_address,
    request_context,
)
from gateway.accesslog.recorder import DATA_SUBJECT, OPERATOR, AccessLog, actor_of, pseudonym_key

__all__ = [
    "DATA_SUBJECT",
    "OPERATOR",
    "AccessLog",
    "TrustedProxies",
    "actor_of",
    "bind_app",
    "client_is_loopback",
    "current_request",
    "parse_address",
    "pseudonym_key",
    "request_context",
]
