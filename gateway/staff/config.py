"""`policies/identity.toml`: which identity providers the gateway trusts, and how their
groups and clients become the policy's roles.

A reviewed file beside the Casbin policy, checked at start-up like it: an unknown
role, a scoped role without its scope, a mapping to an issuer that is not declared
or a step-up rule without a level stops start-up. No file, or one without
`[[issuers]]`, means no staff sign-in: only the gateway's own bearer tokens work.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.core.errors import ConfigurationError
from gateway.core.policyfiles import load_toml
from gateway.core.slugs import SLUG_PATTERN
from gateway.disclosure import PolicySet, RowScope, WriteScope

IDENTITY_FILE = "identity.toml"
# Client ids and claim names go into the log and into principal names: plain tokens only.
CLIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
CLAIM_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.:/-]{0,99}$"
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"})

Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]
ClaimName = Annotated[str, Field(pattern=CLAIM_PATTERN)]
ClientId = Annotated[str, Field(pattern=CLIENT_ID_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> str:
    """`https`, or plain `http` to a loopback address (a provider on this machine)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and _loopback(parts.hostname):
        return url
    raise ValueError(f"{what} must be an https URL (http only for a loopback address)")


class StepUp(_Strict):
    """RFC 9470: what a reveal needs of the person's authentication."""

    acr_claim: ClaimName = "acr"
    acr_values: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1)
    ]
    max_age_seconds: int = Field(default=300, ge=30, le=86_400)


class Introspection(_Strict):
    """RFC 7662: ask the issuer whether a token is still active (revoked, disabled)."""

    client_id: ClientId
    # Never in this file: a path to a file holding the secret (relative: to the var dir).
    secret_file: Path
    cache_seconds: int = Field(default=30, ge=0, le=600)


class Issuer(_Strict):
    name: Slug
    issuer: Annotated[str, Field(min_length=1, max_length=300)]
    audience: Annotated[str, Field(min_length=1, max_length=300)]
    token_types: list[str] = Field(default_factory=lambda: ["at+jwt"], min_length=1)
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256", "EdDSA"], min_length=1)
    clock_skew_seconds: int = Field(default=30, ge=0, le=300)
    max_token_lifetime_seconds: int = Field(default=3600 * 2, ge=60, le=86_400)
    groups_claim: ClaimName = "groups"
    name_claims: list[ClaimName] = Field(
        default_factory=lambda: ["name", "preferred_username", "email"]
    )
    clients: list[ClientId] = Field(default_factory=list)
    jwks_cache_seconds: int = Field(default=3600, ge=60, le=86_400)
    jwks_refresh_cooldown_seconds: int = Field(default=10, ge=1, le=3600)
    step_up: StepUp | None = None
    introspection: Introspection | None = None

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        return check_url(value, "issuer")

    @field_validator("algorithms")
    @classmethod
    def _algorithms(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - ALGORITHMS)
        if unknown:
            raise ValueError(
                f"unsupported algorithms {unknown}; allowed: {sorted(ALGORITHMS)} "
                "(never `none` or a shared-secret HS*)"
            )
        return value

    @field_validator("token_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return [t.lower().removeprefix("application/") for t in value]


class _Scoped(_Strict):
    role: Slug
    region: Slug | None = None
    region_claim: ClaimName | None = None
    channel: Slug | None = None
    channel_claim: ClaimName | None = None

    @model_validator(mode="after")
    def _one_source(self) -> _Scoped:
        if self.region is not None and self.region_claim is not None:
            raise ValueError("give region or region_claim, not both")
        if self.channel is not None and self.channel_claim is not None:
            raise ValueError("give channel or channel_claim, not both")
        return self


class PersonRule(_Scoped):
    """Members of `group` (in the issuer's groups claim) act as `role`."""

    issuer: Slug
    group: Annotated[str, Field(min_length=1, max_length=200)]


class AppRule(_Scoped):
    """A client acting for itself (client credentials) acts as `role`. Its token's
    subject is `subject`, or the client id when not given (RFC 9068)."""

    issuer: Slug
    client_id: ClientId
    subject: Annotated[str, Field(min_length=1, max_length=255)] | None = None


class IdentityConfig(_Strict):
    """The whole identity file: issuers, and the rules for their people and apps."""

    issuers: list[Issuer] = Field(default_factory=list)
    people: list[PersonRule] = Field(default_factory=list)
    apps: list[AppRule] = Field(default_factory=list)

    def issuer_named(self, name: str) -> Issuer:
        return next(i for i in self.issuers if i.name == name)


def _rule_problems(rule: _Scoped, where: str, issuers: set[str], policy: PolicySet) -> list[str]:
    problems = []
    if getattr(rule, "issuer", None) not in issuers:
        problems.append(f"{where}: issuer {getattr(rule, 'issuer', '')!r} is not declared")
    plan = policy.plan_for(rule.role)
    if plan is None:
        problems.append(
            f"{where}: unknown role {rule.role!r}; the policy knows: {', '.join(policy.roles)}"
        )
        return problems
    if plan.row_scope is RowScope.REGION and rule.region is None and rule.region_claim is None:
        problems.append(
            f"{where}: role {rule.role!r} reads one region: give region or region_claim"
        )
    if (
        plan.write_scope is WriteScope.CHANNEL
        and rule.channel is None
        and rule.channel_claim is None
    ):
        problems.append(
            f"{where}: role {rule.role!r} writes one channel: give channel or channel_claim"
        )
    return problems


def check_identity(config: IdentityConfig, policy: PolicySet) -> None:
    """Every mapping names a declared issuer and a role of the policy with its scope."""
    problems = []
    names = [i.name for i in config.issuers]
    if len(set(names)) != len(names):
        problems.append("issuers: two issuers share a name")
    if len({i.issuer for i in config.issuers}) != len(names):
        problems.append("issuers: two entries declare the same issuer URL")
    known = set(names)
    for n, rule in enumerate(config.people):
        problems += _rule_problems(rule, f"people.{n}", known, policy)
    for n, app in enumerate(config.apps):
        problems += _rule_problems(app, f"apps.{n}", known, policy)
    if problems:
        raise ConfigurationError(f"identity mapping: {'; '.join(problems)}")


def load_identity(policy_dir: Path, policy: PolicySet) -> IdentityConfig:
    """The identity file of `policy_dir`, checked against `policy`; none: no issuers."""
    path = policy_dir / IDENTITY_FILE
    if not path.exists():
        return IdentityConfig()
    config = load_toml(path, IdentityConfig, "identity mapping")
    check_identity(config, policy)
    return config
