"""HTTP of the whole chain: webhook systems' callbacks, and people's records of manual
systems' parts.

The callback is public (no bearer token): it is authenticated by the system's
signature over the exact bytes sent, for one delivery of that system
(`gateway.systems.signing`). Everything else about a request stays behind the
register's roles.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from gateway.auth import AuthedRequest
from gateway.privacy.desk.systems import ManualParts
from gateway.privacy.execution.answers import SystemAnswers
from gateway.privacy.schemas import CallbackAck, ManualRecorded, ManualRecordIn, ManualTask
from gateway.systems import MAX_ANSWER_BYTES


class SystemCallbackController(Controller):
    """Where a webhook system reports a delivery it answered `202` for."""

    path = "/v1/privacy/systems"
    tags = ["whole chain"]  # noqa: RUF012 - Litestar reads class attributes

    @post(
        "/{system:str}/callback",
        exclude_from_auth=True,
        signed=True,  # by the system's secret: documented with its 401 (gateway.apidocs)
        status_code=200,
        request_max_body_size=MAX_ANSWER_BYTES,
        cache_control=CacheControlHeader(no_store=True),
        summary="A webhook system's signed completion (X-OPG-Signature; see the docs)",
    )
    async def callback(
        self,
        request: Request[Any, Any, Any],
        system: FromPath[str],
        answers: NamedDependency[SystemAnswers],
    ) -> CallbackAck:
        body = await request.body()
        ack = await answers.callback(system, dict(request.headers), body)
        return CallbackAck.model_validate(ack)


class ManualPartController(Controller):
    """A DPO's or a manual system owner's record of what was done there."""

    path = "/v1/privacy/register"
    tags = ["whole chain"]  # noqa: RUF012 - Litestar reads class attributes

    @get(
        "/{request_id:str}/systems/{system:str}/task",
        cache_control=CacheControlHeader(no_store=True),
        summary="What to look for in a manual system (dpo, or the system's owner_principal)",
    )
    async def task(
        self,
        request: AuthedRequest,
        request_id: FromPath[str],
        system: FromPath[str],
        manual: NamedDependency[ManualParts],
    ) -> ManualTask:
        return ManualTask.model_validate(await manual.task(request.user, request_id, system))

    @post(
        "/{request_id:str}/systems/{system:str}/complete",
        status_code=200,
        summary="Record what was done in a manual system (dpo, or the system's owner_principal)",
    )
    async def complete(
        self,
        request: AuthedRequest,
        request_id: FromPath[str],
        system: FromPath[str],
        data: JSONBody[ManualRecordIn],
        manual: NamedDependency[ManualParts],
    ) -> ManualRecorded:
        done = await manual.complete(request.user, request_id, system, data.model_dump())
        return ManualRecorded.model_validate(done)
