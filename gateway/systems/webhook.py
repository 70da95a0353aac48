"""The webhook connector: for systems with an API (CRM, marketing, couriers).

The gateway POSTs a signed JSON job (`gateway.systems.signing`) to the system's URL
(`<systems_dir>/<key>.url`, https; plain http only to a loopback address) with the
subject's identities, the datasets the map names and, when the gateway has a public
address, a callback URL. The system answers, signed with the same secret:

- `200` with `{"status": "done", "datasets": {...counts...}, "receipt": ..., "data": ...}`
  when it did the work at once;
- `202` with `{"status": "accepted"}` when it will call the callback URL later with the
  `done` document (or `{"status": "failed", "reason": "<code>"}`);
- anything else is a failure: `429` and `5xx` are tried again with backoff, other
  answers block the request for a DPO. An answer that is not signed is refused: an
  attacker between the two could otherwise claim an erasure that never happened.

The delivery id is the same on every attempt, so a system that got the job and
answered too late does the work once. The protocol is in `docs/concepts/webhook-systems.md`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.core.clock import utc_text
from gateway.systems.connector import Connections, ConnectorFailed, Job, Outcome, register
from gateway.systems.identities import Identities
from gateway.systems.map import System
from gateway.systems.signing import BadSignature, sign, verify

TIMEOUT_SECONDS = 30.0  # one call; the request's deadline bounds the retries
MAX_ANSWER_BYTES = 5 * 1024 * 1024
PROTOCOL = 1
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_OK, _ACCEPTED = 200, 202


class Kept(BaseModel):
    """Records a system keeps under a retention rule of the map."""

    model_config = ConfigDict(extra="forbid")

    rule: str = Field(max_length=64)
    fields: list[str] = Field(default_factory=list, max_length=200)
    records: int = Field(ge=0)
    until: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class Counts(BaseModel):
    """What a system did in one dataset, in numbers (never a value)."""

    model_config = ConfigDict(extra="forbid")

    rows_found: int = Field(ge=0)
    deleted: int = Field(default=0, ge=0)
    anonymised: int = Field(default=0, ge=0)
    kept: list[Kept] = Field(default_factory=list, max_length=50)


class Answer(BaseModel):
    """A system's signed answer or callback."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["done", "accepted", "failed"]
    # A system's own reference for what it did: shown in the certificate (ASCII: `\w`
    # would take Han characters, a name; a phone is refused by `check_answer`).
    receipt: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_.:/#-]+$")
    datasets: dict[str, Counts] = Field(default_factory=dict)
    # A failure's code, not prose: what a system writes here goes into the audit log.
    reason: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,39}$")
    data: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


