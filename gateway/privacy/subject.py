"""What verification of an erasure does to the subject before any step runs.

Processing is restricted at once (GDPR Art. 18: while the erasure runs, no role
is shown the subject's personal fields), and the subject's identifiers are
fingerprinted with keyed full-length digests, so the final search can still find
a stray copy after the data key is destroyed. The fingerprints are dropped when
the certificate is issued.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.crypto.envelope import DecryptionFailed, decrypt_field, encrypt_field
from gateway.privacy.secrets import RequestSecrets
from gateway.subjects import store as subject_store
from gateway.subjects.service import SubjectKey, SubjectKeys


async def restrict_and_fingerprint(
    conn: AsyncConnection,
    subjects: SubjectKeys,
    request_secrets: RequestSecrets,
    subject_id: uuid.UUID,
    now: datetime,
) -> str:
    await subject_store.restrict(conn, subject_id, now)
    subjects.forget(subject_id)
    row = await subject_store.key_row(conn, subject_id)
    prints: list[list[str]] = []
    if row is not None and row.wrapped_key is not None:
        for kind, digest, sealed in await subject_store.identifiers_of(conn, subject_id):
            value = subjects.open_identifier(subject_store.Candidate(subject_id, sealed, row), kind)
            if value is not None:
                prints.append([kind, digest.hex(), request_secrets.match_digest(kind, value)])
    return json.dumps(sorted(prints))


def _contact_place(request_id: uuid.UUID, key: SubjectKey) -> dict[str, Any]:
    return {
        "table": "privacy_requests",
        "column": "contact_sealed",
        "row_id": request_id,
        "dek_version": key.dek_version,
    }


def seal_contact(key: SubjectKey, request_id: uuid.UUID, contact: str) -> bytes:
    """The contact a request's code went to, sealed under the subject's key (so the
    erasure's crypto-shredding destroys it with everything else)."""
    assert key.dek is not None  # noqa: S101 - a match has a live key
    return encrypt_field(key.dek, contact, **_contact_place(request_id, key))


def open_contact(key: SubjectKey, request_id: uuid.UUID, sealed: bytes) -> str | None:
    """The contact back, or None once the key is gone."""
    if key.dek is None:
        return None
    try:
        return decrypt_field(key.dek, sealed, **_contact_place(request_id, key))
    except DecryptionFailed:
        return None
