"""A gateway that trusts the suite's OpenID provider: its identity file, and a clock set
to the provider's (real) time, which the test then moves as it likes."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.helpers import Gateway, bearer, own_store_policies
from tests.identity.idp import TestIdP

INTROSPECTOR_SECRET_FILE = "introspector.secret"


def identity_file(
    idp: TestIdP,
    *,
    name: str = "corp",
    issuer_extra: str = "",
    step_up: bool = True,
    introspection: bool = False,
    rules: str | None = None,
) -> str:
    """The suite's mapping: cs-agents are customer service, warehouse-east the east
    warehouse (region from the `region` claim), batch-exporter an auditor app."""
    text = f"""
[[issuers]]
name = "{name}"
issuer = "{idp.issuer}"
audience = "{idp.resource}"
{issuer_extra}
"""
    if step_up:
        text += f'\n[issuers.step_up]\nacr_values = ["{idp.acr_mfa}"]\nmax_age_seconds = 300\n'
    if introspection:
        text += (
            "\n[issuers.introspection]\n"
            'client_id = "gateway-introspector"\n'
            f'secret_file = "{INTROSPECTOR_SECRET_FILE}"\n'
            "cache_seconds = 30\n"
        )
    if rules is None:
        rules = suite_rules(name)
    return text + rules


def suite_rules(name: str = "corp") -> str:
    """The suite's mapping rules: cs-agents are customer service, warehouse-east the east
    warehouse (region from the `region` claim), batch-exporter an auditor app."""
    return f"""
[[people]]
issuer = "{name}"
group = "cs-agents"
role = "customer_service"

[[people]]
issuer = "{name}"
group = "warehouse-east"
role = "warehouse"
region_claim = "region"

[[apps]]
issuer = "{name}"
client_id = "batch-exporter"
role = "auditor"
"""


def staff_policies(text: str, folder: Path) -> Path:
    """A copy of the shipped policies in `folder` with `text` as its identity file. A copy:
    `own_store_policies()` is one folder for the whole session, and an identity file
    written there would give every later test, any file's, this provider's sign-in."""
    shutil.copytree(own_store_policies(), folder, dirs_exist_ok=True)
    (folder / "identity.toml").write_text(text, encoding="utf-8")
    return folder


@contextmanager
def staff_gateway(
    database_url: str, tmp_path: Path, idp: TestIdP, text: str | None = None, **overrides: Any
) -> Iterator[Gateway]:
    """A gateway on `database_url` whose identity file is `text` (the suite's by default)."""
    var_dir = tmp_path / "var"
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = idp.clients["gateway-introspector"].secret
    (var_dir / INTROSPECTOR_SECRET_FILE).write_text(secret or "", encoding="utf-8")
    policies = staff_policies(
        text if text is not None else identity_file(idp), tmp_path / "policies"
    )
    with Gateway.start(database_url, tmp_path, policy_dir=policies, **overrides) as gw:
        now = datetime.now(UTC)
        gw.clock.advance(seconds=(now - gw.clock.now()).total_seconds())
        yield gw


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (what the test knows the provider put in)."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def header_of(token: str) -> dict[str, Any]:
    part = token.split(".", maxsplit=1)[0]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _search(gw: Gateway, token: str, params: dict[str, str]) -> list[dict[str, Any]]:
    found = gw.client.get("/v1/audit/events", params=params, headers=bearer(token))
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return items


def entries(gw: Gateway, token: str, **params: str) -> list[dict[str, Any]]:
    """Audit entries as the log search returns them, to a reader of the log: only those
    this gateway wrote, after its start-up's `identity.load`. The log is append-only, so
    the session's database still holds every earlier test's entries, any file's."""
    [started] = _search(gw, token, {"action": "identity.load", "limit": "1"})
    return [e for e in _search(gw, token, params) if e["seq"] > started["seq"]]
