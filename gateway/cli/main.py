"""`privacy-gateway`: the operator's command line.

Commands print what they did and exit non-zero with a one-line reason when they
cannot; no command prints personal data, except `principals create`, which prints
the new token once (it is never stored in clear).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from gateway.auth import NewPrincipal
from gateway.cli.audit import audit as audit_commands
from gateway.cli.identity import identity as identity_commands
from gateway.cli.pii import pii as pii_commands
from gateway.cli.privacy import certificate_commands
from gateway.cli.privacy import outbox as privacy_outbox
from gateway.cli.privacy import worker as privacy_worker
from gateway.cli.reports import report as report_command
from gateway.cli.support import cli_settings, handle_errors, run_with_services
from gateway.cli.systems import systems as systems_commands
from gateway.cli.vault import vault as vault_commands
from gateway.core.secretfiles import owner_only_dir
from gateway.core.settings import Settings
from gateway.crypto import KeyRing, load_keys
from gateway.services import Services


@click.group()
@click.version_option(package_name="order-privacy-gateway")
def main() -> None:
    """Order Privacy Gateway: the one door to customer order data."""


@main.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@handle_errors
def migrate(revision: str) -> None:
    """Bring the order store's schema up to date (Alembic)."""
    from gateway.core import migrate as migrations

    settings = cli_settings()
    if settings.is_embedded:
        # The embedded store holds personal data: owner-only directory and files.
        owner_only_dir(settings.var_dir)
    migrations.upgrade(settings.sqlalchemy_url, revision)
    database_file = make_url(settings.sqlalchemy_url).database
    if settings.is_embedded and database_file:
        for suffix in ("", "-wal", "-shm"):
            path = Path(database_file + suffix)
            if path.exists():
                path.chmod(0o600)
    click.echo(f"schema at {revision} ({_redacted_url(settings)})")


def _redacted_url(settings: Settings) -> str:
    return make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)


# uvicorn must not rewrite the client address from proxy headers (by default it believes
# X-Forwarded-For from 127.0.0.1): the gateway decides, by GATEWAY_TRUSTED_PROXIES.
SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False, "server_header": False}


@main.command()
@click.option("--host", default=None, help="Bind address [default: GATEWAY_HOST or 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: GATEWAY_PORT or 8000].")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@handle_errors
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from gateway.core import dbstate
    from gateway.core import migrate as migrations
    from gateway.services import load_gateway_policy, load_processing_record, load_retention

    settings = cli_settings()
    # Fail here, with a clear message, not inside uvicorn's worker start-up.
    policy = load_gateway_policy(settings)
    load_processing_record(settings, policy, load_retention(settings, policy))
    keys = load_keys(settings)
    migrations.check_sqlite_directory(settings.sqlalchemy_url)
    asyncio.run(dbstate.require_migrated(settings.sqlalchemy_url))
    asyncio.run(_check_keys(settings, keys))
    from gateway.cli.pii import due_warning

    warning = due_warning(settings)
    if warning is not None:
        click.echo(warning, err=True)
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        **SERVER_OPTIONS,
    )


async def _check_keys(settings: Settings, keys: KeyRing) -> None:
    """The keys are this store's (else one line and exit 2, before uvicorn starts)."""
    from gateway.core.clock import SystemClock
    from gateway.core.db import make_engine
    from gateway.subjects import check_keys

    engine = make_engine(settings.sqlalchemy_url, 1)
    try:
        await check_keys(engine, keys, SystemClock().now())
    finally:
        await engine.dispose()


@main.command()
@click.option(
    "--if-empty", is_flag=True, help="Do nothing if the store already holds orders or principals."
)
@click.option("--orders", "count", default=300, show_default=True, help="How many demo orders.")
@handle_errors
def demo(if_empty: bool, count: int) -> None:
    """Seed fake demo orders and one principal per role, printing their tokens."""
    from gateway.demo import seed_demo

    settings = cli_settings()
    # Seeded into the gateway's own store (and the demo's legacy OMS beside it) even
    # when the settings front another store: `GATEWAY_ORDER_SOURCE=legacy_oms make run`
    # on a fresh checkout seeds first, then serves the OMS's copy read-through.
    own = settings.model_copy(update={"order_source": None})
    result = run_with_services(lambda s: seed_demo(s, count, if_empty=if_empty), own)
    if result is None:
        click.echo(
            "demo data already present: nothing seeded "
            f"(tokens from the first start are in {settings.var_dir / 'demo-tokens.json'})"
        )
        return
    click.echo(f"seeded {result.orders} demo orders; demo principals and their tokens:")
    for name, role, bound_to, token in result.principals:
        scope = f" ({bound_to})" if bound_to else ""
        click.echo(f"  {role:<17} {name:<24}{scope}\n      {token}")
    click.echo(f"tokens saved to {result.tokens_file} (mode 0600); they are shown only once")
    if result.systems:
        click.echo(
            f"demo databases for the systems map's SQL systems ({', '.join(result.systems)}) "
            f"in {settings.systems_directory}: an erasure reaches them too "
            "(`privacy-gateway systems list`)"
        )
    if "legacy_oms" in result.systems:
        click.echo(
            "the legacy OMS holds the same orders in its own tables: "
            "`GATEWAY_ORDER_SOURCE=legacy_oms make run` serves them read-through"
        )
    if result.console is not None:
        name, secret = result.console
        click.echo(
            f"the DPO console is at /console/ (http://{settings.host}:{settings.port}/console/): "
            f"sign in as {name} with its token and a code of its TOTP factor (secret "
            f"{secret}, also in the tokens file; add it to an authenticator app, or "
            f"`.venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\"`)"
        )
    order, phone = result.try_privacy
    click.echo(
        f"try the privacy page (/privacy) as a demo customer: order {order}, phone {phone}; "
        "the code it sends is in `privacy-gateway outbox`"
    )


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@handle_errors
def import_(file: Path) -> None:
    """Bulk-import order documents from a JSON Lines FILE (one order per line)."""
    from gateway.orders import import_lines

    with file.open("rb") as handle:
        total = sum(1 for _ in handle)

    async def work(services: Services) -> Any:
        with (
            file.open(encoding="utf-8") as handle,
            click.progressbar(length=total, label="importing", file=sys.stderr) as bar,
        ):
            return await import_lines(services.orders, None, handle, bar.update)

    report = run_with_services(work)
    for number, reason in report.rejected:
        click.echo(f"line {number}: {reason}", err=True)
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@main.group()
def keys() -> None:
    """Key material: rotate the key-encryption key."""


