"""Who is calling: the authenticated principal, as every capability sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

SERVICE = "service"  # a gateway bearer token: a channel, a batch job, an operator's app
PERSON = "person"  # a member of staff, signed in at the company's identity provider
APP = "app"  # a client of the identity provider acting for itself (client credentials)


@dataclass(frozen=True, slots=True)
class Assurance:
    """How and when a person last authenticated at their identity provider (RFC 9470)."""

    issuer: str  # the issuer's name in `policies/identity.toml`
    acr: tuple[str, ...]
    amr: tuple[str, ...]
    auth_time: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. `region` and `channel` bind scoped roles (warehouse, channel).

    A person's `name` is a keyed pseudonym (`person:<hex>`), never their name: it goes
    into the audit log. `app` is the client the person called through.
    """

    id: uuid.UUID
    name: str
    role: str
    region: str | None = None
    channel: str | None = None
    # When the principal (and its token) was created: a first second factor may be
    # enrolled only within a window after it (GATEWAY_TOTP_ENROL_HOURS).
    created_at: datetime | None = None
    kind: str = SERVICE
    app: str | None = None
    assurance: Assurance | None = None
