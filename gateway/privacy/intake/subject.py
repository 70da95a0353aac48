"""The contact a request's code went to, sealed under the key of the record it names.

Sealed so that the erasure's crypto-shredding destroys it with everything else; what
verification does with it is `gateway.privacy.intake.verification`.
"""

from __future__ import annotations

import uuid
from typing import Any

from gateway.crypto import DecryptionFailed, decrypt_field, encrypt_field
from gateway.subjects import SubjectKey


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
