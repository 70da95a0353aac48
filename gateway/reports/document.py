"""What every report is made of, whatever its name: a header and sections.

A builder computes the report's figures once, as `data` (the JSON form, for
machines), and lays the same figures out as sections of facts and tables (the
HTML form, for people) and, where the report is a table, one `csv` table. The
header is the same for all: period, when, by whom, and the audit chain head the
report was built against, so a printed report can be tied back to the log.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import AuditLog
from gateway.disclosure import PolicySet
from gateway.reports.record import ProcessingRecord
from gateway.retention import RetentionRules
from gateway.systems import SystemsMap

Lang = Literal["en", "zh"]
Format = Literal["json", "html", "csv"]


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime

    def document(self) -> dict[str, str]:
        return {"since": iso(self.since), "until": iso(self.until)}


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Header:
    report: str
    period: Period
    generated_at: datetime
    generated_by: str
    chain_head: ChainHead
    lang: Lang

    def document(self) -> dict[str, Any]:
        return {
            "report": self.report,
            "period": self.period.document(),
            "generated_at": iso(self.generated_at),
            "generated_by": self.generated_by,
            "chain_head": {"seq": self.chain_head.seq, "hash": self.chain_head.hash},
            "lang": self.lang,
        }


@dataclass(frozen=True, slots=True)
class Label:
    """A code the renderers show in words (text key `<kind>.<code>`); machine forms keep
    the code. `show_code`: the words, then the code, where it is a name the DPO finds
    in the policy files (a role, a retention rule)."""

    code: str
    kind: str = "value"
    show_code: bool = False


@dataclass(frozen=True, slots=True)
class Code:
    """An identifier a DPO may look up (a request id, field path, hash, log action):
    shown as code, and the only text a line may break inside (it is long, not a word)."""

    text: str


@dataclass(frozen=True, slots=True)
class Texts:
    """Texts of the record (purposes, measures): phrases or whole sentences, joined
    with the punctuation of the report's language."""

    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pair:
    """`key: value`, say a role and the level it sees."""

    key: Any
    value: Any


@dataclass(frozen=True, slots=True)
class When:
    """A time: ISO 8601 in machine forms, to the minute (or `seconds`) in UTC for people."""

    at: datetime | str
    seconds: bool = False


def when(value: datetime | str | None, seconds: bool = False) -> When | None:
    return None if value is None else When(value, seconds)


@dataclass(frozen=True, slots=True)
class Table:
    """A table: `columns` are label keys; cells are values the renderer localises."""

    key: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # label key of the heading
    title: str | None = None  # a heading from the record, already in the report's language
    flag_missing: bool = False  # an empty fact is a gap in the record, not just empty
    facts: Sequence[tuple[str, Any]] = ()
    tables: Sequence[Table] = ()
    paragraphs: Sequence[str] = ()  # label keys of explanatory text
    items: Sequence[str] = ()  # a bulleted list, already in the report's language


@dataclass(frozen=True, slots=True)
class Built:
    data: Mapping[str, Any]
    sections: Sequence[Section]
    csv: Table | None = None


@dataclass(frozen=True)
class Context:
    """What a builder may read: the database, the policy, the record, the systems map,
    the header."""

    engine: AsyncEngine
    policy: PolicySet
    retention: RetentionRules
    record: ProcessingRecord
    systems: SystemsMap
    log: AuditLog
    header: Header
    # Told how many entries were verified so far (the command line's progress bar).
    progress: Callable[[int], None] = lambda _: None

    @property
    def lang(self) -> Lang:
        return self.header.lang


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
