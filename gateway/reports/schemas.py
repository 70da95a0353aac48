"""Documents of the reports API that are not reports themselves (those are rendered)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportKind(_Out):
    name: str
    title: str
    title_zh: str
    formats: list[str]


class ReportIndex(_Out):
    reports: list[ReportKind]


class Period(_Out):
    since: str
    until: str


class KeptReport(_Out):
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


class KeptReportsPage(_Out):
    items: list[KeptReport]
