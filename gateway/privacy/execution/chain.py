"""The whole chain: a request's part in every other system of the map.

Before the gateway erases its own copy, `gather` collects what identifies the subject
elsewhere and seals it under the key of the record the request names, so it is
destroyed with that key. Only what the subject proved leaves the gateway: the contact
they verified with a code, and the numbers of the orders in scope (which the own store
covers by the same rule). Another phone, e-mail or resident id typed on one of those
orders proves nothing (anyone can type a stranger's e-mail beside their own phone at
checkout): sent out, it would copy or erase the stranger's records elsewhere.

`advance` then reaches each system through its connector, outside any transaction of the
gateway's own store (a slow system must not hold the store's locks), and records each
system's status, attempts and evidence: a system that fails is tried again with backoff
and, after `GATEWAY_SYSTEMS_MAX_ATTEMPTS`, blocks the request for a DPO. `rescan`
searches the SQL systems again before the data key is destroyed: a system still holding
the subject fails certification, like the gateway's own store.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import subjects as subject_records
from gateway.accesslog import AccessLog
from gateway.core.clock import Clock, utc_text
from gateway.crypto import DecryptionFailed, decrypt_field, encrypt_field
from gateway.orders import ORDER_COLUMNS, orders
from gateway.privacy.execution import steps as step_records
from gateway.privacy.execution.erasure import StepContext
from gateway.privacy.execution.evidence import excluded, merged, seal_data
from gateway.privacy.execution.rescan import final_search
from gateway.privacy.model import chain as records
from gateway.privacy.model import store
from gateway.privacy.model.chain import DONE, PENDING, WAITING, SystemStep
from gateway.privacy.model.states import Kind
from gateway.subjects import SubjectKey, SubjectKeys
from gateway.systems import (
    OWN_STORE,
    Connections,
    ConnectorFailed,
    Identities,
    Identity,
    Job,
    Outcome,
    System,
    SystemsMap,
    connector_for,
)
from gateway.vault import open_copy, tokens_in
from gateway.vault import order_numbers as vault_order_numbers

log = logging.getLogger("gateway.privacy")

# The order fields that identify the subject in other systems, by identity kind: the
# order number only (see the module's docstring for why not the contacts on it).
IDENTIFYING: Mapping[str, Identity] = {"external_id": "order_number"}
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MOST = timedelta(hours=1)
CALLBACK_WAIT = timedelta(hours=24)  # a webhook that said 202 and never called back
IDENTITIES_GONE = (
    "the identities this request gathered are gone: another erasure destroyed the data key "
    "of the record it names first; have this system's part done by hand and record it"
)
_SEALED = {"table": "privacy_requests", "column": "identities_sealed"}


@dataclass(frozen=True)
class Attempt:
    """Everything one attempt at one system needs."""

    request: store.RequestRow
    key: str
    system: System
    step: SystemStep
    identities: Identities | None  # None: destroyed with the data key (after a rescan)
    subject_key: SubjectKey | None


class Chain:
    """Reaches every system of the map for a request, step by step, resumably."""

    def __init__(
        self,
        engine: AsyncEngine,
        systems: SystemsMap,
        connections: Connections,
        subjects: SubjectKeys,
        audit: AccessLog,
        clock: Clock,
        *,
        max_attempts: int,
        rule_years: Mapping[str, int],
    ) -> None:
        self.engine = engine
        self.systems = systems
        self.connections = connections
        self._subjects = subjects
        self._audit = audit
        self.clock = clock
        self._max_attempts = max_attempts
        self._rule_years = dict(rule_years)
        self.actor = "privacy-worker"  # the workflow names its worker here
        self.identities_gone = IDENTITIES_GONE
        self.external: dict[str, System] = {
            k: s for k, s in systems.systems.items() if k != OWN_STORE
        }

    @property
    def active(self) -> bool:
        """True when the map names any system besides the gateway's own store."""
        return bool(self.external)

    # --- the subject's identities ------------------------------------------------

    async def gather(self, ctx: StepContext) -> dict[str, Any]:
        """The `identities` step: what identifies the subject elsewhere, sealed."""
        key = await self._subject_key(ctx.conn, ctx.request)
        pairs: list[tuple[Identity, str]] = []
        for subject_id in ctx.subjects:
            pairs += await self._from_orders(ctx.conn, subject_id)
        # The numbers of the subjects' orders whose personal values the vault holds.
        pairs += await vault_order_numbers(ctx.conn, ctx.subjects)
        contact = await self._contact(ctx.conn, ctx.request, key)
        if contact is not None and ctx.request.contact_kind in {"phone", "email"}:
            pairs.append((ctx.request.contact_kind, contact))  # type: ignore[arg-type]
        found = Identities.of(pairs)
        earlier = await self.identities(ctx.conn, ctx.request)
        if earlier is not None:
            found = earlier.merged(found)  # a re-run after the own store went keeps them
        if key is not None and key.dek is not None:
            sealed = encrypt_field(
                key.dek,
                json.dumps(found.to_json()),
                row_id=ctx.request.id,
                dek_version=key.dek_version,
                **_SEALED,
            )
            await store.update_request(ctx.conn, ctx.request.id, None, identities_sealed=sealed)
        return {
            "store": "the systems map",
            "action": "identities gathered",
            "records": sum(len(v) for v in found.values.values()),
            "kinds": found.kinds(),
            "method": "sealed under the data key of the record the request names",
        }

    async def _from_orders(
        self, conn: AsyncConnection, subject_id: uuid.UUID
    ) -> list[tuple[Identity, str]]:
        row = await subject_records.key_row(conn, subject_id)
        if row is None or row.wrapped_key is None:
            return []
        key = self._subjects.unwrap(row)
        assert key.dek is not None  # noqa: S101 - a live key row unwraps to a key
        columns = {path: orders.c[ORDER_COLUMNS[path]] for path in IDENTIFYING}
        query = select(orders.c.id, *columns.values()).where(orders.c.subject_id == subject_id)
        pairs: list[tuple[Identity, str]] = []
        for order in await conn.execute(query):
            for path, col in columns.items():
                value = order._mapping[col.name]
                if isinstance(value, bytes) and value:
                    value = decrypt_field(
                        key.dek,
                        value,
                        table="orders",
                        column=col.name,
                        row_id=order.id,
                        dek_version=key.dek_version,
                    )
                if isinstance(value, str) and value:
                    pairs.append((IDENTIFYING[path], value))
        return pairs

    async def _subject_key(
        self, conn: AsyncConnection, request: store.RequestRow
    ) -> SubjectKey | None:
        if request.subject_id is None:
            return None
        row = await subject_records.key_row(conn, request.subject_id)
        return None if row is None or row.wrapped_key is None else self._subjects.unwrap(row)

    async def _contact(
        self, conn: AsyncConnection, request: store.RequestRow, key: SubjectKey | None
    ) -> str | None:
        sealed = await store.get_blob(conn, request.id, "contact_sealed")
        if key is None or key.dek is None or sealed is None:
            return None
        try:
            return decrypt_field(
                key.dek,
                sealed,
                table="privacy_requests",
                column="contact_sealed",
                row_id=request.id,
                dek_version=key.dek_version,
            )
        except DecryptionFailed:
            return None

    async def identities(
        self, conn: AsyncConnection, request: store.RequestRow
    ) -> Identities | None:
        """The sealed identities, or None once the key that seals them is destroyed."""
        sealed = await store.get_blob(conn, request.id, "identities_sealed")
        key = await self._subject_key(conn, request)
        if sealed is None or key is None or key.dek is None:
            return None
        text = decrypt_field(
            key.dek, sealed, row_id=request.id, dek_version=key.dek_version, **_SEALED
        )
        return Identities.from_json(json.loads(text))

    async def identities_for(
        self, conn: AsyncConnection, request: store.RequestRow, key: str
    ) -> Identities | None:
        """The identities system `key` is reached with: the request's, and where the
        vault took that system's identifying cells, the tokens that stand for them
        there (the subject's rows are found by them; no other system is given them)."""
        found = await self.identities(conn, request)
        if found is None:
            return None
        scope = await store.scope_of(conn, request)
        return found.merged(await tokens_in(conn, key, self.external[key], scope))

    # --- reaching each system ----------------------------------------------------

    async def advance(self, request_id: uuid.UUID) -> bool:
        """Try every system not done yet; True once all are done."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            request = await store.get_request(conn, request_id)
            if request is None:
                return False
            subject_key = await self._subject_key(conn, request)
            steps = {}
            known = {}
            for key, system in self.external.items():
                steps[key] = await records.ensure_step(conn, request_id, key, system.connector, now)
                known[key] = await self.identities_for(conn, request, key)
        done = True
        for key, system in self.external.items():
            step = steps[key]
            if step.status == DONE:
                continue
            attempt = Attempt(request, key, system, step, known[key], subject_key)
            done = await self._attempt(attempt) and done
        return done

    async def _attempt(self, at: Attempt) -> bool:
        now = self.clock.now()
        if at.step.status == WAITING:
            since = at.step.waiting_since or now
            overdue = now - since > CALLBACK_WAIT or now >= self.deadline(at)
            if at.system.connector != "webhook" or not overdue:
                return False  # a person's part: the register shows it waiting
            await self.failed(at, ConnectorFailed(f"no callback from {at.key!r}"), counted=True)
            return False
        if at.step.next_attempt_at is not None and now < at.step.next_attempt_at:
            return False
        if at.identities is None:
            if await self.own_key_went(at.request.id):
                # This request destroyed the key: the system was reached before it went.
                outcome = Outcome("done", at.step.evidence or {"method": at.system.connector})
                await self._record(at, outcome)
                return True
            await self.failed(at, ConnectorFailed(IDENTITIES_GONE, retry=False))
            return False
        out = excluded(at.system, at.identities)
        if out is not None:
            await self._record(at, Outcome("done", {"method": at.system.connector, **out}))
            return True
        try:
            connector = connector_for(at.key, at.system, self.connections)
            job = self._job(at, now)
            erasure = at.request.kind == Kind.ERASURE.value
            try:
                outcome = await (connector.erase(job) if erasure else connector.export(job))
            finally:
                await connector.close()
        except ConnectorFailed as exc:
            await self.failed(at, exc)
            return False
        if not erasure and outcome.data:
            outcome = await self._opened(at, outcome)
        await self._record(at, outcome)
        return outcome.status == DONE

    async def _opened(self, at: Attempt, outcome: Outcome) -> Outcome:
        """An access copy with the subject's own vault tokens opened (the copy is of
        their data, wherever the vault keeps it)."""
        async with self.engine.connect() as conn:
            scope = await store.scope_of(conn, at.request)
            data = await open_copy(conn, self._subjects, at.key, scope, outcome.data)
        return Outcome(outcome.status, outcome.evidence, data)

    def deadline(self, at: Attempt) -> datetime:
        """When this system's part must be done: the request's target (72 h), or sooner
        when the map gives the system `deadline_hours` of its own from the start."""
        target = at.request.target_at or self.clock.now() + timedelta(hours=72)
        if at.system.deadline_hours is None:
            return target
        started = at.request.started_at or at.request.verified_at or self.clock.now()
        return min(target, started + timedelta(hours=at.system.deadline_hours))

    def _job(self, at: Attempt, now: datetime) -> Job:
        assert at.identities is not None  # noqa: S101 - checked by the caller
        return Job(
            request_id=at.request.id,
            kind="erasure" if at.request.kind == Kind.ERASURE.value else "access",
            system=at.key,
            spec=at.system,
            identities=at.identities,
            delivery_id=at.step.delivery_id,
            attempt=at.step.attempts + 1,
            now=now,
            deadline=self.deadline(at),
            rule_years=self._rule_years,
        )

    async def failed(
        self, at: Attempt, exc: ConnectorFailed, actor: str | None = None, *, counted: bool = False
    ) -> bool:
        """Try again later, or block the request for a DPO when retrying cannot help.
        False when the step had moved on meanwhile (nothing is recorded then)."""
        now = self.clock.now()
        attempts = at.step.attempts + (0 if counted else 1)
        blocked = None
        late = now >= self.deadline(at)
        if not exc.retry or attempts >= self._max_attempts or late:
            times = "once" if attempts == 1 else f"{attempts} times"
            blocked = f"system {at.key!r} ({at.system.name}) failed {times}: {exc.reason}"
            if late:
                blocked += f"; its deadline ({utc_text(self.deadline(at))}) has passed"
        delay = min(BACKOFF_FIRST * 2 ** (attempts - 1), BACKOFF_MOST)
        kept = (
            {}
            if exc.evidence is None
            else {"evidence": merged(at.step.evidence, dict(exc.evidence))}
        )
        async with self.engine.begin() as conn:
            saved = await records.save_step(
                conn,
                at.request.id,
                at.key,
                expect=at.step.status,
                **kept,
                status=PENDING,
                attempts=attempts,
                last_error=exc.reason,
                next_attempt_at=None if blocked else now + delay,
                waiting_since=None,
                updated_at=now,
            )
            if not saved:
                return False
            if blocked is not None:
                await store.update_request(conn, at.request.id, None, blocked_reason=blocked)
        await self._audit.record(
            actor or self.actor,
            "privacy.system_failed",
            f"privacy/{at.request.id}",
            details={
                "system": at.key,
                "attempts": attempts,
                "error": exc.reason,
                "blocked": blocked is not None,
            },
        )
        return True

    async def _record(self, at: Attempt, outcome: Outcome) -> None:
        async with self.engine.begin() as conn:
            await self.save_outcome(conn, at, outcome, counted=False)
        await self.audit_outcome(at, outcome, self.actor)

    async def save_outcome(
        self, conn: AsyncConnection, at: Attempt, outcome: Outcome, *, counted: bool
    ) -> bool:
        """Store what a system answered, only if its step is still as `at` read it
        (False: another answer got there first). `counted`: the attempt that this
        answers was counted already (a callback or a person's record of a waiting step)."""
        now = self.clock.now()
        evidence = merged(at.step.evidence, dict(outcome.evidence))
        if outcome.status == DONE:
            evidence["finished_at"] = utc_text(now)
        values: dict[str, Any] = {
            "status": outcome.status,
            "attempts": at.step.attempts + (0 if counted else 1),
            "last_error": None,
            "next_attempt_at": None,
            "waiting_since": now if outcome.status == WAITING else None,
            "evidence": evidence,
            "updated_at": now,
        }
        if outcome.data and at.subject_key is not None and at.subject_key.dek is not None:
            values["data_sealed"] = seal_data(at.subject_key, at.step, outcome.data)
        return await records.save_step(conn, at.request.id, at.key, expect=at.step.status, **values)

    async def audit_outcome(self, at: Attempt, outcome: Outcome, actor: str) -> None:
        await self._audit.record(
            actor,
            "privacy.system",
            f"privacy/{at.request.id}",
            details={
                "system": at.key,
                "method": outcome.evidence.get("method", at.system.connector),
                "status": outcome.status,
            },
        )

    async def attempt_at(
        self, conn: AsyncConnection, request_id: uuid.UUID, key: str, step: SystemStep
    ) -> Attempt | None:
        """What recording an answer for `step` needs, or None if the request is gone."""
        request = await store.get_request(conn, request_id)
        system = self.external.get(key)
        if request is None or system is None:
            return None
        identities = await self.identities_for(conn, request, key)
        subject_key = await self._subject_key(conn, request)
        return Attempt(request, key, system, step, identities, subject_key)

    # --- searching again -----------------------------------------------------------

    async def rescan(self, request_id: uuid.UUID) -> dict[str, Any] | None:
        """The `systems_rescan` step (`gateway.privacy.execution.rescan`)."""
        return await final_search(self, request_id)

    async def block(self, request_id: uuid.UUID, reason: str) -> None:
        """Hold the request for a DPO, with the reason (no personal data)."""
        async with self.engine.begin() as conn:
            await store.update_request(conn, request_id, None, blocked_reason=reason)

    async def own_key_went(self, request_id: uuid.UUID) -> bool:
        """Whether this request's own `data_key` step ran (its identities went with it)."""
        async with self.engine.begin() as conn:
            return await step_records.has_run(conn, request_id, "data_key")
