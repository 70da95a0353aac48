"""Writing an audit export to a file, and saying truly what it holds when cut short.

A full disk, a file-size limit or a lost database connection can stop an export
part-way. The file then keeps whole lines only (a half-written one is cut off), and
the command says how many entries it holds, up to which one they are signed, and
the command that gets the rest. Lines hold no personal data (the log holds none);
only their sequence numbers, times and types are read here.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.exc import SQLAlchemyError


@dataclass
class Written:
    """What the file holds so far: counted from the lines written, not from a plan."""

    entries: int = 0
    first: int | None = None
    last: int | None = None
    signed: int | None = None  # the last checkpoint written
    unsigned_at: str | None = None  # the first entry written after that checkpoint
    last_at: str | None = None
    ended: bool = False

    def add(self, line: bytes) -> None:
        document = json.loads(line)
        kind = document["type"]
        if kind == "entry":
            self.entries += 1
            self.last, self.last_at = int(document["seq"]), str(document["at"])
            self.first = self.last if self.first is None else self.first
            if self.unsigned_at is None:
                self.unsigned_at = self.last_at
        elif kind == "checkpoint":
            self.signed, self.unsigned_at = int(document["seq"]), None
        elif kind == "end":
            self.ended = True

    @property
    def resume_from(self) -> str | None:
        """From when an export holds the rest (its first entry is at or before it)."""
        return self.unsigned_at or self.last_at


class CutShort(Exception):
    """The export stopped part-way: `written` is what the file holds, `reason` why."""

    def __init__(self, written: Written, reason: str) -> None:
        super().__init__(reason)
        self.written = written
        self.reason = reason
        self.planned = 0  # how many entries the export was to hold


async def write_export(lines: AsyncGenerator[bytes, None], path: Path) -> Written:
    """Write every line, unbuffered, so what the file holds is exactly what was counted."""
    written = Written()
    kept = 0
    with path.open("wb", buffering=0) as handle:
        try:
            async for line in lines:
                _write_all(handle, line)
                kept += len(line)
                written.add(line)
        except (OSError, SQLAlchemyError) as exc:
            with contextlib.suppress(OSError):  # a device or a pipe keeps what it took
                handle.truncate(kept)
            raise CutShort(written, _reason(exc)) from None
        finally:
            await lines.aclose()
    return written


def _write_all(handle: BinaryIO, line: bytes) -> None:
    view = memoryview(line)
    while view:
        done = handle.write(view) or 0
        view = view[done:]


def _reason(exc: Exception) -> str:
    """The system's words for a file error; a database error by its type alone (its
    message may quote data)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno)
    return f"{type(exc).__name__} while reading the log"
