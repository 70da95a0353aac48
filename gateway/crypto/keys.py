"""Key material: where it comes from, and the checks it must pass before the gateway starts.

Three kinds of key, each 32 random bytes:
- key-encryption keys (KEKs), versioned: they wrap every data subject's data key,
  so rotating the KEK re-wraps data keys and never touches order rows;
- the blind-index key: HMAC key for searchable, non-reversible lookups;
- the audit signing key: an Ed25519 seed that signs the audit log's checkpoints.

A `KeyProvider` loads them. Shipped: files in a directory (`kek-v<N>.key`,
`blind-index.key`, `audit-signing.key`: base64 text, mode 0600) and environment
variables; a KMS-backed provider implements the same protocol. In embedded mode
missing files are generated with a loud warning; in production mode nothing is
generated and missing or bad material stops start-up with a clear message.
Key bytes never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gateway.core.errors import ConfigurationError
from gateway.core.secretfiles import owner_only_dir, write_secret_file
from gateway.core.settings import Settings

log = logging.getLogger("gateway.keys")

KEY_BYTES = 32
KEK_FILE = re.compile(r"^kek-v([1-9][0-9]{0,5})\.key$")
BLIND_INDEX_FILE = "blind-index.key"
AUDIT_SIGNING_FILE = "audit-signing.key"


@dataclass(frozen=True)
class KeyRing:
    """Loaded key material. `repr` shows versions and ids only."""

    keks: dict[int, bytes] = field(repr=False)
    active_kek_version: int
    blind_index_key: bytes = field(repr=False)
    audit_signing_key: Ed25519PrivateKey = field(repr=False)
    # Where to look again for a KEK version this process has not seen yet (one added
    # by a rotation while it runs).
    source: KeyProvider | None = field(default=None, repr=False, compare=False)

    def kek(self, version: int) -> bytes:
        key = self.keks.get(version)
        if key is None and self.source is not None:
            key = self.source.load().keks.get(version)
            if key is not None:
                self.keks[version] = key
        if key is None:
            raise ConfigurationError(
                f"KEK version {version} is not available; provide kek-v{version}.key"
            )
        return key

    @property
    def audit_public_key(self) -> bytes:
        return self.audit_signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def audit_key_id(self) -> str:
        """A short public identifier of the signing key (first 16 hex of SHA-256)."""
        return hashlib.sha256(self.audit_public_key).hexdigest()[:16]


class KeyProvider(Protocol):
    """Where key material comes from: files, the environment, or a KMS."""

    def load(self) -> KeyRing: ...


def decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{what} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise ConfigurationError(f"{what} must be {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def encode_key(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii") + "\n"


def _active(keks: Mapping[int, bytes], wanted: int | None) -> int:
    if not keks:
        raise ConfigurationError("no key-encryption key (KEK) is available")
    if wanted is None:
        return max(keks)
    if wanted not in keks:
        raise ConfigurationError(f"GATEWAY_KEK_VERSION is {wanted}, but no such KEK is available")
    return wanted


class FileKeyProvider:
    """Keys from files in one directory; in embedded mode, missing ones are generated."""

    def __init__(self, directory: Path, *, generate: bool, kek_version: int | None = None):
        self._dir = directory
        self._generate = generate
        self._kek_version = kek_version

    def load(self) -> KeyRing:
        if self._generate:
            self._generate_missing()
        if not self._dir.is_dir():
            raise ConfigurationError(f"key directory {self._dir} does not exist")
        keks = {
            int(match.group(1)): self._read(path, f"KEK file {path.name}")
            for path in sorted(self._dir.iterdir())
            if (match := KEK_FILE.match(path.name))
        }
        blind = self._read(self._dir / BLIND_INDEX_FILE, "blind-index key")
        signing = self._read(self._dir / AUDIT_SIGNING_FILE, "audit signing key")
        return KeyRing(
            keks=keks,
            active_kek_version=_active(keks, self._kek_version),
            blind_index_key=blind,
            audit_signing_key=Ed25519PrivateKey.from_private_bytes(signing),
        )

    def _read(self, path: Path, what: str) -> bytes:
        if not path.is_file():
            raise ConfigurationError(f"{what} not found: {path}")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigurationError(
                f"{what} {path} is readable by others (mode {mode:o}); run chmod 600 on it"
            )
        return decode_key(path.read_text(encoding="ascii"), f"{what} {path}")

    def _generate_missing(self) -> None:
        owner_only_dir(self._dir)
        wanted = [BLIND_INDEX_FILE, AUDIT_SIGNING_FILE]
        if not any(KEK_FILE.match(p.name) for p in self._dir.iterdir()):
            wanted.append("kek-v1.key")
        created = [name for name in wanted if not (self._dir / name).exists()]
        for name in created:
            write_secret_file(self._dir / name, encode_key(secrets.token_bytes(KEY_BYTES)))
        if created:
            log.warning(
                "generated new keys in %s (%s): fine for the embedded default; production "
                "must provide its own (GATEWAY_MODE=production never generates keys)",
                self._dir,
                ", ".join(created),
            )


class EnvKeyProvider:
    """Keys given in settings (environment variables), for containers and secret stores."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def load(self) -> KeyRing:
        s = self._settings
        if s.keks is None or s.blind_index_key is None or s.audit_signing_key is None:
            raise ConfigurationError(
                "GATEWAY_KEKS, GATEWAY_BLIND_INDEX_KEY and GATEWAY_AUDIT_SIGNING_KEY "
                "must be given together"
            )
        keks: dict[int, bytes] = {}
        for part in s.keks.get_secret_value().split(","):
            version, sep, text = part.strip().partition(":")
            if not sep or not version.isdigit() or int(version) < 1:
                raise ConfigurationError("GATEWAY_KEKS must be <version>:<base64>[,...]")
            keks[int(version)] = decode_key(text, f"GATEWAY_KEKS version {version}")
        signing = decode_key(s.audit_signing_key.get_secret_value(), "GATEWAY_AUDIT_SIGNING_KEY")
        return KeyRing(
            keks=keks,
            active_kek_version=_active(keks, s.kek_version),
            blind_index_key=decode_key(
                s.blind_index_key.get_secret_value(), "GATEWAY_BLIND_INDEX_KEY"
            ),
            audit_signing_key=Ed25519PrivateKey.from_private_bytes(signing),
        )


