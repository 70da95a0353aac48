"""The shipped map as `make run` serves it (demo databases for its SQL systems, the paper
archive waiting for a person), and `privacy-gateway systems check` against real
systems: every problem named precisely, nothing changed."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main
from gateway.core.resources import shipped_dir
from gateway.core.settings import Settings
from gateway.demo.systems import seed_systems
from gateway.services import load_gateway_policy, load_retention, load_systems_map
from gateway.vault import is_token
from tests.helpers import Gateway, bearer, own_store_policies
from tests.systems.chain import CRM_MAP, connect, fetch, new_database, seed_crm
from tests.systems.receiver import MAP as MAILER_MAP
from tests.systems.receiver import Receiver, serve


def test_the_demo_erasure_reaches_the_shipped_maps_systems(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    with Gateway.start(clean_sqlite_url, tmp_path, policy_dir=shipped_dir("policies")) as gw:
        seeded = gw.cli("demo", "--orders", "20")
        assert seeded.exit_code == 0, seeded.output
        assert (
            "demo databases for the systems map's SQL systems (legacy_oms, crm, wms)"
            in seeded.output
        )
        assert "GATEWAY_ORDER_SOURCE=legacy_oms" in seeded.output
        checked = gw.cli("systems", "check")
        assert checked.exit_code == 0, checked.output
        assert checked.output.count(": ok") == 4
        tried = re.search(r"order (\S+), phone (\d+);", seeded.output)
        assert tried is not None
        order, phone = tried[1], tried[2]
        crm = f"sqlite:///{gw.settings.systems_directory / 'crm.db'}"
        found = f"SELECT count(*) FROM customers WHERE mobile = '{phone}'"  # noqa: S608
        assert fetch(crm, found) == [(1,)]

        request_id, token = gw.submit_privacy(contact=phone, order_id=order)
        assert gw.verify_privacy(request_id, token, gw.code_for(request_id)).status_code == 200
        assert gw.run_privacy_worker() == 0  # the paper archive waits for a person
        tokens = json.loads((gw.settings.var_dir / "demo-tokens.json").read_text())
        dpo = next(t["token"] for t in tokens if t["role"] == "dpo")
        view = gw.client.get(f"/v1/privacy/register/{request_id}", headers=bearer(dpo)).json()
        parts = {p["system"]: p for p in view["systems"]}
        assert {k: parts[k]["status"] for k in ("crm", "wms", "legacy_oms")} == dict.fromkeys(
            ("crm", "wms", "legacy_oms"), "done"
        )
        assert "erase the subject's records in receipts" in parts["paper_archive"]["task"]
        assert fetch(crm, found) == [(0,)]

        recorded = gw.client.post(
            f"/v1/privacy/register/{request_id}/systems/paper_archive/complete",
            json={"action": "nothing_found", "done_on": "2026-11-20", "reference": "BOX 2026-11"},
            headers=bearer(dpo),
        )
        assert recorded.status_code == 200, recorded.text
        assert gw.run_privacy_worker() == 1
        assert gw.privacy_status(request_id, token)["state"] == "completed"
        certificate = gw.client.get(
            f"/v1/privacy/requests/{request_id}/certificate", headers={"X-Status-Token": token}
        ).json()["certificate"]
        results = {e["system"]: (e["method"], e["result"]) for e in certificate["systems"]}
        assert results == {
            "gateway": ("gateway", "erased"),
            "crm": ("sql", "erased"),
            "wms": ("sql", "erased"),
            "paper_archive": ("manual", "nothing_found"),
            "legacy_oms": ("sql", "erased"),
        }
        archive = certificate["systems"][3]["searched_again"]
        assert (
            archive == "not possible (manual): the record of the person who did it is the evidence"
        )


def test_the_demo_serves_its_legacy_oms_read_through(clean_sqlite_url: str, tmp_path: Path) -> None:
    shipped = shipped_dir("policies")
    with Gateway.start(clean_sqlite_url, tmp_path, policy_dir=shipped) as gw:
        seeded = gw.cli("demo", "--orders", "30")
        assert seeded.exit_code == 0, seeded.output
        own = gw.client.get("/v1/orders?limit=100", headers=bearer(gw.principal("analyst"))).json()
    with Gateway.start(  # the same store and keys, now fronting the legacy OMS
        clean_sqlite_url,
        tmp_path,
        policy_dir=shipped,
        systems_dir=gw.settings.systems_directory,
        order_source="legacy_oms",
    ) as through:
        analyst = through.principal("analyst", name="analyst-2")
        read = through.client.get("/v1/orders?limit=100", headers=bearer(analyst)).json()
    strip = ("order_id",)
    assert [{k: v for k, v in o.items() if k not in strip} for o in read["items"]] == [
        {k: v for k, v in o.items() if k not in strip} for o in own["items"]
    ]
    assert all(o["order_id"][14] == "8" for o in read["items"])  # ids that carry the key


def test_the_demo_fronts_and_vaults_its_legacy_oms_from_a_fresh_start(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    """`GATEWAY_ORDER_SOURCE=legacy_oms make run` on a fresh checkout seeds, then serves
    the OMS read-through; `vault backfill` then leaves it tokens and the reads alike."""
    with Gateway.start(
        clean_sqlite_url,
        tmp_path,
        policy_dir=shipped_dir("policies"),
        systems_dir=tmp_path / "var" / "systems",
        order_source="legacy_oms",
    ) as gw:
        seeded = gw.cli("demo", "--orders", "30")
        assert seeded.exit_code == 0, seeded.output
        analyst = gw.principal("analyst", name="analyst-vault")
        before = gw.client.get("/v1/orders?limit=100", headers=bearer(analyst)).json()["items"]
        assert len(before) == 30
        moved = gw.cli("vault", "backfill", "--system", "legacy_oms", "--json")
        assert moved.exit_code == 0, moved.output
        assert json.loads(moved.output.strip().splitlines()[-1])["clear_remaining"] == 0
        after = gw.client.get("/v1/orders?limit=100", headers=bearer(analyst)).json()["items"]
        assert after == before
        url = f"sqlite:///{tmp_path / 'var' / 'systems' / 'legacy_oms.db'}"
        assert all(is_token(m) for (m,) in fetch(url, "SELECT mobile FROM customers"))


def _check(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["systems", "check", *args], env=env)
    return result.exit_code, result.output


def test_check_names_every_problem_and_changes_nothing(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(own_store_policies(), policies)
    broken = CRM_MAP.replace('name = "full_name"', 'name = "display_name"')
    archive = CRM_MAP.replace("systems.crm", "systems.crm_archive")
    (policies / "systems.toml").write_text(broken + archive + MAILER_MAP, encoding="utf-8")
    systems = tmp_path / "systems"
    env = {
        "GATEWAY_VAR_DIR": str(tmp_path / "var"),
        "GATEWAY_POLICY_DIR": str(policies),
        "GATEWAY_SYSTEMS_DIR": str(systems),
    }
    secret = "s" * 40
    with new_database("mariadb", tmp_path) as url, serve(Receiver(secret.encode(), _now)) as mailer:
        seed_crm(url)
        connect(systems, "crm", url)
        connect(systems, "mailer", mailer.url, secret)
        before = fetch(url, "SELECT * FROM customers ORDER BY customer_id")
        code, output = _check(env)
        assert code == 1
        assert output.splitlines() == [
            "crm: Customer CRM (sql): 1 problem(s)",
            "  - dataset 'customers': table 'customers' has no column 'display_name'",
            "crm_archive: Customer CRM (sql): 1 problem(s)",
            "  - no connection file crm_archive.url in the systems directory (GATEWAY_SYSTEMS_DIR)",
            "mailer: Marketing e-mail tool (webhook): ok",
        ]
        assert fetch(url, "SELECT * FROM customers ORDER BY customer_id") == before
        assert [job["type"] for job in mailer.jobs] == ["check"]
        assert "identities" not in mailer.jobs[0]  # a check carries no personal data

        code, output = _check(env, "--system", "mailer", "--json")
        assert (code, json.loads(output)) == (0, {"problems": {"mailer": []}})
        code, output = _check(env, "--system", "wms")
        assert code == 2
        assert "no system 'wms' in the map (systems: crm, crm_archive, mailer)" in output
        (systems / "mailer.url").chmod(0o644)
        code, output = _check(env, "--system", "mailer")
        assert "connection file mailer.url is readable by others" in output


def _now() -> datetime:
    return datetime.now(UTC)  # `systems check` signs with the machine's clock


def test_demo_databases_never_replace_an_operators_connection(tmp_path: Path) -> None:
    systems = tmp_path / "systems"
    connect(systems, "crm", "postgresql://erasure@crm-db/crm")
    settings = Settings(var_dir=tmp_path / "var")
    policy = load_gateway_policy(settings)
    shipped = load_systems_map(settings, policy, load_retention(settings, policy))
    created = seed_systems(shipped, systems, [])
    assert created == ["wms"]
    assert (systems / "crm.url").read_text() == "postgresql://erasure@crm-db/crm"
    assert not (systems / "crm.db").exists()
    with sqlite3.connect(systems / "wms.db") as db:
        assert db.execute("SELECT count(*) FROM shipments").fetchone() == (0,)
