"""The one pattern for channel and region names.

Principals are bound to a region or channel and orders carry one; both sides must
accept exactly the same names, or a scope could never match (or match too much).
"""

from __future__ import annotations

import re

SLUG_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
SLUG_RE = re.compile(SLUG_PATTERN)
SLUG_RULE = "must be 1-32 lower-case letters, digits, '_' or '-', starting with a letter"
