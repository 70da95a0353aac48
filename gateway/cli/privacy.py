"""`privacy-gateway worker | outbox | certificate verify`: the operator's side of requests."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click

from gateway.cli.audit import load_public_key
from gateway.cli.support import handle_errors, run_with_services
from gateway.core.clock import utc_text
from gateway.privacy import QueuedMessage, read_outbox, run_once, verify_certificate_signature
from gateway.services import Services


@click.command()
@click.option("--once", is_flag=True, help="One round (sweep, then run what is ready), then exit.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between rounds.")
@handle_errors
def worker(once: bool, interval: float) -> None:
    """Run data subject requests to completion, and the SLA, expiry and retention sweepers.

    Several workers may run at once (requests are claimed); `serve` runs the same
    in-process unless GATEWAY_PRIVACY_WORKER_SECONDS=0.
    """

    async def work(services: Services) -> None:
        if once:  # one round, one line: its summary
            finished = await run_once(services.workflow, services.sweeper)
            click.echo(f"done: {finished} request(s) completed")
            return
        while True:  # until stopped: a line for each round that completed something
            finished = await run_once(services.workflow, services.sweeper)
            if finished:
                click.echo(f"completed {finished} request(s)")
            await asyncio.sleep(interval)

    run_with_services(work)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines.")
@click.option("--limit", default=20, show_default=True, help="Newest N messages.")
@handle_errors
def outbox(as_json: bool, limit: int) -> None:
    """Messages the default notifier queued for data subjects (codes, notices).

    They hold the subject's contact and code: this command is for an operator
    trying the embedded default, or relaying messages by hand.
    """

    async def work(services: Services) -> list[QueuedMessage]:
        return await read_outbox(services.engine, services.subjects, limit)

    for message in run_with_services(work):
        if as_json:
            click.echo(json.dumps(message.as_json(), ensure_ascii=False))
        else:
            click.echo(f"{utc_text(message.created_at)}  {message.channel} to {message.to}")
            click.echo(f"  request {message.request_id}")
            for line in message.text.splitlines():
                click.echo(f"  {line}")


@click.group("certificate")
def certificate_commands() -> None:
    """Erasure certificates."""


@certificate_commands.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM public key (from `audit public-key`): check offline, without the database.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@handle_errors
def certificate_verify(file: Path, public_key_file: Path | None, as_json: bool) -> None:
    """Check a certificate's signature and, with database access, that the audit chain
    head it names is in the log. Exit 0 only if it verifies."""
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        document = None
    if public_key_file is not None:
        verdict = verify_certificate_signature(document, [load_public_key(public_key_file)])
        result: dict[str, Any] = {"valid": verdict.valid, "reason": verdict.reason}
    else:
        result = run_with_services(lambda s: s.downloads.verify(document))
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(("valid: " if result["valid"] else "INVALID: ") + result["reason"])
    sys.exit(0 if result["valid"] else 1)
