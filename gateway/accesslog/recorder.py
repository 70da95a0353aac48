"""What the gateway writes to the audit log, in its own words, with no personal data.

Entries name principals (apps and operators, not customers), orders by their
random ids, fields by path with the level they were shown at, and data subjects
only as keyed pseudonyms: `HMAC-SHA-256(pseudonym key, subject id)`, 128 bits,
with a key derived from the blind-index key. The pseudonym stays stable across
a subject's orders (a DPO can follow one subject through the log) and means
nothing without the key, so the log stays lawful and verifiable after an erasure.
The address of a public (data subject's) call is kept the same way, as a keyed
pseudonym; staff and operators' addresses are kept as they are (security).

Every method returns only once the entry is committed; if it cannot be, it
raises `LogUnavailable` and the caller must not disclose (fail closed).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from audit import AuditLog, Draft, Entry, LogUnavailable, Outcome
from gateway.accesslog.context import current_request
from gateway.core.clock import Clock
from gateway.core.principal import Principal

OPERATOR = "operator"  # the command line: whoever holds the database and the keys
ANONYMOUS = "anonymous"
DATA_SUBJECT = "data-subject"  # the actor of public calls: never a person's name


def pseudonym_key(blind_index_key: bytes) -> bytes:
    """A key of its own for pseudonyms, derived so no fourth key file is needed."""
    return hmac.new(blind_index_key, b"opg/audit-pseudonym/v1", hashlib.sha256).digest()


class AccessLog:
    """What the gateway writes to the audit log: entries in its terms, with pseudonyms for
    data subjects and clients, and the caller's request context."""

    def __init__(self, log: AuditLog, key: bytes, clock: Clock) -> None:
        self.log = log
        self._key = key
        self._clock = clock
        # Events that could not be logged when they happened (the store was down at
        # start-up): written before the next entry, which cannot be written without them.
        self._owed: list[Draft] = []
        self._paying = asyncio.Lock()

    async def at_start(self, action: str, resource: str, details: Mapping[str, Any]) -> None:
        """Log a start-up event; if the log is down, owe it to the next entry instead of
        refusing to start (every request fails closed until the log is back anyway)."""
        draft = self._draft(OPERATOR, action, resource, Outcome.ALLOWED, details=details)
        try:
            await self.log.append(draft)
        except LogUnavailable:
            self._owed.append(draft)

    def pseudonym(self, subject_id: uuid.UUID) -> str:
        return hmac.new(self._key, subject_id.bytes, hashlib.sha256).hexdigest()[:32]

    def staff_pseudonym(self, issuer: str, subject: str) -> str:
        """A person at an identity provider as the log names them: `person:<hex>`, keyed
        on the issuer's URL and their subject there. Their name stays in the
        principals table, where the DPO looks it up; the chain never holds it."""
        message = b"person|" + issuer.encode() + b"|" + subject.encode()
        return "person:" + hmac.new(self._key, message, hashlib.sha256).hexdigest()[:24]

    def client_pseudonym(self, address: str) -> str:
        """A data subject's address as a keyed pseudonym: the log can still tell one
        caller's calls apart (abuse), but holds no IP address of a customer."""
        digest = hmac.new(self._key, b"client|" + address.encode(), hashlib.sha256)
        return "ip:" + digest.hexdigest()[:24]

    async def record(
        self,
        actor: str,
        action: str,
        resource: str,
        outcome: Outcome = Outcome.ALLOWED,
        *,
        orders: Sequence[str] = (),
        subjects: Collection[uuid.UUID] = (),
        fields: Mapping[str, str] | None = None,
        grant: str | None = None,
        purpose: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Entry:
        if self._owed:
            async with self._paying:  # one request pays each owed entry, once, in order
                while self._owed:
                    await self.log.append(self._owed[0])
                    self._owed.pop(0)
        return await self.log.append(
            self._draft(
                actor,
                action,
                resource,
                outcome,
                orders=orders,
                subjects=subjects,
                fields=fields,
                grant=grant,
                purpose=purpose,
                details=details,
            )
        )

    def _draft(
        self,
        actor: str,
        action: str,
        resource: str,
        outcome: Outcome,
        *,
        orders: Sequence[str] = (),
        subjects: Collection[uuid.UUID] = (),
        fields: Mapping[str, str] | None = None,
        grant: str | None = None,
        purpose: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> Draft:
        request = current_request()
        client = request.client
        if client is not None and actor == DATA_SUBJECT:
            client = self.client_pseudonym(client)
        if request.app is not None:  # the app a person called through, beside the person
            details = {**(details or {}), "app": request.app}
        return Draft(
            at=self._clock.now(),
            actor=actor,
            action=action,
            outcome=outcome,
            resource=resource,
            orders=list(orders),
            subjects=sorted({self.pseudonym(s) for s in subjects}),
            fields=fields or {},  # the entry copies it
            grant=grant,
            purpose=purpose,
            request_id=request.request_id,
            client=client,
            details=details or {},
        )

    async def denied(
        self, principal: Principal | None, action: str, resource: str, status: int, reason: str
    ) -> None:
        """A refused request: who, what, and the problem's detail (which names no values)."""
        await self.record(
            ANONYMOUS if principal is None else principal.name,
            action,
            resource,
            Outcome.DENIED,
            details={"status": status, "reason": reason},
        )


def actor_of(principal: Principal | None) -> str:
    """The name the log gives a caller: the principal's, or `operator` for the command line."""
    return OPERATOR if principal is None else principal.name
