"""From a verified token to who acts and as which role: the reviewed mapping, strictly.

A person's groups choose the role: the first `[[people]]` rule (in file order) whose
group the person is in. A client acting for itself matches an `[[apps]]` rule by its
client id and subject. No rule: no role, and the request is refused (deny by default).
Scope values taken from claims must be plain slugs, or the request is refused too:
a claim is the issuer's word, but it becomes a filter in the gateway's queries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.core.errors import NoMappedRole
from gateway.core.principal import Assurance
from gateway.core.slugs import SLUG_RE
from gateway.staff.config import AppRule, IdentityConfig, PersonRule
from gateway.staff.verify import VerifiedToken

MAX_NAME = 200
# (issuer URL, subject) -> the person's pseudonymous name in the log, `person:<hex>`.
Pseudonym = Callable[[str, str], str]


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    """Who a verified token speaks for: a person (through an app) or an app alone."""

    kind: str  # "person" or "app"
    name: str  # as the log names them: `person:<pseudonym>` or `app:<issuer>:<client>`
    issuer: str  # the issuer's name in the mapping
    subject: str
    client_id: str
    role: str
    region: str | None
    channel: str | None
    display_name: str | None
    assurance: Assurance | None
    expires_at: datetime


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _scoped(
    rule: PersonRule | AppRule, claims: Mapping[str, Any], actor: str
) -> tuple[str | None, str | None]:
    values = []
    for fixed, claim, what in (
        (rule.region, rule.region_claim, "region"),
        (rule.channel, rule.channel_claim, "channel"),
    ):
        if claim is None:
            values.append(fixed)
            continue
        value = claims.get(claim)
        if not isinstance(value, str) or not SLUG_RE.fullmatch(value):
            raise NoMappedRole(
                f"role {rule.role!r} takes its {what} from the `{claim}` claim, "
                "which the token lacks or which is not a plain slug",
                actor=actor,
            )
        values.append(value)
    return values[0], values[1]


def _moment(value: Any) -> datetime | None:
    """`auth_time` as a time; None if it is not a number or no date can hold it (1e20):
    the issuer's odd claim then costs the person a step-up, not every request."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _assurance(token: VerifiedToken) -> Assurance:
    claims = token.claims
    step_up = token.issuer.step_up
    acr = _strings(claims.get(step_up.acr_claim if step_up else "acr"))
    when = _moment(claims.get("auth_time"))
    return Assurance(token.issuer.name, tuple(acr), tuple(_strings(claims.get("amr"))), when)


def _display_name(token: VerifiedToken) -> str | None:
    for claim in token.issuer.name_claims:
        value = token.claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_NAME]
    return None


def identify(config: IdentityConfig, token: VerifiedToken, pseudonym: Pseudonym) -> StaffIdentity:
    """The mapped identity of `token`, or `NoMappedRole` if no rule gives it a role."""
    name = token.issuer.name
    for app in config.apps:
        mine = app.issuer == name and app.client_id == token.client_id
        if mine and token.subject == (app.subject or app.client_id):
            actor = f"app:{name}:{token.client_id}"
            region, channel = _scoped(app, token.claims, actor)
            return StaffIdentity(
                "app", actor, name, token.subject, token.client_id, app.role, region,
                channel, None, None, token.expires_at,
            )  # fmt: skip
    actor = pseudonym(token.issuer.issuer, token.subject)
    groups = set(_strings(token.claims.get(token.issuer.groups_claim)))
    for rule in config.people:
        if rule.issuer == name and rule.group in groups:
            region, channel = _scoped(rule, token.claims, actor)
            return StaffIdentity(
                "person", actor, name, token.subject, token.client_id, rule.role, region,
                channel, _display_name(token), _assurance(token), token.expires_at,
            )  # fmt: skip
    raise NoMappedRole(
        "the token's groups map to no role of this gateway (policies/identity.toml)", actor=actor
    )
