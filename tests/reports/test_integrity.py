"""`audit-integrity` and the command line: a whole log, a tampered log, and the CLI's
report equal to the API's."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from sqlalchemy import select

from audit.entry import format_time
from audit.store import audit_checkpoints
from gateway.cli import main
from gateway.core.db import make_engine
from tests.auditing.test_tamper import _read, _superuser, fresh
from tests.helpers import Gateway, bearer

__all__ = ["fresh"]  # the tamper tests' fixture: a new database, checkpoints every 4
PERIOD = {"since": "2026-11-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"}


def _integrity(gw: Gateway, **params: str) -> dict[str, object]:
    response = gw.client.get(
        "/v1/reports/audit-integrity",
        params={**PERIOD, **params},
        headers=bearer(gw.tokens["dpo"]),
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _checkpoints(url: str, column: str = "head") -> list[tuple[int, str]]:
    """(seq, `column`) of every stored checkpoint, read straight from the database."""

    async def read() -> list[tuple[int, str]]:
        engine = make_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                query = select(audit_checkpoints.c.seq, audit_checkpoints.c[column])
                return sorted((int(s), v) for s, v in await conn.execute(query))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_whole_log_verifies_and_names_its_key_and_checkpoints(fresh: Gateway) -> None:
    body = _integrity(fresh)
    verification = body["verification"]
    assert isinstance(verification, dict)
    assert verification["ok"] is True
    head = body["chain_head"]
    assert isinstance(head, dict)
    assert verification["entries_checked"] >= head["seq"]
    # The fingerprint is the one anyone computes from the published public key.
    pem = fresh.cli("audit", "public-key").output.encode()
    raw = load_pem_public_key(pem).public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = body["public_key"]
    assert isinstance(key, dict)
    assert key["fingerprint_sha256"] == hashlib.sha256(raw).hexdigest()
    stored = _checkpoints(fresh.settings.sqlalchemy_url)
    listed = body["checkpoints"]
    assert isinstance(listed, list)
    assert [(c["seq"], c["head"]) for c in listed] == [c for c in stored if c[0] <= head["seq"]]
    assert len(listed) >= 3


def test_a_tampered_log_is_reported_with_the_first_bad_entry(fresh: Gateway) -> None:
    url = fresh.settings.database_url
    _, checkpoints = asyncio.run(_read(url))
    target = checkpoints[-2] + 1
    edit = f"UPDATE audit_entries SET actor = 'someone-else' WHERE seq = {target}"  # noqa: S608
    _superuser(url, edit)
    verification = _integrity(fresh)["verification"]
    assert isinstance(verification, dict)
    assert (verification["ok"], verification["first_bad_sequence"]) == (False, target)
    audit = fresh.client.get(
        "/v1/reports/pipl-audit", params=PERIOD, headers=bearer(fresh.tokens["dpo"])
    ).json()
    assert {"severity": "high", "code": "log_integrity_failed", "subject": str(target)} in audit[
        "findings"
    ]


def test_the_command_line_writes_the_same_report_and_says_what_it_did(
    fresh: Gateway, tmp_path: Path
) -> None:
    out = tmp_path / "access.csv"
    args = ["--since", "2026-11-01", "--until", "2027-01-01"]
    result = fresh.cli("report", "access", "--format", "csv", "--lang", "zh", "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    assert "access: 2026-11-01T00:00:00+00:00 to 2027-01-01T00:00:00+00:00" in result.stderr
    assert result.stdout == ""
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows[0][:2] == ["主体", "角色"]
    api = fresh.client.get(
        "/v1/reports/access", params=PERIOD, headers=bearer(fresh.tokens["dpo"])
    ).json()
    assert [(r[0], int(r[3])) for r in rows[1:]] == [
        (p["principal"], p["records"]) for p in api["principals"]
    ]
    assert ("cs-1", 12) in [(r[0], int(r[3])) for r in rows[1:]]
    # Logged as the operator, like every command.
    events = fresh.client.get(
        "/v1/audit/events", params={"action": "report.access"}, headers=bearer(fresh.tokens["dpo"])
    ).json()["items"]
    assert [e["actor"] for e in events] == ["dpo-1", "operator"]
    assert events[1]["details"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    stdout = fresh.cli("report", "pipl-pia", *args)
    assert json.loads(stdout.stdout)["report"] == "pipl-pia"
    assert "pipl-pia: " in stdout.stderr
    refused = fresh.cli("report", "pipl-audit", "--format", "csv")
    assert refused.exit_code == 2
    assert "--format: pipl-audit is not a table: use json or html" in refused.stderr
    bad = fresh.cli("report", "access", "--since", "2026-11-01T00:00:00")
    assert bad.exit_code == 2
    assert "give a time zone" in bad.output


def test_a_form_a_report_lacks_is_refused_before_any_work(tmp_path: Path) -> None:
    """No store behind the command at all: the option alone decides, so nothing is
    opened, generated or verified before the refusal."""
    var = tmp_path / "var"
    env = {"GATEWAY_VAR_DIR": str(var), "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/no/x.db"}
    for name in ("pipl-audit", "pipl-pia"):
        result = CliRunner().invoke(main, ["report", name, "--format", "csv"], env=env)
        assert result.exit_code == 2
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert lines[-1] == (
            f"Error: Invalid value for --format: {name} is not a table: use json or html"
        )
        assert not any("verifying" in line or "database" in line for line in lines)
    assert not (var / "keys").exists()  # no key generated: the store was never opened
    listed = " ".join(CliRunner().invoke(main, ["report", "--help"], env=env).stdout.split())
    assert "csv for the reports that are a table: gdpr-ropa, dsr-register, access, " in listed


def test_a_period_is_verified_from_the_last_signed_checkpoint_before_it(fresh: Gateway) -> None:
    url = fresh.settings.database_url
    # Past the real time of the command line's entries (principals), then a second apart.
    fresh.clock.advance(days=90)
    start = fresh.clock.now()
    for _ in range(12):
        fresh.clock.advance(seconds=1)
        searched = fresh.client.get("/v1/audit/events?limit=1", headers=bearer(fresh.tokens["dpo"]))
        assert searched.status_code == 200
    since = start + timedelta(seconds=5)
    later = since.isoformat()
    entries, _ = asyncio.run(_read(url))
    checkpoints = _checkpoints(fresh.settings.sqlalchemy_url, "at")
    first = min(e.seq for e in entries if e.at >= format_time(since))
    anchor_seq = max(seq for seq, _ in checkpoints if seq < first)  # the last signed before it
    assert 2 < anchor_seq < checkpoints[-1][0]
    body = _integrity(fresh, since=later, until="2028-01-01T00:00:00Z")
    verification = body["verification"]
    assert isinstance(verification, dict)
    assert verification["ok"] is True
    assert verification["from_seq"] == anchor_seq + 1 == verification["anchor"]["seq"] + 1
    assert verification["entries_checked"] == verification["head"]["seq"] - anchor_seq
    # Tampering before the anchor is outside the period's verification, and says so by
    # where it started; verifying from the beginning finds it.
    edit = "UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2"
    _superuser(url, edit)
    assert (
        _integrity(fresh, since=later, until="2028-01-01T00:00:00Z")["verification"]["ok"] is True
    )  # type: ignore[index]
    whole = _integrity(fresh)["verification"]
    assert isinstance(whole, dict)
    assert (whole["ok"], whole["from_seq"], whole["first_bad_sequence"]) == (False, 1, 2)
    # An anchor whose entry was changed, or one that was forged, vouches for nothing.
    _superuser(url, f"UPDATE audit_entries SET hash = '{'1' * 64}' WHERE seq = {anchor_seq}")  # noqa: S608
    changed = _integrity(fresh, since=later, until="2028-01-01T00:00:00Z")["verification"]
    assert isinstance(changed, dict)
    assert changed["ok"] is False
    assert f"entry {anchor_seq} differs from the checkpoint that signed it" in changed["reason"]
    forged = f"UPDATE audit_checkpoints SET head = '{'0' * 64}' WHERE seq = {anchor_seq}"  # noqa: S608
    _superuser(url, forged)
    refused = _integrity(fresh, since=later, until="2028-01-01T00:00:00Z")["verification"]
    assert isinstance(refused, dict)
    assert (refused["ok"], refused["first_bad_sequence"]) == (False, anchor_seq)
    assert "not signed by a known key" in refused["reason"]


def test_long_verifications_report_their_progress(fresh: Gateway, tmp_path: Path) -> None:
    seen: list[int] = []
    rendered = fresh.in_app(
        lambda: fresh.services.reports.generate(None, "audit-integrity", progress=seen.append)
    )
    checked = json.loads(rendered.body)["verification"]["entries_checked"]
    assert checked > 0
    assert sum(seen) == checked  # told of every entry verified
    out = tmp_path / "integrity.json"
    result = fresh.cli("report", "audit-integrity", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "audit-integrity: verifying the log" in result.stderr
    assert json.loads(out.read_text("utf-8"))["verification"]["ok"] is True
    quiet = fresh.cli("report", "access", "-o", str(tmp_path / "access.json"))
    assert "verifying" not in quiet.stderr  # nothing to verify, no bar
