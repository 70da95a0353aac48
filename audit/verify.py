"""Verifying a log: one streaming pass over entries and checkpoints, in sequence order.

Works the same on entries read from the database and on an export read from a
file: memory stays flat whatever the log's length. Stops at the first problem
and names the first sequence number that cannot be trusted, and why:

- an edited entry, a swapped pair or an inserted entry breaks the hash chain at
  the first entry concerned;
- a deleted entry leaves a gap in the sequence numbers;
- a whole chain recomputed without the signing key no longer matches the heads
  the checkpoints signed (or their signatures fail): everything after the last
  checkpoint that still matches is suspect;
- a truncated tail ends before a checkpoint that vouches for a later entry, or
  before the checkpoint the verifier remembers from an earlier look.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoint import Checkpoint
from audit.entry import GENESIS_HASH, Entry, chain_hash

PROGRESS_EVERY = 10_000


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of a verification: intact, or the first bad entry and why."""

    ok: bool
    entries_checked: int
    head: dict[str, Any] | None
    last_checkpoint: dict[str, Any] | None
    first_bad_sequence: int | None
    reason: str

    def document(self) -> dict[str, Any]:
        """The report as JSON-ready data (the API's and the CLI's answer)."""
        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "head": self.head,
            "last_checkpoint": self.last_checkpoint,
            "first_bad_sequence": self.first_bad_sequence,
            "reason": self.reason,
        }


