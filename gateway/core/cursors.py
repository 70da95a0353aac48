"""Opaque page cursors: the (time, id) of the last row of a page, in URL-safe base64.

A leaf module: lists that page by time and id (the DSR register, candidate links) share
it. A cursor that this gateway did not make, or that overflows, is refused with
`ValueError`, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from gateway.core.clock import time_problem

MAX_CURSOR = 200  # an encoded cursor is about 100 characters
_PAIR = 2


@dataclass(frozen=True, slots=True)
class TimeCursor:
    at: datetime
    row_id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat(), self.row_id.hex]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> TimeCursor:
        if len(text) > MAX_CURSOR:
            raise ValueError("cursor too long")
        padded = text + "=" * (-len(text) % 4)
        try:
            value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            if not (
                isinstance(value, list)
                and len(value) == _PAIR
                and all(isinstance(v, str) for v in value)
            ):
                raise ValueError("cursor is not a [time, id] pair")
            at = datetime.fromisoformat(value[0])
            row_id = uuid.UUID(hex=value[1])
        except (UnicodeError, RecursionError, binascii.Error, OverflowError) as exc:
            raise ValueError("not a cursor") from exc
        if time_problem(at) is not None:
            raise ValueError("cursor time has no zone or is out of range")
        return cls(at, row_id)
