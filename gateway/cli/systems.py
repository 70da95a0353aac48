"""`privacy-gateway systems`: the systems map that whole-chain requests reach."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict

import click

from gateway.cli.support import cli_settings, handle_errors
from gateway.systems import SystemsMap


@click.group()
def systems() -> None:
    """Every system that holds customer data (policies/systems.toml, and this gateway's
    own store), as whole-chain erasure and access requests reach them."""


def _load() -> SystemsMap:
    from gateway.services import load_gateway_policy, load_retention, load_systems_map

    settings = cli_settings()
    policy = load_gateway_policy(settings)
    return load_systems_map(settings, policy, load_retention(settings, policy))


@systems.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the map as JSON.")
@handle_errors
def systems_list(as_json: bool) -> None:
    """Print the map: each system, where it is, how it is reached, and its datasets with
    the fields that identify a subject; then the gaps (personal fields with no erasure
    treatment). Reads the files only: no system is contacted."""
    found = _load()
    if as_json:
        shown = {
            "systems": {key: s.model_dump() for key, s in found.systems.items()},
            "unplaced": found.unplaced(),
            "gaps": [asdict(gap) for gap in found.gaps()],
        }
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    for key, system in found.systems.items():
        where = system.country or "country not stated"
        click.echo(f"{key}: {system.name} ({system.connector}, {where})")
        click.echo(f"  owner: {system.owner}; purpose: {system.purpose}")
        for name, dataset in system.datasets.items():
            ids = ", ".join(f"{f.name} ({f.identifies})" for f in dataset.identities)
            click.echo(f"  {name}: {len(dataset.fields)} field(s); identified by {ids}")
    gaps, unplaced = found.gaps(), found.unplaced()
    click.echo(f"{len(found.systems)} system(s); {len(gaps) + len(unplaced)} gap(s)")
    for key in unplaced:
        click.echo(f'  gap: {key} has no country (state it: [own_store] country = "CN")')
    for gap in gaps:
        click.echo(
            f"  gap: {gap.system}.{gap.dataset}.{gap.field} ({gap.category}) has no "
            "erasure treatment"
        )


@systems.command("check")
@click.option("--system", "only", default=None, help="Check this system only (its key).")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@handle_errors
def systems_check(only: str | None, as_json: bool) -> None:
    """Connect to each system and check the map against it, changing nothing: a SQL
    system's tables and columns (a missing one named, a NOT NULL column the map would
    null), a webhook system's URL, secret and the datasets it says it serves, and every
    missing connection file; for a system with a `[systems.<key>.vault]` section, the
    columns the vault would take that cannot hold a token. Exits 1 when anything is
    wrong."""
    from gateway.services import load_gateway_policy
    from gateway.systems import OWN_STORE, ConnectorFailed, FileConnections, connector_for
    from gateway.vault import plan_of, unfit

    settings = cli_settings()
    found = _load()
    classification = load_gateway_policy(settings).classification
    keys = [k for k in found.systems if k != OWN_STORE and (only is None or k == only)]
    if only is not None and not keys:
        known = ", ".join(k for k in found.systems if k != OWN_STORE) or "none"
        raise click.UsageError(f"no system {only!r} in the map (systems: {known})")
    connections = FileConnections(settings.systems_directory, settings.systems_callback_url)

    async def check(key: str) -> list[str]:
        system = found.systems[key]
        try:
            connector = connector_for(key, system, connections)
            try:
                problems = await connector.check()
            finally:
                await connector.close()
            if system.vault is not None and system.orders is not None:
                plan = plan_of(key, system, classification)
                problems += await unfit(plan, connections.url(key))
        except ConnectorFailed as exc:
            return [exc.reason]
        return problems

    problems = {key: asyncio.run(check(key)) for key in keys}
    if as_json:
        click.echo(json.dumps({"problems": problems}, ensure_ascii=False, indent=2))
    else:
        for key, found_problems in problems.items():
            system = found.systems[key]
            state = "ok" if not found_problems else f"{len(found_problems)} problem(s)"
            click.echo(f"{key}: {system.name} ({system.connector}): {state}")
            for problem in found_problems:
                click.echo(f"  - {problem}")
    if any(problems.values()):
        sys.exit(1)