class _Failure(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def _checkpoint_doc(cp: Checkpoint | None) -> dict[str, Any] | None:
    if cp is None:
        return None
    return cp.document()


class Verifier:
    """One verification pass, fed in sequence order.

    Give it the checkpoints up to a sequence number before the entries up to that
    number (`add_checkpoints`, then `add_entry`), then call `report`. After the
    first problem it ignores further input and reports that problem.
    """

    def __init__(
        self,
        public_keys: Mapping[str, Ed25519PublicKey],
        *,
        start_seq: int = 0,
        start_hash: bytes = GENESIS_HASH,
        trusted: Checkpoint | None = None,
    ) -> None:
        self._keys = public_keys
        self._start = start_seq
        self._expected = start_seq + 1
        self._previous = start_hash
        self._trusted = trusted
        self._pending: deque[Checkpoint] = deque()
        self.checked = 0
        self._head: Entry | None = None
        self._last_good: Checkpoint | None = None
        self._failure: _Failure | None = None

    @property
    def start_seq(self) -> int:
        """The sequence number the pass starts after."""
        return self._start

    @property
    def last_checkpoint(self) -> Checkpoint | None:
        """The last checkpoint that matched the log so far (worth remembering)."""
        return self._last_good

    def fail(self, seq: int, reason: str) -> None:
        """Record a problem found outside the chain (the search index, say)."""
        if self._failure is None:
            self._failure = _Failure(seq, reason)

    @property
    def failed(self) -> bool:
        """Whether a problem was found (further input is ignored)."""
        return self._failure is not None

    def add_checkpoints(self, checkpoints: Iterable[Checkpoint]) -> None:
        """Checkpoints for entries still to come, or for the entry just added (an export
        writes each checkpoint right after the entry it vouches for)."""
        for cp in checkpoints:
            if cp.seq <= self._start or self._failure is not None:
                continue
            head = self._head
            if head is not None and cp.seq <= head.seq:
                try:
                    self._check_checkpoint(cp, head)
                except _Failure as failure:
                    self._failure = failure
                    return
                self._last_good = cp
            else:
                self._pending.append(cp)

    def add_entry(self, entry: Entry) -> None:
        """Check the next entry against the chain and any checkpoint of its sequence number."""
        if self._failure is not None:
            return
        try:
            self._step(entry)
        except _Failure as failure:
            self._failure = failure

    def _step(self, entry: Entry) -> None:
        if entry.seq != self._expected:
            if entry.seq > self._expected:
                raise _Failure(
                    self._expected,
                    f"entry {self._expected} is missing (the next entry is {entry.seq})",
                )
            raise _Failure(entry.seq, f"entry {entry.seq} is out of order or repeated")
        digest = chain_hash(self._previous, entry)
        if digest.hex() != entry.hash:
            raise _Failure(
                entry.seq,
                f"entry {entry.seq} does not match its hash: its content or its place in "
                "the chain was changed",
            )
        while self._pending and self._pending[0].seq <= entry.seq:
            cp = self._pending.popleft()
            self._check_checkpoint(cp, entry)
            self._last_good = cp
        if self._trusted is not None and self._trusted.seq == entry.seq:
            self._check_trusted(self._trusted, entry)
        self._previous = digest
        self._expected += 1
        self.checked += 1
        self._head = entry

    def _signed(self, cp: Checkpoint) -> bool:
        key = self._keys.get(cp.key_id)
        return key is not None and cp.signed_by(key)

    def _check_checkpoint(self, cp: Checkpoint, entry: Entry) -> None:
        since = (self._last_good.seq if self._last_good else self._start) + 1
        if cp.seq < entry.seq and self._head is entry:
            raise _Failure(cp.seq, f"the checkpoint at entry {cp.seq} is out of order")
        if cp.seq != entry.seq:
            raise _Failure(since, f"the checkpoint at entry {cp.seq} names no entry of the log")
        if not self._signed(cp):
            raise _Failure(
                since,
                f"the checkpoint at entry {cp.seq} is not signed by a known key "
                f"(key id {cp.key_id}): entries {since}-{cp.seq} are not vouched for",
            )
        if cp.head != entry.hash:
            raise _Failure(
                since,
                f"the checkpoint at entry {cp.seq} signed another head: entries "
                f"{since}-{cp.seq} were rewritten",
            )

    def _check_trusted(self, trusted: Checkpoint, entry: Entry) -> None:
        if not self._signed(trusted):
            raise _Failure(trusted.seq, "the remembered checkpoint's signature is invalid")
        if trusted.head != entry.hash:
            raise _Failure(
                trusted.seq,
                f"entry {trusted.seq} differs from the remembered checkpoint: the chain "
                "was rewritten",
            )

    def _finish(self) -> None:
        last = self._expected - 1
        if self._pending:
            raise _Failure(
                last + 1,
                f"the log ends at entry {last} but a checkpoint vouches for entry "
                f"{self._pending[0].seq}: entries were removed from the tail",
            )
        if self._trusted is not None and self._trusted.seq > last:
            raise _Failure(
                last + 1,
                f"the log ends at entry {last}, before the remembered checkpoint at "
                f"entry {self._trusted.seq}: entries were removed from the tail",
            )

    def report(self) -> Report:
        """The result; call after the last entry and every checkpoint were added."""
        if self._failure is None:
            try:
                self._finish()
            except _Failure as failure:
                self._failure = failure
        head = self._head
        bad = self._failure
        return Report(
            ok=bad is None,
            entries_checked=self.checked,
            head=None if head is None else {"seq": head.seq, "hash": head.hash, "at": head.at},
            last_checkpoint=_checkpoint_doc(self._last_good),
            first_bad_sequence=None if bad is None else bad.seq,
            reason="intact" if bad is None else bad.reason,
        )


def verify(
    entries: Iterable[Entry],
    checkpoints: Iterable[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    start_seq: int = 0,
    start_hash: bytes = GENESIS_HASH,
    trusted: Checkpoint | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> Report:
    """Check `entries` (in sequence order, from `start_seq + 1`) against the chain and the
    checkpoints (in sequence order, a list: there are few). `trusted` is a checkpoint
    the verifier saw before (it catches a tail truncated together with its checkpoints)."""
    verifier = Verifier(public_keys, start_seq=start_seq, start_hash=start_hash, trusted=trusted)
    verifier.add_checkpoints(checkpoints)
    for entry in entries:
        verifier.add_entry(entry)
        if verifier.failed:
            break
        if verifier.checked % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    progress(verifier.checked % PROGRESS_EVERY)
    return verifier.report()
