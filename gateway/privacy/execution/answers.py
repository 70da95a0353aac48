"""Answers that arrive later: a webhook system's signed callback, a person's record of
a manual system's part.

Who could make a system's part "done"? Only whoever holds that system's secret (a
callback is signed with it, for one delivery id of that system: the CRM cannot
complete the warehouse's step), or, for a manual system, a DPO or the principal the
map names as the system's owner. Each answer lands once: a second callback for a done
step is acknowledged and changes nothing; two racing answers cannot both land.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from gateway.core.errors import (
    AuthenticationFailed,
    Conflict,
    FieldProblem,
    InvalidInput,
    NotFound,
)
from gateway.privacy.execution.chain import Chain
from gateway.privacy.model import chain as records
from gateway.privacy.model import store
from gateway.systems import (
    BadSignature,
    ConnectorFailed,
    Outcome,
    check_answer,
    outcome_of,
    read_answer,
    verify_signature,
)

log = logging.getLogger("gateway.privacy")

REFUSED = "the callback's signature does not verify for this system"


class SystemAnswers:
    """Records what a system or a person reports for a waiting system step."""

    def __init__(self, chain: Chain) -> None:
        self._chain = chain

    async def callback(self, key: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """A webhook system's signed completion of a delivery it answered `202` for."""
        system = self._chain.external.get(key)
        if system is None or system.connector != "webhook":
            raise AuthenticationFailed(REFUSED)  # the same answer as a bad signature
        try:
            secret = self._chain.connections.secret(key)
        except ConnectorFailed as exc:
            log.warning("callback for system %s refused: %s", key, exc.reason)
            raise AuthenticationFailed(REFUSED) from None
        now = self._chain.clock.now()
        try:
            delivery = verify_signature(secret, headers, body, now)
        except BadSignature as exc:
            raise AuthenticationFailed(f"{REFUSED}: {exc.reason}") from None
        try:
            answer = read_answer(system, secret, headers, body, delivery, now)
        except ConnectorFailed as exc:
            raise InvalidInput(exc.reason) from None
        if answer.status == "accepted":
            raise InvalidInput('a callback reports "done" or "failed", not "accepted"')
        async with self._chain.engine.begin() as conn:
            step = await records.step_by_delivery(conn, key, delivery, lock=True)
            if step is None:
                raise NotFound("no delivery with this id for this system")
            if step.status == records.DONE:
                return _ack(step.request_id, key, "already recorded")
            if step.status != records.WAITING:
                raise Conflict("this delivery is not waiting for a callback")
            at = await self._chain.attempt_at(conn, step.request_id, key, step)
            if at is None:
                raise NotFound("no delivery with this id for this system")
            try:
                check_answer(answer, system, at.request.kind, at.identities)
            except ConnectorFailed as exc:
                raise InvalidInput(exc.reason) from None
            outcome = outcome_of(answer, at.request.kind)
            if answer.status == "done" and not await self._chain.save_outcome(
                conn, at, outcome, counted=True
            ):
                return _ack(step.request_id, key, "already recorded")
        actor = f"system:{key}"
        if answer.status == "failed":
            reason = f"the system reported {answer.reason or 'a failure'}"
            await self._chain.failed(at, ConnectorFailed(reason), actor, counted=True)
            return _ack(step.request_id, key, "failure recorded")
        await self._chain.audit_outcome(at, outcome, actor)
        return _ack(step.request_id, key, "recorded")

    async def task_values(self, request_id: uuid.UUID, key: str) -> dict[str, list[str]]:
        """See `task_values`."""
        return await task_values(self._chain, request_id, key)

    async def complete(
        self,
        request_id: uuid.UUID,
        key: str,
        actor: str,
        record: Mapping[str, Any],
        *,
        instead: bool = False,
    ) -> None:
        """A person's record of a system's part (authorised by the caller): a manual
        system waiting for it, or, with `instead` (a DPO only), a system whose connector
        failed and whose part was done by hand. The latter lifts the block it caused."""
        system = self._chain.external.get(key)
        if system is None:
            raise NotFound("no system with this key in the systems map")
        manual = system.connector == "manual"
        if not manual and not instead:
            raise Conflict(f"system {key!r} is reached by its {system.connector} connector")
        async with self._chain.engine.begin() as conn:
            step = (await records.steps_of(conn, request_id)).get(key)
            if step is None or not _recordable(step, manual):
                wanted = "waiting for a person" if manual else "failing"
                raise Conflict(f"system {key!r} is not {wanted} in this request")
            at = await self._chain.attempt_at(conn, request_id, key, step)
            if at is None:
                raise NotFound("no privacy request with this id")
            if at.identities is not None and at.identities.appear_in(str(record["reference"])):
                problem = FieldProblem("reference", "holds a value that identifies the subject")
                raise InvalidInput("the record is not valid", [problem])
            evidence: dict[str, Any] = {
                "method": "manual",
                "manual": {**record, "recorded_by": actor},
            }
            if not manual:
                evidence["instead_of"] = system.connector
            outcome = Outcome("done", evidence)
            if not await self._chain.save_outcome(conn, at, outcome, counted=True):
                raise Conflict(f"system {key!r} was recorded meanwhile")
            blocked = at.request.blocked_reason
            if blocked is not None and blocked.startswith(f"system {key!r} "):
                await store.update_request(conn, request_id, None, blocked_reason=None)
        await self._chain.audit_outcome(at, outcome, actor)


async def task_values(chain: Chain, request_id: uuid.UUID, key: str) -> dict[str, list[str]]:
    """What a person needs to find the subject in a manual system: the request's
    identities of the kinds that system's datasets are found by (order numbers for a
    paper archive), while its part waits for them; NotFound/Conflict otherwise."""
    system = chain.external.get(key)
    if system is None or system.connector != "manual":
        raise NotFound("no manual system with this key in the systems map")
    async with chain.engine.begin() as conn:
        step = (await records.steps_of(conn, request_id)).get(key)
        request = await store.get_request(conn, request_id)
        if request is None:
            raise NotFound("no privacy request with this id")
        if step is None or step.status != records.WAITING:
            raise Conflict(f"system {key!r} is not waiting for a person in this request")
        identities = await chain.identities(conn, request)
    if identities is None:
        raise Conflict("the identities of this request are gone (its data key was destroyed)")
    kinds = {f.identifies for d in system.datasets.values() for f in d.identities}
    return {k: sorted(v) for k, v in identities.values.items() if k in kinds}


def _recordable(step: records.SystemStep, manual: bool) -> bool:
    """A manual system waits for a person; another system can be done by hand once its
    connector has failed (a DPO's decision, shown as such in the certificate)."""
    if manual:
        return step.status == records.WAITING
    return step.status != records.DONE and (step.attempts > 0 or step.last_error is not None)


def _ack(request_id: uuid.UUID, key: str, result: str) -> dict[str, Any]:
    return {"request": str(request_id), "system": key, "result": result}
