"""The systems map (`policies/systems.toml`): read by `systems list`, checked at start-up.

A bad entry stops the app and every command with the file, the line and the reason;
a personal field without an erasure treatment is a gap that `systems list` names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.app import create_app
from gateway.cli import main
from gateway.core.errors import ConfigurationError
from gateway.core.resources import shipped_dir
from gateway.core.settings import Settings

GOOD_DATASET = """
[systems.crm]
name = "CRM"
owner = "Head of customer service"
purpose = "customer service history"
country = "CN"
connector = "sql"

[systems.crm.datasets.customers]
fields = [
    { name = "mobile", category = "contact", identifies = "phone", erase = "delete_row" },
    { name = "full_name", category = "name" },
]
"""


def _policies(tmp_path: Path, systems: str) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(shipped_dir("policies"), folder)
    (folder / "systems.toml").write_text(systems, encoding="utf-8")
    return folder


def _run(tmp_path: Path, policies: Path, *args: str) -> tuple[int, str]:
    env = {
        "GATEWAY_POLICY_DIR": str(policies),
        "GATEWAY_VAR_DIR": str(tmp_path / "var"),
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
    }
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_the_shipped_map_lists_every_system_with_the_gateways_own_store_first(
    tmp_path: Path,
) -> None:
    code, out = _run(tmp_path, shipped_dir("policies"), "systems", "list", "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert list(shown["systems"])[:1] == ["gateway"]
    assert {"crm", "wms", "paper_archive"} <= set(shown["systems"])
    own = shown["systems"]["gateway"]["datasets"]["orders"]["fields"]
    identities = {f["name"]: f["identifies"] for f in own if f["identifies"]}
    assert identities == {
        "customer.email": "email",
        "customer.id_number": "resident_id",
        "customer.phone": "phone",
        "external_id": "order_number",
    }
    assert shown["gaps"] == []
    assert shown["systems"]["gateway"]["country"] == "CN"  # from [own_store], not assumed
    assert shown["unplaced"] == []


def test_a_personal_field_without_a_treatment_is_a_gap_not_a_stop(tmp_path: Path) -> None:
    policies = _policies(tmp_path, GOOD_DATASET)
    code, out = _run(tmp_path, policies, "systems", "list")
    assert code == 0, out
    assert "crm: CRM (sql, CN)" in out
    assert "customers: 2 field(s); identified by mobile (phone)" in out
    assert "gap: crm.customers.full_name (name) has no erasure treatment" in out
    # A map that does not say where the gateway's own store runs: named, not assumed.
    assert "gateway: Order Privacy Gateway order store (gateway, country not stated)" in out
    assert "gap: gateway has no country" in out
    assert "3 system(s)" not in out
    assert "2 system(s); 2 gap(s)" in out


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (
            ('category = "name"', 'category = "nickname"'),
            12,
            "system 'crm', dataset 'customers', field 'full_name': unknown category "
            "'nickname' (known: ",
        ),
        (
            ('identifies = "phone", ', ""),
            9,
            "system 'crm', dataset 'customers' has no field that identifies a subject",
        ),
        (
            (
                '{ name = "full_name", category = "name" }',
                '{ name = "full_name", category = "name", erase = "keep", rule = "forever" }',
            ),
            12,
            "field 'full_name': kept on erasure under unknown retention rule 'forever' "
            "(known: ecommerce_transaction, tax_record)",
        ),
        (
            ('erase = "delete_row"', 'erase = "shred"'),
            11,
            "systems.crm.datasets.customers.fields.0.erase: Input should be 'delete_row', "
            "'null', 'mask' or 'keep'",
        ),
        (
            (
                '{ name = "full_name", category = "name" }',
                '{ name = "full_name", category = "name", erase = "keep", rule = "tax_record" }',
            ),
            9,
            "system 'crm', dataset 'customers': a row cannot be deleted and kept",
        ),
        (
            ('connector = "sql"', 'connector = "sql"\nowner_principal = "crm-team"'),
            2,
            "system 'crm': owner_principal only goes with connector = \"manual\"",
        ),
        (
            ('connector = "sql"', 'connector = "sql"\ndeadline_hours = 0'),
            2,
            "systems.crm.deadline_hours: Input should be greater than or equal to 1",
        ),
        (("[systems.crm]", "[systems.CRM]"), 2, "system 'CRM': a key is lower-case letters"),
        (('country = "CN"\n', ""), 2, "system 'crm': no country"),
    ],
)
def test_a_bad_entry_stops_start_up_with_file_line_and_reason(
    tmp_path: Path, change: tuple[str, str], line: int, reason: str
) -> None:
    text = GOOD_DATASET.replace(*change)
    if change[0] == "[systems.crm]":
        text = text.replace("[systems.crm.datasets", "[systems.CRM.datasets")
    policies = _policies(tmp_path, text)
    code, out = _run(tmp_path, policies, "systems", "list")
    assert code != 0
    assert f"systems map {policies / 'systems.toml'}: " in out
    assert f"line {line}: " in out
    assert reason in out
    assert "Traceback" not in out
    settings = Settings(
        policy_dir=policies,
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
    )
    with pytest.raises(ConfigurationError, match="systems map"):
        create_app(settings)


def test_a_reader_that_goes_away_is_no_error(tmp_path: Path) -> None:
    """`privacy-gateway systems list | head -1`: when the reader has gone, the command
    stops quietly, without an error line or a traceback about a broken pipe."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    command = Path(sys.executable).parent / "privacy-gateway"
    env = {**os.environ, "GATEWAY_VAR_DIR": str(tmp_path / "var")}
    try:
        done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [str(command), "systems", "list"],
            env=env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write)
    assert done.stderr == ""
    assert done.returncode == 1
