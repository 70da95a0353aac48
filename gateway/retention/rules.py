"""Retention rules (`policies/retention.toml`): what an erasure must keep, why, and for whom.

Validated at start-up against the classification (categories), the order
statuses and the policy's roles; a rule that names something unknown stops the
gateway rather than keeping, or erasing, the wrong thing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from gateway.core.clock import add_months
from gateway.core.errors import ConfigurationError
from gateway.core.policyfiles import load_toml

RETENTION_FILE = "retention.toml"


class Rule(BaseModel):
    """One retention rule: what the law keeps, under which citation, for how long."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    citation: str = Field(min_length=10)
    description: str = Field(min_length=1)
    statuses: list[str] = Field(min_length=1)
    years: int = Field(ge=1, le=50)
    keep: list[str]
    readable_by: list[str] = Field(min_length=1)
    purpose: str = Field(min_length=3)


class _RetentionFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: dict[str, Rule] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Retention:
    name: str
    rule: Rule
    until: datetime


@dataclass(frozen=True)
class RetentionRules:
    rules: Mapping[str, Rule]

    def for_order(self, status: str, created_at: datetime) -> Retention | None:
        """The rule keeping an order of this status longest, or None: delete it."""
        best: Retention | None = None
        for name, rule in sorted(self.rules.items()):
            if status in rule.statuses:
                until = add_months(created_at, 12 * rule.years)
                if best is None or until > best.until:
                    best = Retention(name, rule, until)
        return best

    def readable_by(self, role: str) -> tuple[str, ...]:
        """Rules whose retained records `role` may read."""
        return tuple(sorted(n for n, r in self.rules.items() if role in r.readable_by))

    @classmethod
    def load(
        cls,
        policy_dir: Path,
        *,
        categories: Collection[str],
        statuses: Collection[str],
        roles: Collection[str],
    ) -> RetentionRules:
        path = policy_dir / RETENTION_FILE
        if not path.is_file():
            return cls({})  # no rule: an erasure deletes every order
        raw = load_toml(path, _RetentionFile, "retention rules")
        problems: list[str] = []
        for name, rule in sorted(raw.rules.items()):
            problems += [
                f"rule {name!r}: unknown category {c!r}" for c in rule.keep if c not in categories
            ]
            problems += [
                f"rule {name!r}: unknown status {s!r}" for s in rule.statuses if s not in statuses
            ]
            problems += [
                f"rule {name!r}: unknown role {r!r}" for r in rule.readable_by if r not in roles
            ]
        if problems:
            raise ConfigurationError(f"retention rules {path}: " + "; ".join(problems))
        return cls(raw.rules)
