"""Exports: JSON Lines a verifier can check offline with nothing but the public key.

Line by line, in sequence order:

    {"type": "start", "seq": <n>, "hash": "<hex>"}        the entry before the first one
    {"type": "entry", ...the entry's fields..., "hash": "<hex>"}
    {"type": "checkpoint", "seq", "head", "at", "key_id", "signature"}   after its entry
                                  (the last entry always has one: signed at export time
                                  if the stored ones stop short of it)
    {"type": "end", "entries": <count>}

`start` lets a slice of the log be verified on its own (for the whole log it is
`{"seq": 0, "hash": <genesis>}`); `end` tells a complete file from a cut one.
Lines are UTF-8 RFC 8785 JSON, so an export is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import store
from audit.checkpoint import Checkpoint, checkpoint_from_document
from audit.entry import Entry, entry_from_document
from audit.verify import Report, Verifier


def _line(document: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(dict(document)) + b"\n"


async def export_lines(
    engine: AsyncEngine,
    first: int,
    last: int,
    *,
    seal: Callable[[int, str], Checkpoint] | None = None,
) -> AsyncIterator[bytes]:
    """Entries `first`..`last` (sequence numbers) and their checkpoints, streamed.

    `seal` signs a checkpoint for the export's last entry when the stored ones stop
    short of it, so every exported entry is vouched for by a signature.
    """
    async with engine.connect() as conn:
        start_hash = await store.hash_at(conn, first - 1)
        yield _line({"type": "start", "seq": first - 1, "hash": start_hash or ""})
        count = 0
        after = first - 1
        tail: Entry | None = None
        covered = False
        async for chunk in store.stream_chunks(conn, after, last):
            checkpoints = {cp.seq: cp for cp in await store.checkpoints(conn, after, chunk[-1].seq)}
            for entry in chunk:
                yield _line({"type": "entry", **entry.document(), "hash": entry.hash})
                covered = entry.seq in checkpoints
                if covered:
                    yield _line({"type": "checkpoint", **checkpoints[entry.seq].document()})
            count += len(chunk)
            after = chunk[-1].seq
            tail = chunk[-1]
        if seal is not None and tail is not None and not covered:
            yield _line({"type": "checkpoint", **seal(tail.seq, tail.hash).document()})
        yield _line({"type": "end", "entries": count})


class ExportError(ValueError):
    """The file is not an export (bad line, unknown type): says which line."""


def verify_export(
    lines: Iterable[bytes | str],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    trusted: Any = None,
    progress: Callable[[int], None] = lambda _: None,
) -> Report:
    """Verify an export line by line, in constant memory."""
    verifier: Verifier | None = None
    ended = False
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            document = json.loads(raw)
            kind = document.pop("type")
        except (ValueError, KeyError, AttributeError):
            raise ExportError(f"line {number} is not an export line") from None
        if kind == "start":
            verifier = Verifier(
                public_keys,
                start_seq=int(document["seq"]),
                start_hash=bytes.fromhex(document["hash"]),
                trusted=trusted,
            )
            continue
        if verifier is None:
            raise ExportError(f"line {number}: the export must begin with a start line")
        if kind == "entry":
            hash_hex = str(document.pop("hash"))
            verifier.add_entry(entry_from_document(document, hash_hex))
            if verifier.checked % 10_000 == 0:
                progress(10_000)
        elif kind == "checkpoint":
            verifier.add_checkpoints([checkpoint_from_document(document)])
        elif kind == "end":
            ended = True
        else:
            raise ExportError(f"line {number}: unknown line type {kind!r}")
    if verifier is None:
        raise ExportError("the file holds no export")
    progress(verifier.checked % 10_000)
    report = verifier.report()
    if report.ok and not ended:
        return Report(
            ok=False,
            entries_checked=report.entries_checked,
            head=report.head,
            last_checkpoint=report.last_checkpoint,
            first_bad_sequence=(report.head or {"seq": 0})["seq"] + 1,
            reason="the export has no end line: the file was cut short",
        )
    return report
