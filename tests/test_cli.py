"""The operator's command line, run through click against real databases."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import main
from tests.helpers import SAMPLE_ORDER, Gateway, bearer, sample_order


def test_principals_create_list_and_revoke(gateway: Gateway) -> None:
    created = gateway.cli(
        "principals",
        "create",
        "--name",
        "wh-1",
        "--role",
        "warehouse",
        "--region",
        "north",
        "--json",
    )
    assert created.exit_code == 0
    body = json.loads(created.output)
    assert body["name"] == "wh-1"
    assert body["role"] == "warehouse"
    assert body["region"] == "north"
    assert body["token"].startswith("opg_")
    assert gateway.client.get("/v1/orders", headers=bearer(body["token"])).status_code == 200

    plain = gateway.cli("principals", "create", "--name", "cs-1", "--role", "customer_service")
    assert plain.exit_code == 0
    assert "shown only once" in plain.output

    listed = gateway.cli("principals", "list", "--json")
    rows = json.loads(listed.output)
    assert [r["name"] for r in rows] == ["cs-1", "wh-1"]
    assert body["token"] not in listed.output
    assert all(not r["revoked"] for r in rows)

    assert gateway.cli("principals", "revoke", "wh-1").exit_code == 0
    rows = json.loads(gateway.cli("principals", "list", "--json").output)
    assert [r["revoked"] for r in rows] == [False, True]
    again = gateway.cli("principals", "revoke", "wh-1")
    assert again.exit_code == 1
    assert "no active principal named 'wh-1'" in again.output


def test_principals_create_refuses_bad_requests(gateway: Gateway) -> None:
    cases = [
        (["--name", "x", "--role", "superuser"], "role: unknown role; the policy knows: admin"),
        (["--name", "x", "--role", "warehouse"], "region: role 'warehouse' reads one region"),
        (["--name", "x", "--role", "channel"], "channel: role 'channel' writes one channel"),
        (["--name", "bad name!", "--role", "analyst"], "name: must be 1-100 letters"),
        (["--name", "x", "--role", "warehouse", "--region", "North!"], "region: must be 1-32"),
        (["--name", "x", "--role", "channel", "--channel", "Web"], "channel: must be 1-32"),
    ]
    for args, message in cases:
        result = gateway.cli("principals", "create", *args)
        assert result.exit_code == 1, args
        assert message in result.output
    assert gateway.cli("principals", "create", "--name", "dup", "--role", "analyst").exit_code == 0
    dup = gateway.cli("principals", "create", "--name", "dup", "--role", "analyst")
    assert dup.exit_code == 1
    assert "already exists" in dup.output
    assert json.loads(gateway.cli("principals", "list", "--json").output)[0]["name"] == "dup"


def test_import_keeps_good_lines_and_reports_bad_ones_by_number(
    gateway: Gateway, tmp_path: Path
) -> None:
    lines = [
        json.dumps(sample_order(external_id="IMP-1"), ensure_ascii=False),
        "{not json",
        "",
        json.dumps(sample_order(external_id="IMP-2", **{"customer.phone": "99999"})),
        json.dumps(sample_order(external_id="IMP-3", region="south"), ensure_ascii=False),
        json.dumps(sample_order(external_id="IMP-1", total_amount="1.00")),
        "[1, 2]",
    ]
    file = tmp_path / "orders.jsonl"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = gateway.cli("import", str(file))
    assert result.exit_code == 1
    out = result.output
    assert "line 2: not valid JSON" in out
    assert "line 4: customer.phone: phone must be a mainland mobile" in out
    assert "line 6: an order with this channel and external_id exists" in out
    assert "line 7: not a JSON object" in out
    assert "7 line(s) read: 2 created, 0 already present and unchanged, 4 rejected" in out
    for value in ("99999", "张三", "13812345678", "zhangsan@example.com"):
        assert value not in out
    assert gateway.count_orders() == 2

    rerun = gateway.cli("import", str(file))
    assert "0 created, 2 already present and unchanged, 4 rejected" in rerun.output
    assert gateway.count_orders() == 2


def test_import_of_a_clean_file_exits_zero_and_orders_are_readable(
    gateway: Gateway, tmp_path: Path
) -> None:
    file = tmp_path / "clean.jsonl"
    docs = [sample_order(external_id=f"CLEAN-{n}") for n in range(450)]
    file.write_text("\n".join(json.dumps(d) for d in docs), encoding="utf-8")
    result = gateway.cli("import", str(file))
    assert result.exit_code == 0, result.output
    assert "450 line(s) read: 450 created" in result.output
    reader = gateway.principal("analyst")
    page = gateway.client.get("/v1/orders?limit=100", headers=bearer(reader)).json()
    assert len(page["items"]) == 100
    assert page["next_cursor"]


def test_demo_seeds_once_and_saves_tokens_owner_only(gateway: Gateway) -> None:
    tokens_file = gateway.settings.var_dir / "demo-tokens.json"
    tokens_file.parent.mkdir(parents=True, exist_ok=True)
    tokens_file.parent.chmod(0o755)
    tokens_file.write_text("stale")
    tokens_file.chmod(0o644)  # an old, too-open file is tightened before it is rewritten
    first = gateway.cli("demo", "--if-empty", "--orders", "25")
    assert first.exit_code == 0, first.output
    assert "seeded 25 demo orders" in first.output
    assert stat.S_IMODE(tokens_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(tokens_file.parent.stat().st_mode) == 0o700
    tokens = json.loads(tokens_file.read_text())
    assert {t["role"] for t in tokens} >= {"customer_service", "warehouse", "dpo", "channel"}
    for entry in tokens:
        assert entry["token"] in first.output
    cs = next(t["token"] for t in tokens if t["role"] == "customer_service")
    page = gateway.client.get("/v1/orders?limit=100", headers=bearer(cs)).json()
    assert len(page["items"]) == 25
    assert all(o["customer"]["phone"].startswith("139****") for o in page["items"])
    # The demo DPO signs in to the console: its factor is active, its secret saved.
    dpo = next(t for t in tokens if t["role"] == "dpo")
    assert "the DPO console is at /console/" in first.output
    assert f"sign in as {dpo['name']}" in first.output
    assert dpo["totp_secret"] in first.output
    factor = gateway.client.get("/v1/auth/totp", headers=bearer(dpo["token"])).json()
    assert factor["state"] == "active"
    assert [t for t in tokens if "totp_secret" in t] == [dpo]
    # The demo customer it names can go through the privacy page's flow.
    tried = re.search(r"order (\S+), phone (\d+);", first.output)
    assert tried is not None
    request_id, _ = gateway.submit_privacy(contact=tried[2], order_id=tried[1])
    assert [m["to"] for m in gateway.outbox() if m["request_id"] == request_id] == [tried[2]]

    second = gateway.cli("demo", "--if-empty")
    assert second.exit_code == 0
    assert "already present" in second.output
    assert gateway.count_orders() == 25


def test_migrate_creates_the_schema_and_serve_refuses_an_old_one(tmp_path: Path) -> None:
    env = {"GATEWAY_VAR_DIR": str(tmp_path / "var"), "GATEWAY_DATABASE_URL": ""}
    runner = CliRunner()
    unreachable = {**env, "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/x.db"}
    refused = runner.invoke(main, ["serve"], env=unreachable)
    assert refused.exit_code == 2
    assert "cannot open the database" in refused.output
    assert "run `privacy-gateway migrate`" in refused.output
    stale = runner.invoke(main, ["serve"], env=env)
    assert stale.exit_code == 2
    assert "the database is not migrated: run `privacy-gateway migrate`" in stale.output
    done = runner.invoke(main, ["migrate"], env=env)
    assert done.exit_code == 0, done.output
    database = tmp_path / "var" / "gateway.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh"
    env["GATEWAY_VAR_DIR"] = str(fresh)
    assert runner.invoke(main, ["migrate"], env=env).exit_code == 0
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700


def test_bad_settings_stop_every_command_with_a_clear_message(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {
        "GATEWAY_PORT": "eighty",
        "GATEWAY_DATABASE_URL": "mysql://x",
        "GATEWAY_VAR_DIR": str(tmp_path),
    }
    result = runner.invoke(main, ["migrate"], env=env)
    assert result.exit_code == 2
    assert "GATEWAY_PORT: Input should be a valid integer" in result.output
    assert (
        "GATEWAY_DATABASE_URL: Value error, must be a sqlite:/// or postgresql:// URL"
        in result.output
    )


def test_sample_order_round_trip_via_cli_import_matches_api_write(
    gateway: Gateway, tmp_path: Path
) -> None:
    file = tmp_path / "one.jsonl"
    file.write_text(json.dumps(SAMPLE_ORDER, ensure_ascii=False), encoding="utf-8")
    assert gateway.cli("import", str(file)).exit_code == 0
    writer = gateway.principal("channel")
    # The API sees the imported order as the same document: idempotent replay.
    assert gateway.post_order(writer, SAMPLE_ORDER).status_code == 200


def test_a_first_command_before_migrate_leaves_var_owner_only(tmp_path: Path) -> None:
    """Whatever the first command is (here one that fails: the schema is missing), the
    embedded store's directory, database file and any generated key are owner-only."""
    var = tmp_path / "var"
    command = Path(sys.executable).parent / "privacy-gateway"
    env = {**os.environ, "GATEWAY_VAR_DIR": str(var), "GATEWAY_DATABASE_URL": ""}
    for args in (["principals", "list"], ["audit", "verify"]):
        done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [str(command), *args], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode != 0  # nothing to list or verify before `migrate`
        assert "migrate" in done.stderr
    created = [var, *var.rglob("*")]
    assert any(path.is_file() for path in created)  # the command did create files
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in created}
    assert modes == {name: 0o700 if (tmp_path / name).is_dir() else 0o600 for name in modes}, modes


def test_worker_once_prints_its_summary_once(gateway: Gateway) -> None:
    gateway.create_order(gateway.principal("channel"), SAMPLE_ORDER)
    request_id, token = gateway.submit_privacy()
    verified = gateway.verify_privacy(request_id, token, gateway.code_for(request_id))
    assert verified.status_code == 200, verified.text
    first = gateway.cli("worker", "--once")
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == ["done: 1 request(s) completed"]
    assert gateway.privacy_status(request_id, token)["state"] == "completed"
    again = gateway.cli("worker", "--once")
    assert again.stdout.splitlines() == ["done: 0 request(s) completed"]