def key_provider(settings: Settings) -> KeyProvider:
    """Environment keys if any are given, else files; generation only in embedded mode."""
    if any(
        v is not None for v in (settings.keks, settings.blind_index_key, settings.audit_signing_key)
    ):
        return EnvKeyProvider(settings)
    directory = settings.key_directory
    if directory is None:
        raise ConfigurationError(
            "production mode needs keys: set GATEWAY_KEYS_DIR, or GATEWAY_KEKS, "
            "GATEWAY_BLIND_INDEX_KEY and GATEWAY_AUDIT_SIGNING_KEY"
        )
    return FileKeyProvider(
        directory, generate=settings.mode == "embedded", kek_version=settings.kek_version
    )


def load_keys(settings: Settings) -> KeyRing:
    """The key ring from the configured provider; a missing or bad key stops start-up."""
    provider = key_provider(settings)
    return replace(provider.load(), source=provider)


def add_kek_version(settings: Settings) -> int:
    """Embedded mode only: create the next `kek-v<N>.key`, which becomes the active KEK."""
    provider = key_provider(settings)
    directory = settings.key_directory
    if settings.mode != "embedded" or not isinstance(provider, FileKeyProvider) or not directory:
        raise ConfigurationError(
            "new KEKs are generated only for embedded key files; in production provide "
            "kek-v<N+1>.key (or add it to GATEWAY_KEKS), make it active, and run again"
        )
    versions = [int(m.group(1)) for p in directory.iterdir() if (m := KEK_FILE.match(p.name))]
    version = max(versions, default=0) + 1
    write_secret_file(directory / f"kek-v{version}.key", encode_key(secrets.token_bytes(KEY_BYTES)))
    log.warning("generated KEK version %d in %s", version, directory)
    return version
