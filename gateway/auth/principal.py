"""Who is calling: the authenticated principal, as every capability sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. `region` and `channel` bind scoped roles (warehouse, channel)."""

    id: uuid.UUID
    name: str
    role: str
    region: str | None = None
    channel: str | None = None
