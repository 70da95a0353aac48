"""Data keys per subject, and linking an order's customer to a subject without plaintext.

Unwrapped data keys are cached in memory for a short while (never written
anywhere), so reading a subject's orders does not unwrap its key each time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.clock import Clock
from gateway.crypto.envelope import (
    DecryptionFailed,
    blind_index,
    decrypt_field,
    encrypt_field,
    new_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from gateway.crypto.keys import KeyRing
from gateway.readpath import AsyncReader, Reader
from gateway.subjects import store
from gateway.subjects.store import KeyRow

DEK_VERSION = 1
_CACHE_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """A subject's usable data key (None once shredded)."""

    subject_id: uuid.UUID
    dek: bytes | None
    dek_version: int


class SubjectKeys:
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
    ) -> SubjectKey:
        """The subject owning any of `identifiers` (kind -> normalised value), or a new one.

        Candidates come from the blind index and are confirmed by decrypting their
        stored identifier; a shredded subject is never linked again, nor one being
        erased (an order placed after an erasure was confirmed starts a new record). Identifiers
        not yet known are attached (encrypted) to the subject found. The first
        kind that matches wins if two subjects would. `also` holds identifiers that
        are attached for search but do not decide who the subject is.
        """
        known = {kind: value for kind, value in identifiers.items() if value}
        found: SubjectKey | None = None
        owned: set[str] = set()
        for kind, value in known.items():
            digest = self.index(kind, value)
            await store.lock_digest(conn, kind, digest)
            match = await self._confirm(AsyncReader(conn), kind, digest, value)
            if match is not None:
                owned.add(kind)
                found = found or match
        if found is None:
            subject_id = uuid.uuid4()
            dek, row = self.new_key(subject_id)
            await store.insert_subject(conn, subject_id, row, now)
            found = SubjectKey(subject_id, dek, row.dek_version)
        assert found.dek is not None  # noqa: S101 - shredded subjects are never matched
        extra = {k: v for k, v in (also or {}).items() if v and k not in known}
        for kind, value in extra.items():
            holders = await self.find(AsyncReader(conn), kind, value)
            if found.subject_id in holders:
                owned.add(kind)  # already attached to this subject
            known[kind] = value
        for kind, value in known.items():
            if kind not in owned:
                sealed = encrypt_field(
                    found.dek,
                    value,
                    table="subject_identifiers",
                    column=kind,
                    row_id=found.subject_id,
                    dek_version=found.dek_version,
                )
                await store.insert_identifier(
                    conn, found.subject_id, kind, self.index(kind, value), sealed
                )
        return found

    async def find(self, reader: Reader, kind: str, value: str) -> list[uuid.UUID]:
        """Subjects holding identifier `value` of `kind`: blind index, then decryption."""
        found = []
        for candidate in await store.candidates(reader, kind, self.index(kind, value)):
            if self._matches(candidate, kind, value):
                found.append(candidate.subject_id)
        return found

    async def _confirm(
        self, reader: Reader, kind: str, digest: bytes, value: str
    ) -> SubjectKey | None:
        for candidate in await store.candidates(reader, kind, digest):
            if not candidate.restricted and self._matches(candidate, kind, value):
                return self.unwrap(candidate.key)
        return None

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
