"""`privacy-gateway pii`: free-text detection over stored orders."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click

from gateway.cli.support import cli_settings, handle_errors, run_with_services
from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings
from gateway.pii import Detector, shared_detector
from gateway.services import Services


@click.group()
def pii() -> None:
    """Personal data in free text (note, gift_message): detection status and re-runs."""


def _detector(settings: Settings) -> Detector:
    if not settings.pii_detection:
        raise ConfigurationError("free-text detection is off (GATEWAY_PII_DETECTION=false)")
    return shared_detector(tuple(sorted(settings.pii_ner_models.items())))


def due_warning(settings: Settings) -> str | None:
    """What `serve` says at start-up when stored free text needs re-detection.

    Building the detector here also stops start-up on a bad NER setting, with one
    clear line, before uvicorn starts its workers.
    """
    from gateway.core.db import make_engine
    from gateway.orders import count_due

    if not settings.pii_detection:
        return None
    detector = _detector(settings)

    async def count() -> int:
        engine = make_engine(settings.sqlalchemy_url, pool_size=1)
        try:
            return await count_due(engine, detector.version)
        finally:
            await engine.dispose()

    due = asyncio.run(count())
    if not due:
        return None
    return (
        f"warning: {due} order(s) with free text were scanned by an older detector or none; "
        "until `privacy-gateway pii redetect` runs, text never scanned is shown as **** "
        "wherever it is masked"
    )


@pii.command()
@handle_errors
def status() -> None:
    """How many orders with free text were scanned by another (or no) detector."""
    from gateway.orders import count_due

    settings = cli_settings()
    detector = _detector(settings)

    async def work(services: Services) -> tuple[int, int]:
        due = await count_due(services.engine, detector.version)
        total = await count_due(services.engine, detector.version, everything=True)
        return due, total

    due, total = run_with_services(work, settings)
    click.echo(
        f"detector {detector.version}: {total - due} of {total} order(s) with free text "
        f"are current, {due} due for `privacy-gateway pii redetect`"
    )


@pii.command()
@click.option("--all", "everything", is_flag=True, help="Also redo orders already current.")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 10_000))
@handle_errors
def redetect(everything: bool, batch_size: int) -> None:
    """Detect personal data again in stored free text, after the recognizers changed.

    Resumable: orders done carry the new detector's stamp and are not redone.
    Orders of erased or restricted subjects are skipped. Prints counts only.
    """
    from gateway.accesslog import OPERATOR
    from gateway.orders import count_due
    from gateway.orders import redetect_orders as run

    settings = cli_settings()
    detector = _detector(settings)

    async def work(services: Services) -> Any:
        total = await count_due(services.engine, detector.version, everything=everything)
        with click.progressbar(
            length=total, label="re-detecting", file=sys.stderr, show_pos=True
        ) as bar:
            report = await run(
                services.engine,
                services.subjects,
                detector,
                everything=everything,
                batch_size=batch_size,
                progress=bar.update,
            )
        await services.access_log.record(
            OPERATOR, "pii.redetect", "orders", details=report.details()
        )
        return report

    report = run_with_services(work, settings)
    found = ", ".join(f"{n} {kind}" for kind, n in sorted(report.spans.items())) or "nothing"
    click.echo(
        f"re-detected {report.updated} of {report.scanned} order(s) with detector "
        f"{report.detector}: found {found}; skipped {report.skipped_shredded} erased, "
        f"{report.skipped_restricted} restricted, {report.skipped_changed} changed meanwhile"
    )
