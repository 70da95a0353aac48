"""One report, three forms: JSON for machines, HTML for people (print-ready A4, no
external assets), CSV for the reports that are a table. The figures are computed
once (`Built`); the forms only lay them out.

A value reads in words for people (HTML) and as codes for machines (CSV). HTML
cells are markup, escaped here. Codes a DPO may look up are `<code>`, the only
text allowed to break inside (the style sheet lets long tokens break, never
words). Times are shown in UTC, to the minute unless a value asks for seconds;
machine forms keep ISO 8601 as the data has it.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from gateway.reports.document import (
    Built,
    Code,
    Header,
    Label,
    Lang,
    Pair,
    Section,
    Table,
    Texts,
    When,
)
from gateway.reports.text import TEXT, code_label, label, title, words

HERE = Path(__file__).parent

SENTENCE_ENDS = (".", "!", "?", "。", "！", "？")
CJK_ENDS = ("。", "！", "？")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def join_texts(items: Sequence[str], lang: Lang) -> str:
    """Phrases as a list (`a; b`, `甲；乙`); after a whole sentence, the next simply
    follows (`A. B.`, `甲。乙。`): a sentence never gets a second stop."""
    out = ""
    for i, item in enumerate(items):
        if i:
            before = items[i - 1].rstrip()
            if before.endswith(CJK_ENDS):
                out += ""
            elif before.endswith(SENTENCE_ENDS):
                out += " "
            else:
                out += "；" if lang == "zh" else "; "
        out += item.strip()
    return out


def list_separator(lang: Lang) -> str:
    return "、" if lang == "zh" else ", "


def pair_separator(lang: Lang) -> str:
    return "：" if lang == "zh" else ": "


def utc(value: datetime | str, seconds: bool = False) -> str:
    """`2026-11-20 10:00 UTC` (no fractions: a person compares minutes, evidence seconds)."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    # A no-break space keeps the zone with the time; the date and time may wrap apart.
    return at.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + "\u00a0UTC"


def number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def _code(text: str) -> Markup:
    """`<code>`, with break opportunities after `.`, `_`, `-`, `/`, `:`: a field path
    wraps at its parts before it wraps anywhere."""
    parts = re.split(r"(?<=[._\-/:])", text)
    return Markup("<code>{}</code>").format(Markup("<wbr>").join(escape(p) for p in parts))


def cell(value: Any, lang: Lang) -> Markup:
    """A value as a person reads it, in the report's language."""
    if value is None:
        return Markup("–")
    if isinstance(value, Label):
        shown = words(value.kind, value.code, lang)
        code = _code(value.code)
        if shown is None:
            return code
        if value.show_code:
            return Markup("{} {}").format(shown, code)
        return escape(shown)
    if isinstance(value, Code):
        return _code(value.text)
    if isinstance(value, When):
        return escape(utc(value.at, value.seconds))
    if isinstance(value, Texts):
        return escape(join_texts(value.items, lang))
    if isinstance(value, Pair):
        return cell(value.key, lang) + pair_separator(lang) + cell(value.value, lang)
    if isinstance(value, list | tuple):
        if not value:
            return escape(label("value.none", lang))
        return escape(list_separator(lang)).join(cell(v, lang) for v in value)
    if isinstance(value, bool):
        return escape(label("value.yes" if value else "value.no", lang))
    if isinstance(value, float):
        return escape(number(value))
    return escape(str(value))


def csv_cell(value: Any, lang: Lang) -> str:
    """Codes stay codes in CSV (stable for whoever processes the file)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Label):
        return value.code
    if isinstance(value, Code):
        return value.text
    if isinstance(value, When):
        return value.at if isinstance(value.at, str) else value.at.isoformat()
    if isinstance(value, Pair):
        return f"{csv_cell(value.key, lang)}: {csv_cell(value.value, lang)}"
    if isinstance(value, list | tuple):
        return ", ".join(csv_cell(v, lang) for v in value)
    text = join_texts(value.items, lang) if isinstance(value, Texts) else str(value)
    if isinstance(value, float):
        text = number(value)
    # Texts typed by people (reasons, record entries) could start a spreadsheet formula.
    if isinstance(value, str | Texts) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def kind(values: Sequence[Any]) -> str:
    """The CSS class of a column, by what it holds: numbers align right, codes may
    break inside, labels and times keep their words together."""
    seen = [v for v in values if v is not None]
    flat = [item for v in seen for item in (v if isinstance(v, list | tuple) else [v])]
    if not seen:
        return ""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen):
        return "num"
    for cls, name in ((Code, "token"), (When, "when"), (Label, "label")):
        if flat and all(isinstance(v, cls) for v in flat):
            return name
    return ""


def as_json(header: Header, built: Built) -> bytes:
    document = {**header.document(), "title": title(header.report, header.lang), **built.data}
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def as_csv(header: Header, built: Built) -> bytes:
    """The report's table; headers in the report's language, codes left as codes."""
    if built.csv is None:
        raise ValueError(f"{header.report} has no table form")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column_label(c, header.lang) for c in built.csv.columns])
    for row in built.csv.rows:
        writer.writerow([csv_cell(v, header.lang) for v in row])
    # A byte-order mark, so spreadsheet programs read the Chinese headers as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def column_kinds(table: Table) -> list[str]:
    return [kind([row[i] for row in table.rows]) for i in range(len(table.columns))]


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def heading(section: Section, lang: Lang) -> str:
    return section.title or label(f"section.{section.key}", lang)


def fact_label(key: str, lang: Lang) -> str | Markup:
    kind, _, name = key.partition(":")
    if name:  # "role:finance", "step:orders": a label, and the words for the name
        named = cell(Label(name, kind), lang)
        return Markup("{}{}{}").format(label(f"fact.{kind}", lang), pair_separator(lang), named)
    if key.startswith("value."):
        return label(key, lang)
    return label(f"fact.{key}", lang)


def column_label(column: str, lang: Lang) -> str:
    if column.startswith("value."):  # a column per category, say
        return code_label(column.removeprefix("value."), lang)
    return label(f"col.{column}", lang) if f"col.{column}" in TEXT else column


@cache
def _css() -> str:
    return (HERE / "templates" / "report.css").read_text(encoding="utf-8")


@cache
def content_security_policy() -> str:
    """Nothing may load or run; the one inline style sheet is allowed by its hash."""
    digest = base64.b64encode(hashlib.sha256(_css().encode("utf-8")).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def as_html(header: Header, built: Built) -> bytes:
    lang = header.lang
    css = _css()
    html = (
        _environment()
        .get_template("report.html")
        .render(
            h=header.document(),
            title=title(header.report, lang),
            sections=built.sections,
            lang=lang,
            css=css,
            t=lambda key: label(key, lang),
            cell=lambda v: cell(v, lang),
            kinds=column_kinds,
            when=lambda v, seconds=False: utc(v, seconds),
            heading=lambda s: heading(s, lang),
            fact=lambda k: fact_label(k, lang),
            column=lambda c: column_label(c, lang),
        )
    )
    return html.encode("utf-8")