def job_body(job: Job, callback_url: str | None) -> bytes:
    """The JSON the gateway sends: the job, the map's datasets, no secret."""
    document = {
        "protocol": PROTOCOL,
        "type": job.kind,
        "system": job.system,
        "request": str(job.request_id),
        "delivery": str(job.delivery_id),
        "attempt": job.attempt,
        "deadline": utc_text(job.deadline),
        "identities": {k: sorted(v) for k, v in sorted(job.identities.values.items())},
        "datasets": {
            name: {"fields": [f.model_dump(exclude_none=True) for f in dataset.fields]}
            for name, dataset in sorted(job.spec.datasets.items())
        },
        "callback_url": callback_url,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


def read_answer(
    system: System,
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    delivery: uuid.UUID,
    now: datetime,
) -> Answer:
    """A signed answer for this delivery, checked against the map; `ConnectorFailed`
    (not retried: the system must be fixed) for anything else."""
    try:
        signed_for = verify(secret, headers, body, now)
    except BadSignature as exc:
        raise ConnectorFailed(f"the answer is not signed: {exc.reason}", retry=False) from None
    if signed_for != delivery:
        raise ConnectorFailed("the answer is signed for another delivery", retry=False)
    try:
        answer = Answer.model_validate_json(body)
    except ValidationError as exc:
        where = ", ".join(_where(e["loc"]) for e in exc.errors()[:5])
        raise ConnectorFailed(
            f"the answer does not follow the protocol at {where}", retry=False
        ) from None
    unknown = (set(answer.datasets) | set(answer.data)) - set(system.datasets)
    if unknown:  # not named: a system's key can be anything, the subject's e-mail too
        raise ConnectorFailed(
            f"the answer names {len(unknown)} dataset(s) the map does not have", retry=False
        )
    return answer


# The protocol's own keys: any other key of an answer is the system's, and not shown.
_KEYS = (
    frozenset(Answer.model_fields) | frozenset(Counts.model_fields) | frozenset(Kept.model_fields)
)


def _where(loc: tuple[int | str, ...]) -> str:
    """A validation error's place, without the keys a system chose (dataset names)."""
    return ".".join(str(p) if isinstance(p, int) or p in _KEYS else "*" for p in loc) or "body"


def check_answer(answer: Answer, system: System, kind: str, identities: Identities | None) -> None:
    """What a `done` answer claims must add up against the map before it is evidence:
    every dataset accounted for, every record found deleted, anonymised or kept under a
    rule the map gives it, and no identifying value in the receipt."""
    if identities is not None and answer.receipt and identities.appear_in(answer.receipt):
        raise ConnectorFailed("the receipt holds a value that identifies the subject", retry=False)
    if kind != "erasure" or answer.status != "done":
        return
    silent = sorted(set(system.datasets) - set(answer.datasets))
    if silent:
        raise ConnectorFailed(
            "the answer says nothing of dataset(s) " + ", ".join(silent), retry=False
        )
    for name, counts in answer.datasets.items():
        keep = {f.name: f.rule for f in system.datasets[name].fields if f.erase == "keep"}
        for kept in counts.kept:
            if kept.rule not in keep.values() or any(keep.get(f) != kept.rule for f in kept.fields):
                raise ConnectorFailed(
                    f"dataset {name!r}: records kept under a rule or fields the map does not "
                    "give it",
                    retry=False,
                )
        left = counts.rows_found - counts.deleted
        accounted = max(counts.anonymised, sum(k.records for k in counts.kept))
        if left > accounted:
            raise ConnectorFailed(
                f"dataset {name!r}: {counts.rows_found} record(s) found, but only "
                f"{counts.deleted + accounted} deleted, anonymised or kept",
                retry=False,
            )


def outcome_of(answer: Answer, kind: str) -> Outcome:
    """A `done` answer as the step's outcome: counts and the receipt, data sealed apart."""
    evidence: dict[str, Any] = {"method": "webhook"}
    if kind == "access":
        evidence["datasets"] = {n: {"rows": len(rows)} for n, rows in answer.data.items()}
    else:
        evidence["datasets"] = {n: c.model_dump() for n, c in answer.datasets.items()}
    if answer.receipt is not None:
        evidence["receipt"] = answer.receipt
    return Outcome("done", evidence, answer.data if kind == "access" else {})


def check_url(url: str) -> None:
    """https, or http to this machine only: a job carries identities."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return
    raise ConnectorFailed(
        "the webhook URL must be https (plain http only to a loopback address)", retry=False
    )


@dataclass(frozen=True)
class Reply:
    """A system's answer: its status, headers and (for 200 and 202) its body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


async def _bounded(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise ConnectorFailed("the answer is larger than 5 MiB", retry=False)
        chunks.append(chunk)
    return b"".join(chunks)


class WebhookConnector:
    """A system reached over its own signed HTTP API."""

    method = "webhook"

    def __init__(self, key: str, system: System, connections: Connections) -> None:
        self._key = key
        self._system = system
        self._connections = connections

    async def _post(self, body: bytes, delivery: uuid.UUID, now: datetime) -> Reply:
        """POST a signed job; the answer, read to at most 5 MiB within one deadline for
        the whole call (httpx's timeout is per read: a trickle would never end)."""
        url = self._connections.url(self._key)
        check_url(url)
        secret = self._connections.secret(self._key)
        headers = {"Content-Type": "application/json", **sign(secret, delivery, body, now)}
        try:
            async with (
                asyncio.timeout(TIMEOUT_SECONDS),
                httpx.AsyncClient(
                    timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
                ) as client,
                client.stream("POST", url, content=body, headers=headers) as response,
            ):
                if response.status_code not in (_OK, _ACCEPTED):
                    return Reply(response.status_code, {}, b"")  # the body is never read
                return Reply(response.status_code, dict(response.headers), await _bounded(response))
        except TimeoutError:
            raise ConnectorFailed(
                f"the system did not answer within {TIMEOUT_SECONDS:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise ConnectorFailed(f"could not reach the system ({type(exc).__name__})") from None

    async def _run(self, job: Job) -> Outcome:
        callback = self._connections.callback_url(self._key)
        reply = await self._post(job_body(job, callback), job.delivery_id, job.now)
        status = reply.status
        if status not in (_OK, _ACCEPTED):
            # The body is never quoted: a system's error page can echo the identities.
            raise ConnectorFailed(
                f"the system answered HTTP {status}", retry=status in _RETRY_STATUSES
            )
        secret = self._connections.secret(self._key)
        answer = read_answer(
            self._system, secret, reply.headers, reply.body, job.delivery_id, job.now
        )
        check_answer(answer, self._system, job.kind, job.identities)
        if status == _ACCEPTED or answer.status == "accepted":
            if callback is None:
                raise ConnectorFailed(
                    "the system answered 202 but the gateway has no public address for its "
                    "callback (GATEWAY_SYSTEMS_CALLBACK_URL)",
                    retry=False,
                )
            evidence: dict[str, Any] = {"method": self.method, "accepted_at": utc_text(job.now)}
            if answer.receipt is not None:
                evidence["receipt"] = answer.receipt
            return Outcome("waiting", evidence)
        if answer.status == "failed":
            raise ConnectorFailed(f"the system reported {answer.reason or 'a failure'}")
        return outcome_of(answer, job.kind)

    async def erase(self, job: Job) -> Outcome:
        return await self._run(job)

    async def export(self, job: Job) -> Outcome:
        return await self._run(job)

    async def rescan(self, job: Job) -> dict[str, int] | None:
        return None  # the system's signed answer is the evidence

    async def check(self) -> list[str]:
        """The URL and secret files are there and usable, and the system answers a signed
        `check` job listing the datasets it serves."""
        delivery = uuid.uuid4()
        now = datetime.now(UTC)
        document = {
            "protocol": PROTOCOL,
            "type": "check",
            "system": self._key,
            "delivery": str(delivery),
            "datasets": sorted(self._system.datasets),
        }
        body = json.dumps(document, sort_keys=True).encode()
        try:
            reply = await self._post(body, delivery, now)
            if reply.status != _OK:
                return [f"the system answered the check with HTTP {reply.status}"]
            secret = self._connections.secret(self._key)
            answer = read_answer(self._system, secret, reply.headers, reply.body, delivery, now)
        except ConnectorFailed as exc:
            return [exc.reason]
        missing = sorted(set(self._system.datasets) - set(answer.datasets))
        return [f"dataset {name!r}: the system does not serve it" for name in missing]

    async def close(self) -> None:
        return None


@register("webhook")
def _webhook(key: str, system: System, connections: Connections) -> WebhookConnector:
    return WebhookConnector(key, system, connections)
