"""Sealing order fields and their detected spans under the subject's data key.

Every ciphertext is bound (AES-GCM associated data) to its table, column, row
and key version, so a value copied to another row or column does not open.
Shared by the order service and the re-detection job.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from gateway import pii
from gateway.crypto import decrypt_field, encrypt_field
from gateway.orders import tables
from gateway.subjects import SubjectKey


def _place(column: str, order_id: uuid.UUID, key: SubjectKey) -> dict[str, Any]:
    return {"table": "orders", "column": column, "row_id": order_id, "dek_version": key.dek_version}


def _dek(key: SubjectKey) -> bytes:
    if key.dek is None:
        raise ValueError("the subject's data key is shredded")
    return key.dek


def seal_fields(
    flat: dict[str, Any], paths: Iterable[str], key: SubjectKey, order_id: uuid.UUID
) -> dict[str, Any]:
    """The flat order with each of `paths` (if not None) sealed under the subject's key."""
    sealed = dict(flat)
    for path in paths:
        if flat[path] is not None:
            column = tables.ORDER_COLUMNS[path]
            sealed[path] = encrypt_field(_dek(key), flat[path], **_place(column, order_id, key))
    return sealed


def seal_spans(
    found: tuple[pii.Span, ...], path: str, key: SubjectKey, order_id: uuid.UUID
) -> bytes:
    column = tables.SPAN_COLUMNS[path]
    return encrypt_field(_dek(key), pii.encode_spans(found), **_place(column, order_id, key))


def encrypt(key: SubjectKey, value: str, column: str, order_id: uuid.UUID) -> bytes:
    """Seal one value of an order's column under the subject's key."""
    return encrypt_field(_dek(key), value, **_place(column, order_id, key))


def decrypt(key: SubjectKey, sealed: bytes, column: str, order_id: uuid.UUID) -> str:
    """Open one ciphertext; one that does not authenticate raises (fail closed)."""
    return decrypt_field(_dek(key), sealed, **_place(column, order_id, key))


def decode_spans(raw: str | None, text: str) -> tuple[pii.Span, ...] | None:
    """Stored spans, or None (mask the text whole) if absent or not fitting the text."""
    if raw is None:
        return None
    try:
        return pii.decode_spans(raw, len(text))
    except ValueError:
        return None
