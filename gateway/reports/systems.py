"""The systems map as the reports read it: each system, where it is, the personal data
it holds and what an erasure does to it. A system outside the controller's country is
a transfer abroad; a personal field without a treatment is a gap.

The controller's country is where the gateway's own store runs (`[own_store] country`
of systems.toml): the processing record gives the controller an address, not a
country. A transfer to a system is documented when the record documents a transfer to
its country. The map does not say which activity feeds which system, so an activity
is taken to reach every system holding one of its personal categories: a transfer
(and the assessment it asks for) then shows wherever it may apply, never hidden.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from gateway.reports.document import Context, Label, Pair, Section, Table
from gateway.reports.record import Activity, Gap, gaps
from gateway.systems import OWN_STORE, System

TREATMENTS = ("delete_row", "null", "mask", "keep", "none")
SYSTEM_COLUMNS = ("system", "owner", "purpose", "country", "data_categories", "erasure")
TRANSFER_COLUMNS = (
    "system",
    "country",
    "data_categories",
    "activities",
    "transfer_safeguards",
    "documented",
)


def controller_country(ctx: Context) -> str | None:
    return ctx.systems.systems[OWN_STORE].country


def held(ctx: Context, system: System) -> list[str]:
    """The personal categories a system holds, in the classification's order."""
    found = {
        f.category
        for dataset in system.datasets.values()
        for f in dataset.fields
        if f.category in ctx.systems.personal
    }
    return [name for name in ctx.policy.classification.categories if name in found]


def erasure(ctx: Context, system: System) -> dict[str, int]:
    """How many personal fields each treatment applies to (`none`: a gap)."""
    counts: Counter[str] = Counter(
        f.erase or "none"
        for dataset in system.datasets.values()
        for f in dataset.fields
        if f.category in ctx.systems.personal
    )
    return {t: counts[t] for t in TREATMENTS if counts[t]}


def system_entry(ctx: Context, key: str, system: System) -> dict[str, Any]:
    fields = [f for d in system.datasets.values() for f in d.fields]
    return {
        "system": key,
        "name": system.name,
        "owner": system.owner,
        "purpose": system.purpose,
        "country": system.country,
        "connector": system.connector,
        "data_categories": held(ctx, system),
        "erasure": erasure(ctx, system),
        "kept_under": sorted({f.rule for f in fields if f.rule is not None}),
        "gaps": [f"{g.dataset}.{g.field}" for g in ctx.systems.gaps() if g.system == key],
    }


def abroad(ctx: Context) -> list[tuple[str, System]]:
    """The systems in another country than the controller's (none while it is unknown)."""
    home = controller_country(ctx)
    if home is None:
        return []
    return [
        (key, s)
        for key, s in ctx.systems.systems.items()
        if s.country is not None and s.country != home
    ]


def reaches(ctx: Context, a: Activity, system: System) -> bool:
    return bool(set(a.data_categories) & set(held(ctx, system)))


def transfers(ctx: Context) -> list[dict[str, Any]]:
    """Each system abroad as a transfer: the activities taken to reach it, and the
    safeguards the record documents for transfers to its country."""
    out = []
    for key, system in abroad(ctx):
        safeguards = {
            t.safeguard.value
            for a in ctx.record.activities
            for t in a.transfers
            if t.country == system.country and t.documentation is not None
        }
        out.append(
            {
                "system": key,
                "name": system.name,
                "country": system.country,
                "data_categories": held(ctx, system),
                "activities": [a.id for a in ctx.record.activities if reaches(ctx, a, system)],
                "safeguards": sorted(safeguards),
                "documented": bool(safeguards),
            }
        )
    return out


def of_activity(ctx: Context, a: Activity) -> list[dict[str, Any]]:
    """The transfers to systems abroad an activity is taken to make."""
    return [
        {k: t[k] for k in ("system", "name", "country", "documented")}
        for t in transfers(ctx)
        if a.id in t["activities"]
    ]


def system_gaps(ctx: Context) -> list[Gap]:
    """The map's gaps, as the record's are named: where the controller is, when other
    systems make it matter; personal fields without a treatment; systems abroad with no
    transfer to their country documented."""
    found = []
    if controller_country(ctx) is None and len(ctx.systems.systems) > 1:
        found.append(Gap("system_unplaced", f"system:{OWN_STORE}", "country"))
    found += [
        Gap("system_without_erasure", f"system:{g.system}", f"{g.dataset}.{g.field}")
        for g in ctx.systems.gaps()
    ]
    found += [
        Gap("system_transfer_undocumented", f"system:{t['system']}", t["country"])
        for t in transfers(ctx)
        if not t["documented"]
    ]
    return found


def all_gaps(ctx: Context) -> list[Gap]:
    """The record's gaps, then the map's."""
    policy = ctx.policy
    return gaps(ctx.record, policy.classification, policy.plans) + system_gaps(ctx)


def data(ctx: Context) -> dict[str, Any]:
    """The JSON form: the controller's country, every system, the transfers to systems."""
    return {
        "controller_country": controller_country(ctx),
        "systems": [system_entry(ctx, k, s) for k, s in ctx.systems.systems.items()],
        "system_transfers": transfers(ctx),
    }


def _labels(codes: list[str], kind: str = "value") -> list[Label]:
    return [Label(code, kind) for code in codes]


def section(d: dict[str, Any], activity_names: dict[str, str]) -> Section:
    """The systems, and those abroad as transfers, as a section of a report."""
    rows = [
        [
            s["name"],
            s["owner"],
            s["purpose"],
            s["country"],
            _labels(s["data_categories"]),
            [Pair(Label(t, "erase"), n) for t, n in s["erasure"].items()],
        ]
        for s in d["systems"]
    ]
    tables = [Table("systems", SYSTEM_COLUMNS, rows)]
    facts: list[tuple[str, Any]] = [("controller_country", d["controller_country"])]
    moved = [
        [
            t["name"],
            t["country"],
            _labels(t["data_categories"]),
            [activity_names[a] for a in t["activities"]],
            _labels(t["safeguards"]),
            t["documented"],
        ]
        for t in d["system_transfers"]
    ]
    if moved:
        tables.append(Table("system_transfers", TRANSFER_COLUMNS, moved))
    else:
        facts.append(("system_transfers", Label("none")))
    return Section("systems", facts=facts, tables=tables, paragraphs=["systems_rule"])
