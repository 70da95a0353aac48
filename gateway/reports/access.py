"""`access`: who read personal data in the period, at which level, why, and who was refused.

Built from the log only (roles too: `principal.create` entries name them). A
record counts once per order row disclosed: a read or reveal is one record, a
list or search page as many as it returned. Levels are what was disclosed: a
`clear_after_2fa` field shown without a reveal was shown masked.

Reveal rates that stand out: a principal's reveal rate (reveals per record read)
is compared with the median rate of the *other* principals of its role; it is
flagged when it has at least `MIN_REVEALS` reveals and is more than
`OUTLIER_FACTOR` times that median (any reveal rate stands out among peers who
never reveal). A principal alone in its role has no peers and is not flagged.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from audit import snapshot
from gateway.disclosure import Classification
from gateway.reports import logscan
from gateway.reports.document import Built, Code, Context, Label, Section, Table, When

READS = ("orders.read", "orders.reveal", "orders.list", "orders.search")
MIN_REVEALS = 5
OUTLIER_FACTOR = 3.0
NO_ROLE = "none"  # the command line (operator) and unauthenticated callers


@dataclass
class _Principal:
    role: str
    accesses: int = 0
    records: int = 0
    personal_records: int = 0
    reveals: int = 0
    denials: int = 0
    # The clients a person (or an IdP's app) called through: entries name them as `app`.
    apps: set[str] = field(default_factory=set)

    @property
    def reveal_rate(self) -> float:
        return self.reveals / self.records if self.records else 0.0


@dataclass
class AccessFigures:
    principals: dict[str, _Principal] = field(default_factory=dict)
    levels: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # role, cat, level
    reveals: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    reveal_times: dict[tuple[str, str, str, str], list[str]] = field(default_factory=dict)
    denials: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)

    def principal(self, name: str, roles: dict[str, str]) -> _Principal:
        if name not in self.principals:
            self.principals[name] = _Principal(roles.get(name, NO_ROLE))
        return self.principals[name]


def _records(group: logscan.Group) -> int:
    if group.action in ("orders.read", "orders.reveal"):
        return group.count
    return group.count * int(group.details.get("count", 0))


def _personal_levels(fields: dict[str, str], c: Classification) -> set[tuple[str, str]]:
    shown = set()
    for path, level in fields.items():
        category = c.fields[path].category if path in c.fields else None
        if category is not None and c.categories[category].personal:
            shown.add((category, "masked" if level == "clear_after_2fa" else level))
    return shown


def _restricted_rows(group: logscan.Group) -> int:
    """Rows of a list page shown with personal fields withheld (GDPR Art. 18): the entry
    names the role's fields, and how many of its rows were shown without them. A
    single read logs the restricted plan's fields themselves."""
    restricted = group.details.get("restricted", 0)
    if group.action in ("orders.list", "orders.search") and isinstance(restricted, int):
        return group.count * restricted
    return 0


def _add_denial(figures: AccessFigures, who: _Principal, g: logscan.Group) -> None:
    who.denials += g.count
    reason = str(g.details.get("reason", ""))
    figures.denials[(g.actor, who.role, g.action, reason)] += g.count


def _add_read(figures: AccessFigures, who: _Principal, g: logscan.Group, c: Classification) -> None:
    records = _records(g)
    who.accesses += g.count
    who.records += records
    personal = records - _restricted_rows(g)
    shown = _personal_levels(dict(g.fields), c)
    if shown and personal > 0:
        who.personal_records += personal
        for category, level in shown:
            figures.levels[(who.role, category, level)] += personal
    if g.action == "orders.reveal":
        who.reveals += g.count
        revealed = ", ".join(g.details.get("revealed", []))
        key = (g.actor, who.role, g.purpose or "", revealed)
        figures.reveals[key] += g.count
        times = figures.reveal_times.setdefault(key, [g.first_at, g.last_at])
        times[0], times[1] = min(times[0], g.first_at), max(times[1], g.last_at)


async def collect(ctx: Context) -> AccessFigures:
    figures = AccessFigures()
    head = ctx.header.chain_head
    async with snapshot(ctx.engine) as conn:
        roles = await logscan.roles_of_principals(conn, head)
        async for g in logscan.groups(conn, head, ctx.header.period, READS, denied=True):
            who = figures.principal(g.actor, roles)
            if isinstance(app := g.details.get("app"), str):
                who.apps.add(app)
            if g.outcome == "denied":
                _add_denial(figures, who, g)
            elif g.outcome == "allowed" and g.action in READS:
                _add_read(figures, who, g, ctx.policy.classification)
    return figures


