"""Running verified requests to completion, one step at a time, resumably.

A worker claims a request with a lease (`claimed_by`, `claim_expires_at`),
taken under `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL and under
SQLite's writer lock, so two workers never run the same request; the lease is
renewed at every step and a crashed worker's lease simply runs out. Before
each step the request is read again: a legal hold placed meanwhile stops the
run at the next step boundary.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit import EventFilter, Outcome, query
from gateway import subjects as subject_records
from gateway.accesslog import AccessLog
from gateway.core.clock import Clock, utc_text
from gateway.core.errors import InvalidTransition
from gateway.crypto import KeyRing, decrypt_field, encrypt_field
from gateway.privacy.documents import certificate
from gateway.privacy.documents.exports import build_export
from gateway.privacy.execution import documents as chain_documents
from gateway.privacy.execution import steps as step_records
from gateway.privacy.execution.chain import Chain
from gateway.privacy.execution.erasure import ErasureIncomplete, ErasureSteps, StepContext, StepFn
from gateway.privacy.model import chain as chain_records
from gateway.privacy.model import store
from gateway.privacy.model.scope import RULE
from gateway.privacy.model.states import RUNNABLE, Deadlines, Kind, State, check_move
from gateway.privacy.notify.voice import Voice
from gateway.subjects import SubjectKey, SubjectKeys

log = logging.getLogger("gateway.privacy")

WORKER = "privacy-worker"
LEASE = timedelta(minutes=5)
MAX_VERIFICATION_FAILURES = 3
PRODUCED_BY = "Order Privacy Gateway"  # the software; the issuer is the controller


class Workflow:
    """Runs verified requests step by step, resumably, and certifies erasures."""

    def __init__(
        self,
        engine: AsyncEngine,
        steps: ErasureSteps,
        subjects: SubjectKeys,
        keys: KeyRing,
        audit: AccessLog,
        clock: Clock,
        *,
        export_hours: int,
        free_text_detection: bool,
        voice: Voice,
        chain: Chain | None = None,
    ) -> None:
        self._engine = engine
        self._steps = steps
        self._subjects = subjects
        self._keys = keys
        self._audit = audit
        self._clock = clock
        self._export_hours = export_hours
        self._free_text_detection = free_text_detection
        self._voice = voice
        self.chain = chain if chain is not None and chain.active else None
        self.worker_id = f"{WORKER}-{uuid.uuid4().hex[:12]}"
        if self.chain is not None:
            self.chain.actor = self.worker_id

    def steps_of(self, kind: str) -> tuple[tuple[str, StepFn | None], ...]:
        """A request's steps in order. With other systems in the map, the subject's
        identities are gathered first, every system is reached (`systems`, run outside
        the own store's transactions) before the own store is erased, and searched
        again (`systems_rescan`) before the data key, which seals the identities, goes."""
        own: tuple[tuple[str, StepFn | None], ...] = (
            self._steps.steps if kind == Kind.ERASURE.value else (("export", None),)
        )
        if self.chain is None:
            return own
        first: tuple[tuple[str, StepFn | None], ...] = (
            ("identities", self.chain.gather),
            ("systems", None),
        )
        if kind != Kind.ERASURE.value:
            return first + own
        at = [name for name, _ in own].index("data_key")
        return first + own[:at] + (("systems_rescan", None),) + own[at:]

    async def run_pending(self, max_steps: int | None = None) -> int:
        """Run every claimable request; returns how many were finished. `max_steps`
        stops after that many steps in all (a controlled "crash" for tests and ops)."""
        finished = 0
        budget = [max_steps]
        tried: set[uuid.UUID] = set()
        while budget[0] is None or budget[0] > 0:
            request_id = await self._claim(tried)
            if request_id is None:
                break
            tried.add(request_id)
            try:
                finished += await self._run(request_id, budget)
            except ErasureIncomplete as exc:
                await self._incomplete(request_id, exc)
            except Exception as exc:
                # Type only: driver messages can quote personal data.
                log.error("privacy step failed with %s; will resume", type(exc).__name__)  # noqa: TRY400
                await self._audit.record(
                    self.worker_id,
                    "privacy.step_failed",
                    f"privacy/{request_id}",
                    Outcome.ERROR,
                    details={"error": type(exc).__name__},
                )
            finally:
                await self._release(request_id)
        return finished

    async def _claim(self, skip: set[uuid.UUID]) -> uuid.UUID | None:
        now = self._clock.now()
        async with self._engine.begin() as conn:
            for request_id in await store.claim_next(conn, RUNNABLE, now, limit=len(skip) + 1):
                if request_id in skip:
                    continue
                await store.update_request(
                    conn, request_id, None, claimed_by=self.worker_id, claim_expires_at=now + LEASE
                )
                return request_id
        return None

    async def _release(self, request_id: uuid.UUID) -> None:
        async with self._engine.begin() as conn:
            row = await store.get_request(conn, request_id, lock=True)
            if row is not None and row.claimed_by == self.worker_id:
                await store.update_request(
                    conn, request_id, None, claimed_by=None, claim_expires_at=None
                )

    async def _current(
        self, conn: AsyncConnection, request_id: uuid.UUID
    ) -> store.RequestRow | None:
        """The request, locked, if it is still ours to run."""
        row = await store.get_request(conn, request_id, lock=True)
        if row is None or row.claimed_by != self.worker_id or row.state not in RUNNABLE:
            return None
        return row

    async def _run(self, request_id: uuid.UUID, budget: list[int | None]) -> int:
        now = self._clock.now()
        async with self._engine.begin() as conn:
            row = await self._current(conn, request_id)
            if row is None:
                return 0
            if row.state == State.VERIFIED.value:
                check_move(row.state, State.IN_PROGRESS)
                await store.update_request(
                    conn,
                    request_id,
                    State.VERIFIED.value,
                    state=State.IN_PROGRESS.value,
                    started_at=now,
                    updated_at=now,
                )
        for position, (name, fn) in enumerate(self.steps_of(row.kind)):
            async with self._engine.begin() as conn:
                done = await step_records.done_steps(conn, request_id)
                if name in done:
                    continue
                if budget[0] is not None:
                    if budget[0] <= 0:
                        return 0
                    budget[0] -= 1
                if await self._current(conn, request_id) is None:
                    return 0  # put on hold meanwhile, or taken over after our lease ran out
            outside = await self._outside(name, request_id)  # other systems, no own locks
            if outside is False:
                return 0  # a system is waiting or failed: the request resumes later
            async with self._engine.begin() as conn:
                row = await self._current(conn, request_id)
                if row is None:
                    return 0
                now = self._clock.now()
                ctx = StepContext(conn, row, now, await store.scope_of(conn, row))
                if isinstance(outside, dict):
                    result = outside
                else:
                    result = await (fn(ctx) if fn is not None else self._export(ctx))
                await step_records.record_step(conn, request_id, name, position, result, now)
                await store.update_request(conn, request_id, None, claim_expires_at=now + LEASE)
            await self._audit.record(
                self.worker_id,
                "privacy.step",
                f"privacy/{request_id}",
                details={"step": name, "records": _records(result)},
            )
        await self._complete(request_id)
        return 1

    async def _outside(self, name: str, request_id: uuid.UUID) -> dict[str, Any] | bool | None:
        """The steps that reach other systems run here, outside the own store's
        transactions: their result, False when not all systems are done yet, or None
        for a step of the own store."""
        if self.chain is None or name not in {"systems", "systems_rescan"}:
            return None
        if name == "systems_rescan":
            searched = await self.chain.rescan(request_id)
            return False if searched is None else searched  # None: blocked, with why
        if not await self.chain.advance(request_id):
            return False
        async with self._engine.begin() as conn:
            return await chain_documents.summary(conn, request_id)

    async def _incomplete(self, request_id: uuid.UUID, exc: ErasureIncomplete) -> None:
        """Something was found after the steps ran: run them all again next time (their
        counts add up). After a few rounds that find the same, a DPO must look: the
        request waits, blocked, in the register (`retry` runs it again)."""
        found = {k: v for k, v in exc.found.items() if v}
        blocked = None
        async with self._engine.begin() as conn:
            row = await store.get_request(conn, request_id, lock=True)
            failures = 1 + (0 if row is None else int(row.verification_failures))
            await step_records.mark_for_rerun(conn, request_id)
            # Only the systems the search found the subject in run again: a person who
            # emptied the paper archive is not asked twice because the CRM was not done.
            holding = {k.split(".", 1)[0] for k in found}
            await chain_records.rerun(conn, request_id, holding, self._clock.now())
            if failures >= MAX_VERIFICATION_FAILURES:
                blocked = "the final search still finds the subject in: " + ", ".join(sorted(found))
            await store.update_request(
                conn, request_id, None, verification_failures=failures, blocked_reason=blocked
            )
        await self._audit.record(
            self.worker_id,
            "privacy.verification_failed",
            f"privacy/{request_id}",
            Outcome.ERROR,
            details={"found": found, "blocked": blocked is not None},
        )

    async def _complete(self, request_id: uuid.UUID) -> None:
        async with self._engine.begin() as conn:
            row = await self._current(conn, request_id)
            steps = await step_records.done_steps(conn, request_id)
            scope = () if row is None else await store.scope_of(conn, row)
            covered = await store.scope_counts(conn, request_id)
            systems = await self._systems_entries(conn, request_id, steps)
        if row is None or row.state != State.IN_PROGRESS.value:
            return  # held meanwhile, or taken over: whoever runs it next completes it
        now = self._clock.now()
        # The entry that closes the request: its place in the chain goes in the certificate.
        entry = await self._audit.record(
            self.worker_id,
            "privacy.complete",
            f"privacy/{request_id}",
            subjects=scope,
            details={"kind": row.kind, "steps": list(steps)},
        )
        values: dict[str, Any] = {
            "state": State.COMPLETED.value,
            "completed_at": now,
            "updated_at": now,
            "match_digests": None,
            "contact_key": None,
            "identities_sealed": None,
        }
        if row.kind == Kind.ERASURE.value:
            body = self._certificate(row, steps, now, entry.seq, entry.hash, scope, covered)
            if systems is not None:
                body["systems"] = systems
            values["certificate"] = json.dumps(certificate.sign(body, self._keys.audit_signing_key))
        async with self._engine.begin() as conn:
            current = await self._current(conn, request_id)
            if current is None or current.state != State.IN_PROGRESS.value:
                return
            check_move(current.state, State.COMPLETED)
            await store.update_request(conn, request_id, State.IN_PROGRESS.value, **values)
            if row.kind != Kind.ERASURE.value:
                return
            for subject_id in scope:
                if not await store.open_erasures(conn, subject_id, request_id):
                    # Nothing personal is left to restrict; what the law keeps is now
                    # governed by its retention rule (its roles only).
                    await subject_records.lift_restriction(conn, subject_id)

    async def _systems_entries(
        self, conn: AsyncConnection, request_id: uuid.UUID, steps: Mapping[str, Any]
    ) -> list[dict[str, Any]] | None:
        """The certificate's account of every system of the map (None: no others)."""
        if self.chain is None:
            return None
        own = [name for name, _ in self._steps.steps]
        rescan = steps.get("systems_rescan", {})
        return await chain_documents.certificate_systems(
            conn, request_id, self.chain.systems, own, rescan
        )

    def _certificate(
        self,
        row: store.RequestRow,
        steps: Mapping[str, dict[str, Any]],
        now: datetime,
        seq: int,
        head: str,
        scope: tuple[uuid.UUID, ...],
        covered: Mapping[str, int],
    ) -> dict[str, Any]:
        subject_id, verified_at, target_at = _verified(row)
        deadlines = Deadlines(target_at, row.gdpr_deadline_at, row.pipl_deadline_at)
        legal = min(row.gdpr_deadline_at, row.pipl_deadline_at)
        retained = steps.get("orders", {}).get("retained", [])
        return {
            "format": certificate.FORMAT,
            "certificate_id": str(uuid.uuid4()),
            "request_id": str(row.id),
            "subject_pseudonym": self._audit.pseudonym(subject_id),
            "subject_pseudonyms": sorted(self._audit.pseudonym(s) for s in scope),
            "received_at": utc_text(row.received_at),
            "verified_at": utc_text(verified_at),
            "completed_at": utc_text(now),
            "deadline": {
                "target_at": utc_text(target_at),
                "target_met": now <= target_at,
                "legal_deadline_at": utc_text(legal),
                "legal_deadline_met": now <= legal,
                "gdpr_deadline_at": utc_text(row.gdpr_deadline_at),
                "pipl_deadline_at": utc_text(row.pipl_deadline_at),
                "extension_reason": row.extension_reason,
                "earliest_met": now <= deadlines.earliest(),
            },
            "laws_applied": certificate.laws_applied(restricted=bool(scope), retained=retained),
            "scope": {
                "rule": scope_rule(row.contact_kind),
                "records_by_contact": covered.get("contact", 0),
                "records_by_confirmed_link": covered.get("link", 0),
                "stores_searched": sorted(steps.get("verification", {}).get("found", {}).keys()),
                "excluded": certificate.excluded(free_text_detection=self._free_text_detection),
            },
            "steps": [_step(name, info) for name, info in steps.items()],
            "retained": retained,
            "backups": certificate.BACKUPS,
            "not_covered": certificate.NOT_COVERED
            if self.chain is None
            else certificate.NOT_COVERED_CHAIN,
            "audit_chain_head": {"seq": seq, "hash": head},
            "issuer": self._issuer(),
            "produced_by": PRODUCED_BY,
            "key_id": self._keys.audit_key_id,
            "issued_at": utc_text(now),
        }

    def _issuer(self) -> dict[str, Any]:
        """The controller, as the processing record names it: who answers for the erasure."""
        shop = self._voice.controller
        return {
            "name": dict(shop.names),
            "contact": shop.contact,
            "privacy_notice": shop.privacy_notice,
        }

    # --- access requests ----------------------------------------------------------

    async def _export(self, ctx: StepContext) -> dict[str, Any]:
        """Everything held in the request's scope, sealed under the key of the record it
        names until downloaded."""
        key_row = await subject_records.key_row(ctx.conn, _verified(ctx.request)[0])
        if key_row is None or key_row.wrapped_key is None:
            # Erased by an earlier request since this one was verified: nothing is held.
            return {
                "store": "all stores",
                "action": "nothing held",
                "records": 0,
                "method": "the subject's data was erased before the export was built",
            }
        keys = []
        reads: dict[int, Any] = {}  # by sequence: an entry naming two records counts once
        for subject_id in ctx.subjects:
            row = await subject_records.key_row(ctx.conn, subject_id)
            if row is None or row.wrapped_key is None:
                continue
            keys.append(self._subjects.unwrap(row))
            pseudonym = EventFilter(subject=self._audit.pseudonym(subject_id))
            for entry in await query(ctx.conn, pseudonym, limit=10_000, before=None):
                reads[entry.seq] = entry
        newest_first = [reads[seq] for seq in sorted(reads, reverse=True)]  # as the log answers
        scope = {"rule": scope_rule(ctx.request.contact_kind), "records": len(keys)}
        document = await build_export(ctx.conn, keys, scope, newest_first, ctx.now)
        if self.chain is not None:
            opened = self._subjects.unwrap(key_row)
            document["systems"] = await chain_documents.export_systems(
                ctx.conn, ctx.request.id, self.chain.systems, opened
            )
        await store.update_request(
            ctx.conn,
            ctx.request.id,
            None,
            export_sealed=seal_export(
                self._subjects.unwrap(key_row),
                ctx.request.id,
                json.dumps(document, ensure_ascii=False),
            ),
            export_expires_at=ctx.now + timedelta(hours=self._export_hours),
        )
        return {
            "store": "all stores",
            "action": "exported",
            "records": len(document["orders"]),
            "method": "JSON export sealed under the subject's key until downloaded",
        }


def scope_rule(contact_kind: str | None) -> str:
    kind = "e-mail address" if contact_kind == "email" else "phone number"
    return RULE.format(kind=kind)


def seal_export(key: SubjectKey, request_id: uuid.UUID, text: str) -> bytes:
    assert key.dek is not None  # noqa: S101 - live subjects only
    return encrypt_field(
        key.dek,
        text,
        table="privacy_requests",
        column="export_sealed",
        row_id=request_id,
        dek_version=key.dek_version,
    )


def open_export(key: SubjectKey, request_id: uuid.UUID, sealed: bytes) -> str:
    assert key.dek is not None  # noqa: S101 - callers check the key
    return decrypt_field(
        key.dek,
        sealed,
        table="privacy_requests",
        column="export_sealed",
        row_id=request_id,
        dek_version=key.dek_version,
    )


def _step(name: str, info: Mapping[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in info.items() if k not in {"found", "finished_at"}}
    return {"step": name, **kept, "finished_at": utc_text(info["finished_at"])}


def _records(result: Mapping[str, Any]) -> int:
    return (
        int(result.get("records", 0))
        + int(result.get("records_deleted", 0))
        + int(result.get("records_anonymised", 0))
    )


def _verified(row: store.RequestRow) -> tuple[uuid.UUID, datetime, datetime]:
    """What every verified request has: its record, when it was verified, its target.

    The workflow runs only verified requests; a row without these is not one of them.
    """
    if row.subject_id is None or row.verified_at is None or row.target_at is None:
        raise InvalidTransition("a request that was never verified cannot be worked on")
    return row.subject_id, row.verified_at, row.target_at
