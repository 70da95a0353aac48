"""Erasure certificates: a signed account of what was erased, kept, and when.

The certificate is a JSON object; its signature is Ed25519 over the RFC 8785
canonical bytes of `certificate`, by the gateway's audit signing key (the key
whose public half `privacy-gateway audit public-key` prints), so one public key
checks the log and the certificates. It names the audit chain head at
completion: with database access, a verifier also checks that entry exists with
that hash, tying the certificate to the tamper-evident log.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit import key_id

FORMAT = "opg-erasure-certificate/v1"
ALGORITHM = "Ed25519"
SIGNATURE_BYTES = 64

AUDIT_LOG_REASON = (
    "holds no personal values: subjects, and the addresses they made their "
    "requests from, appear only as keyed pseudonyms (pseudonymised data, meaningless "
    "without the gateway's key); kept for "
    "accountability (GDPR Art. 5(2), PIPL Art. 54) and tamper evidence"
)
FREE_TEXT_DETECTED = (
    "not matched against this subject's contact details: it is sealed under those "
    "customers' own keys; personal data found in it when it was written is masked "
    "wherever it is shown"
)
FREE_TEXT_UNDETECTED = (
    "not matched against this subject's contact details: it is sealed under those "
    "customers' own keys; free-text detection is off in this gateway "
    "(GATEWAY_PII_DETECTION=false), so such text is masked whole wherever it is shown"
)


def laws_applied(
    *, restricted: bool, retained: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The laws this erasure applied, and only those.

    Erasure and its deadline always; restriction while it ran (GDPR Art. 18) only if
    processing was restricted; the legal-obligation exemption (Art. 17(3)(b)) and each
    retention rule's own law only for rules that kept records. No recipient was told of
    the erasure (GDPR Art. 19): the gateway does not know who received the data.
    """
    kept = [entry for entry in retained if entry.get("records", 0) > 0]
    gdpr = ["Art. 17(1)", "Art. 12(3)"]
    if restricted:
        gdpr.append("Art. 18")
    if kept:
        gdpr.append("Art. 17(3)(b)")
    laws: list[dict[str, Any]] = [
        {"law": "GDPR", "articles": gdpr},
        {"law": "PIPL", "articles": ["Art. 47", "Art. 50"]},
    ]
    laws += [{"law": entry["citation"], "articles": [], "rule": entry["rule"]} for entry in kept]
    return laws


def excluded(*, free_text_detection: bool) -> list[dict[str, str]]:
    """What the final search did not look at, and why, as this gateway is configured."""
    return [
        {"store": "audit log", "reason": AUDIT_LOG_REASON},
        {
            "store": "free text of other customers' orders",
            "reason": FREE_TEXT_DETECTED if free_text_detection else FREE_TEXT_UNDETECTED,
        },
    ]


BACKUPS = (
    "Copies of the database made before completion (backups) still hold this subject's "
    "ciphertexts and their data key, wrapped under the key-encryption key (KEK) version "
    "named in the data_key step. Such copies can no longer be decrypted once the operator "
    "retires that KEK version (rotates the KEK, then removes the old one), and they expire "
    "under the operator's backup retention. This database holds no copy of the "
    "data key."
)
NOT_COVERED = (
    "This certificate covers the data held by this gateway's order store only. It does not "
    "cover copies outside it: systems of sales channels and marketplaces, payment and "
    "logistics providers, e-mail or chat with customer service, paper records, or data an "
    "application exported before the request. Retained records listed here are erased when "
    "their retention period ends."
)
# With a systems map: the certificate covers the systems it lists, and names the rest.
NOT_COVERED_CHAIN = (
    "This certificate covers the data held by this gateway's order store and by the systems "
    "listed under systems, as the reviewed systems map names them, with what each did. It "
    "does not cover systems the map does not name, e-mail or chat with customer service "
    "outside them, or data an application exported before the request. Retained records "
    "listed here are erased when their retention period ends."
)


def canonical(body: Mapping[str, Any]) -> bytes:
    return rfc8785.dumps(body)


def sign(body: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    signature = private_key.sign(canonical(body))
    return {
        "certificate": dict(body),
        "signature": {
            "algorithm": ALGORITHM,
            "key_id": key_id(private_key.public_key()),
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }


# What a check says, in English as the API answers; the pages translate them.
NOT_A_CERTIFICATE = "not a certificate: expected 'certificate' and 'signature'"
WRONG_FORMAT = f"not a certificate of format {FORMAT}"
WRONG_ALGORITHM = f"signature algorithm must be {ALGORITHM}"
UNDECODABLE = "signature or certificate cannot be decoded"
UNKNOWN_KEY = "signed by an unknown key (key_id does not match the public key)"
NO_CHAIN_HEAD = "certificate names no audit chain head"
VALID = "signature valid"
ALTERED = "signature does not match: the certificate was altered"
NOT_IN_LOG = "the audit chain head it names is not in this gateway's log"


@dataclass(frozen=True, slots=True)
class Verdict:
    valid: bool
    reason: str
    chain_head: tuple[int, str] | None = None


def verify_signature(document: Any, public_keys: list[Ed25519PublicKey]) -> Verdict:
    """Check shape and signature; says why not, never raises on bad input."""
    if not isinstance(document, dict) or set(document) != {"certificate", "signature"}:
        return Verdict(False, NOT_A_CERTIFICATE)
    body, signature = document["certificate"], document["signature"]
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        return Verdict(False, WRONG_FORMAT)
    if not isinstance(signature, dict) or signature.get("algorithm") != ALGORITHM:
        return Verdict(False, WRONG_ALGORITHM)
    # The cheap checks first: canonicalising a large body costs real time, and anyone
    # may ask (the public check page), so only a signature by a key we hold gets there.
    candidates = [k for k in public_keys if key_id(k) == signature.get("key_id")]
    if not candidates:
        return Verdict(False, UNKNOWN_KEY)
    try:
        raw = base64.b64decode(str(signature.get("value", "")), validate=True)
        if len(raw) != SIGNATURE_BYTES:
            return Verdict(False, UNDECODABLE)
        payload = canonical(body)
    except (binascii.Error, ValueError, RecursionError, rfc8785.CanonicalizationError):
        return Verdict(False, UNDECODABLE)
    for public_key in candidates:
        try:
            public_key.verify(raw, payload)
        except InvalidSignature:
            continue
        head = body.get("audit_chain_head")
        if not (isinstance(head, dict) and isinstance(head.get("seq"), int)):
            return Verdict(False, NO_CHAIN_HEAD)
        return Verdict(True, VALID, (int(head["seq"]), str(head.get("hash"))))
    return Verdict(False, ALTERED)
