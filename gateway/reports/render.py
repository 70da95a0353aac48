"""One report, three forms: JSON for machines, HTML for people (print-ready A4, no
external assets), CSV for the reports that are a table. The figures are computed
once (`Built`); the forms only lay them out."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from gateway.reports.document import Built, Header, Label, Lang, Section
from gateway.reports.text import TEXT, code_label, label, title

HERE = Path(__file__).parent
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_json(header: Header, built: Built) -> bytes:
    document = {**header.document(), "title": title(header.report, header.lang), **built.data}
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def cell(value: Any, lang: Lang) -> str:
    """A value as text in the report's language (codes through their labels)."""
    if value is None:
        return "–"
    if isinstance(value, Label):
        return code_label(value.code, lang)
    if isinstance(value, list | tuple):
        return ", ".join(cell(v, lang) for v in value) or label("value.none", lang)
    if isinstance(value, bool):
        return label("value.yes" if value else "value.no", lang)
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
    return str(value)


def as_csv(header: Header, built: Built) -> bytes:
    """The report's table; headers in the report's language, codes left as codes."""
    if built.csv is None:
        raise ValueError(f"{header.report} has no table form")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column_label(c, header.lang) for c in built.csv.columns])
    for row in built.csv.rows:
        writer.writerow([_csv_cell(v, header.lang) for v in row])
    # A byte-order mark, so spreadsheet programs read the Chinese headers as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any, lang: Lang) -> str:
    """Codes stay codes in CSV (stable for whoever processes the file)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Label):
        return value.code
    if isinstance(value, list | tuple):
        return ", ".join(_csv_cell(v, lang) for v in value)
    text = cell(value, lang)
    # Texts typed by people (reasons, record entries) could start a spreadsheet formula.
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_STARTS) else text


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


def fact_label(key: str, lang: Lang) -> str:
    kind, _, name = key.partition(":")
    if name:  # "role:finance", "step:orders": a label and a name from the data
        return f"{label(f'fact.{kind}', lang)}: {name}"
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
            heading=lambda s: heading(s, lang),
            fact=lambda k: fact_label(k, lang),
            column=lambda c: column_label(c, lang),
        )
    )
    return html.encode("utf-8")
