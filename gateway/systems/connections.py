"""Where each system's address and secret come from: files, never the map.

The map is reviewed and committed; a database password or a webhook secret is not.
Each system's connection lives in `<systems_dir>/<key>.url` (a SQLAlchemy URL for a
SQL system, an https URL for a webhook) and, for a webhook, `<key>.secret` (the
HMAC key both sides share). A store served read-through may have a second, read-only
account in `<key>.read.url`, used for its reads (the connector's erasures keep
`<key>.url`). The files must be readable by their owner only: a
connection file that others can read is refused, as a key file would be. A missing
file does not stop the gateway (the map can be written before the systems are
connected); the step for that system then fails with the reason, and
`privacy-gateway systems check` names every missing file.
"""

from __future__ import annotations

import stat
from pathlib import Path

from gateway.systems.connector import ConnectorFailed

_OTHERS = stat.S_IRWXG | stat.S_IRWXO
MIN_SECRET_BYTES = 32


class FileConnections:
    """Connections read from a directory of owner-only files."""

    def __init__(self, directory: Path, public_url: str | None = None) -> None:
        self.directory = directory
        self._public_url = public_url.rstrip("/") if public_url else None

    def _read(self, system: str, suffix: str) -> str:
        path = self.directory / f"{system}.{suffix}"
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise ConnectorFailed(
                f"no connection file {path.name} in the systems directory (GATEWAY_SYSTEMS_DIR)",
                retry=False,
            ) from None
        if mode & _OTHERS:
            raise ConnectorFailed(
                f"connection file {path.name} is readable by others: make it owner-only "
                "(chmod 600)",
                retry=False,
            )
        text = path.read_text(encoding="utf-8").strip()
        if not text:
            raise ConnectorFailed(f"connection file {path.name} is empty", retry=False)
        return text

    def url(self, system: str) -> str:
        return self._read(system, "url")

    def read_url(self, system: str) -> str:
        """The read-only account for serving a store read-through (`<key>.read.url`),
        else the system's one URL: erasure there needs more than reading."""
        if (self.directory / f"{system}.read.url").exists():
            return self._read(f"{system}.read", "url")
        return self.url(system)

    def secret(self, system: str) -> bytes:
        secret = self._read(system, "secret").encode()
        if len(secret) < MIN_SECRET_BYTES:
            raise ConnectorFailed(
                f"webhook secret {system}.secret is shorter than {MIN_SECRET_BYTES} bytes",
                retry=False,
            )
        return secret

    def callback_url(self, system: str) -> str | None:
        """Where a webhook system reports a completion it answered `202` for."""
        if self._public_url is None:
            return None
        return f"{self._public_url}/v1/privacy/systems/{system}/callback"
