"""The record of processing activities (`policies/processing.toml`), and its gaps.

Two kinds of problem, kept apart on purpose:
- a record that is malformed or names something unknown (a data category, role,
  retention rule, recipient or measure that does not exist) stops the gateway at
  start-up: such a record would make every report wrong in a way nobody sees;
- an item left empty, a personal category no activity covers, or a role the
  policy lets see a category no activity gives it, is a *gap*: the reports name
  it, so the record can be completed step by step without hiding what is missing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.core.errors import ConfigurationError
from gateway.core.policyfiles import load_toml
from gateway.disclosure import Classification, FieldPlan, Level

PROCESSING_FILE = "processing.toml"
Lang = Literal["en", "zh"]


class Text(BaseModel):
    """A text the reports show, in both their languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    def __call__(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text | None = None
    address: Text | None = None
    contact: str | None = None


class Controller(Party):
    """The controller: the shop, which data subjects deal with; the public pages,
    notices and certificates name it, link its privacy notice and give its contact."""

    privacy_notice: str | None = Field(default=None, pattern=r"^https://\S+$", max_length=500)


class Measure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["technical", "organisational"]
    text: Text


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["internal", "processor", "controller", "authority"]
    name: Text
    country: str = Field(pattern=r"^[A-Z]{2}$")


class Safeguard(StrEnum):
    ADEQUACY = "adequacy"  # GDPR Art. 45
    SCC = "scc"  # GDPR Art. 46(2)(c)
    BCR = "bcr"  # GDPR Art. 47
    DEROGATION = "derogation"  # GDPR Art. 49
    PIPL_STANDARD_CONTRACT = "pipl_standard_contract"  # PIPL Art. 38(1)(3)
    PIPL_SECURITY_ASSESSMENT = "pipl_security_assessment"  # PIPL Art. 38(1)(1), Art. 40
    PIPL_CERTIFICATION = "pipl_certification"  # PIPL Art. 38(1)(2)


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str = Field(pattern=r"^[A-Z]{2}$")
    recipient: str
    safeguard: Safeguard
    documentation: Text | None = None


class LegalBasis(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    gdpr: Literal["a", "b", "c", "d", "e", "f"] | None = None
    pipl: Literal["1", "2", "3", "4", "5", "6", "7"] | None = None
    explanation: Text | None = None


class Risk(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    risk: Text
    likelihood: Literal["low", "medium", "high"]
    severity: Literal["low", "medium", "high"]
    measures: list[str] = Field(default_factory=list)


class ImpactAssessment(BaseModel):
    """PIPL Art. 56: what an assessment must contain, kept with its date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    assessed_on: date
    assessor: Text
    lawful_necessary_proper: Text | None = None
    risks: list[Risk] = Field(default_factory=list)
    measures_assessment: Text | None = None
    conclusion: Text | None = None
    review_by: date | None = None


class Activity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name: Text
    purposes: list[Text] = Field(default_factory=list)
    legal_basis: LegalBasis = Field(default_factory=LegalBasis)
    data_subjects: list[Text] = Field(default_factory=list)
    data_categories: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    transfers: list[Transfer] = Field(default_factory=list)
    retention: Text | None = None
    retention_rules: list[str] = Field(default_factory=list)
    measures: list[str] = Field(default_factory=list)
    impact_assessment: ImpactAssessment | None = None


class ProcessingRecord(BaseModel):
    """The processing record (`policies/processing.toml`): activities, recipients, transfers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    controller: Controller = Field(default_factory=Controller)
    representative: Party | None = None
    dpo: Party = Field(default_factory=Party)
    pipl_officer: Party = Field(default_factory=Party)
    measures: dict[str, Measure] = Field(default_factory=dict)
    recipients: dict[str, Recipient] = Field(default_factory=dict)
    activities: list[Activity] = Field(default_factory=list)

    def activity(self, activity_id: str) -> Activity:
        return next(a for a in self.activities if a.id == activity_id)


@dataclass(frozen=True, slots=True)
class Gap:
    """Something the law asks the record to say, and it does not (stable `code`)."""

    code: str
    where: str  # "controller", "activity:<id>", "field:<path>", "role:<name>"
    item: str  # the missing item, e.g. "purposes" or a category name

    def document(self) -> dict[str, str]:
        return {"code": self.code, "where": self.where, "item": self.item}


def load_record(
    policy_dir: Path,
    classification: Classification,
    roles: Collection[str],
    retention_rules: Collection[str],
) -> ProcessingRecord:
    """Read and check the processing record against the policy and retention rules."""
    path = policy_dir / PROCESSING_FILE
    record = load_toml(path, ProcessingRecord, "processing record")
    problems = _unknown_names(record, classification, roles, retention_rules)
    if problems:
        raise ConfigurationError(f"processing record {path}: " + "; ".join(problems))
    return record


def _unknown_names(
    record: ProcessingRecord,
    classification: Classification,
    roles: Collection[str],
    retention_rules: Collection[str],
) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for a in record.activities:
        where = f"activity {a.id!r}"
        if a.id in seen:
            problems.append(f"{where} is defined twice")
        seen.add(a.id)
        checks = (
            ("data category", a.data_categories, classification.categories.keys()),
            ("role", a.roles, roles),
            ("recipient", a.recipients + [t.recipient for t in a.transfers], record.recipients),
            ("retention rule", a.retention_rules, retention_rules),
            ("measure", _measures_named(a), record.measures),
        )
        for what, names, known in checks:
            for name in sorted(set(names) - set(known)):
                problems.append(f"{where} names unknown {what} {name!r}")
    return problems


def _measures_named(a: Activity) -> list[str]:
    risks = a.impact_assessment.risks if a.impact_assessment else []
    return a.measures + [m for r in risks for m in r.measures]


ART30_ITEMS = (
    "purposes",
    "legal_basis",
    "data_subjects",
    "data_categories",
    "recipients",
    "retention",
    "measures",
)


def gaps(
    record: ProcessingRecord, classification: Classification, plans: Mapping[str, FieldPlan]
) -> list[Gap]:
    """Everything missing, in a stable order: controller items, activity items,
    fields no activity covers, then roles that see more than any activity needs."""
    found: list[Gap] = []
    for party, required in (
        ("controller", ("name", "address", "contact")),
        ("dpo", ("name", "contact")),
        ("pipl_officer", ("name", "contact")),
    ):
        value = getattr(record, party)
        found += [Gap("missing_item", party, item) for item in required if not getattr(value, item)]
    for a in record.activities:
        found += [Gap("missing_item", f"activity:{a.id}", item) for item in _missing(a)]
        for t in a.transfers:
            if t.documentation is None:
                found.append(Gap("transfer_undocumented", f"activity:{a.id}", t.country))
    covered = {c for a in record.activities for c in a.data_categories}
    for path, f in sorted(classification.fields.items()):
        if classification.categories[f.category].personal and f.category not in covered:
            found.append(Gap("field_without_activity", f"field:{path}", f.category))
    for role, plan in sorted(plans.items()):
        allowed = {c for a in record.activities if role in a.roles for c in a.data_categories}
        for category in sorted(_personal_categories_seen(plan, classification) - allowed):
            found.append(Gap("role_without_activity", f"role:{role}", category))
    return found


def _missing(a: Activity) -> list[str]:
    missing = [item for item in ART30_ITEMS if item != "legal_basis" and not getattr(a, item)]
    if a.legal_basis.gdpr is None:
        missing.append("legal_basis.gdpr")
    if a.legal_basis.pipl is None:
        missing.append("legal_basis.pipl")
    return sorted(missing, key=lambda item: ART30_ITEMS.index(item.split(".")[0]))


def _personal_categories_seen(plan: FieldPlan, classification: Classification) -> set[str]:
    return {
        classification.fields[p].category
        for p, level in plan.levels.items()
        if level is not Level.HIDDEN
        and classification.categories[classification.fields[p].category].personal
    }
