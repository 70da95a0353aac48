"""Status tokens, one-time codes and rate-limit keys of privacy requests.

All are keyed hashes under keys derived from the blind-index key (no new key
file): a stolen database gives no token, no code, and no contact or address
behind a rate-limit counter. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid

TOKEN_PREFIX = "opgs_"  # noqa: S105 - a public prefix, not a secret
RETURN_PREFIX = "opgr_"  # a return code: one use, issues a new status token
CODE_DIGITS = 6
# Objection codes: 100 random bits as 20 base32 letters, shown in groups of four.
OBJECTION_BYTES = 13
OBJECTION_LETTERS = 20
OBJECTION_RE = re.compile(r"^[A-Z2-7]{20}$")


class RequestSecrets:
    """The secrets of public requests (status tokens, codes, objection codes): made,
    hashed with a key derived from the blind-index key, and checked in constant time."""

    def __init__(self, blind_index_key: bytes) -> None:
        self._token_key = _derive(blind_index_key, b"opg/dsr-token/v1")
        self._code_key = _derive(blind_index_key, b"opg/dsr-code/v1")
        self._limit_key = _derive(blind_index_key, b"opg/dsr-rate-limit/v1")
        self._match_key = _derive(blind_index_key, b"opg/dsr-match/v1")
        self._objection_key = _derive(blind_index_key, b"opg/dsr-objection/v1")
        self._return_key = _derive(blind_index_key, b"opg/dsr-return/v1")

    def new_token(self) -> tuple[str, bytes]:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return token, self.token_hash(token)

    def token_hash(self, token: str) -> bytes:
        return hmac.new(self._token_key, token.encode(), hashlib.sha256).digest()

    def token_matches(self, token: str, stored: bytes) -> bool:
        return hmac.compare_digest(self.token_hash(token), stored)

    def new_return_code(self, request_id: uuid.UUID) -> tuple[str, bytes]:
        """Sent to the verified contact: opens the request once, with a new status token."""
        code = RETURN_PREFIX + secrets.token_urlsafe(24)
        return code, self.return_hash(request_id, code)

    def return_hash(self, request_id: uuid.UUID, code: str) -> bytes:
        return hmac.new(self._return_key, request_id.bytes + code.encode(), hashlib.sha256).digest()

    def return_matches(self, request_id: uuid.UUID, code: str, stored: bytes | None) -> bool:
        expected = stored if stored is not None else b"\0" * 32  # same work when there is none
        return hmac.compare_digest(self.return_hash(request_id, code), expected)

    def new_code(self, request_id: uuid.UUID) -> tuple[str, bytes]:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        return code, self.code_hash(request_id, code)

    def code_hash(self, request_id: uuid.UUID, code: str) -> bytes:
        return hmac.new(self._code_key, request_id.bytes + code.encode(), hashlib.sha256).digest()

    def code_matches(self, request_id: uuid.UUID, code: str, stored: bytes | None) -> bool:
        # A request that matched no customer has a hash no code produces: same work.
        expected = stored if stored is not None else b"\0" * 32
        return hmac.compare_digest(self.code_hash(request_id, code), expected)

    def new_objection_code(self) -> tuple[str, bytes]:
        """A code that is its own identifier (no request id to type): long and random."""
        raw = base64.b32encode(secrets.token_bytes(OBJECTION_BYTES)).decode()
        code = raw[:OBJECTION_LETTERS]
        return "-".join(code[i : i + 4] for i in range(0, len(code), 4)), self.objection_hash(code)

    def objection_hash(self, code: str) -> bytes:
        """Keyed hash of a normalised objection code (the lookup key; codes are random)."""
        return hmac.new(self._objection_key, code.encode(), hashlib.sha256).digest()

    def limit_key(self, scope: str, value: str) -> bytes:
        message = f"{scope}|{value}".encode()
        return hmac.new(self._limit_key, message, hashlib.sha256).digest()[:16]

    def match_digest(self, kind: str, value: str) -> str:
        """A full-length keyed digest of an identifier: finds copies after the key is gone."""
        message = f"{kind}|{value}".encode()
        return hmac.new(self._match_key, message, hashlib.sha256).hexdigest()


def _derive(key: bytes, label: bytes) -> bytes:
    return hmac.new(key, label, hashlib.sha256).digest()


def normalise_objection_code(value: str) -> str | None:
    """`abcd-efgh …` as typed or pasted -> `ABCDEFGH…`; None if it cannot be a code."""
    compact = re.sub(r"[\s-]", "", value).upper()
    return compact if OBJECTION_RE.match(compact) else None
