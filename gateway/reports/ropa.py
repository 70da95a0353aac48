"""`gdpr-ropa`: the GDPR Art. 30(1) record of processing activities, with its gaps.

Every item Art. 30(1)(a)-(g) asks for is present or named as missing. The data
categories come with what the gateway itself enforces for them (the fields they
hold, whether they are encrypted at rest, sensitive, and at which level each
role sees them), so the record cannot drift from the running policy unnoticed.
The systems come from the systems map, and a system abroad is a transfer
(`gateway.reports.systems`), so the record cannot drift from the map either.
"""

from __future__ import annotations

from typing import Any

from gateway.disclosure import Level
from gateway.reports import systems
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
from gateway.reports.record import Activity, Party, ProcessingRecord
from gateway.reports.text import basis, label, words

_ORDER = (Level.HIDDEN, Level.MASKED, Level.CLEAR_AFTER_2FA, Level.CLEAR)


def party(p: Party | None, lang: Lang) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "name": p.name(lang) if p.name else None,
        "address": p.address(lang) if p.address else None,
        "contact": p.contact,
    }


def role_levels(ctx: Context, category: str) -> dict[str, str]:
    """The most revealing level each role has for any field of `category`."""
    c = ctx.policy.classification
    paths = [p for p, f in c.fields.items() if f.category == category]
    levels = {}
    for role, plan in sorted(ctx.policy.plans.items()):
        seen = (plan.levels.get(p, Level.HIDDEN) for p in paths)
        best = max(seen, key=_ORDER.index, default=Level.HIDDEN)
        if best is not Level.HIDDEN:
            levels[role] = best.value
    return levels


def categories(ctx: Context, names: list[str]) -> list[dict[str, Any]]:
    c = ctx.policy.classification
    return [
        {
            "category": name,
            "description": c.categories[name].description,
            "personal": c.categories[name].personal,
            "sensitive": c.categories[name].sensitive,
            "encrypted_at_rest": c.categories[name].encrypted,
            "fields": sorted(p for p, f in c.fields.items() if f.category == name),
            "role_levels": role_levels(ctx, name),
        }
        for name in names
    ]


def activity(ctx: Context, a: Activity, missing: list[str]) -> dict[str, Any]:
    lang, record = ctx.lang, ctx.record
    lb = a.legal_basis
    return {
        "id": a.id,
        "name": a.name(lang),
        "purposes": [p(lang) for p in a.purposes],
        "legal_basis": {
            "gdpr": None if lb.gdpr is None else basis("gdpr", lb.gdpr, lang),
            "pipl": None if lb.pipl is None else basis("pipl", lb.pipl, lang),
            "explanation": lb.explanation(lang) if lb.explanation else None,
        },
        "data_subjects": [s(lang) for s in a.data_subjects],
        "data_categories": categories(ctx, a.data_categories),
        "roles": list(a.roles),
        "recipients": [
            {
                "id": r,
                "name": record.recipients[r].name(lang),
                "kind": record.recipients[r].kind,
                "country": record.recipients[r].country,
            }
            for r in a.recipients
        ],
        "transfers": record_transfers(ctx, a),
        "system_transfers": systems.of_activity(ctx, a),
        "retention": a.retention(lang) if a.retention else None,
        "retention_rules": [
            {
                "rule": r,
                "years": ctx.retention.rules[r].years,
                "citation": ctx.retention.rules[r].citation,
            }
            for r in a.retention_rules
        ],
        "measures": [
            {"id": m, "kind": record.measures[m].kind, "text": record.measures[m].text(lang)}
            for m in a.measures
        ],
        "missing": missing,
    }


def record_transfers(ctx: Context, a: Activity) -> list[dict[str, Any]]:
    return [
        {
            "country": t.country,
            "recipient": ctx.record.recipients[t.recipient].name(ctx.lang),
            "safeguard": t.safeguard.value,
            "documentation": t.documentation(ctx.lang) if t.documentation else None,
        }
        for t in a.transfers
    ]


def record_data(ctx: Context) -> dict[str, Any]:
    record: ProcessingRecord = ctx.record
    found = systems.all_gaps(ctx)
    missing: dict[str, list[str]] = {}
    for g in found:
        if g.code == "missing_item" and g.where.startswith("activity:"):
            missing.setdefault(g.where.removeprefix("activity:"), []).append(g.item)
    return {
        "controller": party(record.controller, ctx.lang),
        "representative": party(record.representative, ctx.lang),
        "dpo": party(record.dpo, ctx.lang),
        "pipl_officer": party(record.pipl_officer, ctx.lang),
        "activities": [activity(ctx, a, missing.get(a.id, [])) for a in record.activities],
        **systems.data(ctx),
        "gaps": [g.document() for g in found],
        "complete": not found,
    }


def _texts(values: list[str]) -> Texts | None:
    return Texts(tuple(values)) if values else None


def _transfer(t: dict[str, Any], lang: Lang) -> str:
    """`DE: recipient, safeguard. Documentation.` in the report's language."""
    safeguard = words("value", t["safeguard"], lang) or t["safeguard"]
    colon, comma = ("：", "，") if lang == "zh" else (": ", ", ")
    return f"{t['country']}{colon}{t['recipient']}{comma}{safeguard}" + (
        "。" if lang == "zh" else "."
    )


