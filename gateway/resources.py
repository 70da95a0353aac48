"""Where the shipped policy and migration folders are, for source and installed layouts."""

from __future__ import annotations

from pathlib import Path

from gateway.errors import ConfigurationError

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def shipped_dir(name: str) -> Path:
    """`policies/` or `migrations/` beside the package (a checkout), else in the working dir."""
    for candidate in (_PACKAGE_PARENT / name, Path.cwd() / name):
        if candidate.is_dir():
            return candidate
    raise ConfigurationError(
        f"the {name}/ folder was not found beside the gateway package or in the working "
        f"directory; run from the project directory or set GATEWAY_POLICY_DIR"
    )
