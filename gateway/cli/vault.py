"""`privacy-gateway vault`: moving an existing order store's personal columns into the
gateway's vault (mode 2), following its new rows, and putting them back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from typing import TYPE_CHECKING, Any

import click

from gateway.cli.support import cli_settings, handle_errors, run_with_services

if TYPE_CHECKING:
    from gateway.services import Services
    from gateway.vault import Step, Summary

_SYSTEM = click.option("--system", "system", required=True, help="The system's key in the map.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group()
def vault() -> None:
    """Take an existing order store's personal columns into the vault (docs/guides/
    vault-migration.md): backfill, follow, restore."""


def _progress(step: Step) -> None:
    if step.phase in {"saved", "restored"}:
        click.echo(f"  {step.table}: batch {step.batch}, {step.rows} row(s)", err=True)


def _print(summary: Summary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_json(), ensure_ascii=False))
        return
    s = summary
    click.echo(
        f"{s.system}: {s.purpose}: {s.rows_seen} row(s) read, {s.rows_changed} row(s) "
        f"changed, {s.cells} value(s) {'put back' if s.purpose == 'restore' else 'sealed'}"
    )
    if s.left_clear:
        click.echo(f"  {s.left_clear} row(s) kept changing and were left for the follower")
    if s.foreign_tokens:
        click.echo(
            f"  {s.foreign_tokens} cell(s) hold a token not made for them (copied from "
            "another customer's cell, or unknown): left as they are, opening nothing"
        )
    if s.pruned:
        click.echo(f"  {s.pruned} value(s) of rows the store no longer has deleted from the vault")
    if s.refused:
        click.echo(
            f"  {s.refused} value(s) of erased subjects (or of an erasure under way) stay "
            "tokens: they are not put back"
        )
    if s.purpose != "restore":
        click.echo(f"  rows still holding a clear personal value: {s.clear_remaining}")
    if s.lag_seconds is not None:
        click.echo(f"  lag: the oldest clear row waited {s.lag_seconds:.1f} s")


@vault.command("check")
@_SYSTEM
@handle_errors
def vault_check(system: str) -> None:
    """Name the columns that cannot hold a token (not text, or narrower than 11
    characters), changing nothing. Exits 1 when there is any."""

    async def work(services: Services) -> list[str]:
        return await services.vault.check(system)

    problems = run_with_services(work, cli_settings())
    for problem in problems:
        click.echo(f"  - {problem}")
    click.echo(f"{system}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
    if problems:
        sys.exit(1)


@vault.command("status")
@_SYSTEM
@_JSON
@handle_errors
def vault_status(system: str, as_json: bool) -> None:
    """Where each walk is (last key, rows, values sealed, started, finished), the
    records the vault holds for the system, and the rows still holding a clear value.
    Changes nothing."""

    async def work(services: Services) -> dict[str, Any]:
        return await services.vault.status(system)

    found = run_with_services(work, cli_settings())
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    records = found["records"]
    click.echo(f"{system}: {records['live']} record(s) in the vault, {records['erased']} erased")
    remaining = found["clear_remaining"]
    click.echo(
        "  rows still holding a clear personal value: "
        + ("unknown (the store cannot be reached)" if remaining is None else str(remaining))
    )
    for name, walk in found["walks"].items():
        state = f"finished {walk['finished_at']}" if walk["finished_at"] else "under way"
        click.echo(
            f"  {name}: {walk['rows_seen']} row(s), {walk['cells_sealed']} value(s), "
            f"last key {walk['last_key']}, {state}"
        )


@vault.command("backfill")
@_SYSTEM
@click.option("--batch-size", default=None, type=click.IntRange(1, 10_000), help="Rows a batch.")
@_JSON
@handle_errors
def backfill(system: str, batch_size: int | None, as_json: bool) -> None:
    """Seal every personal cell of the system's tables into the vault and leave a token
    in its place, batch by batch in key order. Resumable after a crash at any point:
    run it again. Refused before anything is written if a column cannot hold a token.
    Needs the store's writing account (var/systems/<key>.url)."""

    async def work(services: Services) -> Summary:
        return await services.vault.backfill(system, batch=batch_size, progress=_progress)

    _print(run_with_services(work, cli_settings()), as_json)


@vault.command("follow")
@_SYSTEM
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.1, 3600))
@_JSON
@handle_errors
def follow(system: str, once: bool, interval: float, as_json: bool) -> None:
    """Tokenise rows the store's own system writes after the backfill (new keys, and
    rows changed since the watermark where the map names one), pass after pass, each
    reported with its lag. Stops on SIGTERM or Ctrl-C after the pass under way."""
    stopping = asyncio.Event()

    async def work(services: Services) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        while not stopping.is_set():
            _print(await services.vault.follow_once(system), as_json)
            if once:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)

    run_with_services(work, cli_settings())


@vault.command("restore")
@_SYSTEM
@_JSON
@handle_errors
def restore(system: str, as_json: bool) -> None:
    """Put every token's value back in its cell, for leaving the gateway (stop the
    follower first). Logged. A value of an erased subject is not put back: its token
    stays, and the count says how many."""

    async def work(services: Services) -> Summary:
        return await services.vault.restore(system, progress=_progress)

    _print(run_with_services(work, cli_settings()), as_json)