@keys.command("rotate-kek")
@click.option("--batch-size", default=500, show_default=True, help="Data keys per transaction.")
@click.option("--max-batches", type=int, default=None, help="Stop after N batches (resume later).")
@handle_errors
def rotate_kek(batch_size: int, max_batches: int | None) -> None:
    """Re-wrap every data key (and second-factor secret) under a new KEK version;
    order rows are not touched.

    Resumable: run it again after an interruption and it carries on. In embedded
    mode it first creates the next KEK file; in production, provide the new KEK
    and make it active (GATEWAY_KEK_VERSION), then run this.
    """
    from gateway import keyrotation

    settings = cli_settings()

    async def work(services: Services) -> keyrotation.Rotation:
        ring, total = await keyrotation.prepare(settings, services.engine, services.keys)
        with click.progressbar(length=total, label="re-wrapping", file=sys.stderr) as bar:
            return await keyrotation.rotate(
                services.engine,
                ring,
                services.access_log,
                batch_size=batch_size,
                max_batches=max_batches,
                progress=bar.update,
            )

    done = run_with_services(work, settings)
    report = done.report
    click.echo(
        f"re-wrapped {report.rewrapped} data key(s) under KEK v{report.target_version}; "
        f"{report.remaining} remain under older versions"
    )
    if done.resealed:
        click.echo(
            f"re-sealed {done.resealed} second-factor secret(s) under KEK v{report.target_version}"
        )
    if report.remaining:
        click.echo("stopped before the end: run `privacy-gateway keys rotate-kek` again to resume")
    if done.retired:
        names = ", ".join(f"v{v}" for v in done.retired)
        click.echo(
            f"KEK {names} wraps no key any more: retire it (delete its file or drop it "
            "from GATEWAY_KEKS) once no backup you keep needs it"
        )


@main.group()
def principals() -> None:
    """Create, list and revoke API principals."""


@principals.command("create")
@click.option("--name", required=True, help="Unique name, e.g. the calling app.")
@click.option("--role", required=True, help="A role the policy knows.")
@click.option("--region", default=None, help="Region, for region-scoped roles (warehouse).")
@click.option("--channel", default=None, help="Sales channel, for channel-scoped roles.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def principals_create(
    name: str, role: str, region: str | None, channel: str | None, as_json: bool
) -> None:
    """Create a principal and print its token (shown only this once)."""
    new = NewPrincipal(name, role, region, channel)
    issued = run_with_services(lambda s: s.principals.create(new))
    p = issued.principal
    if as_json:
        body = {
            "name": p.name,
            "role": p.role,
            "region": p.region,
            "channel": p.channel,
            "token": issued.token,
        }
        click.echo(json.dumps(body))
    else:
        click.echo(f"created principal {p.name} (role {p.role}); its token, shown only once:")
        click.echo(issued.token)


@principals.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def principals_list(as_json: bool) -> None:
    """List principals (never their tokens)."""
    records = run_with_services(lambda s: s.principals.list())
    rows = [
        {
            "name": r.name,
            "role": r.role,
            "region": r.region,
            "channel": r.channel,
            "created_at": r.created_at.isoformat(),
            "revoked": r.revoked_at is not None,
        }
        for r in records
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        scope = row["region"] or row["channel"] or "-"
        click.echo(f"{row['name']:<28} {row['role']:<17} {scope:<12} {state}")


@principals.command("revoke")
@click.argument("name")
@handle_errors
def principals_revoke(name: str) -> None:
    """Revoke a principal's token (effective within GATEWAY_AUTH_CACHE_SECONDS)."""
    run_with_services(lambda s: s.principals.revoke(name))
    click.echo(f"revoked {name}")


@principals.command("reset-totp")
@click.argument("name")
@handle_errors
def principals_reset_totp(name: str) -> None:
    """Remove a principal's TOTP factor and unmask grants (a lost or replaced phone).

    The principal enrols again with POST /v1/auth/totp/enroll; no current code is
    needed then, so confirm who is asking before running this.
    """
    dropped = run_with_services(lambda s: s.factors.reset(name))
    click.echo(
        f"removed the second factor of {name} and {dropped} unmask grant(s); it may enrol again"
    )


main.add_command(audit_commands)
main.add_command(vault_commands)
main.add_command(privacy_worker)
main.add_command(privacy_outbox)
main.add_command(certificate_commands)
main.add_command(report_command)
main.add_command(pii_commands)
main.add_command(systems_commands)
main.add_command(identity_commands)
