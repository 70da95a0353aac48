"""Envelope encryption and blind indexes, with the real AES-GCM and HMAC (nothing mocked)."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.crypto import envelope as env

ROW = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER_ROW = uuid.UUID("00000000-0000-4000-8000-000000000002")
SUBJECT = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
PLACE = {"table": "orders", "column": "customer_phone", "row_id": ROW, "dek_version": 1}


@given(st.text(max_size=200))
def test_fields_round_trip_and_never_hold_the_plaintext(value: str) -> None:
    dek = env.new_data_key()
    sealed = env.encrypt_field(dek, value, **PLACE)  # type: ignore[arg-type]
    assert env.decrypt_field(dek, sealed, **PLACE) == value  # type: ignore[arg-type]
    if len(value.encode()) >= 4:
        assert value.encode() not in sealed
    assert sealed[:1] == env.FORMAT_V1
    assert len(sealed) == 1 + env.NONCE_BYTES + len(value.encode()) + 16


def test_the_same_value_encrypts_differently_each_time() -> None:
    dek = env.new_data_key()
    first = env.encrypt_field(dek, "13812345678", **PLACE)  # type: ignore[arg-type]
    second = env.encrypt_field(dek, "13812345678", **PLACE)  # type: ignore[arg-type]
    assert first != second


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"row_id": OTHER_ROW},
        {"column": "customer_email"},
        {"table": "order_items"},
        {"dek_version": 2},
    ],
)
def test_a_ciphertext_moved_elsewhere_does_not_decrypt(elsewhere: dict[str, object]) -> None:
    dek = env.new_data_key()
    sealed = env.encrypt_field(dek, "13812345678", **PLACE)  # type: ignore[arg-type]
    with pytest.raises(env.DecryptionFailed) as info:
        env.decrypt_field(dek, sealed, **{**PLACE, **elsewhere})  # type: ignore[arg-type]
    assert "13812345678" not in str(info.value)


def test_tampering_a_wrong_key_or_garbage_fails() -> None:
    dek = env.new_data_key()
    sealed = bytearray(env.encrypt_field(dek, "张三", **PLACE))  # type: ignore[arg-type]
    sealed[-1] ^= 1
    for key, blob in ((dek, bytes(sealed)), (env.new_data_key(), bytes(sealed)), (dek, b"\x01xx")):
        with pytest.raises(env.DecryptionFailed):
            env.decrypt_field(key, blob, **PLACE)  # type: ignore[arg-type]
    with pytest.raises(env.DecryptionFailed, match="version-1"):
        env.decrypt_field(dek, b"\x02" + bytes(40), **PLACE)  # type: ignore[arg-type]


def test_data_keys_wrap_per_subject_and_kek_version() -> None:
    kek1, kek2 = env.new_data_key(), env.new_data_key()
    dek = env.new_data_key()
    wrapped = env.wrap_data_key(kek1, dek, subject_id=SUBJECT, kek_version=1)
    assert dek not in wrapped
    assert env.unwrap_data_key(kek1, wrapped, subject_id=SUBJECT, kek_version=1) == dek
    for kek, subject, version in ((kek1, ROW, 1), (kek1, SUBJECT, 2), (kek2, SUBJECT, 1)):
        with pytest.raises(env.DecryptionFailed):
            env.unwrap_data_key(kek, wrapped, subject_id=subject, kek_version=version)

    rewrapped = env.rewrap_data_key(
        kek1, kek2, wrapped, subject_id=SUBJECT, old_version=1, new_version=2
    )
    assert env.unwrap_data_key(kek2, rewrapped, subject_id=SUBJECT, kek_version=2) == dek
    # A field sealed before rotation still opens with the (unchanged) data key.
    sealed = env.encrypt_field(dek, "zhangsan@example.com", **PLACE)  # type: ignore[arg-type]
    again = env.unwrap_data_key(kek2, rewrapped, subject_id=SUBJECT, kek_version=2)
    assert env.decrypt_field(again, sealed, **PLACE) == "zhangsan@example.com"  # type: ignore[arg-type]


def test_blind_index_is_keyed_kind_separated_and_truncated() -> None:
    key = bytes(range(32))
    index = env.blind_index(key, "phone", "13812345678")
    # Fixed vector: HMAC-SHA-256 over the documented message, first 4 bytes.
    expected = hmac.new(key, b"opg/bi|phone|13812345678", hashlib.sha256).digest()[:4]
    assert index == expected
    assert len(index) == env.BLIND_INDEX_BYTES == 4
    assert env.blind_index(key, "phone", "13812345678") == index
    assert env.blind_index(key, "email", "13812345678") != index
    assert env.blind_index(bytes(32), "phone", "13812345678") != index
