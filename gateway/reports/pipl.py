"""`pipl-audit` (PIPL Art. 54 compliance audit) and `pipl-pia` (Art. 55-56 impact
assessment record): the same record, systems map, policy, register and log as the
GDPR reports, read for the questions the PIPL asks. A system abroad is a provision
abroad (Art. 55(4)) of each activity taken to reach it (`gateway.reports.systems`)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from audit import snapshot
from gateway.reports import access, dsr, integrity, logscan, systems
from gateway.reports.document import (
    Built,
    Code,
    Context,
    Label,
    Lang,
    Pair,
    Section,
    Table,
    Texts,
)
from gateway.reports.record import Activity
from gateway.reports.ropa import (
    categories,
    gap_item,
    gap_where,
    record_transfers,
    role_level_pairs,
    role_levels,
    transfer_texts,
)
from gateway.reports.text import basis

WORKFLOW = ("privacy.complete", "privacy.step", "privacy.retention_end")


def triggers(ctx: Context, a: Activity) -> list[str]:
    """Which PIPL Art. 55 cases an activity falls under (each needs an assessment)."""
    c = ctx.policy.classification
    found = []
    if any(c.categories[name].sensitive for name in a.data_categories):
        found.append("art55_1_sensitive")
    if any(ctx.record.recipients[r].kind in ("processor", "controller") for r in a.recipients):
        found.append("art55_3_entrust_or_provide")
    if a.transfers or systems.of_activity(ctx, a):
        found.append("art55_4_cross_border")
    return found


async def executed(ctx: Context) -> dict[str, Any]:
    """Erasures, access requests and retention deletions the log shows in the period."""
    completed: Counter[str] = Counter()
    steps: Counter[str] = Counter()
    retention_deleted = 0
    async with snapshot(ctx.engine) as conn:
        head, period = ctx.header.chain_head, ctx.header.period
        async for g in logscan.groups(conn, head, period, WORKFLOW):
            if g.outcome != "allowed":
                continue
            if g.action == "privacy.complete":
                completed[str(g.details.get("kind"))] += g.count
            elif g.action == "privacy.step" and g.details.get("step") != "export":
                # An access request's one step (`export`) copies data; it erases nothing.
                steps[str(g.details.get("step"))] += g.count * int(g.details.get("records", 0))
            else:
                retention_deleted += g.count * int(g.details.get("count", 0))
    return {
        "erasures_completed": completed["erasure"],
        "access_requests_completed": completed["access"],
        "records_erased_by_step": dict(sorted(steps.items())),
        "orders_deleted_at_retention_end": retention_deleted,
    }


def findings(ctx: Context, parts: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """Each finding's document (codes, for the JSON form) and what it concerns in words."""
    out: list[tuple[dict[str, Any], Any]] = []

    def add(severity: str, code: str, subject: str, shown: Any) -> None:
        out.append(({"severity": severity, "code": code, "subject": subject}, shown))

    for g in systems.all_gaps(ctx):
        where = [gap_where(g.where, ctx), gap_item(g.code, g.where, g.item)]
        add("medium", f"record_{g.code}", f"{g.where} {g.item}", where)
    missed = parts["requests"]["missed"]
    if missed:
        add("high", "dsr_deadline_missed", str(missed), missed)
    bad = parts["integrity"]["first_bad_sequence"]
    if not parts["integrity"]["ok"]:
        add("high", "log_integrity_failed", str(bad), Code(f"#{bad}"))
    for o in parts["reveals"]["outliers"]:
        who = Pair(o["principal"], Label(o["role"], "role"))
        add("medium", "reveal_rate_outlier", f"{o['principal']} ({o['role']})", who)
    as_of = min(ctx.header.period.until, ctx.header.generated_at).date()
    for a in ctx.record.activities:
        if triggers(ctx, a) and a.impact_assessment is None:
            add("high", "pia_missing", a.id, a.name(ctx.lang))
        pia = a.impact_assessment
        if pia is not None and pia.review_by is not None and pia.review_by < as_of:
            add("medium", "pia_review_overdue", a.id, a.name(ctx.lang))
    return out


