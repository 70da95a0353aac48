"""The token left in an existing store's cell in place of a personal value.

Format: `~` and ten characters of Crockford's base32 alphabet in lower case
(`~7k2m9q4x0c`): 11 characters, so a token fits the narrowest column a personal value
usually has (a mainland mobile kept as `CHAR(11)` or `VARCHAR(11)`), 50 random bits
from the operating system's generator. A token is not a secret (it names a record
bound to one cell) and not derived from the value, so it reveals nothing of it and
two equal values get different tokens. No phone, e-mail, name or id number starts
with `~`, so a token is never mistaken for a value; a value that looks like one is
not trusted for that either: it opens only the record bound to its own cell.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lower case
PREFIX = "~"
LENGTH = 11
_BODY = LENGTH - len(PREFIX)
_PATTERN = re.compile(rf"^~[{ALPHABET}]{{{_BODY}}}$")


def new_token() -> str:
    """A fresh random token."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(_BODY))


def is_token(value: object) -> bool:
    """Whether a cell's value has the token's form (not yet whether it opens)."""
    return isinstance(value, str) and _PATTERN.match(value) is not None
