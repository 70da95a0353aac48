"""Documents of the reports API that are not reports themselves (those are rendered)."""

from __future__ import annotations

from gateway.core.http import Answer


class ReportKind(Answer):
    name: str
    title: str
    title_zh: str
    formats: list[str]


class ReportIndex(Answer):
    reports: list[ReportKind]


class Period(Answer):
    since: str
    until: str


class KeptReport(Answer):
    """A kept copy of a PIPL report: what it is, who made it, and until when it is kept."""

    id: str
    report: str
    lang: str
    generated_at: str
    generated_by: str
    period: Period
    chain_head: int
    sha256: str
    keep_until: str


class KeptReportsPage(Answer):
    items: list[KeptReport]
