"""Tampering with the stored log, on both databases, by someone who can bypass the
append-only triggers (a database superuser): every case is detected and located by
the API, by `privacy-gateway audit verify`, and offline from an export."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from audit.entry import Entry, entry_from_document
from audit.store import audit_checkpoints, audit_entries, entry_from_row
from gateway.core import migrate
from gateway.core.db import make_engine
from gateway.core.settings import Settings
from tests.helpers import SAMPLE_ORDER, Gateway, bearer, run_sql

TRIGGERS_SQLITE = [
    "audit_refs_no_update",
    "audit_refs_no_delete",
    "audit_entries_no_update",
    "audit_entries_no_delete",
    "audit_checkpoints_no_update",
    "audit_checkpoints_no_delete",
    "audit_head_forward",
]


@pytest.fixture
def fresh(empty_database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway on a new database whose log holds 20-odd entries, checkpoints every 4."""
    migrate.upgrade(Settings(database_url=empty_database_url).sqlalchemy_url)
    with Gateway.start(empty_database_url, tmp_path, audit_checkpoint_every=4) as gw:
        writer = gw.principal("channel")
        order_id = gw.create_order(writer, SAMPLE_ORDER)
        reader = gw.principal("customer_service", name="cs-1")
        gw.tokens["dpo"] = gw.principal("dpo", name="dpo-1")
        for _ in range(12):
            gw.clock.advance(seconds=1)
            assert gw.get_order(reader, order_id).status_code == 200
        yield gw


def _superuser(url: str, *statements: str) -> None:
    """Run statements with the append-only triggers out of the way."""
    if url.startswith("sqlite"):
        drops = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS_SQLITE]
        asyncio.run(run_sql(url, *drops, *statements))
    else:
        asyncio.run(run_sql(url, "SET LOCAL session_replication_role = replica", *statements))


async def _read(url: str) -> tuple[list[Entry], list[int]]:
    engine = make_engine(Settings(database_url=url).sqlalchemy_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(audit_entries).order_by(audit_entries.c.seq))
            entries = [entry_from_row(r) for r in rows]
            cps = [r.seq for r in await conn.execute(select(audit_checkpoints.c.seq))]
    finally:
        await engine.dispose()
    return entries, sorted(cps)


def _api_verify(gw: Gateway) -> dict[str, Any]:
    response = gw.client.get("/v1/audit/verify", headers=bearer(gw.tokens["dpo"]))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _offline(gw: Gateway, tmp_path: Path) -> dict[str, Any]:
    export = tmp_path / "export.jsonl"
    key = tmp_path / "key.pem"
    assert gw.cli("audit", "export", "-o", str(export)).exit_code == 0
    key.write_text(gw.cli("audit", "public-key").stdout)
    result = gw.cli("audit", "verify", "--export", str(export), "--public-key", str(key), "--json")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.exit_code == (0 if report["ok"] else 3)
    return dict(report)


def _online_cli(gw: Gateway, *extra: str) -> dict[str, Any]:
    result = gw.cli("audit", "verify", "--json", *extra)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.exit_code == (0 if report["ok"] else 3)
    return dict(report)


def test_an_untouched_log_verifies_everywhere(fresh: Gateway, tmp_path: Path) -> None:
    api = _api_verify(fresh)
    assert api["ok"] is True
    assert api["first_bad_sequence"] is None
    assert api["entries_checked"] >= 15
    assert api["last_checkpoint"]["key_id"]
    assert _online_cli(fresh)["ok"] is True
    assert _offline(fresh, tmp_path)["ok"] is True


def _swap(a: Entry, b: Entry) -> list[str]:
    def assign(target: int, source: Entry) -> str:
        doc = source.document()
        return (
            f"UPDATE audit_entries SET actor = '{doc['actor']}', action = '{doc['action']}', "
            f"resource = '{doc['resource']}', at = '{doc['at']}', hash = '{source.hash}' "
            f"WHERE seq = {target}"
        )

    return [assign(a.seq, b), assign(b.seq, a)]


CASES = ["edit", "delete", "swap", "insert", "truncate", "rewrite"]


