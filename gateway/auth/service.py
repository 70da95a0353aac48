"""Principals and bearer tokens.

A token is `opg_<token_id>_<secret>`: the public `token_id` finds the row, the
secret is stored only as its SHA-256 and compared in constant time. Tokens are
random (256 bits), so a fast hash is enough; they are shown once, at creation.
Verified tokens are remembered in memory for `auth_cache_seconds`, keyed by a
hash of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.auth import store
from gateway.clock import Clock
from gateway.disclosure import PolicySet
from gateway.disclosure.plan import RowScope
from gateway.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

TOKEN_PREFIX = "opg"  # noqa: S105 - a public prefix, not a secret
_TOKEN_RE = re.compile(r"^opg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
REGION_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_CACHE_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    id: uuid.UUID
    name: str
    role: str
    region: str | None


@dataclass(frozen=True, slots=True)
class IssuedPrincipal:
    principal: Principal
    token: str


# The command line's identity when it writes orders (bulk import, demo data); it
# holds the `channel` role, so the policy decides whether imports are allowed.
CLI_WRITER = Principal(uuid.UUID(int=0), "cli", "channel", None)


def _hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def new_token() -> tuple[str, str, bytes]:
    """Return (token, token_id, hash of its secret)."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}_{token_id}_{secret}", token_id, _hash_secret(secret)


class PrincipalService:
    """Creating, listing and revoking principals; roles are checked against the policy.

    `actor` is the principal asking over HTTP, whose role needs `principals, manage`;
    the command line passes none (the operator already holds the database).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        policy: PolicySet,
        clock: Clock,
        on_revoke: Callable[[str], None] = lambda _name: None,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._clock = clock
        self._on_revoke = on_revoke

    def _authorize(self, actor: Principal | None) -> None:
        if actor is None:
            return
        plan = self._policy.plan_for(actor.role)
        if plan is None or not plan.allows("principals", "manage"):
            raise PermissionDenied(f"role {actor.role!r} may not manage principals")

    async def create(
        self, name: str, role: str, region: str | None, *, actor: Principal | None = None
    ) -> IssuedPrincipal:
        self._authorize(actor)
        if not NAME_RE.match(name):
            raise InvalidInput(
                "principal name must be 1-100 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        plan = self._policy.plan_for(role)
        if plan is None:
            raise InvalidInput(
                f"unknown role {role!r}; the policy knows: {', '.join(self._policy.roles)}"
            )
        if region is not None and not REGION_RE.match(region):
            raise InvalidInput("region must be lower-case letters, digits, '_' or '-'")
        if plan.row_scope is RowScope.REGION and region is None:
            raise InvalidInput(f"role {role!r} is limited to one region by policy; give a region")
        token, token_id, token_hash = new_token()
        try:
            async with self._engine.begin() as conn:
                principal_id = await store.insert_principal(
                    conn,
                    name=name,
                    role=role,
                    region=region,
                    token_id=token_id,
                    token_hash=token_hash,
                    now=self._clock.now(),
                )
        except IntegrityError:
            raise Conflict(f"a principal named {name!r} already exists") from None
        return IssuedPrincipal(Principal(principal_id, name, role, region), token)

    async def list(self, *, actor: Principal | None = None) -> list[store.PrincipalRecord]:
        self._authorize(actor)
        async with self._engine.connect() as conn:
            return await store.list_principals(conn)

    async def revoke(self, name: str, *, actor: Principal | None = None) -> None:
        self._authorize(actor)
        async with self._engine.begin() as conn:
            if not await store.revoke(conn, name, self._clock.now()):
                raise NotFound(f"no active principal named {name!r}")
        self._on_revoke(name)


class Authenticator:
    """Turns an `Authorization` header into a `Principal`, or refuses."""

    def __init__(self, engine: AsyncEngine, clock: Clock, cache_seconds: float) -> None:
        self._engine = engine
        self._clock = clock
        self._ttl = timedelta(seconds=cache_seconds)
        self._cache: dict[bytes, tuple[Principal, datetime]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationFailed("a bearer token is required (Authorization: Bearer <token>)")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed("the Authorization header must use the Bearer scheme")
        match = _TOKEN_RE.match(token.strip())
        if match is None:
            raise AuthenticationFailed("the bearer token is malformed")
        key = hashlib.sha256(token.encode("ascii")).digest()
        now = self._clock.now()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        token_id, secret = match.groups()
        async with self._engine.connect() as conn:
            record = await store.find_by_token_id(conn, token_id)
        # Compare even when no row was found, so both paths do the same work.
        expected = record.token_hash if record is not None else bytes(32)
        valid = hmac.compare_digest(expected, _hash_secret(secret))
        if record is None or not valid or record.revoked_at is not None:
            raise AuthenticationFailed("the bearer token is unknown or revoked")
        principal = Principal(record.id, record.name, record.role, record.region)
        if self._ttl:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = (principal, now + self._ttl)
        return principal

    def forget(self, name: str) -> None:
        """Drop cached verifications of `name`'s token (it was just revoked here)."""
        for key in [k for k, (p, _) in self._cache.items() if p.name == name]:
            del self._cache[key]
