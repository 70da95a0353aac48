"""Bearer tokens: their format, and turning an `Authorization` header into a principal.

A token is `opg_<token_id>_<secret>`: the public `token_id` finds the row, the
secret is stored only as its SHA-256 and compared in constant time. Tokens are
random (256 bits), so a fast hash is enough; they are shown once, at creation.
Verified tokens are remembered in memory for `auth_cache_seconds`, keyed by a
hash of the token, never the token itself.

Any other bearer token that is a JWT goes to staff sign-in (`gateway.staff`): verified
against its issuer, mapped to a role, and turned into the person's (or app's)
principal, remembered the same way but never past the token's own expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from gateway.auth import store
from gateway.auth.people import People
from gateway.core.clock import Clock
from gateway.core.errors import AuthenticationFailed
from gateway.core.principal import Principal
from gateway.core.readpath import ReadPool
from gateway.staff import StaffSignIn, looks_like_jwt

TOKEN_PREFIX = "opg"  # noqa: S105 - a public prefix, not a secret
_TOKEN_RE = re.compile(r"^opg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_CACHE_LIMIT = 10_000


def hash_secret(secret: str) -> bytes:
    """SHA-256 of a token's secret: all that is stored of it."""
    return hashlib.sha256(secret.encode("ascii")).digest()


def new_token() -> tuple[str, str, bytes]:
    """Return (token, token_id, hash of its secret)."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}_{token_id}_{secret}", token_id, hash_secret(secret)


class Authenticator:
    """Turns an `Authorization` header into a `Principal`, or refuses."""

    def __init__(
        self,
        reads: ReadPool,
        clock: Clock,
        cache_seconds: float,
        staff: tuple[StaffSignIn, People] | None = None,
    ) -> None:
        self._reads = reads
        self._staff = staff
        self._clock = clock
        self._ttl = timedelta(seconds=cache_seconds)
        self._cache: dict[bytes, tuple[Principal, datetime]] = {}
        # Bumped by every revocation in this process: a lookup that overlapped one
        # must not put what it read into the cache.
        self._revocations = 0

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationFailed("a bearer token is required (Authorization: Bearer <token>)")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed("the Authorization header must use the Bearer scheme")
        # ASCII blanks only: `str.strip()` would also take a no-break space off the
        # token, which then failed to encode (a 500) further down.
        token = token.strip(" \t")
        match = _TOKEN_RE.fullmatch(token)
        staff = (
            self._staff if match is None and self._staff and self._staff[0].accepts(token) else None
        )
        if match is None and staff is None:
            if self._staff is None and looks_like_jwt(token):
                raise AuthenticationFailed(
                    "the bearer token is an access token, and no identity provider is "
                    "configured (policies/identity.toml)",
                    check="issuer",
                )
            raise AuthenticationFailed("the bearer token is malformed")
        key = hashlib.sha256(token.encode("ascii")).digest()
        now = self._clock.now()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        revocations = self._revocations
        if staff is not None:
            sign_in, people = staff
            identity = await sign_in.identify(token)
            principal = await people.principal_for(identity)
            self._remember(key, principal, min(now + self._ttl, identity.expires_at), revocations)
            return principal
        assert match is not None  # noqa: S101 - one of the two paths matched
        token_id, secret = match.groups()
        async with self._reads.connect() as reader:
            record = await store.find_by_token_id(reader, token_id)
        # Compare even when no row was found, so both paths do the same work.
        expected = record.token_hash if record is not None and record.token_hash else bytes(32)
        valid = hmac.compare_digest(expected, hash_secret(secret))
        if record is None or not valid or record.revoked_at is not None:
            raise AuthenticationFailed("the bearer token is unknown or revoked")
        principal = Principal(
            record.id, record.name, record.role, record.region, record.channel, record.created_at
        )
        self._remember(key, principal, now + self._ttl, revocations)
        return principal

    def _remember(
        self, key: bytes, principal: Principal, until: datetime, revocations: int
    ) -> None:
        if self._ttl and revocations == self._revocations:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = (principal, until)

    async def principal_named(self, name: str) -> Principal | None:
        """The principal `name` as it is now, or None if it is unknown or revoked: a
        console session names who signed in, and is only as good as that principal."""
        async with self._reads.connect() as reader:
            row = await store.find_staff(reader, name)
        if row is None or row.revoked_at is not None:
            return None
        return Principal(
            row.id, row.name, row.role, row.region, row.channel, row.created_at, kind=row.kind
        )

    def forget(self, name: str) -> None:
        """Drop cached verifications of `name`'s token (it was just revoked here)."""
        self._revocations += 1
        for key in [k for k, (p, _) in self._cache.items() if p.name == name]:
            del self._cache[key]
