"""A system's evidence in a request: how runs add up, and the sealed access data.

Evidence is counts and facts, never a personal value; what an access request brings
back from a system is sealed under the subject's key (`seal_data`) until the export
is built, then forgotten.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from gateway.crypto import decrypt_field, encrypt_field
from gateway.privacy.model.chain import SystemStep
from gateway.subjects import SubjectKey
from gateway.systems import Identities, System

_DATA = {"table": "privacy_system_steps", "column": "data_sealed"}


def excluded(system: System, identities: Identities) -> dict[str, Any] | None:
    """A system that identifies subjects only by what this request does not know."""
    kinds = {f.identifies for d in system.datasets.values() for f in d.identities}
    if kinds & set(identities.kinds()):
        return None
    names = ", ".join(sorted(k for k in kinds if k is not None))
    return {"excluded": f"finds subjects only by {names}, which is not known for this subject"}


def merged(earlier: Mapping[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    """Evidence over runs: counts of each dataset add up, the latest facts win."""
    if not earlier or "datasets" not in earlier or "datasets" not in now:
        return now
    datasets = {}
    for name, counts in now["datasets"].items():
        before = earlier["datasets"].get(name, {})
        datasets[name] = {
            k: (int(v) + int(before.get(k, 0)) if isinstance(v, int) and k != "truncated" else v)
            for k, v in counts.items()
        }
    return {**now, "datasets": datasets, "runs": int(earlier.get("runs", 1)) + 1}


def seal_data(key: SubjectKey, step: SystemStep, data: Mapping[str, Any]) -> bytes:
    """What a system returned for an access request, under the subject's key."""
    assert key.dek is not None  # noqa: S101 - callers check the key
    return encrypt_field(
        key.dek,
        json.dumps(data, ensure_ascii=False, sort_keys=True),
        row_id=step.delivery_id,
        dek_version=key.dek_version,
        **_DATA,
    )


def open_data(key: SubjectKey, delivery_id: uuid.UUID, sealed: bytes) -> Any:
    assert key.dek is not None  # noqa: S101 - callers check the key
    text = decrypt_field(key.dek, sealed, row_id=delivery_id, dek_version=key.dek_version, **_DATA)
    return json.loads(text)
