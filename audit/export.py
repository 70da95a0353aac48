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

import dataclasses
import json
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit import store
from audit.checkpoint import Checkpoint, checkpoint_from_document
from audit.entry import Entry, chain_hash, entry_from_document
from audit.errors import AuditError
from audit.verify import PROGRESS_EVERY, Report, Verifier


def _line(document: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(dict(document)) + b"\n"


async def export_lines(
    engine: AsyncEngine,
    first: int,
    last: int,
    *,
    seal: Callable[[int, str], Checkpoint] | None = None,
    keys: Mapping[str, Ed25519PublicKey] | None = None,
) -> AsyncGenerator[bytes, None]:
    """Entries `first`..`last` (sequence numbers) and their checkpoints, streamed.

    `seal` signs a checkpoint for the export's last entry when the stored ones stop
    short of it, so every exported entry is vouched for by a signature. It signs
    only what it can stand behind: when a stored checkpoint follows the export,
    the chain from the last exported entry up to it must reach the head it signed
    (checked with `keys`), else the export ends unsealed and fails verification.
    """
    async with store.snapshot(engine) as conn:
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
        if (
            seal is not None
            and tail is not None
            and not covered
            and await _reaches_next_checkpoint(conn, tail, keys or {})
        ):
            yield _line({"type": "checkpoint", **seal(tail.seq, tail.hash).document()})
        yield _line({"type": "end", "entries": count})


async def _reaches_next_checkpoint(
    conn: AsyncConnection, tail: Entry, keys: Mapping[str, Ed25519PublicKey]
) -> bool:
    """Does the chain from `tail` reach the next stored checkpoint's signed head?
    True when there is none: `tail` is then the head, which checkpoints sign as found."""
    following = await store.next_checkpoint(conn, tail.seq)
    if following is None:
        return True
    key = keys.get(following.key_id)
    if key is None or not following.signed_by(key):
        return False
    previous = bytes.fromhex(tail.hash)
    async for chunk in store.stream_chunks(conn, tail.seq, following.seq):
        for entry in chunk:
            previous = chain_hash(previous, entry)
    return previous.hex() == following.head


class ExportError(AuditError, ValueError):
    """The file is not an export (bad line, unknown type): says which line."""


@dataclass(frozen=True, slots=True)
class ExportReport(Report):
    """A verified export: the report, and, for a file cut short (no end line, a count
    that disagrees, a tail no signature vouches for), where to export again from.

    `resume_from` is the time of the first entry the file does not vouch for (of its
    last entry, when it vouches for all it holds): an export from then on holds the rest.
    """

    cut_short: bool = False
    resume_from: str | None = None


class _ExportReader:
    """The state of reading one export: its verifier, and what its shape promised."""

    def __init__(
        self, public_keys: Mapping[str, Ed25519PublicKey], trusted: Checkpoint | None
    ) -> None:
        self._keys = public_keys
        self._trusted = trusted
        self.verifier: Verifier | None = None
        self.end_count: int | None = None
        self._unvouched_at: str | None = None  # the first entry after the last checkpoint
        self._last_at: str | None = None

    def line(self, number: int, document: dict[str, Any]) -> None:
        if self.end_count is not None:
            raise ExportError(f"line {number}: nothing may follow the end line")
        kind = document.pop("type")
        if kind == "start":
            if self.verifier is not None or number != 1:
                raise ExportError(f"line {number}: a start line may only open the export")
            self.verifier = Verifier(
                self._keys,
                start_seq=int(document["seq"]),
                start_hash=bytes.fromhex(document["hash"]),
                trusted=self._trusted,
            )
            return
        if self.verifier is None:
            raise ExportError(f"line {number}: the export must begin with a start line")
        if kind == "entry":
            hash_hex = str(document.pop("hash"))
            entry = entry_from_document(document, hash_hex)
            self.verifier.add_entry(entry)
            vouched = self.verifier.last_checkpoint
            if entry.seq == (self.verifier.start_seq if vouched is None else vouched.seq) + 1:
                self._unvouched_at = entry.at
            self._last_at = entry.at
        elif kind == "checkpoint":
            self.verifier.add_checkpoints([checkpoint_from_document(document)])
        elif kind == "end":
            self.end_count = int(document["entries"])
        else:
            raise ExportError(f"line {number}: unknown line type {kind!r}")

    def report(self) -> ExportReport:
        if self.verifier is None:
            raise ExportError("the file holds no export")
        report = ExportReport(**self.verifier.report().document())
        head = report.head
        vouched = (report.last_checkpoint or {}).get("seq")
        if not report.ok:
            return report
        if self.end_count is None:
            cut = "the export has no end line: the file was cut short"
        elif self.end_count != report.entries_checked:
            cut = (
                f"the end line counts {self.end_count} entries but the file holds "
                f"{report.entries_checked}"
            )
        elif head is not None and vouched != head["seq"]:
            cut = f"no signed checkpoint vouches for the last entry ({head['seq']})"
        else:
            return report
        first_bad = (vouched or self.verifier.start_seq) + 1
        last = head["seq"] if head else self.verifier.start_seq
        return dataclasses.replace(
            report,
            ok=False,
            first_bad_sequence=first_bad,
            reason=cut,
            cut_short=True,
            resume_from=self._unvouched_at if first_bad <= last else self._last_at,
        )


def verify_export(
    lines: Iterable[bytes | str],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    trusted: Checkpoint | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> ExportReport:
    """Verify an export line by line, in constant memory.

    Beyond the chain and its checkpoints, the file's own shape is checked: one
    `start` line first, an `end` line last whose count matches, and a signed
    checkpoint vouching for the last entry. A file cut short, or with its tail
    edited and the closing checkpoint dropped, fails.
    """
    reader = _ExportReader(public_keys, trusted)
    reported = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            reader.line(number, json.loads(raw))
        except ExportError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ExportError(f"line {number} is not a valid export line") from None
        checked = reader.verifier.checked if reader.verifier else 0
        if checked - reported >= PROGRESS_EVERY:
            progress(checked - reported)
            reported = checked
    report = reader.report()
    progress(report.entries_checked - reported)
    return report
