"""Appending to the log with group commit, and signing checkpoints as it grows.

`AuditLog.append(draft)` returns only once the entry is committed. Appends from
concurrent requests share one transaction: one writer task per process takes
every pending draft (up to `max_batch`), chains the drafts in order from the
head, inserts them, moves the head and commits once, then releases all the
waiting callers together. While a commit is in flight the next batch collects,
so under load batches grow by themselves; `window_seconds` can add a short wait
to collect more. How a commit reaches each database, and how writers in several
processes still build one chain, is `audit.backends`.

If the commit fails, every caller of that batch gets `LogUnavailable`: the
caller must then not disclose what it was about to log (fail closed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import store
from audit.backends import Backend, Batch, backend_for
from audit.checkpoint import Checkpoint, key_id, sign
from audit.entry import GENESIS_HASH, Draft, Entry, format_time
from audit.errors import AuditError
from audit.verify import Report, Verifier


class LogUnavailable(AuditError):
    """The log could not be written; whatever was to be logged must not happen."""


class InvalidDraft(LogUnavailable):
    """This one draft cannot be stored (a value too long, details not JSON): it is refused
    before it joins a batch, so it can never make the other entries of a commit fail."""


@dataclass(frozen=True, slots=True)
class LogPolicy:
    """When to commit and when to sign."""

    max_batch: int = 512
    window_seconds: float = 0.0
    checkpoint_every: int = 1000
    checkpoint_seconds: float = 60.0


_Pending = tuple[Draft, "asyncio.Future[Entry]"]


def raise_into(batch: list[_Pending], reason: str) -> None:
    """Every caller of `batch` gets `LogUnavailable`: they must not disclose."""
    for _, future in batch:
        if not future.done():
            future.set_exception(LogUnavailable(reason))


class AuditLog:
    """The append side of the log: entries go in, each with its place in the hash chain.

    Concurrent `append` calls share one commit (group commit): a single writer task
    takes every draft waiting, commits them in one transaction and signs a checkpoint
    when the policy says so. A caller gets its entry only once it is committed, or
    `LogUnavailable`, in which case whatever was to be logged must not happen.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        signing_key: Ed25519PrivateKey,
        now: Callable[[], datetime],
        policy: LogPolicy | None = None,
    ) -> None:
        self._engine = engine
        self._key = signing_key
        self._now = now
        self._policy = policy or LogPolicy()
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        self._backend: Backend | None = None
        self._wake: asyncio.Event | None = None
        # The newest checkpoint this process signed or verified: its memory of the log.
        self.last_checkpoint: Checkpoint | None = None
        self.commits = 0

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half of the signing key: what verifies this log's checkpoints."""
        return self._key.public_key()

    async def append(self, draft: Draft) -> Entry:
        """Log `draft`; return the committed entry, or raise `LogUnavailable`."""
        problem = store.draft_problem(draft)
        if problem is not None:
            raise InvalidDraft(problem)
        future: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        self._pending.append((draft, future))
        self._ensure_writer().set()
        return await future

    def _ensure_writer(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._wake = asyncio.Event()
            self._writer = loop.create_task(self._run(self._wake), name="audit-writer")
        assert self._wake is not None  # noqa: S101 - set just above
        return self._wake

    async def _run(self, wake: asyncio.Event) -> None:
        while True:
            # asyncio.timeout, not wait_for: no extra task per batch on this hot loop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._policy.checkpoint_seconds):
                    await wake.wait()
            wake.clear()
            if not self._pending:
                await self._checkpoint_if_due()
                continue
            if self._policy.window_seconds and len(self._pending) < self._policy.max_batch:
                await asyncio.sleep(self._policy.window_seconds)
            batch = self._pending[: self._policy.max_batch]
            del self._pending[: len(batch)]
            await self._write(batch)
            if self._pending:
                wake.set()

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            entries = await self._commit([draft for draft, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                raise_into(batch, type(exc).__name__)
                return
            # One bad draft must not fail the others: commit them one by one, so only
            # the entry that cannot be written (or every one, if the store is down) fails.
            for pending in batch:
                await self._write([pending])
            return
        except BaseException as exc:  # cancelled: nothing of the batch is known to be logged
            raise_into(batch, type(exc).__name__)
            raise
        for (_, future), entry in zip(batch, entries, strict=True):
            if not future.done():
                future.set_result(entry)

    async def _commit(self, drafts: list[Draft]) -> list[Entry]:
        def plan(head: store.Head) -> Batch:
            previous = bytes.fromhex(head.hash)
            entries = []
            for offset, draft in enumerate(drafts, start=1):
                entry = Entry.from_draft(head.seq + offset, draft).chained(previous)
                previous = bytes.fromhex(entry.hash)
                entries.append(entry)
            last = entries[-1]
            return self._batch(
                head, entries, last.seq, last.hash, self._due(head, last.seq, last.hash)
            )

        batch = await self._storage().commit(plan)
        assert batch is not None  # noqa: S101 - this plan always returns a batch
        self.commits += 1
        if batch.checkpoint is not None:
            self.last_checkpoint = batch.checkpoint
        return batch.entries

    @staticmethod
    def _batch(
        head: store.Head, entries: list[Entry], seq: int, hash_hex: str, cp: Checkpoint | None
    ) -> Batch:
        return Batch(
            entries=entries,
            checkpoint=cp,
            seq=seq,
            hash=hash_hex,
            checkpoint_seq=head.checkpoint_seq if cp is None else cp.seq,
            checkpoint_at=head.checkpoint_at if cp is None else cp.at,
        )

    def _storage(self) -> Backend:
        if self._backend is None:
            self._backend = backend_for(self._engine)
        return self._backend

    def _due(self, head: store.Head, seq: int, hash_hex: str) -> Checkpoint | None:
        now = self._now()
        by_count = seq - head.checkpoint_seq >= self._policy.checkpoint_every
        by_time = seq > head.checkpoint_seq and (
            head.checkpoint_at is None
            or _parse(head.checkpoint_at) + timedelta(seconds=self._policy.checkpoint_seconds)
            <= now
        )
        return sign(self._key, seq, hash_hex, format_time(now)) if by_count or by_time else None

    async def _checkpoint_if_due(self) -> None:
        with contextlib.suppress(Exception):  # retried at the next wake-up
            await self.checkpoint(force=False)

    async def checkpoint(self, *, force: bool = True) -> Checkpoint | None:
        """Sign the current head now (or only when due); None when nothing new to sign."""

        def plan(head: store.Head) -> Batch | None:
            if head.seq == head.checkpoint_seq:
                return None
            cp = (
                sign(self._key, head.seq, head.hash, format_time(self._now()))
                if force
                else self._due(head, head.seq, head.hash)
            )
            return None if cp is None else self._batch(head, [], head.seq, head.hash, cp)

        batch = await self._storage().commit(plan)
        if batch is None:
            return None
        self.last_checkpoint = batch.checkpoint
        return batch.checkpoint

    @property
    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """The keys this log's checkpoints verify with (by key id)."""
        return {key_id(self.public_key): self.public_key}

    async def _check_anchor(
        self, anchor: Checkpoint, keys: Mapping[str, Ed25519PublicKey]
    ) -> Report | None:
        """None if the anchor can be verified from: signed by a known key, and naming
        the stored entry it vouches for (a log cut back before it fails here)."""
        key = keys.get(anchor.key_id)
        if key is None or not anchor.signed_by(key):
            reason = f"the checkpoint at entry {anchor.seq} is not signed by a known key"
        else:
            async with store.snapshot(self._engine) as conn:
                stored = await store.hash_at(conn, anchor.seq)
            if stored == anchor.head:
                return None
            reason = (
                f"entry {anchor.seq} is missing"
                if stored is None
                else f"entry {anchor.seq} differs from the checkpoint that signed it"
            )
        return Report(
            ok=False,
            entries_checked=0,
            head=None,
            last_checkpoint=None,
            first_bad_sequence=anchor.seq,
            reason=f"{reason}: nothing after it can be vouched for",
        )

    def seal(self, seq: int, head: str) -> Checkpoint:
        """A checkpoint for `seq` signed now and not stored (an export's last entry)."""
        return sign(self._key, seq, head, format_time(self._now()))

    async def verify(
        self,
        public_keys: Mapping[str, Ed25519PublicKey] | None = None,
        *,
        trusted: Checkpoint | None = None,
        anchor: Checkpoint | None = None,
        progress: Callable[[int], None] = lambda _: None,
    ) -> Report:
        """Verify the stored log in one streaming pass. Without `trusted`, the last
        checkpoint this process signed or saw stands in for the verifier's memory.

        Without `anchor`, the whole log, from the genesis hash. With a stored checkpoint
        as `anchor` (its signature checked first), only the entries after it, chained
        from the head it signed: how a report verifies its period without re-hashing
        years of log. What came before the anchor is then not covered, and the report
        says where it started."""
        keys = public_keys or self.public_keys
        start_seq, start_hash = 0, GENESIS_HASH
        if anchor is not None:
            refused = await self._check_anchor(anchor, keys)
            if refused is not None:
                return refused
            start_seq, start_hash = anchor.seq, bytes.fromhex(anchor.head)
        verifier = Verifier(
            keys,
            start_seq=start_seq,
            start_hash=start_hash,
            trusted=trusted or self.last_checkpoint,
        )
        async with store.snapshot(self._engine) as conn:
            after = start_seq
            async for chunk in store.stream_chunks(conn, after=start_seq):
                verifier.add_checkpoints(await store.checkpoints(conn, after, chunk[-1].seq))
                for entry in chunk:
                    verifier.add_entry(entry)
                _check_refs(
                    verifier, chunk, await store.refs_between(conn, chunk[0].seq, chunk[-1].seq)
                )
                progress(len(chunk))
                if verifier.failed:
                    return verifier.report()
                after = chunk[-1].seq
            verifier.add_checkpoints(await store.checkpoints(conn, after))
        report = verifier.report()
        seen = verifier.last_checkpoint
        newer = seen is not None and (
            self.last_checkpoint is None or seen.seq > self.last_checkpoint.seq
        )
        if report.ok and newer:
            self.last_checkpoint = seen
        return report

    async def close(self) -> None:
        """Stop the writer; drafts not yet written fail (their callers are told)."""
        writer, self._writer = self._writer, None
        if writer is not None and not writer.done():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await writer
        for _, future in self._pending:
            if not future.done():
                future.set_exception(LogUnavailable("the log is closing"))
        self._pending.clear()
        backend, self._backend = self._backend, None
        if backend is not None:
            await backend.close()


def _check_refs(verifier: Verifier, chunk: list[Entry], stored: set[tuple[str, str, int]]) -> None:
    """The search index must say what the entries say: a missing or extra ref would hide
    an entry from (or add one to) a search by order or subject."""
    expected = set(store.ref_values(chunk))
    if stored != expected:
        seq = min(q for _, _, q in stored ^ expected)
        verifier.fail(seq, f"the search index of entry {seq} does not match the entry")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