def _sensitive(ctx: Context) -> list[dict[str, Any]]:
    """Sensitive categories, with the measures of every activity that uses them."""
    c, record = ctx.policy.classification, ctx.record
    names = [name for name, cat in sorted(c.categories.items()) if cat.sensitive]
    return [
        {
            **cat,
            "safeguards": sorted(
                {
                    record.measures[m].text(ctx.lang)
                    for a in record.activities
                    if cat["category"] in a.data_categories
                    for m in a.measures
                }
            ),
        }
        for cat in categories(ctx, names)
    ]


def _reveals(figures: access.AccessFigures) -> dict[str, Any]:
    by_role = Counter({p.role: 0 for p in figures.principals.values()})
    for p in figures.principals.values():
        by_role[p.role] += p.reveals
    return {
        "total": sum(by_role.values()),
        "by_role": dict(sorted(by_role.items())),
        "outliers": access.outliers(figures),
    }


async def audit_data(ctx: Context) -> tuple[dict[str, Any], list[list[Any]]]:
    """The audit's figures (the JSON form), and its findings as the HTML table shows them."""
    lang, c = ctx.lang, ctx.policy.classification
    report, scope = await integrity.verify_period(ctx)
    personal = [name for name, cat in sorted(c.categories.items()) if cat.personal]
    parts: dict[str, Any] = {
        "activities": [
            {
                "id": a.id,
                "name": a.name(lang),
                "legal_basis_pipl": a.legal_basis.pipl,
                "data_categories": a.data_categories,
                "art55_triggers": triggers(ctx, a),
            }
            for a in ctx.record.activities
        ],
        **systems.data(ctx),
        "sensitive_personal_information": _sensitive(ctx),
        "access_control": {
            role: {name: role_levels(ctx, name).get(role, "hidden") for name in personal}
            for role in ctx.policy.roles
        },
        "reveals": _reveals(await access.collect(ctx)),
        "requests": dsr.summarise(await dsr.collect(ctx)),
        "integrity": {
            "ok": report.ok,
            "verified_from": scope["from_seq"],
            "entries_checked": report.entries_checked,
            "first_bad_sequence": report.first_bad_sequence,
        },
        "retention": {
            "rules": [
                {"rule": n, "years": r.years, "citation": r.citation}
                for n, r in sorted(ctx.retention.rules.items())
            ],
            **await executed(ctx),
        },
    }
    found = findings(ctx, parts)
    parts["findings"] = [document for document, _ in found]
    return parts, [[Label(d["severity"]), Label(d["code"]), shown] for d, shown in found]


def _labels(codes: list[str]) -> list[Label]:
    return [Label(code) for code in codes]


def _activities_section(d: dict[str, Any], lang: Lang) -> Section:
    columns = ("activity", "legal_basis_pipl", "data_categories", "art55_triggers")
    rows = [
        [
            a["name"],
            None if a["legal_basis_pipl"] is None else basis("pipl", a["legal_basis_pipl"], lang),
            _labels(a["data_categories"]),
            _labels(a["art55_triggers"]),
        ]
        for a in d["activities"]
    ]
    return Section("activities", tables=[Table("activities", columns, rows)])


def _sensitive_section(d: dict[str, Any]) -> Section:
    columns = ("category", "fields", "encrypted_at_rest", "role_levels", "safeguards")
    rows = [
        [
            Label(s["category"]),
            [Code(f) for f in s["fields"]],
            s["encrypted_at_rest"],
            role_level_pairs(s["role_levels"]),
            Texts(tuple(s["safeguards"])),
        ]
        for s in d["sensitive_personal_information"]
    ]
    return Section("sensitive_personal_information", tables=[Table("sensitive", columns, rows)])


def _access_control_section(d: dict[str, Any]) -> Section:
    personal = sorted(next(iter(d["access_control"].values()), {}))
    columns = ("role", *[f"value.{c}" for c in personal])
    rows = [
        [Label(role, "role", show_code=True), *[Label(levels[c]) for c in personal]]
        for role, levels in d["access_control"].items()
    ]
    return Section("access_control", tables=[Table("access_control", columns, rows)])


def _retention_section(ret: dict[str, Any]) -> Section:
    counts = ("erasures_completed", "access_requests_completed", "orders_deleted_at_retention_end")
    steps = [(f"step:{s}", n) for s, n in ret["records_erased_by_step"].items()]
    rules = [
        [Label(r["rule"], "rule", show_code=True), r["years"], r["citation"]] for r in ret["rules"]
    ]
    return Section(
        "retention",
        facts=[(k, ret[k]) for k in counts] + steps,
        tables=[Table("retention_rules", ("rule", "years", "citation"), rules)],
    )


