"""Loading the Casbin policy and compiling it into one field plan per role.

The policy files are data reviewed like code: every line is checked against the
vocabulary of `model.conf` and the classification, so a typo (`field:custmer.name`)
stops start-up instead of silently hiding or showing a field. The policy version
is a hash of the three files, so a changed file yields new plans on restart.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import casbin

from gateway.core.errors import ConfigurationError
from gateway.disclosure.classification import CLASSIFICATION_FILE, Classification
from gateway.disclosure.plan import FieldPlan, Level, RowScope, WriteScope, compile_plan

MODEL_FILE = "model.conf"
POLICY_FILE = "policy.csv"
FIELD_PREFIX = "field:"

# Objects and the actions each allows; field objects are checked separately.
OPERATIONS: Mapping[str, frozenset[str]] = {
    "orders": frozenset({"read", "create", "update_status"}),
    "orders.scope": frozenset(scope.value for scope in RowScope),
    "orders.write_scope": frozenset(scope.value for scope in WriteScope),
    "orders.search": frozenset({"phone", "email", "id_number"}),
    "principals": frozenset({"manage"}),
    "audit": frozenset({"read"}),
    "privacy_requests": frozenset({"read", "manage"}),
    "reports": frozenset({"read"}),
    "subject_links": frozenset({"read", "manage"}),
    # The DPO console (gateway.console): who may sign in to it at all.
    "console": frozenset({"enter"}),
}
FIELD_LEVELS = frozenset(level.value for level in Level if level is not Level.HIDDEN)
# Most revealing first: the first level the policy grants wins.
_LEVEL_ORDER = (Level.CLEAR, Level.CLEAR_AFTER_2FA, Level.MASKED)
_SCOPE_ORDER = (RowScope.ALL, RowScope.REGION)
_WRITE_SCOPE_ORDER = (WriteScope.ANY, WriteScope.CHANNEL)


@dataclass(frozen=True)
class PolicySet:
    """The loaded policy: its version, the classification and a plan per role."""

    version: str
    classification: Classification
    plans: Mapping[str, FieldPlan]
    list_sections: frozenset[str] = frozenset()
    # Plans with some clear_after_2fa fields shown in clear, compiled on first use:
    # at most 2^k per role for its k revealable fields.
    _revealing: dict[tuple[str, frozenset[str]], FieldPlan] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def roles(self) -> list[str]:
        return sorted(self.plans)

    def plan_for(self, role: str) -> FieldPlan | None:
        return self.plans.get(role)

    def restricted(self, plan: FieldPlan) -> FieldPlan:
        """`plan` with every personal field hidden: what any role sees of a subject whose
        processing is restricted (an erasure is under way, GDPR Art. 18)."""
        c = self.classification
        return self._derived(
            plan,
            frozenset({"<restricted>"}),
            {
                p: lv
                for p, lv in plan.levels.items()
                if not c.categories[c.fields[p].category].personal
            },
        )

    def keeping(self, plan: FieldPlan, categories: Collection[str]) -> FieldPlan:
        """`plan` showing only fields of `categories`: what a role sees of a record a
        retention rule kept after an erasure. The rest was erased, so it is absent
        from the document (not an empty value) and not logged as shown."""
        c = self.classification
        levels = {p: lv for p, lv in plan.levels.items() if c.fields[p].category in categories}
        # Keyed by the resulting levels: a kept record read under a revealing plan is
        # compiled apart from one read under the role's own plan.
        variant = frozenset({"<kept>", *(f"{p}={lv.value}" for p, lv in levels.items())})
        return self._derived(plan, variant, levels)

    def revealing(self, plan: FieldPlan, fields: frozenset[str]) -> FieldPlan:
        """`plan` with those of `fields` it has at clear_after_2fa shown in clear."""
        fields = fields & plan.revealable
        if not fields:
            return plan
        levels = {p: Level.CLEAR if p in fields else lv for p, lv in plan.levels.items()}
        return self._derived(plan, fields, levels)

    def _derived(
        self, plan: FieldPlan, variant: frozenset[str], levels: Mapping[str, Level]
    ) -> FieldPlan:
        """A variant of a role's plan with other levels, compiled once and kept."""
        key = (plan.role, variant)
        compiled = self._revealing.get(key)
        if compiled is None:
            compiled = compile_plan(
                plan.role,
                plan.policy_version,
                levels,
                plan.operations,
                plan.row_scope,
                plan.write_scope,
                self.classification,
                self.list_sections,
            )
            self._revealing[key] = compiled
        return compiled


