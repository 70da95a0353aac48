"""Seeding the demo: fake orders through the import path, one principal per role."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyotp

from gateway.auth import NewPrincipal, count_principals
from gateway.core.errors import ConfigurationError
from gateway.core.principal import Principal
from gateway.core.secretfiles import write_secret_file
from gateway.demo.data import DEMO_PRINCIPALS, demo_orders
from gateway.demo.legacy import LEGACY_KEY, seed_legacy
from gateway.demo.systems import seed_systems
from gateway.orders import count_orders, import_lines

if TYPE_CHECKING:
    from gateway.services import Services


@dataclass(frozen=True)
class DemoResult:
    orders: int
    principals: list[tuple[str, str, str | None, str]]  # name, role, scope, token
    tokens_file: Path
    # A fake customer to try the /privacy page with: (order number, phone).
    try_privacy: tuple[str, str]
    systems: list[str]  # the map's SQL systems given a demo database
    # The demo DPO who signs in to the console: (name, TOTP secret); None if none was made.
    console: tuple[str, str] | None = None


async def seed_demo(services: Services, count: int, *, if_empty: bool) -> DemoResult | None:
    """Fake orders through the import path and one principal per role, tokens saved
    owner-only; with `if_empty`, nothing when the store already holds data."""
    async with services.engine.connect() as conn:
        existing = await count_orders(conn) + await count_principals(conn)
    if if_empty and existing:
        return None
    documents = list(demo_orders(count))
    lines = (json.dumps(order, ensure_ascii=False) for order in documents)
    report = await import_lines(services.orders, None, lines)
    if not report.ok:
        raise ConfigurationError(f"demo data did not import cleanly: {report.rejected[:3]}")
    issued = []
    console: tuple[str, str] | None = None
    for name, role, region, channel in DEMO_PRINCIPALS:
        principal = await services.principals.create(NewPrincipal(name, role, region, channel))
        issued.append((name, role, region or channel, principal.token))
        if role == "dpo" and console is None:
            console = (name, await _console_factor(services, principal.principal))
    saved: list[dict[str, str | None]] = [
        {"name": n, "role": r, "scope": g, "token": t} for n, r, g, t in issued
    ]
    for entry in saved:
        if console is not None and entry["name"] == console[0]:
            entry["totp_secret"] = console[1]
    tokens_file = services.settings.var_dir / "demo-tokens.json"
    write_secret_file(tokens_file, json.dumps(saved, indent=2))
    first = documents[0]
    directory = services.settings.systems_directory
    legacy = LEGACY_KEY in services.systems.systems and seed_legacy(directory, documents)
    systems = [LEGACY_KEY] * legacy + seed_systems(services.systems, directory, documents)
    return DemoResult(
        report.created + report.unchanged,
        issued,
        tokens_file,
        (first["external_id"], first["customer"]["phone"]),
        systems,
        console,
    )


async def _console_factor(services: Services, principal: Principal) -> str:
    """The demo DPO's TOTP factor, enrolled and activated, so the console's sign-in can
    be tried at once: its secret goes to the owner-only demo file, as the tokens do."""
    enrolled = await services.factors.enroll(principal, None)
    code = pyotp.TOTP(enrolled.secret).at(services.clock.now())
    await services.factors.activate(principal, code)
    return enrolled.secret
