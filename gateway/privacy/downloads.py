"""What leaves the gateway at the end of a request: certificates and access exports."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import hash_at, snapshot
from gateway import subjects as subject_records
from gateway.accesslog import AccessLog
from gateway.core.errors import NotFound
from gateway.core.principal import Principal
from gateway.crypto import DecryptionFailed, KeyRing
from gateway.privacy.desk.register import Register
from gateway.privacy.documents import certificate
from gateway.privacy.execution.workflow import open_export
from gateway.privacy.intake.limits import PUBLIC
from gateway.privacy.intake.requests import PrivacyRequests, parse_request_id, resource
from gateway.privacy.model import store
from gateway.subjects import SubjectKeys


class Downloads:
    """Certificates and exports, to the data subject (status token) or a DPO."""

    def __init__(
        self,
        engine: AsyncEngine,
        requests: PrivacyRequests,
        register: Register,
        subjects: SubjectKeys,
        keys: KeyRing,
        audit: AccessLog,
    ) -> None:
        self._engine = engine
        self._requests = requests
        self._register = register
        self._subjects = subjects
        self._keys = keys
        self._audit = audit

    async def certificate(
        self, request_id: str, token: str | None, principal: Principal | None
    ) -> dict[str, Any]:
        """The signed certificate, for the subject (status token) or a DPO (bearer)."""
        if principal is not None:
            # The subject's own document: besides them, only a DPO (not an auditor).
            key = parse_request_id(request_id)
            await self._register.authorize(principal, "manage", f"privacy/{key}")
        else:
            key = await self._requests.authorise(request_id, token or "")
        async with snapshot(self._engine) as conn:  # read only: blocks no writer
            raw = await store.get_blob(conn, key, "certificate")
        if raw is None:
            raise NotFound("this request has no certificate (yet)")
        await self._audit.record(
            PUBLIC if principal is None else principal.name, "privacy.certificate", resource(key)
        )
        document: dict[str, Any] = json.loads(raw)
        return document

    async def export(self, request_id: str, token: str) -> str:
        key = await self._requests.authorise(request_id, token)
        async with snapshot(self._engine) as conn:  # read only: blocks no writer
            row = await store.get_request(conn, key)
            sealed = await store.get_blob(conn, key, "export_sealed")
            subject_id = None if row is None else row.subject_id
            key_row = None
            if subject_id is not None:
                key_row = await subject_records.key_row(conn, subject_id)
        if subject_id is None or sealed is None or key_row is None or key_row.wrapped_key is None:
            raise NotFound("this request has no export to download (not ready, or deleted)")
        try:
            text = open_export(self._subjects.unwrap(key_row), key, sealed)
        except DecryptionFailed:
            raise NotFound("this request has no export to download") from None
        await self._audit.record(
            PUBLIC, "privacy.export_download", resource(key), subjects=[subject_id]
        )
        return text

    async def verify(self, document: Any) -> dict[str, Any]:
        """Signature by this gateway's key, and the chain head it names in the log."""
        verdict = certificate.verify_signature(
            document, [self._keys.audit_signing_key.public_key()]
        )
        # `chain_head_in_log` is always there (None: not checked), for the API and the CLI alike.
        result: dict[str, Any] = {
            "valid": verdict.valid,
            "reason": verdict.reason,
            "chain_head_in_log": None,
        }
        if verdict.valid and verdict.chain_head is not None:
            seq, head = verdict.chain_head
            async with snapshot(self._engine) as conn:  # read only: blocks no writer
                stored = await hash_at(conn, seq)
            result["chain_head_in_log"] = stored == head
            if stored != head:
                result["valid"] = False
                result["reason"] = certificate.NOT_IN_LOG
        return result