REQUEST_FIGURES = (
    "requests",
    "met",
    "missed",
    "open",
    "sla_rate",
    "median_completion_hours",
    "p95_completion_hours",
)


async def build_audit(ctx: Context) -> Built:
    d, findings = await audit_data(ctx)
    reveals = d["reveals"]
    names = {a["id"]: a["name"] for a in d["activities"]}
    sections = [
        _activities_section(d, ctx.lang),
        systems.section(d, names),
        _sensitive_section(d),
        _access_control_section(d),
        Section(
            "reveals",
            facts=[
                ("reveals", reveals["total"]),
                *[(f"role:{r}", n) for r, n in reveals["by_role"].items()],
                ("outliers", len(reveals["outliers"])),
            ],
        ),
        Section(
            "requests_handled",
            facts=[(k, d["requests"][k]) for k in REQUEST_FIGURES],
            paragraphs=["sla_rule"],
        ),
        Section("integrity", facts=list(d["integrity"].items())),
        _retention_section(d["retention"]),
        Section(
            "findings", tables=[Table("findings", ("severity", "finding", "subject"), findings)]
        ),
    ]
    return Built(d, sections)


def keep_until(day: date) -> str:
    """PIPL Art. 56: the assessment and its record are kept at least three years."""
    try:
        return day.replace(year=day.year + 3).isoformat()
    except ValueError:  # 29 February
        return day.replace(year=day.year + 3, day=28).isoformat()


def pia_entry(ctx: Context, a: Activity) -> dict[str, Any]:
    lang, pia = ctx.lang, a.impact_assessment
    found = triggers(ctx, a)
    entry: dict[str, Any] = {
        "activity": a.id,
        "name": a.name(lang),
        "art55_triggers": found,
        "assessment_required": bool(found),
        "transfers": record_transfers(ctx, a),
        "system_transfers": systems.of_activity(ctx, a),
        "assessment": None,
    }
    if pia is None:
        return entry
    measures = ctx.record.measures

    def text(value: Any) -> str | None:
        return None if value is None else str(value(lang))

    entry["assessment"] = {
        "assessed_on": pia.assessed_on.isoformat(),
        "assessor": pia.assessor(lang),
        "purpose_and_method": text(pia.lawful_necessary_proper),
        "risks": [
            {
                "risk": r.risk(lang),
                "likelihood": r.likelihood,
                "severity": r.severity,
                "measures": [measures[m].text(lang) for m in r.measures],
            }
            for r in pia.risks
        ],
        "measures_assessment": text(pia.measures_assessment),
        "conclusion": text(pia.conclusion),
        "review_by": None if pia.review_by is None else pia.review_by.isoformat(),
        "keep_until": keep_until(pia.assessed_on),
    }
    return entry


PIA_FACTS = (
    "assessed_on",
    "assessor",
    "purpose_and_method",
    "measures_assessment",
    "conclusion",
    "review_by",
    "keep_until",
)


def _pia_section(e: dict[str, Any], lang: Lang) -> Section:
    pia = e["assessment"]
    moved = transfer_texts(e, lang)
    facts: list[tuple[str, Any]] = [
        ("art55_triggers", _labels(e["art55_triggers"])),
        ("assessment_required", e["assessment_required"]),
        ("transfers", Texts(tuple(moved)) if moved else Label("none")),
    ]
    tables = []
    if pia is not None:
        facts += [(k, pia[k]) for k in PIA_FACTS]
        rows = [
            [r["risk"], Label(r["likelihood"]), Label(r["severity"]), Texts(tuple(r["measures"]))]
            for r in pia["risks"]
        ]
        tables.append(Table("risks", ("risk", "likelihood", "severity", "measures"), rows))
    elif e["assessment_required"]:
        facts.append(("assessment", None))
    return Section("activity", title=e["name"], flag_missing=True, facts=facts, tables=tables)


async def build_pia(ctx: Context) -> Built:
    entries = [pia_entry(ctx, a) for a in ctx.record.activities]
    return Built({"activities": entries}, [_pia_section(e, ctx.lang) for e in entries])
