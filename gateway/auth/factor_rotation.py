"""KEK rotation for second-factor secrets: re-seal each under the active KEK version.

There are few (one or two per principal), so one transaction does them all, after
the data keys; like those, a secret records its KEK version, so factors keep
working before, during and after a rotation.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.auth import factor_store as store
from gateway.auth.factors import SECRET_KIND
from gateway.crypto import KeyRing, unwrap_secret, wrap_secret


async def pending(engine: AsyncEngine, keys: KeyRing) -> int:
    """How many second-factor secrets are still sealed under an older KEK."""
    async with engine.connect() as conn:
        return await store.count_not_under(conn, keys.active_kek_version)


async def versions_in_use(engine: AsyncEngine) -> set[int]:
    """The KEK versions that still seal some second-factor secret."""
    async with engine.connect() as conn:
        return await store.secret_kek_versions(conn)


async def reseal_all(engine: AsyncEngine, keys: KeyRing) -> int:
    """Re-seal every second-factor secret not under the active KEK; return how many."""
    target = keys.active_kek_version
    new_kek = keys.kek(target)
    async with engine.begin() as conn:
        rows = await store.factors_to_rewrap(conn, target)
        for principal_id, column, sealed, version in rows:
            secret = unwrap_secret(
                keys.kek(version),
                sealed,
                kind=SECRET_KIND,
                owner_id=principal_id,
                kek_version=version,
            )
            resealed = wrap_secret(
                new_kek, secret, kind=SECRET_KIND, owner_id=principal_id, kek_version=target
            )
            values = {column: resealed, store.SEALED_COLUMNS[column]: target}
            await store.set_columns(conn, principal_id, values)
    return len(rows)
