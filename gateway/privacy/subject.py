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

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.crypto.envelope import decrypt_field
from gateway.privacy.secrets import RequestSecrets
from gateway.subjects import store as subject_store
from gateway.subjects.service import SubjectKeys


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
        key = subjects.unwrap(row)
        assert key.dek is not None  # noqa: S101 - the wrapped key is present
        for kind, digest, sealed in await subject_store.identifiers_of(conn, subject_id):
            value = decrypt_field(
                key.dek,
                sealed,
                table="subject_identifiers",
                column=kind,
                row_id=subject_id,
                dek_version=key.dek_version,
            )
            prints.append([kind, digest.hex(), request_secrets.match_digest(kind, value)])
    return json.dumps(sorted(prints))
