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
    Report,
    checkpoint_from_document,
    key_id,
    public_key_pem,
    verify_export,
)
from gateway.accesslog import OPERATOR
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
        click.echo(
            f"TAMPERED: first bad entry {report.first_bad_sequence}: {report.reason} "
            f"({report.entries_checked} entries checked before it)"
        )


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

    async def work(services: Services) -> int:
        start = None if since is None else _aware(since)
        end = None if until is None else _aware(until)
        count, lines = await open_export(services.engine, services.access_log, OPERATOR, start, end)
        with output.open("wb") as handle:
            async for line in lines:
                handle.write(line)
        return count

    count = run_with_services(work)
    click.echo(f"exported {count} entries to {output}")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
