"""Envelope encryption of personal fields, and keyed blind indexes.

Layout (documented, stable; the version byte lets it change later):

- A field ciphertext is `0x01 || nonce (12 bytes) || AES-256-GCM(ciphertext || tag)`,
  encrypted under the data subject's own data key (DEK). Its associated data binds it
  to where it belongs: `opg/field|<table>|<column>|<row id>|<dek version>`, so a
  ciphertext copied to another row or column, or decrypted under another key
  version, fails authentication instead of decrypting.
- A wrapped DEK is `0x01 || nonce || AES-256-GCM(DEK)` under a key-encryption key
  (KEK), with associated data `opg/dek|<subject id>|<kek version>`: a wrapped key
  cannot be swapped between subjects or relabelled with another KEK version.
  Destroying the wrapped DEK (crypto-shredding) makes every ciphertext of that
  subject unreadable; retiring a KEK version after rotation does the same for
  copies of wrapped keys in old backups.
- A principal's secret (its TOTP seed) is `0x01 || nonce || AES-256-GCM(secret)`
  under a KEK, with associated data `opg/secret|<kind>|<owner id>|<kek version>`:
  it cannot be moved to another principal or passed off as another kind of secret.
- A blind index is the first `BLIND_INDEX_BYTES` of
  HMAC-SHA-256(blind-index key, `opg/bi|<kind>|<normalised value>`). 32 bits keep
  false matches rare (about n / 2^32 per lookup: 0.02 % with a million subjects,
  and every candidate is checked against its decrypted value) while one index
  value is shared by several possible values of its kind (about 1.6 mainland
  mobile numbers, far more e-mails): with the key it narrows a search, without it
  it is not a fingerprint of a person.

Nothing here logs or keeps plaintext; errors never carry key or field bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.core.errors import GatewayError

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12
DEK_BYTES = 32
BLIND_INDEX_BYTES = 4


class DecryptionFailed(GatewayError):
    """Ciphertext not authentic for this key and place (tampered, moved, or shredded key)."""


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != FORMAT_V1:
        raise DecryptionFailed("not a version-1 ciphertext")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionFailed("ciphertext is not authentic for this key and place") from None


def field_aad(table: str, column: str, row_id: uuid.UUID, dek_version: int) -> bytes:
    return f"opg/field|{table}|{column}|{row_id}|{dek_version}".encode()


def encrypt_field(
    dek: bytes, plaintext: str, *, table: str, column: str, row_id: uuid.UUID, dek_version: int
) -> bytes:
    """Seal a field with AES-256-GCM, bound to its table, column, row and key version."""
    return _seal(dek, plaintext.encode("utf-8"), field_aad(table, column, row_id, dek_version))


def decrypt_field(
    dek: bytes, sealed: bytes, *, table: str, column: str, row_id: uuid.UUID, dek_version: int
) -> str:
    """Open a field sealed by `encrypt_field`, for exactly that table, column, row and key."""
    aad = field_aad(table, column, row_id, dek_version)
    return _open(dek, sealed, aad).decode("utf-8")


def new_data_key() -> bytes:
    """A fresh random data key for one data subject."""
    return os.urandom(DEK_BYTES)


def dek_aad(subject_id: uuid.UUID, kek_version: int) -> bytes:
    return f"opg/dek|{subject_id}|{kek_version}".encode()


def wrap_data_key(kek: bytes, dek: bytes, *, subject_id: uuid.UUID, kek_version: int) -> bytes:
    """Seal a subject's data key under a KEK, bound to the subject and the KEK version."""
    return _seal(kek, dek, dek_aad(subject_id, kek_version))


def unwrap_data_key(
    kek: bytes, wrapped: bytes, *, subject_id: uuid.UUID, kek_version: int
) -> bytes:
    """Open a subject's data key with the KEK that wrapped it."""
    return _open(kek, wrapped, dek_aad(subject_id, kek_version))


def rewrap_data_key(
    old_kek: bytes,
    new_kek: bytes,
    wrapped: bytes,
    *,
    subject_id: uuid.UUID,
    old_version: int,
    new_version: int,
) -> bytes:
    """KEK rotation for one subject: the DEK (and so every order row) stays the same."""
    dek = unwrap_data_key(old_kek, wrapped, subject_id=subject_id, kek_version=old_version)
    return wrap_data_key(new_kek, dek, subject_id=subject_id, kek_version=new_version)


def secret_aad(kind: str, owner_id: uuid.UUID, kek_version: int) -> bytes:
    return f"opg/secret|{kind}|{owner_id}|{kek_version}".encode()


def wrap_secret(
    kek: bytes, secret: bytes, *, kind: str, owner_id: uuid.UUID, kek_version: int
) -> bytes:
    """Seal a small secret that is not a subject's personal data (a TOTP seed) under a KEK."""
    return _seal(kek, secret, secret_aad(kind, owner_id, kek_version))


def unwrap_secret(
    kek: bytes, sealed: bytes, *, kind: str, owner_id: uuid.UUID, kek_version: int
) -> bytes:
    """Open a secret sealed by `wrap_secret` (a TOTP secret, say)."""
    return _open(kek, sealed, secret_aad(kind, owner_id, kek_version))


def blind_index(key: bytes, kind: str, normalised: str) -> bytes:
    """A keyed, truncated HMAC of a normalised value: searchable, not reversible."""
    message = f"opg/bi|{kind}|{normalised}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:BLIND_INDEX_BYTES]
