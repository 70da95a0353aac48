"""Signed messages between the gateway and a webhook system, both ways.

Every request the gateway sends, every answer a system gives and every callback it
makes carries three headers:

    X-OPG-Timestamp: 1733270400          (Unix seconds when it was signed)
    X-OPG-Delivery:  8d0c...-...         (the delivery id: the same on every attempt)
    X-OPG-Signature: v1=<hex>            (HMAC-SHA-256, the system's shared secret)

over `"{timestamp}.{delivery}.".encode() + body`. The timestamp and the delivery id
are inside what is signed, so a captured message cannot be moved to another delivery,
and it is refused once `WINDOW` has passed (replay); within the window, a replay is
harmless because both sides act once per delivery id. Several `v1=` values separated
by commas are accepted (a secret being rotated). The scheme is Stripe's and GitHub's,
so systems can check it with the HMAC their language already has.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping
from datetime import datetime

TIMESTAMP = "X-OPG-Timestamp"
DELIVERY = "X-OPG-Delivery"
SIGNATURE = "X-OPG-Signature"
WINDOW = 300  # seconds either side of now
_VERSION = "v1="
_MAX_SIGNATURES = 4
_SECONDS = re.compile(r"[0-9]{1,12}")


class BadSignature(Exception):
    """A message that does not verify; `reason` says which check failed (never a value
    of the message, which an attacker chose)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(secret: bytes, timestamp: int, delivery: uuid.UUID, body: bytes) -> str:
    """The `X-OPG-Signature` of a message."""
    signed = f"{timestamp}.{delivery}.".encode() + body
    return _VERSION + hmac.new(secret, signed, hashlib.sha256).hexdigest()


def sign(secret: bytes, delivery: uuid.UUID, body: bytes, now: datetime) -> dict[str, str]:
    """The three headers of a message sent now."""
    timestamp = int(now.timestamp())
    return {
        TIMESTAMP: str(timestamp),
        DELIVERY: str(delivery),
        SIGNATURE: signature(secret, timestamp, delivery, body),
    }


def verify(secret: bytes, headers: Mapping[str, str], body: bytes, now: datetime) -> uuid.UUID:
    """The delivery id of a message that verifies; `BadSignature` otherwise."""
    lower = {k.lower(): v for k, v in headers.items()}
    missing = [h for h in (TIMESTAMP, DELIVERY, SIGNATURE) if h.lower() not in lower]
    if missing:
        raise BadSignature("missing header(s) " + ", ".join(missing))
    stamp = lower[TIMESTAMP.lower()]
    if not _SECONDS.fullmatch(stamp):  # ASCII digits: str.isdigit() takes "²" too
        raise BadSignature(f"{TIMESTAMP} is not Unix seconds")
    if abs(now.timestamp() - int(stamp)) > WINDOW:
        raise BadSignature(f"{TIMESTAMP} is more than {WINDOW} s from now (replay or clock)")
    try:
        delivery = uuid.UUID(lower[DELIVERY.lower()])
    except ValueError:
        raise BadSignature(f"{DELIVERY} is not a UUID") from None
    expected = signature(secret, int(stamp), delivery, body).encode()
    given = [s.strip() for s in lower[SIGNATURE.lower()].split(",")][:_MAX_SIGNATURES]
    # Every candidate is compared in constant time, and all of them are compared.
    matches = [hmac.compare_digest(expected, s.encode()) for s in given]
    if not any(matches):
        raise BadSignature("signature does not verify with this system's secret")
    return delivery
