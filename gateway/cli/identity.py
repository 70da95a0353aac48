"""`privacy-gateway identity`: the identity providers staff sign in with."""

from __future__ import annotations

import asyncio
import json
import sys

import click

from gateway.cli.support import cli_settings, handle_errors


@click.group()
def identity() -> None:
    """The OpenID Connect providers of policies/identity.toml and their mapping rules."""


@identity.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@handle_errors
def identity_check(as_json: bool) -> None:
    """Check the identity file against the policy (as start-up does), then fetch each
    issuer's discovery document and signing keys, changing nothing: a wrong issuer URL,
    a discovery document naming another issuer, no usable key, or introspection
    configured where the issuer offers none is named. Exits 1 when anything is wrong."""
    from gateway.core.clock import SystemClock
    from gateway.core.resources import shipped_dir
    from gateway.services import load_gateway_policy
    from gateway.staff import StaffSignIn, load_identity

    settings = cli_settings()
    policy = load_gateway_policy(settings)
    config = load_identity(settings.policy_dir or shipped_dir("policies"), policy)

    async def check() -> dict[str, list[str]]:
        # Pseudonyms are never needed here: no token is verified.
        sign_in = StaffSignIn(config, SystemClock(), settings.var_dir, lambda *_: "")
        try:
            return await sign_in.check()
        finally:
            await sign_in.close()

    problems = asyncio.run(check())
    rules = {"people": len(config.people), "apps": len(config.apps)}
    if as_json:
        click.echo(json.dumps({"problems": problems, "rules": rules}, indent=2))
    elif not config.issuers:
        click.echo("no issuer is declared: only the gateway's own bearer tokens are accepted")
    else:
        for issuer in config.issuers:
            found = problems[issuer.name]
            state = "ok" if not found else f"{len(found)} problem(s)"
            click.echo(f"{issuer.name}: {issuer.issuer}: {state}")
            for problem in found:
                click.echo(f"  - {problem}")
        click.echo(f"{rules['people']} people rule(s), {rules['apps']} app rule(s)")
    if any(problems.values()):
        sys.exit(1)
