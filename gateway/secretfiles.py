"""Files that hold secrets (demo tokens now, keys later): owner-only from the first byte."""

from __future__ import annotations

import os
from pathlib import Path


def write_secret_file(path: Path, text: str) -> None:
    """Create `path` readable by its owner only, before any byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)
