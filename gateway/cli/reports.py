"""`privacy-gateway report NAME`: the DPO reports from the command line.

Runs as `operator` (whoever holds the database and the keys), and is logged like
a report generated over HTTP.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import click

from gateway.cli.support import handle_errors, run_with_services
from gateway.core.errors import InvalidInput
from gateway.reports import REPORTS, Rendered, format_problem
from gateway.services import Services

VERIFYING = frozenset({"audit-integrity", "pipl-audit"})


def _when(value: str | None, option: str) -> datetime | None:
    """ISO 8601 with a time zone, or a plain date (midnight UTC)."""
    if value is None:
        return None
    try:
        if len(value) == len("YYYY-MM-DD"):
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD or an ISO 8601 time", param_hint=option) from None
    if parsed.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-01-01T00:00:00Z", param_hint=option)
    return parsed


@click.command()
@click.argument("name", type=click.Choice(list(REPORTS)))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "html", "csv"]),
    default="json",
    show_default=True,
    help="csv for the reports that are a table: "
    + ", ".join(name for name, spec in REPORTS.items() if "csv" in spec.formats)
    + ".",
)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option("--since", default=None, help="Start (inclusive) [default: 365 days before until].")
@click.option("--until", default=None, help="End (exclusive) [default: now].")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
@handle_errors
def report(
    name: str, fmt: str, lang: str, since: str | None, until: str | None, output: Path | None
) -> None:
    """Generate a DPO report for a period: gdpr-ropa, dsr-register, access,
    audit-integrity, pipl-audit or pipl-pia."""
    # Every option is checked before any work: a form the report lacks is refused
    # here, not after opening the store (or verifying the whole log, for some).
    if fmt not in REPORTS[name].formats:
        raise click.BadParameter(format_problem(name), param_hint="--format")
    start, end = _when(since, "--since"), _when(until, "--until")
    began = time.monotonic()

    def build(progress: Callable[[int], None] | None) -> Rendered:
        async def work(services: Services) -> Rendered:
            return await services.reports.generate(
                None, name, fmt, lang, start, end, progress=progress
            )

        return run_with_services(work)

    try:
        if name in VERIFYING:  # minutes on a long log: show how far it got
            label = f"{name}: verifying the log"
            with click.progressbar(length=0, label=label, file=sys.stderr, show_pos=True) as bar:
                rendered = build(bar.update)
        else:
            rendered = build(None)
    except InvalidInput as exc:
        problems = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        click.echo(f"error: {exc.detail}" + (f" ({problems})" if problems else ""), err=True)
        sys.exit(1)
    if output is None:
        sys.stdout.buffer.write(rendered.body)
        sys.stdout.flush()
    else:
        output.write_bytes(rendered.body)
    h = rendered.header
    click.echo(
        f"{name}: {h.period.since.isoformat()} to {h.period.until.isoformat()}, "
        f"chain head #{h.chain_head.seq}, {len(rendered.body)} bytes"
        + (f" to {output}" if output else "")
        + f", {time.monotonic() - began:.1f} s",
        err=True,
    )