@pytest.mark.parametrize("case", CASES)
def test_tampering_is_detected_and_located(fresh: Gateway, tmp_path: Path, case: str) -> None:
    url = fresh.settings.database_url
    entries, checkpoints = asyncio.run(_read(url))
    head = entries[-1].seq
    target = checkpoints[-2] + 1  # an entry after a good checkpoint, before the last one
    assert target < checkpoints[-1] <= head
    if case == "edit":
        _superuser(url, f"UPDATE audit_entries SET actor = 'someone-else' WHERE seq = {target}")
        expected = target
    elif case == "delete":
        _superuser(url, f"DELETE FROM audit_entries WHERE seq = {target}")
        expected = target
    elif case == "swap":
        _superuser(url, *_swap(entries[target - 1], entries[target]))
        expected = target
    elif case == "insert":
        _superuser(
            url,
            f"UPDATE audit_entries SET seq = seq + 100000 WHERE seq >= {target}",
            "UPDATE audit_entries SET seq = seq - 99999 WHERE seq >= 100000",
            "INSERT INTO audit_entries (seq, at, actor, action, outcome, resource, orders, "
            "subjects, fields, grant_id, purpose, request_id, client, details, hash) "
            f"SELECT {target}, at, 'intruder', action, outcome, resource, orders, subjects, "
            f"fields, grant_id, purpose, request_id, client, details, hash FROM audit_entries "
            f"WHERE seq = {target + 1}",
            "UPDATE audit_head SET seq = seq + 1",
        )
        expected = target
    elif case == "truncate":
        _superuser(url, f"DELETE FROM audit_entries WHERE seq >= {target}")
        expected = target
    else:  # rewrite: edit one entry and recompute every hash after it, without the key
        edited = [e for e in entries if e.seq >= target]
        edited[0] = dataclasses.replace(edited[0], actor="someone-else")
        previous = bytes.fromhex(entries[target - 2].hash)
        statements = []
        for original in edited:
            entry = original.chained(previous)
            previous = bytes.fromhex(entry.hash)
            statements.append(
                f"UPDATE audit_entries SET actor = '{entry.actor}', hash = '{entry.hash}' "
                f"WHERE seq = {entry.seq}"
            )
        statements.append(f"UPDATE audit_head SET hash = '{previous.hex()}'")
        _superuser(url, *statements)
        expected = checkpoints[-2] + 1

    api = _api_verify(fresh)
    assert api["ok"] is False
    assert api["first_bad_sequence"] == expected, api
    assert api["reason"]
    cli = _online_cli(fresh)
    assert (cli["ok"], cli["first_bad_sequence"]) == (False, expected), cli
    offline = _offline(fresh, tmp_path)
    assert (offline["ok"], offline["first_bad_sequence"]) == (False, expected), offline


def test_a_tail_cut_with_its_checkpoints_is_caught_by_a_remembered_checkpoint(
    fresh: Gateway, tmp_path: Path
) -> None:
    saved = tmp_path / "checkpoint.json"
    first = fresh.cli("audit", "verify", "--save-checkpoint", str(saved))
    assert first.exit_code == 0, first.output
    remembered = json.loads(saved.read_text())
    url = fresh.settings.database_url
    cut = remembered["seq"] - 2
    _superuser(
        url,
        f"DELETE FROM audit_entries WHERE seq > {cut}",
        f"DELETE FROM audit_checkpoints WHERE seq > {cut}",
        f"UPDATE audit_head SET seq = {cut}, checkpoint_seq = 0, checkpoint_at = NULL, "
        f"hash = (SELECT hash FROM audit_entries WHERE seq = {cut})",
    )
    # Without a memory the shortened log is self-consistent ...
    assert _online_cli(fresh)["ok"] is True
    # ... but not against the checkpoint seen before, nor in the running gateway, which
    # remembers the last checkpoint it signed.
    report = _online_cli(fresh, "--checkpoint", str(saved))
    assert (report["ok"], report["first_bad_sequence"]) == (False, cut + 1)
    assert "before the remembered checkpoint" in report["reason"]
    api = _api_verify(fresh)
    assert (api["ok"], api["first_bad_sequence"]) == (False, cut + 1)


