"""Opaque page cursors, one codec for every list that pages: URL-safe base64 of a short
JSON array naming where the last page ended.

`TimeCursor` is the (time, id) of a page's last row (orders, the DSR register,
candidate links); `SeqCursor` is the sequence number of the audit listing's last
entry. A leaf module. A cursor this gateway did not make, or one that overflows, is
refused with `ValueError`, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.core.clock import time_problem

MAX_CURSOR = 200  # an encoded cursor is about 100 characters
_PAIR = 2
_MAX_SEQ = 2**63 - 1  # the audit sequence column is a BIGINT
_SEQ_TAG = "seq"


def _pack(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unpack(text: str) -> list[Any]:
    """The JSON array inside a cursor; `ValueError` for anything else."""
    if len(text) > MAX_CURSOR:
        raise ValueError("cursor too long")
    padded = text + "=" * (-len(text) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (UnicodeError, RecursionError, binascii.Error, ValueError) as exc:
        raise ValueError("not a cursor") from exc
    if not isinstance(value, list) or len(value) != _PAIR:
        raise ValueError("not a cursor")
    return value


@dataclass(frozen=True, slots=True)
class TimeCursor:
    """Where a list ordered by (time, id) stopped."""

    at: datetime
    row_id: uuid.UUID

    def encode(self) -> str:
        return _pack([self.at.isoformat(), self.row_id.hex])

    @classmethod
    def decode(cls, text: str) -> TimeCursor:
        value = _unpack(text)
        if not all(isinstance(v, str) for v in value):
            raise ValueError("cursor is not a [time, id] pair")
        try:
            at = datetime.fromisoformat(value[0])
            row_id = uuid.UUID(hex=value[1])
        except (ValueError, OverflowError) as exc:
            raise ValueError("not a cursor") from exc
        if time_problem(at) is not None:
            raise ValueError("cursor time has no zone or is out of range")
        return cls(at, row_id)


@dataclass(frozen=True, slots=True)
class SeqCursor:
    """Where a list ordered by sequence number stopped (the audit listing)."""

    seq: int

    def encode(self) -> str:
        return _pack([_SEQ_TAG, self.seq])

    @classmethod
    def decode(cls, text: str) -> SeqCursor:
        tag, seq = _unpack(text)
        # A JSON integer the column can hold (not a bool, not a float, not a string).
        if tag != _SEQ_TAG or type(seq) is not int or not 0 <= seq <= _MAX_SEQ:
            raise ValueError("not a cursor")
        return cls(seq)
