"""Order ids of a fronted store: the store's own integer key inside a UUID.

The API names every order by a UUID (`order_id`); the gateway's own orders get random
ones (version 4). An order of a store the gateway fronts keeps its key there, so its
id must lead back to it without a table of ids: it is a version 8 UUID (RFC 9562's
layout for "custom" ids) holding a 48-bit tag of the system's key and the store's
integer key in the last 62 bits. Reading it back checks the version, the variant and
the tag, so a native id, another system's id or a made-up one is simply no order.
"""

from __future__ import annotations

import hashlib
import uuid

_KEY_BITS = 62
MAX_KEY = (1 << _KEY_BITS) - 1
_VERSION = 8
_VARIANT = 0b10  # RFC 9562's variant


def _tag(system: str) -> int:
    return int.from_bytes(hashlib.sha256(b"opg-order-source:" + system.encode()).digest()[:6])


def order_uuid(system: str, key: int) -> uuid.UUID:
    """The API's id of the store's order `key` (0 <= key <= MAX_KEY)."""
    if not 0 <= key <= MAX_KEY:
        raise ValueError("an order key of a fronted store must fit in 62 bits")
    value = (_tag(system) << 80) | (_VERSION << 76) | (_VARIANT << 62) | key
    return uuid.UUID(int=value)


def order_key(system: str, order_id: uuid.UUID) -> int | None:
    """The store's key in an id `order_uuid` made for this system; None otherwise."""
    value = order_id.int
    unused = (value >> 64) & 0xFFF  # bits 64-75: zero in every id made here
    if order_id.version != _VERSION or (value >> 62) & 0b11 != _VARIANT or unused:
        return None
    if value >> 80 != _tag(system):
        return None
    return value & MAX_KEY
