"""Checking a JWT access token (RFC 9068) from a configured issuer, claim by claim.

PyJWT (maintained, the most used JOSE library in Python, `cryptography` underneath)
parses the JWS and checks the signature with the one algorithm pinned to the key;
the claims are checked here, against the gateway's clock (which tests control), so
every refusal says which check failed. The order matters: nothing the token says is
believed before its signature is, except `iss` and `kid`, which only choose the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from jwt.exceptions import InvalidTokenError

from gateway.core.clock import Clock
from gateway.core.errors import AuthenticationFailed
from gateway.staff.config import CLIENT_ID_PATTERN, Issuer
from gateway.staff.keys import IssuerKeys

MAX_TOKEN_BYTES = 16 * 1024
_JWS_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
MAX_SUBJECT = 255


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts: a JWS in compact form (never a gateway bearer token)."""
    return len(token) <= MAX_TOKEN_BYTES and _JWS_SHAPE.fullmatch(token) is not None


def _refuse(check: str, detail: str) -> AuthenticationFailed:
    return AuthenticationFailed(f"the access token was refused: {detail}", check=check)


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    issuer: Issuer
    claims: Mapping[str, Any]
    subject: str
    client_id: str
    expires_at: datetime


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse("claim", f"the `{name}` claim is not a number")
    return float(value)


def _required_number(claims: Mapping[str, Any], name: str) -> float:
    value = _number(claims, name)
    if value is None:
        raise _refuse("claim", f"the `{name}` claim is missing")
    return value


class TokenVerifier:
    """Verifies tokens of the configured issuers: signature, then every claim."""

    def __init__(
        self, issuers: Mapping[str, IssuerKeys], configs: Mapping[str, Issuer], clock: Clock
    ) -> None:
        self._keys = issuers  # by issuer URL (`iss`)
        self._configs = configs
        self._clock = clock

    async def verify(self, token: str) -> VerifiedToken:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except InvalidTokenError:
            raise _refuse("token", "it is not a well-formed JWT") from None
        iss = unverified.get("iss")
        config = self._configs.get(iss) if isinstance(iss, str) else None
        if config is None or not isinstance(iss, str):
            raise _refuse("issuer", "its issuer is not one this gateway trusts")
        typ = str(header.get("typ", "")).lower().removeprefix("application/")
        if typ not in config.token_types:
            raise _refuse("type", f"its type (typ) is not one of {', '.join(config.token_types)}")
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _refuse("signature", "its header names no key (kid)")
        key = await self._keys[iss].key(kid)
        if key is None:
            raise _refuse("signature", "no signing key of the issuer has its kid")
        if algorithm != key.algorithm:
            raise _refuse("algorithm", f"its algorithm is not the key's ({key.algorithm})")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                options={
                    "verify_signature": True,
                    "verify_exp": False,  # checked below, on the gateway's clock
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_sub": False,
                    "verify_jti": False,
                },
            )
        except InvalidTokenError:
            raise _refuse("signature", "its signature does not verify") from None
        return self._check_claims(config, claims)

    def _check_claims(self, config: Issuer, claims: Mapping[str, Any]) -> VerifiedToken:
        if claims.get("iss") != config.issuer:
            raise _refuse("issuer", "its issuer is not one this gateway trusts")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or config.audience not in audiences:
            raise _refuse("audience", "it is not meant for this gateway (aud)")
        now = self._clock.now().timestamp()
        skew = config.clock_skew_seconds
        expires = _required_number(claims, "exp")
        issued = _required_number(claims, "iat")
        not_before = _number(claims, "nbf")
        if now >= expires + skew:
            raise _refuse("expired", "it has expired (exp)")
        if not_before is not None and now < not_before - skew:
            raise _refuse("not-yet-valid", "it is not valid yet (nbf)")
        if issued > now + skew:
            raise _refuse("issued-at", "it was issued in the future (iat)")
        if expires - issued > config.max_token_lifetime_seconds:
            raise _refuse(
                "lifetime",
                f"it lives longer than {config.max_token_lifetime_seconds} s (exp - iat)",
            )
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT:
            raise _refuse("claim", "the `sub` claim is missing or not a short string")
        # RFC 9068's client_id; OpenID's azp; Okta's cid.
        client = next((claims[k] for k in ("client_id", "azp", "cid") if k in claims), None)
        if not isinstance(client, str) or not client:
            raise _refuse("claim", "it names no client (client_id, azp or cid)")
        if not _CLIENT_ID.fullmatch(client):
            raise _refuse("client", "its client id has characters this gateway does not log")
        if config.clients and client not in config.clients:
            raise _refuse("client", "its client is not one this gateway accepts for this issuer")
        return VerifiedToken(config, claims, subject, client, datetime.fromtimestamp(expires, UTC))