def _policy_version(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _check_lines(enforcer: casbin.Enforcer, classification: Classification) -> list[str]:
    problems = []
    for line in enforcer.get_policy():
        if len(line) != 3:  # noqa: PLR2004 - p = sub, obj, act
            problems.append(f"policy line {', '.join(line)!r} needs exactly sub, obj, act")
            continue
        _, obj, act = line
        if obj.startswith(FIELD_PREFIX):
            path = obj.removeprefix(FIELD_PREFIX)
            if path not in classification.fields:
                problems.append(f"policy line {', '.join(line)!r}: unknown field {path!r}")
            elif act not in FIELD_LEVELS:
                problems.append(
                    f"policy line {', '.join(line)!r}: unknown level {act!r} "
                    f"(known: {', '.join(sorted(FIELD_LEVELS))})"
                )
        elif obj not in OPERATIONS:
            problems.append(f"policy line {', '.join(line)!r}: unknown object {obj!r}")
        elif act not in OPERATIONS[obj]:
            problems.append(f"policy line {', '.join(line)!r}: unknown action {act!r} on {obj!r}")
    return problems


def _compile_role(
    enforcer: casbin.Enforcer,
    role: str,
    version: str,
    classification: Classification,
    list_sections: Collection[str],
) -> FieldPlan:
    levels = {
        path: next(
            (lv for lv in _LEVEL_ORDER if enforcer.enforce(role, FIELD_PREFIX + path, lv.value)),
            Level.HIDDEN,
        )
        for path in classification.fields
    }
    operations = frozenset(
        (obj, act)
        for obj, acts in OPERATIONS.items()
        for act in acts
        if enforcer.enforce(role, obj, act)
    )
    scope = next((s for s in _SCOPE_ORDER if enforcer.enforce(role, "orders.scope", s.value)), None)
    write_scope = next(
        (s for s in _WRITE_SCOPE_ORDER if enforcer.enforce(role, "orders.write_scope", s.value)),
        None,
    )
    return compile_plan(
        role, version, levels, operations, scope, write_scope, classification, list_sections
    )


# Compiled policies by their files' exact content: compiling asks Casbin a few hundred
# questions (about 0.1 s), and a process that builds its services more than once (the
# tests; a CLI command run in-process) gets the same answer for the same files. Any
# change to a file is a new key: nothing stale is ever served.
_COMPILED: dict[tuple[str, str, tuple[str, ...], frozenset[str]], PolicySet] = {}


def load_policy(
    policy_dir: Path, document_fields: Iterable[str], list_sections: Collection[str]
) -> PolicySet:
    """Load, check and compile the policy in `policy_dir`; raise on any problem."""
    model_path, policy_path = policy_dir / MODEL_FILE, policy_dir / POLICY_FILE
    for path in (model_path, policy_path):
        if not path.is_file():
            raise ConfigurationError(f"policy file {path} not found")
    fields = tuple(document_fields)
    files = [model_path, policy_path, policy_dir / CLASSIFICATION_FILE]
    key = (
        str(policy_dir.resolve()),
        _content_digest(files),
        fields,
        frozenset(list_sections),
    )
    if key not in _COMPILED:
        _COMPILED[key] = _compile_policy(policy_dir, fields, list_sections)
    return _COMPILED[key]


def _content_digest(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes() if path.is_file() else b"(none)")
        digest.update(b"\0")
    return digest.hexdigest()


def _compile_policy(
    policy_dir: Path, document_fields: Iterable[str], list_sections: Collection[str]
) -> PolicySet:
    model_path, policy_path = policy_dir / MODEL_FILE, policy_dir / POLICY_FILE
    classification = Classification.load(policy_dir, document_fields)
    # Casbin logs the whole policy at INFO on load; the policy is reviewed as a file instead.
    logging.getLogger("casbin").setLevel(logging.WARNING)
    try:
        enforcer = casbin.Enforcer(str(model_path), str(policy_path))
    except Exception as exc:  # casbin raises bare exceptions for syntax errors
        raise ConfigurationError(f"policy files in {policy_dir}: {exc}") from None
    problems = _check_lines(enforcer, classification)
    if problems:
        raise ConfigurationError("policy: " + "; ".join(problems))
    version = _policy_version([model_path, policy_path, policy_dir / CLASSIFICATION_FILE])
    roles = {line[0] for line in enforcer.get_policy()}
    roles |= {name for line in enforcer.get_grouping_policy() for name in line[:2]}
    plans = {
        role: _compile_role(enforcer, role, version, classification, list_sections)
        for role in sorted(roles)
    }
    return PolicySet(
        version=version,
        classification=classification,
        plans=plans,
        list_sections=frozenset(list_sections),
    )