def outliers(figures: AccessFigures) -> list[dict[str, Any]]:
    by_role: dict[str, list[tuple[str, _Principal]]] = defaultdict(list)
    for name, p in figures.principals.items():
        if p.records:
            by_role[p.role].append((name, p))
    flagged = []
    for role, members in sorted(by_role.items()):
        for name, p in sorted(members, key=lambda m: m[0]):
            peers = [q.reveal_rate for other, q in members if other != name]
            if not peers or p.reveals < MIN_REVEALS:
                continue
            median = statistics.median(peers)
            if p.reveal_rate > OUTLIER_FACTOR * median:
                flagged.append(
                    {
                        "principal": name,
                        "role": role,
                        "reveals": p.reveals,
                        "reveal_rate": round(p.reveal_rate, 4),
                        "peer_median": round(median, 4),
                    }
                )
    return flagged


async def build(ctx: Context) -> Built:
    figures = await collect(ctx)
    return layout(figures)


PRINCIPAL_COLUMNS = (
    "principal",
    "role",
    "accesses",
    "records",
    "personal_records",
    "reveals",
    "reveal_rate",
    "denials",
    "apps",  # last: the columns before it keep the places they had before people
)
REVEAL_COLUMNS = ("principal", "role", "purpose", "fields", "count", "first_at", "last_at")


def _rows(figures: AccessFigures) -> dict[str, list[dict[str, Any]]]:
    times = figures.reveal_times
    return {
        "principals": [
            {
                "principal": name,
                "role": p.role,
                "accesses": p.accesses,
                "records": p.records,
                "personal_records": p.personal_records,
                "reveals": p.reveals,
                "reveal_rate": round(p.reveal_rate, 4),
                "denials": p.denials,
                "apps": ", ".join(sorted(p.apps)),
            }
            for name, p in sorted(figures.principals.items())
        ],
        "by_category_and_level": [
            {"role": r, "category": c, "level": lv, "records": n}
            for (r, c, lv), n in sorted(figures.levels.items())
        ],
        "reveals": [
            {
                "principal": a,
                "role": r,
                "purpose": p,
                "fields": f,
                "count": n,
                "first_at": times[(a, r, p, f)][0],
                "last_at": times[(a, r, p, f)][1],
            }
            for (a, r, p, f), n in sorted(figures.reveals.items())
        ],
        "denials": [
            {"principal": a, "role": r, "action": act, "reason": why, "count": n}
            for (a, r, act, why), n in sorted(figures.denials.items())
        ],
        "outliers": outliers(figures),
    }


def layout(figures: AccessFigures) -> Built:
    rows = _rows(figures)
    principals = rows["principals"]
    totals = {
        "principals_reading_personal_data": sum(1 for p in principals if p["personal_records"]),
        **{
            k: sum(p[k] for p in principals)
            for k in ("records", "personal_records", "reveals", "denials")
        },
        "outliers": len(rows["outliers"]),
    }
    data = {
        "totals": totals,
        **rows,
        "outlier_rule": {"min_reveals": MIN_REVEALS, "factor": OUTLIER_FACTOR},
    }
    principal_table = _table("by_principal", principals, PRINCIPAL_COLUMNS)
    levels = ("role", "category", "level", "records")
    denials = ("principal", "role", "action", "reason", "count")
    flagged = ("principal", "role", "reveals", "reveal_rate", "peer_median")
    sections = [
        Section("totals", facts=list(totals.items())),
        Section("by_principal", tables=[principal_table]),
        Section(
            "by_category_and_level",
            tables=[_table("by_category_and_level", rows["by_category_and_level"], levels)],
        ),
        Section("reveals", tables=[_table("reveals", rows["reveals"], REVEAL_COLUMNS)]),
        Section("denials", tables=[_table("denials", rows["denials"], denials)]),
        Section(
            "outliers",
            paragraphs=["outlier_rule"],
            tables=[_table("outliers", rows["outliers"], flagged)],
        ),
    ]
    return Built(data, sections, csv=principal_table)


def _table(key: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Table:
    return Table(key, columns, [[_cell(c, row[c]) for c in columns] for row in rows])


def _cell(column: str, value: Any) -> Any:
    """Words for codes, `<code>` for names a DPO looks up in the log; the CSV form
    shows the same values as codes."""
    if column in ("level", "category"):
        return Label(value)
    if column == "role":
        return Label(value, "role", show_code=True)
    if column == "action":
        return Code(value)
    if column == "fields":
        return [Code(f) for f in value.split(", ") if f]
    if column in ("first_at", "last_at"):
        return When(value)
    return value
