"""Opening stored order rows: unwrap the subject's key once, decrypt what is shown.

Shared by reads (each path the caller's plan shows) and by idempotent writes
(comparing a replayed order with the stored one).
"""

from __future__ import annotations

import uuid
from typing import Any

from gateway import pii
from gateway.orders import sealing, store, tables
from gateway.subjects import KeyRow, SubjectKeys


class RowOpener:
    def __init__(self, subjects: SubjectKeys, encrypted: frozenset[str]) -> None:
        self._subjects = subjects
        self._encrypted = encrypted

    def open(
        self,
        flat: dict[str, Any],
        paths: frozenset[str],
        with_spans: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Decrypt the encrypted fields among `paths`; others (and a shredded subject's) are None.

        Free-text paths in `with_spans` come out as `DetectedText`, the text with its
        stored detection, for the mask that needs it. A ciphertext that does not
        authenticate (moved, tampered) raises: fail closed.
        """
        row = KeyRow(*(flat.pop(label) for label in store.KEY_LABELS))
        sealed_spans = {
            path: flat.pop(tables.SPAN_LABEL + path, None) for path in tables.SPAN_COLUMNS
        }
        flat["_subject_id"] = row.subject_id  # for the audit log; never rendered
        restricted = flat.pop("_restricted_since", None) is not None
        flat["_restricted"] = restricted
        flat["_retention_rule"] = flat.pop("_retention_rule", None)
        key = self._subjects.unwrap(row) if row.wrapped_key is not None else None
        order_id = uuid.UUID(flat["order_id"])
        for path in self._encrypted:
            value = flat[path]
            if value is None or path not in paths or key is None or key.dek is None or restricted:
                flat[path] = None
                continue
            flat[path] = sealing.decrypt(key, value, tables.ORDER_COLUMNS[path], order_id)
            if path in with_spans:
                found = sealed_spans[path]
                raw = None
                if found is not None:
                    raw = sealing.decrypt(key, found, tables.SPAN_COLUMNS[path], order_id)
                flat[path] = pii.DetectedText(flat[path], sealing.decode_spans(raw, flat[path]))
        return flat
