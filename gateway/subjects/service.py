"""Data keys per subject, and linking an order's customer to a subject without plaintext.

Unwrapped data keys are cached in memory for a short while (never written
anywhere), so reading a subject's orders does not unwrap its key each time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.core.clock import Clock
from gateway.core.readpath import AsyncReader, Reader
from gateway.crypto import (
    DecryptionFailed,
    KeyRing,
    blind_index,
    decrypt_field,
    encrypt_field,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from gateway.subjects import store
from gateway.subjects.store import KeyRow

DEK_VERSION = 1
_CACHE_LIMIT = 50_000
# The identifiers that decide who a subject is: the contacts a request can be verified by.
DECIDING_KINDS = ("phone", "email")
# Candidate links recorded for one order at most: a shared phone is not a crowd.
MAX_CANDIDATE_LINKS = 20


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """A subject's usable data key (None once shredded)."""

    subject_id: uuid.UUID
    dek: bytes | None
    dek_version: int


@dataclass(frozen=True, slots=True)
class Linked:
    """The subject an order was filed under, and the subjects newly recorded as candidate
    links of it (they share a contact; a DPO decides whether they are one person)."""

    key: SubjectKey
    candidates: tuple[uuid.UUID, ...] = ()


class SubjectKeys:
    """Data subjects' keys: create, unwrap (cached briefly), shred; and linking orders to
    records by the identity rules."""

    def __init__(self, keys: KeyRing, clock: Clock, cache_seconds: float = 60.0) -> None:
        self._keys = keys
        self._clock = clock
        self._ttl = timedelta(seconds=cache_seconds)
        self._cache: dict[tuple[uuid.UUID, int], tuple[bytes, datetime]] = {}

    def new_key(self, subject_id: uuid.UUID) -> tuple[bytes, KeyRow]:
        dek = new_data_key()
        version = self._keys.active_kek_version
        wrapped = wrap_data_key(
            self._keys.kek(version), dek, subject_id=subject_id, kek_version=version
        )
        return dek, KeyRow(subject_id, DEK_VERSION, version, wrapped)

    def unwrap(self, row: KeyRow) -> SubjectKey:
        if row.wrapped_key is None:
            return SubjectKey(row.subject_id, None, row.dek_version)
        now = self._clock.now()
        cache_key = (row.subject_id, row.kek_version)
        cached = self._cache.get(cache_key)
        if cached is not None and cached[1] > now:
            return SubjectKey(row.subject_id, cached[0], row.dek_version)
        dek = unwrap_data_key(
            self._keys.kek(row.kek_version),
            row.wrapped_key,
            subject_id=row.subject_id,
            kek_version=row.kek_version,
        )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[cache_key] = (dek, now + self._ttl)
        return SubjectKey(row.subject_id, dek, row.dek_version)

    def forget(self, subject_id: uuid.UUID) -> None:
        for key in [k for k in self._cache if k[0] == subject_id]:
            del self._cache[key]

    def index(self, kind: str, value: str) -> bytes:
        return blind_index(self._keys.blind_index_key, kind, value)

    async def link(
        self,
        conn: AsyncConnection,
        identifiers: dict[str, str | None],
        now: datetime,
        also: dict[str, str | None] | None = None,
    ) -> Linked:
        """The subject whose contacts are exactly `identifiers` (kind -> normalised value),
        or a new one: identity resolution, never a silent merge.

        An order proves nothing about who owns its contacts (anyone can type a stranger's
        phone beside their own e-mail), so it joins a subject only if that subject was
        founded with the very same contacts. Any other subject holding one of them is
        recorded as a *candidate link* for a DPO, and nothing is added to it. Candidates
        come from the blind index and are confirmed by decrypting; a shredded subject, or
        one being erased, is never linked. `also` holds identifiers attached for search
        (an id number) that do not decide who the subject is.
        """
        known = {kind: value for kind, value in identifiers.items() if value}
        holders: dict[str, set[uuid.UUID]] = {}
        rows: dict[uuid.UUID, KeyRow] = {}
        for kind, value in known.items():
            digest = self.index(kind, value)
            await store.lock_digest(conn, kind, digest)
            holders[kind] = set()
            for candidate in await store.candidates(AsyncReader(conn), kind, digest):
                if not candidate.restricted and self._matches(candidate, kind, value):
                    holders[kind].add(candidate.subject_id)
                    rows[candidate.subject_id] = candidate.key
        found = await self._exact(conn, holders, rows, len(known))
        fresh = found is None
        if found is None:
            found = await self.create(conn, now)
        assert found.dek is not None  # noqa: S101 - shredded subjects are never matched
        if fresh:
            for kind, value in known.items():
                await self.attach(conn, found, kind, value)
        for kind, extra in (also or {}).items():
            if not extra or kind in known:
                continue
            if found.subject_id not in await self.find(AsyncReader(conn), kind, extra):
                await self.attach(conn, found, kind, extra)
        others = sorted(set().union(*holders.values()) - {found.subject_id}, key=str)
        candidates = []
        for other in others[:MAX_CANDIDATE_LINKS]:
            shared = [kind for kind, subjects in holders.items() if other in subjects]
            if await store.add_candidate_link(conn, found.subject_id, other, shared, now):
                candidates.append(other)
        return Linked(found, tuple(candidates))

    async def _exact(
        self,
        conn: AsyncConnection,
        holders: dict[str, set[uuid.UUID]],
        rows: dict[uuid.UUID, KeyRow],
        size: int,
    ) -> SubjectKey | None:
        """The subject holding every one of the contacts and no other contact."""
        if not holders:
            return None
        common = set.intersection(*holders.values())
        for subject_id in sorted(common, key=str):
            if await store.deciding_count(conn, subject_id, DECIDING_KINDS) == size:
                return self.unwrap(rows[subject_id])
        return None

    async def create(self, conn: AsyncConnection, now: datetime) -> SubjectKey:
        """A new subject with a data key of its own, holding no identifier yet."""
        subject_id = uuid.uuid4()
        dek, row = self.new_key(subject_id)
        await store.insert_subject(conn, subject_id, row, now)
        return SubjectKey(subject_id, dek, row.dek_version)

    async def attach(self, conn: AsyncConnection, key: SubjectKey, kind: str, value: str) -> None:
        """File identifier `value` of `kind` under the subject (blind index + sealed value)."""
        assert key.dek is not None  # noqa: S101 - live subjects only
        sealed = encrypt_field(
            key.dek,
            value,
            table="subject_identifiers",
            column=kind,
            row_id=key.subject_id,
            dek_version=key.dek_version,
        )
        await store.insert_identifier(conn, key.subject_id, kind, self.index(kind, value), sealed)

    async def reset_identifiers(
        self, conn: AsyncConnection, key: SubjectKey, identifiers: set[tuple[str, str]]
    ) -> None:
        """Make `identifiers` ((kind, value) pairs) exactly what the subject holds."""
        await store.delete_identifiers(conn, key.subject_id)
        for kind, value in sorted(identifiers):
            await self.attach(conn, key, kind, value)

    async def find(self, reader: Reader, kind: str, value: str) -> list[uuid.UUID]:
        """Subjects holding identifier `value` of `kind`: blind index, then decryption."""
        found = []
        for candidate in await store.candidates(reader, kind, self.index(kind, value)):
            if self._matches(candidate, kind, value):
                found.append(candidate.subject_id)
        return found

    def _matches(self, candidate: store.Candidate, kind: str, value: str) -> bool:
        return self.open_identifier(candidate, kind) == value

    def open_identifier(self, candidate: store.Candidate, kind: str) -> str | None:
        """A stored identifier in clear; None if its key is gone or it does not authenticate."""
        key = self.unwrap(candidate.key)
        if key.dek is None:
            return None
        try:
            return decrypt_field(
                key.dek,
                candidate.value,
                table="subject_identifiers",
                column=kind,
                row_id=candidate.subject_id,
                dek_version=key.dek_version,
            )
        except DecryptionFailed:
            return None

    async def shred(self, conn: AsyncConnection, subject_id: uuid.UUID) -> bool:
        """Crypto-shredding: destroy the subject's data key; True if there was one to destroy."""
        destroyed = await store.shred(conn, subject_id, self._clock.now())
        self.forget(subject_id)
        return destroyed