def _system_transfer(t: dict[str, Any], lang: Lang) -> list[str]:
    """`DE: Customer CRM, a system of the systems map.`, and whether it is documented."""
    text = label("phrase.system_transfer", lang).format(country=t["country"], name=t["name"])
    return [text] if t["documented"] else [text, label("phrase.system_undocumented", lang)]


def transfer_texts(a: dict[str, Any], lang: Lang) -> list[str]:
    """The record's transfers (with their documentation), then the systems abroad."""
    return [
        text
        for t in a["transfers"]
        for text in (_transfer(t, lang), t["documentation"])
        if text is not None
    ] + [text for t in a["system_transfers"] for text in _system_transfer(t, lang)]


def activity_facts(a: dict[str, Any], lang: Lang) -> list[tuple[str, Any]]:
    lb = a["legal_basis"]
    transfers = transfer_texts(a, lang)
    return [
        ("purposes", _texts(a["purposes"])),
        ("legal_basis_gdpr", lb["gdpr"]),
        ("legal_basis_pipl", lb["pipl"]),
        ("legal_basis_explanation", lb["explanation"]),
        ("data_subjects", _texts(a["data_subjects"])),
        ("data_categories", [Label(c["category"]) for c in a["data_categories"]] or None),
        ("recipients", _texts([f"{r['name']} ({r['country']})" for r in a["recipients"]])),
        ("transfers", _texts(transfers) or Label("none")),
        ("retention", a["retention"]),
        ("measures", _texts([m["text"] for m in a["measures"]])),
    ]


def gap_where(where: str, ctx: Context) -> Any:
    """Where a gap is, in words: the party, or the activity's name, field or role."""
    kind, _, name = where.partition(":")
    if kind == "activity":
        return Pair(Label(kind, "where"), ctx.record.activity(name).name(ctx.lang))
    if kind == "field":
        return Pair(Label(kind, "where"), Code(name))
    if kind == "role":
        return Pair(Label(kind, "where"), Label(name, "role", show_code=True))
    if kind == "system":
        return Pair(Label(kind, "where"), ctx.systems.systems[name].name)
    return Label(kind, "where")


def gap_item(code: str, where: str, item: str) -> Any:
    """What is missing: an item of the record (by its heading), a country, a category,
    a system's field (`dataset.field`)."""
    if code == "missing_item":
        party = "" if ":" in where else f"{where}_"
        return Label(party + item.replace(".", "_"), "fact")
    if code in ("transfer_undocumented", "system_transfer_undocumented", "system_without_erasure"):
        return Code(item)
    return Label(item)


def gap_row(g: dict[str, str], ctx: Context) -> list[Any]:
    return [
        Label(f"record_{g['code']}"),
        gap_where(g["where"], ctx),
        gap_item(g["code"], g["where"], g["item"]),
    ]


CSV_COLUMNS = (
    "activity",
    "name",
    "purposes",
    "legal_basis_gdpr",
    "legal_basis_pipl",
    "data_subjects",
    "data_categories",
    "recipients",
    "transfers",
    "retention",
    "measures",
    "missing",
)


PARTIES = ("controller", "representative", "dpo", "pipl_officer")
CATEGORY_COLUMNS = ("category", "fields", "sensitive", "encrypted_at_rest", "role_levels")


def _controller_section(data: dict[str, Any]) -> Section:
    facts = [
        (f"{who}_{item}", (data[who] or {}).get(item))
        for who in PARTIES
        for item in ("name", "address", "contact")
        if not (who in ("dpo", "pipl_officer") and item == "address")
    ]
    return Section("controller", flag_missing=True, facts=facts)


def role_level_pairs(levels: dict[str, str]) -> list[Pair]:
    return [Pair(Label(r, "role"), Label(lv)) for r, lv in levels.items()]


def _activity_section(a: dict[str, Any], lang: Lang) -> Section:
    rows = [
        [
            Label(c["category"]),
            [Code(f) for f in c["fields"]],
            c["sensitive"],
            c["encrypted_at_rest"],
            role_level_pairs(c["role_levels"]),
        ]
        for c in a["data_categories"]
    ]
    table = Table("data_categories", CATEGORY_COLUMNS, rows)
    return Section(
        "activity",
        title=a["name"],
        flag_missing=True,
        facts=activity_facts(a, lang),
        tables=[table],
    )


async def build(ctx: Context) -> Built:
    data = record_data(ctx)
    sections = [_controller_section(data)]
    rows = []
    for a in data["activities"]:
        sections.append(_activity_section(a, ctx.lang))
        cells = [v for k, v in activity_facts(a, ctx.lang) if k != "legal_basis_explanation"]
        rows.append([a["id"], a["name"], *cells, ", ".join(a["missing"])])
    names = {a["id"]: a["name"] for a in data["activities"]}
    sections.append(systems.section(data, names))
    gaps_table = Table(
        "gaps", ("finding", "where", "item"), [gap_row(g, ctx) for g in data["gaps"]]
    )
    sections.append(Section("gaps", paragraphs=["gaps_rule"], tables=[gaps_table]))
    return Built(data, sections, csv=Table("activities", CSV_COLUMNS, rows))
