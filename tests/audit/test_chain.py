"""The audit library on its own: canonical bytes (fixed vectors), the chain, checkpoints,
and verification that detects and locates every kind of tampering."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.checkpoint import Checkpoint, key_id, sign
from audit.entry import (
    GENESIS_HASH,
    Draft,
    Entry,
    Outcome,
    canonical_json,
    entry_from_document,
)
from audit.verify import verify

ORDER = "5ed97e72-04e0-48ea-8095-8cd14209807d"
VECTOR_DRAFT = Draft(
    at=datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC),
    actor="cs-alice",
    action="orders.read",
    outcome=Outcome.ALLOWED,
    resource=f"orders/{ORDER}",
    orders=[ORDER],
    subjects=["3f1a"],
    fields={"customer.phone": "masked", "customer.name": "clear"},
    request_id="r-1",
    client="10.0.0.7",
    details={"count": 1},
)
VECTOR_BYTES = (
    b'{"action":"orders.read","actor":"cs-alice","at":"2026-11-20T10:00:00.000000Z",'
    b'"client":"10.0.0.7","details":{"count":1},'
    b'"fields":{"customer.name":"clear","customer.phone":"masked"},"grant":null,'
    b'"orders":["5ed97e72-04e0-48ea-8095-8cd14209807d"],"outcome":"allowed","purpose":null,'
    b'"request_id":"r-1","resource":"orders/5ed97e72-04e0-48ea-8095-8cd14209807d","seq":1,'
    b'"subjects":["3f1a"],"v":1}'
)
VECTOR_HASH = "de5380b66144637bb43a9bd9f407a4a055bbb61d9d4cbec49399209253e18662"


def test_genesis_and_canonical_bytes_follow_the_documented_encoding() -> None:
    assert hashlib.sha256(b"opg/audit/genesis/v1").digest() == GENESIS_HASH
    entry = Entry.from_draft(1, VECTOR_DRAFT)
    assert entry.canonical_bytes() == VECTOR_BYTES
    chained = entry.chained(GENESIS_HASH)
    assert chained.hash == hashlib.sha256(GENESIS_HASH + VECTOR_BYTES).hexdigest()
    assert chained.hash == VECTOR_HASH
    # Non-ASCII is UTF-8, never \\u escapes; keys sort by UTF-16 code units (RFC 8785).
    purpose = dataclasses.replace(VECTOR_DRAFT, purpose="客户来电 about parcel")
    assert "客户来电 about parcel".encode() in Entry.from_draft(1, purpose).canonical_bytes()


def test_a_document_round_trips_to_the_same_entry() -> None:
    entry = Entry.from_draft(7, VECTOR_DRAFT).chained(GENESIS_HASH)
    assert entry_from_document(entry.document(), entry.hash) == entry
    with pytest.raises(ValueError, match="format version"):
        entry_from_document({**entry.document(), "v": 2})


KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEYS = {key_id(KEY.public_key()): KEY.public_key()}


def _log(n: int, every: int = 4) -> tuple[list[Entry], list[Checkpoint]]:
    entries: list[Entry] = []
    checkpoints: list[Checkpoint] = []
    previous = GENESIS_HASH
    for seq in range(1, n + 1):
        draft = dataclasses.replace(
            VECTOR_DRAFT, at=VECTOR_DRAFT.at + timedelta(seconds=seq), actor=f"app-{seq % 3}"
        )
        entry = Entry.from_draft(seq, draft).chained(previous)
        previous = bytes.fromhex(entry.hash)
        entries.append(entry)
        if seq % every == 0:
            checkpoints.append(sign(KEY, seq, entry.hash, entry.at))
    return entries, checkpoints


def test_an_intact_log_verifies() -> None:
    entries, checkpoints = _log(10)
    report = verify(entries, checkpoints, KEYS)
    assert report.ok, report
    assert report.entries_checked == 10
    assert report.first_bad_sequence is None
    assert report.head == {"seq": 10, "hash": entries[-1].hash, "at": entries[-1].at}
    assert report.last_checkpoint is not None
    assert report.last_checkpoint["seq"] == 8


def _rechain(entries: list[Entry], start: int = 0) -> list[Entry]:
    """What an attacker without the key can do: recompute every hash from `start`."""
    previous = GENESIS_HASH if start == 0 else bytes.fromhex(entries[start - 1].hash)
    out = entries[:start]
    for entry in entries[start:]:
        fixed = entry.chained(previous)
        previous = bytes.fromhex(fixed.hash)
        out.append(fixed)
    return out


def test_an_edited_field_is_located() -> None:
    entries, checkpoints = _log(10)
    entries[5] = dataclasses.replace(entries[5], actor="someone-else")
    report = verify(entries, checkpoints, KEYS)
    assert not report.ok
    assert report.first_bad_sequence == 6
    assert "entry 6 does not match its hash" in report.reason
    assert report.entries_checked == 5


def test_a_deleted_entry_is_located() -> None:
    entries, checkpoints = _log(10)
    del entries[3]
    report = verify(entries, checkpoints, KEYS)
    assert (report.ok, report.first_bad_sequence) == (False, 4)
    assert report.reason == "entry 4 is missing (the next entry is 5)"


def test_two_swapped_entries_are_located() -> None:
    entries, checkpoints = _log(10)
    a, b = entries[2], entries[3]
    entries[2] = dataclasses.replace(b, seq=3)
    entries[3] = dataclasses.replace(a, seq=4)
    report = verify(entries, checkpoints, KEYS)
    assert (report.ok, report.first_bad_sequence) == (False, 3)


def test_an_inserted_entry_is_located() -> None:
    entries, checkpoints = _log(10)
    forged = dataclasses.replace(entries[4], actor="intruder")
    shifted = [dataclasses.replace(e, seq=e.seq + 1) for e in entries[4:]]
    tampered = [*entries[:4], forged, *shifted]
    report = verify(tampered, checkpoints, KEYS)
    assert (report.ok, report.first_bad_sequence) == (False, 5)


def test_a_truncated_tail_is_caught_by_a_checkpoint() -> None:
    entries, checkpoints = _log(10)
    report = verify(entries[:6], checkpoints, KEYS)
    assert (report.ok, report.first_bad_sequence) == (False, 7)
    assert "ends at entry 6 but a checkpoint vouches for entry 8" in report.reason


def test_a_tail_truncated_with_its_checkpoints_is_caught_by_the_remembered_one() -> None:
    entries, checkpoints = _log(10)
    remembered = checkpoints[-1]  # seq 8, seen by an earlier verification
    kept = [cp for cp in checkpoints if cp.seq <= 4]
    assert verify(entries[:6], kept, KEYS).ok  # without a memory, nothing to notice
    report = verify(entries[:6], kept, KEYS, trusted=remembered)
    assert (report.ok, report.first_bad_sequence) == (False, 7)
    assert "before the remembered checkpoint at entry 8" in report.reason


def test_a_whole_chain_recomputed_without_the_key_is_caught() -> None:
    entries, checkpoints = _log(10)
    entries[5] = dataclasses.replace(entries[5], actor="someone-else")
    rewritten = _rechain(entries)
    report = verify(rewritten, checkpoints, KEYS)
    assert (report.ok, report.first_bad_sequence) == (False, 5)  # after the good checkpoint 4
    assert "the checkpoint at entry 8 signed another head: entries 5-8 were rewritten" in (
        report.reason
    )
    # Re-signing with another key does not help the attacker.
    other = Ed25519PrivateKey.generate()
    forged = [sign(other, cp.seq, rewritten[cp.seq - 1].hash, cp.at) for cp in checkpoints]
    report = verify(rewritten, forged, KEYS)
    assert (report.ok, report.first_bad_sequence) == (False, 1)
    assert "not signed by a known key" in report.reason


def test_a_partial_log_verifies_from_its_starting_hash() -> None:
    entries, checkpoints = _log(10)
    start = bytes.fromhex(entries[3].hash)
    assert verify(entries[4:], checkpoints, KEYS, start_seq=4, start_hash=start).ok
    report = verify(entries[4:], checkpoints, KEYS, start_seq=4, start_hash=GENESIS_HASH)
    assert (report.ok, report.first_bad_sequence) == (False, 5)


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | _text
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=8), _json, max_size=6))
def test_the_fast_encoder_gives_rfc_8785_bytes(document: dict[str, object]) -> None:
    assert canonical_json(document) == rfc8785.dumps(document)


def test_documents_outside_the_fast_domain_still_get_rfc_8785_bytes() -> None:
    for document in ({"x": 1.5}, {"ключ": "v", "a": 1}, {"n": 10}):
        assert canonical_json(document) == rfc8785.dumps(document)
    # Non-ASCII keys sort by UTF-16 code units in RFC 8785, which the fallback honours.
    document = {"\U0001f600": 1, "\ufb01": 2}
    assert canonical_json(document) == rfc8785.dumps(document)
