"""The audit library works on its own: a program that imports only `audit` creates the
schema, appends, checkpoints, verifies, exports and checks the export offline, and the
database refuses a rewrite. It runs in a fresh interpreter, which then proves that
nothing of `gateway` was imported on the way (the import contract checks the source;
this checks what actually loads)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

PROGRAM = textwrap.dedent(
    """
    import asyncio, json, sys
    from datetime import UTC, datetime, timedelta

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine

    import audit

    async def main(url, export_path):
        engine = create_async_engine(url)
        await audit.create_schema(engine)
        key = Ed25519PrivateKey.generate()
        clock = [datetime(2026, 1, 1, tzinfo=UTC)]
        log = audit.AuditLog(engine, key, lambda: clock[0], audit.LogPolicy(checkpoint_every=2))
        drafts = [
            audit.Draft(clock[0], "alice", "orders.read", audit.Outcome.ALLOWED, f"orders/{i}")
            for i in range(5)
        ]
        entries = await asyncio.gather(*(log.append(d) for d in drafts))
        report = await log.verify()
        with open(export_path, "wb") as out:
            async for line in audit.export_lines(engine, 1, 5, seal=log.seal, keys=log.public_keys):
                out.write(line)
        with open(export_path, "rb") as lines:
            offline = audit.verify_export(lines, {audit.key_id(key.public_key()): key.public_key()})
        try:
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE audit_entries SET actor = 'mallory'"))
            refused = False
        except DBAPIError:
            refused = True
        await log.close()
        await engine.dispose()
        print(json.dumps({
            "seqs": sorted(e.seq for e in entries),
            "ok": report.ok, "checked": report.entries_checked,
            "offline_ok": offline.ok, "offline_checked": offline.entries_checked,
            "rewrite_refused": refused,
            "gateway_loaded": sorted(m for m in sys.modules if m.split(".")[0] == "gateway"),
        }))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def test_the_library_runs_without_the_gateway(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'log.db'}"
    run = subprocess.run(  # noqa: S603 - our own program, fixed arguments
        [sys.executable, "-c", PROGRAM, url, str(tmp_path / "export.jsonl")],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result == {
        "seqs": [1, 2, 3, 4, 5],
        "ok": True,
        "checked": 5,
        "offline_ok": True,
        "offline_checked": 5,
        "rewrite_refused": True,
        "gateway_loaded": [],
    }
