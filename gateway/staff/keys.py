"""An issuer's discovery document and signing keys, fetched and cached.

The JWKS is fetched at first use and again when it is older than
`jwks_cache_seconds`. A token signed with a key this cache does not know (the
issuer rotated) triggers one refresh, at most once per
`jwks_refresh_cooldown_seconds` however many such tokens arrive, and concurrent
requests wait for the same fetch: an attacker inventing `kid`s cannot make the
gateway hammer the issuer. If a refresh fails the keys already held stay in use
until the next attempt; with none held, the request fails closed (503).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from gateway.core.clock import Clock
from gateway.core.errors import IdentityProviderUnavailable
from gateway.staff.config import Issuer, check_url

log = logging.getLogger("gateway.staff.keys")

MAX_DOCUMENT_BYTES = 256 * 1024
FETCH_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    key: PyJWK
    algorithm: str  # the one algorithm this key verifies: pinned per key


@dataclass(frozen=True, slots=True)
class Discovery:
    jwks_uri: str
    introspection_endpoint: str | None


async def fetch_json(
    client: httpx.AsyncClient,
    url: str,
    what: str,
    *,
    form: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """A JSON object from `url` (GET, or POST of `form`), bounded in size; any failure is
    the provider's."""
    method = "GET" if form is None else "POST"
    headers = {"Accept": "application/json"}
    try:
        async with client.stream(method, url, data=form, auth=auth, headers=headers) as answer:
            if answer.status_code != 200:  # noqa: PLR2004 - HTTP OK
                raise IdentityProviderUnavailable(f"{what} answered HTTP {answer.status_code}")
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise IdentityProviderUnavailable(f"{what} is larger than 256 KiB")
    except httpx.HTTPError as exc:
        raise IdentityProviderUnavailable(
            f"{what} could not be fetched ({type(exc).__name__})"
        ) from None
    try:
        document = json.loads(body)
    # RecursionError: `[[[[...` thousands deep, within the size limit. Left to rise, the
    # request-body handler would blame the caller (400) for the provider's document.
    except (ValueError, RecursionError):
        raise IdentityProviderUnavailable(f"{what} is not JSON") from None
    if not isinstance(document, dict):
        raise IdentityProviderUnavailable(f"{what} is not a JSON object")
    return document


def _signing_keys(jwks: dict[str, Any], allowed: frozenset[str]) -> dict[str, SigningKey]:
    keys: dict[str, SigningKey] = {}
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise IdentityProviderUnavailable("the issuer's JWKS has no `keys` list")
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            key = PyJWK(entry)
        # A key type, curve or form we do not verify with (an ECDH key, an `oct` key, a
        # malformed entry): not ours to use. PyJWT says so with InvalidKeyError as often as
        # with PyJWKError, and with TypeError for a non-string `alg`; none may stop the rest.
        except (PyJWTError, TypeError):
            continue
        # RFC 7518 3.3: RSA keys of 2048 bits at least. PyJWT only warns about a shorter
        # one and verifies with it; a key that can be factored must sign nothing we believe.
        if key.Algorithm.check_key_length(key.key) is not None:
            continue
        algorithm = key.algorithm_name
        if algorithm in allowed:
            keys[kid] = SigningKey(kid, key, algorithm)
    return keys


class IssuerKeys:
    """One issuer's discovery document and current signing keys."""

    def __init__(self, issuer: Issuer, client: httpx.AsyncClient, clock: Clock) -> None:
        self._issuer = issuer
        self._client = client
        self._clock = clock
        self._allowed = frozenset(issuer.algorithms)
        self._discovery: Discovery | None = None
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: datetime | None = None
        self._tried_at: datetime | None = None
        self._lock = asyncio.Lock()
        self.refreshes = 0  # fetches of the JWKS so far (the rotation tests count them)

    async def discovery(self) -> Discovery:
        if self._discovery is None:
            url = self._issuer.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = await fetch_json(self._client, url, "the discovery document")
            # Mix-up defence (RFC 8414 section 3.3): the document speaks for this issuer.
            if document.get("issuer") != self._issuer.issuer:
                raise IdentityProviderUnavailable(
                    "the discovery document names another issuer than the one configured"
                )
            jwks_uri = document.get("jwks_uri")
            introspection = document.get("introspection_endpoint")
            try:
                check_url(str(jwks_uri), "jwks_uri")
                if introspection is not None:
                    check_url(str(introspection), "introspection_endpoint")
            except ValueError as exc:
                raise IdentityProviderUnavailable(f"the discovery document's {exc}") from None
            self._discovery = Discovery(
                str(jwks_uri), None if introspection is None else str(introspection)
            )
        return self._discovery

    async def key(self, kid: str) -> SigningKey | None:
        """The key for `kid`, refreshing once if it is unknown or the cache is old."""
        now = self._clock.now()
        known = self._keys.get(kid)
        if known is not None and not self._stale(now):
            return known
        async with self._lock:
            known = self._keys.get(kid)
            now = self._clock.now()
            if known is not None and not self._stale(now):
                return known  # another request refreshed while this one waited
            if self._may_refresh(now):
                await self._refresh(now)
            elif self._fetched_at is None:
                # Never fetched, and the last attempt failed within the cooldown: without
                # keys no token can be judged, so this is still the issuer's fault (503),
                # not a token with an unknown kid (401, which tells the app to drop it).
                raise IdentityProviderUnavailable(
                    "the issuer's keys could not be fetched yet; the gateway tries again "
                    f"at most every {self._issuer.jwks_refresh_cooldown_seconds} s"
                )
            return self._keys.get(kid)

    async def fetch_now(self) -> list[SigningKey]:
        """Fetch discovery and keys now, whatever the cache holds (the `identity check`
        command); a failure raises `IdentityProviderUnavailable`."""
        async with self._lock:
            self._discovery = None
            now = self._clock.now()
            self._tried_at = now
            discovery = await self.discovery()
            jwks = await fetch_json(self._client, discovery.jwks_uri, "the issuer's JWKS")
            self._keys, self._fetched_at = _signing_keys(jwks, self._allowed), now
            self.refreshes += 1
            return list(self._keys.values())

    def _stale(self, now: datetime) -> bool:
        age = timedelta(seconds=self._issuer.jwks_cache_seconds)
        return self._fetched_at is None or now >= self._fetched_at + age

    def _may_refresh(self, now: datetime) -> bool:
        cooldown = timedelta(seconds=self._issuer.jwks_refresh_cooldown_seconds)
        return self._tried_at is None or now >= self._tried_at + cooldown

    async def _refresh(self, now: datetime) -> None:
        self._tried_at = now
        try:
            discovery = await self.discovery()
            jwks = await fetch_json(self._client, discovery.jwks_uri, "the issuer's JWKS")
            keys = _signing_keys(jwks, self._allowed)
        except IdentityProviderUnavailable as exc:
            # The reason is the gateway's own text (no token, no claim): the operator's clue.
            if not self._keys:
                log.warning(
                    "issuer %s unreachable, its tokens fail closed: %s",
                    self._issuer.name,
                    exc.detail,
                )
                raise
            log.warning(
                "issuer %s: JWKS refresh failed (%s); the keys held stay in use",
                self._issuer.name,
                exc.detail,
            )
            return
        self._keys = keys
        self._fetched_at = now
        self.refreshes += 1
