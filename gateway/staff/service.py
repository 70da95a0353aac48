"""Staff sign-in: a JWT access token from a trusted issuer becomes a mapped identity,
and a reveal asks for a recent strong authentication at that issuer (RFC 9470).

Revocation: a token stays good until it expires, so a person disabled at the issuer
keeps working for at most the token's lifetime (bounded by
`max_token_lifetime_seconds`). Where the issuer offers token introspection (RFC 7662)
and the issuer's entry configures it, every token is also checked there, at most once
per `cache_seconds`: a revoked token then stops working within that time, at the
price of a call to the issuer (and failing closed while it is down).
"""

from __future__ import annotations

import hashlib
import ssl
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from gateway.core.clock import Clock
from gateway.core.errors import (
    AuthenticationFailed,
    ConfigurationError,
    IdentityProviderUnavailable,
    PermissionDenied,
    StepUpRequired,
)
from gateway.core.principal import Assurance
from gateway.staff.config import IdentityConfig, Introspection, Issuer
from gateway.staff.keys import FETCH_TIMEOUT_SECONDS, IssuerKeys, fetch_json
from gateway.staff.mapping import Pseudonym, StaffIdentity, identify
from gateway.staff.verify import TokenVerifier, VerifiedToken, looks_like_jwt

_CACHE_LIMIT = 10_000


def _read_secret(spec: Introspection, var_dir: Path, issuer: str) -> str:
    path = spec.secret_file if spec.secret_file.is_absolute() else var_dir / spec.secret_file
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError:
        raise ConfigurationError(
            f"identity mapping: issuer {issuer!r}: the introspection secret file {path} "
            "cannot be read"
        ) from None
    if not secret:
        raise ConfigurationError(f"identity mapping: issuer {issuer!r}: {path} is empty")
    return secret


def _http_client(issuer: Issuer, var_dir: Path) -> httpx.AsyncClient:
    """No redirects, no proxies from the environment, the issuer's own CA if it has one."""
    verify: ssl.SSLContext | bool = True
    if issuer.ca_file is not None:
        path = issuer.ca_file if issuer.ca_file.is_absolute() else var_dir / issuer.ca_file
        try:
            verify = ssl.create_default_context(cafile=str(path))
        except (OSError, ssl.SSLError):
            raise ConfigurationError(
                f"identity mapping: issuer {issuer.name!r}: ca_file {path} is not a readable "
                "PEM bundle"
            ) from None
    return httpx.AsyncClient(
        timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False, verify=verify
    )


class StaffSignIn:
    """Tokens of the company's identity providers, verified and mapped to roles."""

    def __init__(
        self,
        config: IdentityConfig,
        clock: Clock,
        var_dir: Path,
        pseudonym: Pseudonym,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._config = config
        self._pseudonym = pseudonym
        self._clock = clock
        self._clients = {i.name: client or _http_client(i, var_dir) for i in config.issuers}
        self.keys = {i.issuer: IssuerKeys(i, self._clients[i.name], clock) for i in config.issuers}
        self._verifier = TokenVerifier(self.keys, {i.issuer: i for i in config.issuers}, clock)
        self._secrets = {
            i.name: _read_secret(i.introspection, var_dir, i.name)
            for i in config.issuers
            if i.introspection is not None
        }
        self._active: dict[bytes, datetime] = {}  # token hash -> active at the issuer until

    @property
    def enabled(self) -> bool:
        return bool(self._config.issuers)

    def accepts(self, token: str) -> bool:
        """Whether `token` is for this path (a JWT, and some issuer is configured)."""
        return self.enabled and looks_like_jwt(token)

    async def identify(self, token: str) -> StaffIdentity:
        verified = await self._verifier.verify(token)
        identity = identify(self._config, verified, self._pseudonym)
        if verified.issuer.introspection is not None:
            await self._introspect(verified, token)
        return identity

    async def _introspect(self, verified: VerifiedToken, token: str) -> None:
        spec = verified.issuer.introspection
        assert spec is not None  # noqa: S101 - the caller checked
        key = hashlib.sha256(token.encode()).digest()
        now = self._clock.now()
        until = self._active.get(key)
        if until is not None and now < until:
            return
        discovery = await self.keys[verified.issuer.issuer].discovery()
        if discovery.introspection_endpoint is None:
            raise IdentityProviderUnavailable("the issuer publishes no introspection endpoint")
        # Bounded like the issuer's documents: an answer of any size is not buffered.
        document = await fetch_json(
            self._clients[verified.issuer.name],
            discovery.introspection_endpoint,
            "the issuer's introspection",
            form={"token": token, "token_type_hint": "access_token"},
            auth=(spec.client_id, self._secrets[verified.issuer.name]),
        )
        if document.get("active") is not True:
            raise AuthenticationFailed(
                "the access token was refused: the issuer says it is no longer active "
                "(revoked, or its person disabled)",
                check="inactive",
            )
        if len(self._active) >= _CACHE_LIMIT:
            self._active.clear()
        self._active[key] = min(now + timedelta(seconds=spec.cache_seconds), verified.expires_at)

    def require_step_up(self, assurance: Assurance | None) -> None:
        """Raise the RFC 9470 challenge unless the authentication is strong and recent."""
        if assurance is None:
            raise PermissionDenied("only a person signed in at an identity provider steps up there")
        issuer = next(i for i in self._config.issuers if i.name == assurance.issuer)
        rule = issuer.step_up
        if rule is None:
            raise PermissionDenied(
                f"issuer {issuer.name!r} has no step-up rule, so its people cannot reveal"
            )
        strong = any(v in rule.acr_values for v in assurance.acr)
        now = self._clock.now()
        age = None if assurance.auth_time is None else now - assurance.auth_time
        skew = timedelta(seconds=issuer.clock_skew_seconds)
        recent = age is not None and -skew <= age <= timedelta(seconds=rule.max_age_seconds)
        if not strong or not recent:
            missing = "a stronger" if not strong else "a more recent"
            raise StepUpRequired(
                f"revealing needs {missing} authentication at the identity provider "
                f"(acr {' or '.join(rule.acr_values)}, at most {rule.max_age_seconds} s ago)",
                acr_values=tuple(rule.acr_values),
                max_age=rule.max_age_seconds,
            )

    async def check(self) -> dict[str, list[str]]:
        """Per issuer, what is wrong with reaching it (empty: its discovery document and
        at least one usable signing key were fetched, and introspection, if configured,
        has an endpoint). Nothing is cached for later requests."""
        found: dict[str, list[str]] = {}
        for issuer in self._config.issuers:
            keys = self.keys[issuer.issuer]
            problems = []
            try:
                usable = await keys.fetch_now()
                if not usable:
                    problems.append(
                        "its JWKS has no signing key for the algorithms allowed "
                        f"({', '.join(issuer.algorithms)})"
                    )
                discovery = await keys.discovery()
                if issuer.introspection is not None and discovery.introspection_endpoint is None:
                    problems.append(
                        "introspection is configured but the issuer publishes no endpoint"
                    )
            except IdentityProviderUnavailable as exc:
                problems.append(exc.detail)
            found[issuer.name] = problems
        return found

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
