"""Who is calling: the authenticated principal, as every capability sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. `region` and `channel` bind scoped roles (warehouse, channel)."""

    id: uuid.UUID
    name: str
    role: str
    region: str | None = None
    channel: str | None = None
    # When the principal (and its token) was created: a first second factor may be
    # enrolled only within a window after it (GATEWAY_TOTP_ENROL_HOURS).
    created_at: datetime | None = None
