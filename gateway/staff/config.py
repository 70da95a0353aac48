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
    """`[issuers.step_up]`: what a reveal needs of the person's authentication (RFC 9470)."""

    acr_claim: ClaimName = Field(
        default="acr",
        description="The claim holding the authentication context reached: `acr` (string), "
        "or for Entra ID's authentication contexts `acrs` (a list).",
    )
    acr_values: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]], Field(min_length=1)
    ] = Field(
        description="Any of these in the acr claim counts as strong (for instance your "
        "IdP's MFA level). Sent back in the challenge as `acr_values`.",
    )
    max_age_seconds: int = Field(
        default=300,
        ge=30,
        le=86_400,
        description="A reveal needs `auth_time` at most this old; sent back as `max_age`.",
    )


class Introspection(_Strict):
    """`[issuers.introspection]`: ask the issuer whether a token is still active (RFC 7662)."""

    client_id: ClientId = Field(description="The gateway's client at the issuer.")
    secret_file: Path = Field(
        description="A file holding that client's secret (never this file, which is "
        "reviewed and committed); a relative path is read from the var directory.",
    )
    cache_seconds: int = Field(
        default=30,
        ge=0,
        le=600,
        description="An active answer is believed this long: a revoked token stops "
        "working within it. 0: ask on every request the principal cache does not answer.",
    )


class Issuer(_Strict):
    """`[[issuers]]`: an OpenID Connect provider whose access tokens the gateway accepts."""

    name: Slug = Field(description="How rules, principals and the log name this issuer.")
    issuer: Annotated[str, Field(min_length=1, max_length=300)] = Field(
        description="The issuer's identifier, exactly as in its tokens' `iss` and its "
        "discovery document (`<issuer>/.well-known/openid-configuration` is fetched). "
        "https; http only to a loopback address.",
    )
    audience: Annotated[str, Field(min_length=1, max_length=300)] = Field(
        description="The gateway's identifier at the issuer: a token's `aud` must carry it."
    )
    token_types: list[str] = Field(
        default_factory=lambda: ["at+jwt"],
        min_length=1,
        description='Accepted JWS `typ` headers (an `application/` prefix is ignored; `""` '
        "accepts a token without one, as Okta issues). RFC 9068's `at+jwt` keeps ID tokens "
        "out; Entra ID and Keycloak issue `JWT`.",
    )
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "ES256", "EdDSA"],
        min_length=1,
        description="Signature algorithms accepted; each key verifies only its own "
        "(its `alg`, or the one its type implies). Never `none` or a shared-secret HS*.",
    )
    clock_skew_seconds: int = Field(
        default=30, ge=0, le=300, description="Tolerance for `exp`, `nbf` and `iat`."
    )
    max_token_lifetime_seconds: int = Field(
        default=3600 * 2,
        ge=60,
        le=86_400,
        description="Tokens living longer (`exp - iat`) are refused: it bounds how long a "
        "person disabled at the issuer keeps working without introspection.",
    )
    groups_claim: ClaimName = Field(
        default="groups", description="The claim listing a person's groups (or roles)."
    )
    name_claims: list[ClaimName] = Field(
        default_factory=lambda: ["name", "preferred_username", "email"],
        description="Claims tried in order for the display name the DPO's look-up shows "
        "(never written to the log).",
    )
    clients: list[ClientId] = Field(
        default_factory=list,
        description="If given, only these clients (`client_id`, `azp` or `cid`) may call at "
        "all, for people or for themselves; empty: any client the issuer gave a token for "
        "this audience.",
    )
    jwks_cache_seconds: int = Field(
        default=3600,
        ge=60,
        le=86_400,
        description="The issuer's keys are fetched again after this long.",
    )
    jwks_refresh_cooldown_seconds: int = Field(
        default=10,
        ge=1,
        le=3600,
        description="A token signed by an unknown key triggers a refresh at most this often.",
    )
    ca_file: Path | None = Field(
        default=None,
        description="A PEM bundle of the CA(s) that sign the issuer's https certificate, for "
        "an IdP behind an internal CA (a relative path is read from the var directory); "
        "unset: the public CAs (certifi). Proxies from the environment are never used.",
    )
    step_up: StepUp | None = Field(
        default=None, description="Without it, this issuer's people cannot reveal at all."
    )
    introspection: Introspection | None = Field(
        default=None, description="Without it, tokens are checked offline only."
    )

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
    role: Slug = Field(description="A role of `policy.csv`.")
    region: Slug | None = Field(default=None, description="A fixed region (row scope).")
    region_claim: ClaimName | None = Field(
        default=None, description="Or the claim holding the region."
    )
    channel: Slug | None = Field(default=None, description="A fixed channel (write scope).")
    channel_claim: ClaimName | None = Field(
        default=None, description="Or the claim holding the channel."
    )

    @model_validator(mode="after")
    def _one_source(self) -> _Scoped:
        if self.region is not None and self.region_claim is not None:
            raise ValueError("give region or region_claim, not both")
        if self.channel is not None and self.channel_claim is not None:
            raise ValueError("give channel or channel_claim, not both")
        return self


class PersonRule(_Scoped):
    """`[[people]]`: members of `group` act as `role`; the first matching rule wins."""

    issuer: Slug = Field(description="The issuer's `name`.")
    group: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="A value of the person's groups claim (a group name or object id)."
    )


class AppRule(_Scoped):
    """`[[apps]]`: a client acting for itself (client credentials) acts as `role`."""

    issuer: Slug = Field(description="The issuer's `name`.")
    client_id: ClientId = Field(description="The client's id (`client_id` or `azp`).")
    subject: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None,
        description="Its tokens' `sub`; unset: the client id (RFC 9068). Keycloak and "
        "Entra ID give an app's tokens a subject of their own: copy it here.",
    )


class IdentityConfig(_Strict):
    """The whole identity file: issuers, and the rules for their people and apps."""

    issuers: list[Issuer] = Field(default_factory=list)
    people: list[PersonRule] = Field(default_factory=list)
    apps: list[AppRule] = Field(default_factory=list)

    def issuer_named(self, name: str) -> Issuer:
        return next(i for i in self.issuers if i.name == name)


# The tables of the identity reference page, in the order it shows them.
SECTIONS: tuple[type[BaseModel], ...] = (Issuer, StepUp, Introspection, PersonRule, AppRule)


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
