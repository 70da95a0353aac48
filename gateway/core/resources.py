"""Where the shipped policy and migration folders are, installed or in a checkout.

A wheel carries them inside the package (`gateway/_shipped/`, see pyproject.toml); a
checkout has them beside it. The working directory is never searched: a `policies/`
folder that happens to be there must not become the policy. Another policy is chosen
only explicitly, with `GATEWAY_POLICY_DIR`.
"""

from __future__ import annotations

from pathlib import Path

from gateway.core.errors import ConfigurationError

_PACKAGE = Path(__file__).resolve().parent.parent


def shipped_dir(name: str) -> Path:
    """`policies/` or `migrations/` as shipped with this gateway."""
    for candidate in (_PACKAGE / "_shipped" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConfigurationError(
        f"the shipped {name}/ folder is missing from this installation (looked in "
        f"{_PACKAGE / '_shipped'} and beside the package); reinstall the gateway"
    )
