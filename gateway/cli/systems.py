"""`privacy-gateway systems`: the systems map that whole-chain requests reach."""

from __future__ import annotations

import json
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
