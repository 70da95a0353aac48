"""Console sessions: created at sign-in, ended by sign-out, by idle time and by age.

The cookie holds a 256-bit random session id; the table holds its SHA-256, so a copy
of the database opens no session. Each session's CSRF token is another hash of the
cookie (domain-separated): every form carries it and every POST must match it
(constant-time). Another site can neither read the cookie nor so compute the token,
and the token shown in a page gives nothing back of the cookie. The cookies are HttpOnly,
SameSite=Strict and Secure (but for `make run` on this machine). A session only says
who signed in: the principal is read again on every request, so a revoked principal's
session ends at its next click, and its role is the policy's now, not at sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.console.tables import console_sessions
from gateway.core.clock import Clock

COOKIE_BYTES = 32


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii", "replace")).digest()


def _csrf(cookie: str) -> str:
    return hashlib.sha256(b"opg/console/csrf/v1|" + cookie.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class Opened:
    """A new session: the cookie's value."""

    cookie: str


@dataclass(frozen=True, slots=True)
class Session:
    principal_id: uuid.UUID
    principal_name: str
    csrf: str  # what this session's forms carry

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(self.csrf.encode(), given.encode())


class Sessions:
    """The console's sessions, with idle and absolute timeouts on the gateway's clock."""

    def __init__(self, engine: AsyncEngine, clock: Clock, idle_minutes: int, hours: float) -> None:
        self._engine = engine
        self._clock = clock
        self._idle = timedelta(minutes=idle_minutes)
        self._absolute = timedelta(hours=hours)

    async def open(self, principal_id: uuid.UUID, principal_name: str) -> Opened:
        cookie = secrets.token_urlsafe(COOKIE_BYTES)
        now = self._clock.now()
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(console_sessions).values(
                    id_hash=_hash(cookie),
                    principal_id=principal_id,
                    principal_name=principal_name,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return Opened(cookie)

    async def find(self, cookie: str | None) -> Session | None:
        """The live session of `cookie`, its idle clock restarted; None if it has ended."""
        if not cookie or len(cookie) > 2 * COOKIE_BYTES + 8:
            return None
        c = console_sessions.c
        now = self._clock.now()
        mine = c.id_hash == _hash(cookie)
        async with self._engine.begin() as conn:
            found = select(c.principal_id, c.principal_name, c.created_at, c.last_seen_at)
            row = (await conn.execute(found.where(mine, c.ended_at.is_(None)))).first()
            if row is None:
                return None
            if now >= row.last_seen_at + self._idle or now >= row.created_at + self._absolute:
                await conn.execute(update(console_sessions).where(mine).values(ended_at=now))
                return None
            await conn.execute(update(console_sessions).where(mine).values(last_seen_at=now))
        return Session(row.principal_id, row.principal_name, _csrf(cookie))

    async def end(self, cookie: str | None) -> None:
        if not cookie:
            return
        c = console_sessions.c
        async with self._engine.begin() as conn:
            await conn.execute(
                update(console_sessions)
                .where(c.id_hash == _hash(cookie), c.ended_at.is_(None))
                .values(ended_at=self._clock.now())
            )
