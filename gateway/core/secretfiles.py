"""Files that hold secrets (demo tokens now, keys later): owner-only from the first byte."""

from __future__ import annotations

import os
from pathlib import Path


def owner_only_dir(path: Path) -> None:
    """Create `path` (and parents) if needed and make it owner-only, even if it existed."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def write_secret_file(path: Path, text: str) -> None:
    """Write `path` readable by its owner only, before any byte is written (even if it existed)."""
    owner_only_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
