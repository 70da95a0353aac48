"""Are these the keys this store was written with? Checked before the gateway serves.

A KEK that is well-formed but wrong (a copy from another environment, a typo in a
secret store) would otherwise let the gateway start, report healthy, answer reads with
500, seal new data under the wrong key and silently match no privacy request. So each
key leaves a check value in the store the first time it is used (`key_checks`): for a
KEK version, a random canary sealed with AES-GCM (only that key opens it); for the
blind-index key, a keyed hash of a fixed label. A store written before check values
existed is checked by opening one of its data keys. A mismatch stops start-up with one
line naming the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.core import dbstate
from gateway.core.errors import ConfigurationError
from gateway.crypto import (
    DecryptionFailed,
    KeyRing,
    blind_index,
    decrypt_field,
    unwrap_data_key,
    unwrap_secret,
    wrap_secret,
)
from gateway.subjects import store

_CANARY = uuid.UUID(int=0)
_LABEL = b"opg/key-check/blind-index/v1"


def _blind_check(keys: KeyRing) -> bytes:
    return hmac.new(keys.blind_index_key, _LABEL, hashlib.sha256).digest()


def _kek_opens(keys: KeyRing, version: int, sealed: bytes) -> bool:
    try:
        unwrap_secret(
            keys.kek(version), sealed, kind="kek-check", owner_id=_CANARY, kek_version=version
        )
    except DecryptionFailed:
        return False
    return True


async def check_keys(engine: AsyncEngine, keys: KeyRing, now: datetime) -> None:
    """Raise `ConfigurationError` naming the first key that is not this store's."""
    try:
        await _check(engine, keys, now)
    except (SQLAlchemyError, OSError) as exc:
        # Never the driver's message (it can name hosts and users): a plain description
        # where one is safe (no such database, refused, not migrated), else the type.
        plain = await dbstate.explain(exc, engine.url.render_as_string(hide_password=False))
        raise ConfigurationError(
            plain
            or f"cannot open the database to check the keys ({type(exc).__name__}): check "
            "GATEWAY_DATABASE_URL, then run `privacy-gateway migrate`"
        ) from None


async def _check(engine: AsyncEngine, keys: KeyRing, now: datetime) -> None:
    async with engine.begin() as conn:
        stored = await store.stored_checks(conn)
        blind = stored.get(("blind-index", 1))
        if blind is not None and not hmac.compare_digest(blind, _blind_check(keys)):
            raise ConfigurationError(
                "the blind-index key is not the one this store was written with "
                "(its key check value differs): check GATEWAY_BLIND_INDEX_KEY or blind-index.key"
            )
        for version, count in sorted((await store.kek_versions_in_use(conn)).items()):
            if count and version not in keys.keks:
                raise ConfigurationError(
                    f"{count} data key(s) are wrapped under KEK version {version}, which is "
                    "not configured: provide it (GATEWAY_KEKS or kek-v<N>.key)"
                )
        for version in sorted(keys.keks):
            sealed = stored.get(("kek", version))
            if sealed is not None and not _kek_opens(keys, version, sealed):
                raise ConfigurationError(_wrong_kek(version, "its key check value does not open"))
            if sealed is None:
                await _first_check(conn, keys, version, now)
        if blind is None:
            await _first_blind_check(conn, keys)
            await store.add_check(conn, "blind-index", 1, _blind_check(keys), now)


async def _first_check(conn: AsyncConnection, keys: KeyRing, version: int, now: datetime) -> None:
    """No check value yet: try the KEK on a data key it wraps (stores from before check
    values), then leave one."""
    sample = await store.sample_key(conn, version)
    if sample is not None and sample.wrapped_key is not None:
        try:
            unwrap_data_key(
                keys.kek(version),
                sample.wrapped_key,
                subject_id=sample.subject_id,
                kek_version=version,
            )
        except DecryptionFailed:
            raise ConfigurationError(
                _wrong_kek(version, "it does not open the data keys stored under it")
            ) from None
    canary = wrap_secret(
        keys.kek(version),
        secrets.token_bytes(32),
        kind="kek-check",
        owner_id=_CANARY,
        kek_version=version,
    )
    await store.add_check(conn, "kek", version, canary, now)


async def _first_blind_check(conn: AsyncConnection, keys: KeyRing) -> None:
    """No check value yet: recompute one stored identifier's blind index (the KEKs are
    checked by now, so its value opens)."""
    sample = await store.sample_identifier(conn)
    if sample is None:
        return
    kind, digest, sealed, row = sample
    if row.wrapped_key is None or row.kek_version not in keys.keks:
        return
    dek = unwrap_data_key(
        keys.kek(row.kek_version),
        row.wrapped_key,
        subject_id=row.subject_id,
        kek_version=row.kek_version,
    )
    value = decrypt_field(
        dek,
        sealed,
        table="subject_identifiers",
        column=kind,
        row_id=row.subject_id,
        dek_version=row.dek_version,
    )
    if not hmac.compare_digest(blind_index(keys.blind_index_key, kind, value), digest):
        raise ConfigurationError(
            "the blind-index key is not the one this store was written with (stored "
            "identifiers do not match it): check GATEWAY_BLIND_INDEX_KEY or blind-index.key"
        )


def _wrong_kek(version: int, why: str) -> str:
    return (
        f"KEK version {version} is not the key this store was written with ({why}): "
        f"check GATEWAY_KEKS or kek-v{version}.key"
    )