def test_an_export_is_signed_up_to_its_last_entry(fresh: Gateway, tmp_path: Path) -> None:
    export, key = tmp_path / "export.jsonl", tmp_path / "key.pem"
    assert fresh.cli("audit", "export", "-o", str(export)).exit_code == 0
    key.write_text(fresh.cli("audit", "public-key").stdout)
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    entries = [line for line in lines if line["type"] == "entry"]
    assert lines[-2]["type"] == "checkpoint"
    assert lines[-2]["seq"] == entries[-1]["seq"]  # the tail is vouched for
    # Editing the newest entry and fixing its hash, without the key, is caught.
    last = dict(entries[-1])
    previous = bytes.fromhex(entries[-2]["hash"])
    doc = {k: v for k, v in last.items() if k not in ("type", "hash")}
    doc["actor"] = "someone-else"
    forged = entry_from_document(doc).chained(previous)
    lines[-3] = {"type": "entry", **forged.document(), "hash": forged.hash}
    export.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = fresh.cli(
        "audit", "verify", "--export", str(export), "--public-key", str(key), "--json"
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.exit_code == 3
    assert report["ok"] is False
    assert f"the checkpoint at entry {forged.seq} signed another head" in report["reason"]


def _export(fresh: Gateway, tmp_path: Path) -> tuple[list[dict[str, Any]], Path, Path]:
    export, key = tmp_path / "export.jsonl", tmp_path / "key.pem"
    assert fresh.cli("audit", "export", "-o", str(export)).exit_code == 0
    key.write_text(fresh.cli("audit", "public-key").stdout)
    return [json.loads(line) for line in export.read_text().splitlines()], export, key


def _verify_lines(fresh: Gateway, lines: list[Any], export: Path, key: Path) -> Any:
    export.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return fresh.cli("audit", "verify", "--export", str(export), "--public-key", str(key), "--json")


def test_an_export_cut_short_or_reshaped_fails(fresh: Gateway, tmp_path: Path) -> None:
    lines, export, key = _export(fresh, tmp_path)
    entries = [i for i, line in enumerate(lines) if line["type"] == "entry"]
    # The closing checkpoint dropped: the tail is no longer vouched for.
    result = _verify_lines(fresh, lines[:-2] + lines[-1:], export, key)
    assert result.exit_code == 3
    assert "no signed checkpoint vouches for the last entry" in result.stdout
    # The last entries cut (with their checkpoints), the end line kept: counts disagree.
    cut = [*lines[: entries[-3]], lines[-1]]
    result = _verify_lines(fresh, cut, export, key)
    assert result.exit_code == 3
    assert "the end line counts" in result.stdout
    # A second start line (to skip over forged entries) is not an export.
    restart = {"type": "start", "seq": lines[entries[3]]["seq"], "hash": lines[entries[3]]["hash"]}
    result = _verify_lines(fresh, [*lines[:6], restart, *lines[6:]], export, key)
    assert result.exit_code == 2
    assert "a start line may only open the export" in result.stderr
    # A damaged line is reported by number, without a traceback.
    result = _verify_lines(fresh, [*lines[:4], "{not json", *lines[4:]], export, key)
    assert result.exit_code == 2
    assert "line 5 is not a valid export line" in result.stderr
    assert "Traceback" not in result.output


def test_a_slice_is_sealed_only_when_its_chain_reaches_the_next_checkpoint(
    fresh: Gateway, tmp_path: Path
) -> None:
    url = fresh.settings.database_url
    entries, checkpoints = asyncio.run(_read(url))
    before, after = checkpoints[-2], checkpoints[-1]
    last = next(e for e in entries if before + 1 < e.seq < after - 1)
    until = datetime.fromisoformat(last.at.replace("Z", "+00:00")) + timedelta(seconds=1)
    until_text = until.strftime("%Y-%m-%dT%H:%M:%S%z")
    export, key = tmp_path / "slice.jsonl", tmp_path / "key.pem"
    key.write_text(fresh.cli("audit", "public-key").stdout)

    def offline() -> dict[str, Any]:
        assert fresh.cli("audit", "export", "--until", until_text, "-o", str(export)).exit_code == 0
        result = fresh.cli(
            "audit", "verify", "--export", str(export), "--public-key", str(key), "--json"
        )
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    intact = offline()
    assert intact["ok"] is True, intact
    assert intact["head"]["seq"] == last.seq
    # Rewrite the slice's tail from the checkpoint before it, re-chained without the key
    # up to the slice's end: the export must not vouch for it.
    previous = bytes.fromhex(entries[before - 1].hash)
    statements = []
    for original in entries[before : last.seq]:
        changed = (
            original
            if original.seq != before + 1
            else dataclasses.replace(original, actor="someone-else")
        )
        entry = changed.chained(previous)
        previous = bytes.fromhex(entry.hash)
        statements.append(
            f"UPDATE audit_entries SET actor = '{entry.actor}', hash = '{entry.hash}' "
            f"WHERE seq = {entry.seq}"
        )
    _superuser(url, *statements)
    report = offline()
    assert report["ok"] is False
    assert "no signed checkpoint vouches for the last entry" in report["reason"]


def test_an_edited_search_index_is_caught_online(fresh: Gateway) -> None:
    url = fresh.settings.database_url
    entries, _ = asyncio.run(_read(url))
    target = next(e for e in entries if e.orders and e.seq > 5)
    _superuser(url, f"DELETE FROM audit_refs WHERE kind = 'order' AND seq = {target.seq}")
    api = _api_verify(fresh)
    assert (api["ok"], api["first_bad_sequence"]) == (False, target.seq)
    assert api["reason"] == f"the search index of entry {target.seq} does not match the entry"
    cli = _online_cli(fresh)
    assert (cli["ok"], cli["first_bad_sequence"]) == (False, target.seq)
