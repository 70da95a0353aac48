"""Signed checkpoints: the log's head, vouched for by a key the database does not hold.

A checkpoint signs the RFC 8785 bytes of
`{"v": 1, "seq": n, "head": "<hex hash of entry n>", "at": "<UTC time>", "key_id": "<id>"}`
with Ed25519. Whoever rewrites the whole chain without the signing key cannot
make the checkpoints match it, and a verifier that remembers the last checkpoint
it saw notices a log that now ends before it (a truncated tail).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT_VERSION = 1


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short public name of a signing key: the first 16 hex of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM, for verifiers elsewhere."""
    return public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of the chain's head: entry `seq` has hash `head`, as of `at`.

    Checkpoints catch what a hash chain alone cannot: a tail cut off, or the whole chain
    rewritten by someone without the signing key. `key_id` names the public key that
    checks `signature`.
    """

    seq: int
    head: str
    at: str
    key_id: str
    signature: str  # base64 of the 64-byte Ed25519 signature

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return signed_message(self.seq, self.head, self.at, self.key_id)

    def document(self) -> dict[str, Any]:
        """The checkpoint as JSON-ready data (as exported and reported)."""
        return {
            "seq": self.seq,
            "head": self.head,
            "at": self.at,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        """Whether `public_key` made this signature."""
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.message())
        except (InvalidSignature, ValueError):
            return False
        return True


def signed_message(seq: int, head: str, at: str, key: str) -> bytes:
    """RFC 8785 bytes of `{v, seq, head, at, key_id}`: what a checkpoint signs."""
    return rfc8785.dumps({"v": FORMAT_VERSION, "seq": seq, "head": head, "at": at, "key_id": key})


def sign(private_key: Ed25519PrivateKey, seq: int, head: str, at: str) -> Checkpoint:
    """A checkpoint of entry `seq` with hash `head`, signed now with `private_key`."""
    kid = key_id(private_key.public_key())
    signature = private_key.sign(signed_message(seq, head, at, kid))
    return Checkpoint(seq, head, at, kid, base64.b64encode(signature).decode("ascii"))


def checkpoint_from_document(document: dict[str, Any]) -> Checkpoint:
    """A checkpoint from its document; `ValueError` if it is not one."""
    return Checkpoint(
        seq=int(document["seq"]),
        head=str(document["head"]),
        at=str(document["at"]),
        key_id=str(document["key_id"]),
        signature=str(document["signature"]),
    )
