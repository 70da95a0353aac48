"""An export cut short, written and read: what the command says agrees with the file.

Written: a full disk (`/dev/full`) or a file-size limit stops `audit export` part-way;
it says how many entries the file holds, up to which one they are signed, and the
command that gets the rest, and the file holds exactly that, in whole lines. Read:
`audit verify --export` on such a file gives the same numbers and the same command,
and that command's export holds the rest, joined on where the file's signature ends.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from audit import GENESIS_HASH
from audit.entry import entry_from_document
from gateway.core import migrate
from gateway.core.settings import Settings
from tests.auditing.test_tamper import _export, _verify_lines, fresh
from tests.helpers import Gateway, bearer

__all__ = ["fresh"]  # the tamper tests' fixture: a new database, checkpoints every 4
CAP = 6000  # bytes: the file-size limit of the command below, well short of its export


def _rest(gw: Gateway, command: str, out: Path, key: Path) -> tuple[list[dict[str, Any]], str]:
    """Run the command a cut-short export named (to `out`); its lines and its verdict."""
    args = shlex.split(command)
    assert args[:3] == ["privacy-gateway", "audit", "export"]
    args[args.index("-o") + 1] = str(out)
    done = gw.cli(*args[1:])
    assert done.exit_code == 0, done.output
    verdict = gw.cli("audit", "verify", "--export", str(out), "--public-key", str(key))
    assert verdict.exit_code == 0, verdict.output
    return [json.loads(line) for line in out.read_text().splitlines()], verdict.stdout


def test_verifying_a_file_cut_short_says_what_it_holds_and_how_to_get_the_rest(
    fresh: Gateway, tmp_path: Path
) -> None:
    lines, export, key = _export(fresh, tmp_path)
    signed = [line["seq"] for line in lines if line["type"] == "checkpoint"][1]
    entries = {line["seq"]: (i, line) for i, line in enumerate(lines) if line["type"] == "entry"}
    cut = entries[signed + 2][0] + 1  # two entries past the second checkpoint
    resume = entries[signed + 1][1]["at"][:19] + "Z"
    result = _verify_lines(fresh, lines[:cut], export, key)
    report = json.loads(result.stdout)
    assert result.exit_code == 3
    assert (report["entries_checked"], report["first_bad_sequence"]) == (signed + 2, signed + 1)
    shown = fresh.cli("audit", "verify", "--export", str(export), "--public-key", str(key))
    assert shown.exit_code == 3
    command = f"privacy-gateway audit export --since {resume} -o REST.jsonl"
    assert shown.stdout.splitlines() == [
        "CUT SHORT: the export has no end line: the file was cut short",
        f"  the file holds entries 1-{signed + 2}; entries 1-{signed} signed",
        f"  to get the rest: {command}",
    ]
    rest, verdict = _rest(fresh, command, tmp_path / "rest.jsonl", key)
    assert verdict.startswith("intact: ")
    start, held = rest[0], [line["seq"] for line in rest if line["type"] == "entry"]
    # It picks up at or before the file's last signed entry (the command line's own
    # entries run on the real clock, this log's reads on the test's), up to the head.
    assert start["type"] == "start"
    assert held[0] == start["seq"] + 1 <= signed + 1
    assert held[-1] > max(entries)
    joined = entries[start["seq"]][1]["hash"] if start["seq"] else GENESIS_HASH.hex()
    assert start["hash"] == joined


def test_an_export_to_a_full_disk_says_it_wrote_nothing(fresh: Gateway, tmp_path: Path) -> None:
    result = fresh.cli("audit", "export", "--since", "2026-01-01", "-o", "/dev/full")
    assert result.exit_code == 1
    planned = int(result.stderr.split(" of ", 1)[1].split(" ", 1)[0])
    again = fresh.cli("audit", "export", "--since", "2026-01-01", "-o", str(tmp_path / "x"))
    # The same export with room: the same entries, and the failed export's own entry.
    assert again.stdout == f"exported {planned + 1} entries to {tmp_path / 'x'}\n"
    assert result.stderr.splitlines() == [
        f"error: the export was cut short (No space left on device) after 0 of {planned} "
        "entries: /dev/full holds no entry and no end line, so it does not verify as complete",
        "to get the rest: privacy-gateway audit export --since 2026-01-01T00:00:00Z -o REST.jsonl",
    ]
    assert result.stdout == ""


def _capped(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real command, in a process that may not write files past CAP bytes."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (CAP, CAP))

    command = Path(sys.executable).parent / "privacy-gateway"
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [str(command), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=cap,  # one limit set before exec, nothing else
    )


def test_an_export_stopped_by_a_size_limit_says_what_the_file_holds(
    empty_postgresql_url: str, tmp_path: Path
) -> None:
    """PostgreSQL only: the limit is the command's own, and an embedded SQLite store
    would be written by the same process (its file is past the limit already)."""
    url = empty_postgresql_url  # a log of its own, from entry 1
    migrate.upgrade(Settings(database_url=url).sqlalchemy_url)
    with Gateway.start(url, tmp_path, audit_checkpoint_every=4) as gw:
        reader = gw.principal("dpo")
        for _ in range(30):
            searched = gw.client.get("/v1/audit/events?limit=1", headers=bearer(reader))
            assert searched.status_code == 200
        key = tmp_path / "key.pem"
        key.write_text(gw.cli("audit", "public-key").stdout)
        out = tmp_path / "capped.jsonl"
        env = {**os.environ, **gw.env, "PYTHONDONTWRITEBYTECODE": "1"}
        done = _capped("audit", "export", "-o", str(out), env=env)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert out.stat().st_size <= CAP
        lines = [json.loads(line) for line in out.read_text().splitlines()]  # whole lines only
        entries = [line for line in lines if line["type"] == "entry"]
        signed = [line["seq"] for line in lines if line["type"] == "checkpoint"][-1]
        first_unsigned = next(e for e in entries if e["seq"] == signed + 1)
        told = done.stderr.splitlines()
        assert told[0].startswith(
            f"error: the export was cut short (File too large) after {len(entries)} of "
        )
        assert told[0].endswith(
            f"entries: {out} holds entries 1-{entries[-1]['seq']} (signed up to entry "
            f"{signed}) and no end line, so it does not verify as complete"
        )
        command = f"privacy-gateway audit export --since {first_unsigned['at'][:19]}Z -o REST.jsonl"
        assert told[1:] == [f"to get the rest: {command}"]
        assert lines[-1]["type"] != "end"
        # Verifying the file says the same, and the command it names gets the rest.
        shown = gw.cli("audit", "verify", "--export", str(out), "--public-key", str(key))
        assert shown.stdout.splitlines()[1:] == [
            f"  the file holds entries 1-{entries[-1]['seq']}; entries 1-{signed} signed",
            f"  to get the rest: {command}",
        ]
        rest, verdict = _rest(gw, command, tmp_path / "rest.jsonl", key)
        assert verdict.startswith("intact: ")
        assert rest[0]["seq"] <= signed


def test_a_rewritten_tail_counts_only_the_entries_before_it_as_holding(
    fresh: Gateway, tmp_path: Path
) -> None:
    """The first bad entry of a rewrite is where the last good signature ends, not where
    the reading stopped: the entries said to hold are those before it."""
    lines, export, key = _export(fresh, tmp_path)
    entries = [i for i, line in enumerate(lines) if line["type"] == "entry"]
    last = lines[entries[-1]]
    signed = [line["seq"] for line in lines if line["type"] == "checkpoint"][-2]
    doc = {k: v for k, v in last.items() if k not in ("type", "hash")}
    doc["actor"] = "someone-else"
    forged = entry_from_document(doc).chained(bytes.fromhex(lines[entries[-2]]["hash"]))
    lines[entries[-1]] = {"type": "entry", **forged.document(), "hash": forged.hash}
    _verify_lines(fresh, lines, export, key)
    shown = fresh.cli("audit", "verify", "--export", str(export), "--public-key", str(key))
    assert shown.exit_code == 3
    assert shown.stdout.splitlines() == [
        f"TAMPERED: first bad entry {signed + 1}: the checkpoint at entry {forged.seq} signed "
        f"another head: entries {signed + 1}-{forged.seq} were rewritten "
        f"({signed} entries before it hold)"
    ]
