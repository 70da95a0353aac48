"""`privacy-gateway audit ...`: verify the log (online or offline), export it, show its key."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from audit import (
    Checkpoint,
    ExportError,
    ExportReport,
    Report,
    checkpoint_from_document,
    key_id,
    public_key_pem,
    verify_export,
)
from gateway.accesslog import OPERATOR
from gateway.cli.exportfile import CutShort, Written, write_export
from gateway.cli.support import cli_settings, handle_errors, run_with_services
from gateway.core.errors import ConfigurationError
from gateway.crypto import load_keys
from gateway.logsearch import open_export
from gateway.services import Services


@click.group()
def audit() -> None:
    """Verify, export and check the tamper-evident audit log."""


@audit.command("public-key")
@handle_errors
def public_key() -> None:
    """Print the checkpoint signing key's public half (PEM) and its key id."""
    keys = load_keys(cli_settings())
    public = keys.audit_signing_key.public_key()
    click.echo(public_key_pem(public), nl=False)
    click.echo(f"key id: {key_id(public)}", err=True)


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError):
        raise ConfigurationError(f"{path} is not a PEM public key file") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{path} holds no Ed25519 public key")
    return key


def _load_checkpoint(path: Path | None) -> Checkpoint | None:
    if path is None:
        return None
    try:
        return checkpoint_from_document(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigurationError(
            f"{path} is not a checkpoint (JSON with seq, head, at, key_id, signature)"
        ) from None


def _print(report: Report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.document()))
    elif isinstance(report, ExportReport) and report.cut_short:
        _print_cut_short(report)
    elif report.ok:
        head = report.head or {"seq": 0}
        cp = report.last_checkpoint
        click.echo(
            f"intact: {report.entries_checked} entries, head at entry {head['seq']}"
            + (
                f", last checkpoint at entry {cp['seq']} ({cp['at']})"
                if cp
                else ", no checkpoint yet"
            )
        )
    else:
        bad = report.first_bad_sequence or 0
        last = int((report.head or {"seq": 0})["seq"])
        held = report.entries_checked - max(0, last - (bad - 1))  # checked, before `bad`
        click.echo(
            f"TAMPERED: first bad entry {bad}: {report.reason} ({held} entries before it hold)"
        )


def _print_cut_short(report: ExportReport) -> None:
    """What a cut-short file holds, what of it can be trusted, and how to get the rest."""
    if report.head is None:
        holds, trusted = "no entry", "none is signed"
    else:
        head = int(report.head["seq"])
        first, signed = head - report.entries_checked + 1, (report.first_bad_sequence or 1) - 1
        holds = span(first, head)
        trusted = f"{span(first, signed)} signed" if signed >= first else "none is signed"
    click.echo(f"CUT SHORT: {report.reason}")
    click.echo(f"  the file holds {holds}; {trusted}")
    click.echo(f"  to get the rest: {rest_command(report.resume_from)}")


def span(first: int | None, last: int | None) -> str:
    """`entry 7` or `entries 7-12`."""
    return f"entry {first}" if first == last else f"entries {first}-{last}"


def rest_command(resume_from: str | None, until: datetime | None = None) -> str:
    """The export that holds the rest: from the second of the first entry lacking."""
    since = "" if resume_from is None else f" --since {resume_from[:19]}Z"
    bound = "" if until is None else f" --until {_time_option(until)}"
    return f"privacy-gateway audit export{since}{bound} -o REST.jsonl"


@audit.command("verify")
@click.option(
    "--export",
    "export_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Verify this export file offline (no database) instead of the database.",
)
@click.option(
    "--public-key",
    "key_files",
    type=click.Path(path_type=Path, dir_okay=False),
    multiple=True,
    help="PEM public key for --export (from `privacy-gateway audit public-key`); repeat "
    "it to also accept checkpoints signed by keys used before.",
)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A checkpoint seen before (JSON): a log that now ends before it was truncated.",
)
@click.option(
    "--save-checkpoint",
    "save_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="When intact, write the last checkpoint here, for --checkpoint next time.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@handle_errors
def verify(
    export_file: Path | None,
    key_files: tuple[Path, ...],
    checkpoint_file: Path | None,
    save_file: Path | None,
    as_json: bool,
) -> None:
    """Check the hash chain and the signed checkpoints; exit 0 only when intact.

    Streams, in constant memory, with a progress bar on stderr.
    """
    trusted = _load_checkpoint(checkpoint_file)
    report: Report
    with click.progressbar(length=0, label="verifying", file=sys.stderr, show_pos=True) as bar:
        if export_file is not None:
            if not key_files:
                raise click.UsageError("--export needs --public-key")
            keys = {key_id(k): k for k in map(load_public_key, key_files)}
            try:
                with export_file.open("rb") as lines:
                    report = verify_export(lines, keys, trusted=trusted, progress=bar.update)
            except ExportError as exc:
                raise ConfigurationError(f"{export_file}: {exc}") from None
        else:
            report = run_with_services(
                lambda s: s.access_log.log.verify(trusted=trusted, progress=bar.update)
            )
    _print(report, as_json)
    if not report.ok:
        sys.exit(3)
    if save_file is not None and report.last_checkpoint is not None:
        save_file.write_text(json.dumps(report.last_checkpoint) + "\n")


@audit.command("export")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
    default=None,
    help="First entry time (UTC if no zone), e.g. 2026-11-01.",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
    default=None,
    help="End of the period (exclusive).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="File to write (JSON Lines).",
)
@handle_errors
def export(since: datetime | None, until: datetime | None, output: Path) -> None:
    """Write entries and their checkpoints as JSON Lines, for offline verification."""
    start = None if since is None else _aware(since)
    end = None if until is None else _aware(until)

    async def work(services: Services) -> Written:
        count, lines = await open_export(services.engine, services.access_log, OPERATOR, start, end)
        try:
            return await write_export(lines, output)
        except CutShort as cut:
            cut.planned = count
            raise

    try:
        written = run_with_services(work)
    except CutShort as cut:
        _cut_short(cut, output, start, end)
        sys.exit(1)
    click.echo(f"exported {written.entries} entries to {output}")


def _cut_short(cut: CutShort, output: Path, since: datetime | None, until: datetime | None) -> None:
    w = cut.written
    if w.entries:
        signed = "none of them signed" if w.signed is None else f"signed up to entry {w.signed}"
        holds = f"{span(w.first, w.last)} ({signed})"
    else:
        holds = "no entry"
    click.echo(
        f"error: the export was cut short ({cut.reason}) after {w.entries} of {cut.planned} "
        f"entries: {output} holds {holds} and no end line, so it does not verify as complete",
        err=True,
    )
    start = w.resume_from or (None if since is None else _time_option(since))
    click.echo(f"to get the rest: {rest_command(start, until)}", err=True)


def _time_option(value: datetime) -> str:
    """A time as the export's --since and --until take it (to the second)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
