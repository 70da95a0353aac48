"""Keys and cryptography: key material, envelope encryption, blind indexes.

Never logs, prints or stores key material or plaintext personal data.
"""

from gateway.crypto.envelope import (
    DecryptionFailed,
    blind_index,
    decrypt_field,
    encrypt_field,
    new_data_key,
    rewrap_data_key,
    unwrap_data_key,
    unwrap_secret,
    wrap_data_key,
    wrap_secret,
)
from gateway.crypto.keys import KeyRing, add_kek_version, load_keys

__all__ = [
    "DecryptionFailed",
    "KeyRing",
    "add_kek_version",
    "blind_index",
    "decrypt_field",
    "encrypt_field",
    "load_keys",
    "new_data_key",
    "rewrap_data_key",
    "unwrap_data_key",
    "unwrap_secret",
    "wrap_data_key",
    "wrap_secret",
]
