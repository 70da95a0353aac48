"""HTTP in and out for data subject requests: the public API and the DPO register.

Public calls carry no bearer token: the status token (header `X-Status-Token`,
never in a URL, where logs and browser histories keep it) is the subject's key
to their own request. Answers that carry a token or personal data are `no-store`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Template

from gateway.auth import AuthedRequest, Authenticator
from gateway.core.errors import FieldProblem, InvalidParameter
from gateway.core.http import NO_STORE
from gateway.privacy.desk.links import Links
from gateway.privacy.desk.register import Register, RegisterQuery
from gateway.privacy.downloads import Downloads
from gateway.privacy.intake.objections import Objections
from gateway.privacy.intake.requests import PrivacyRequests
from gateway.privacy.model.states import Kind
from gateway.privacy.schemas import (
    CertificateIn,
    ExtendIn,
    ObjectionIn,
    ReasonIn,
    RequestCreated,
    RequestIn,
    VerifyIn,
    contact_kind,
)
from gateway.privacy.web.render import page

StatusToken = Annotated[str, HeaderParameter(name="X-Status-Token", min_length=10, max_length=100)]
OptionalToken = Annotated[
    str | None, HeaderParameter(name="X-Status-Token", required=False, max_length=100)
]


class PublicRequestController(Controller):
    path = "/v1/privacy/requests"
    tags = ["data subject requests"]  # noqa: RUF012 - Litestar reads class attributes

    @post("/", exclude_from_auth=True, summary="Ask for erasure of, or a copy of, your data")
    async def submit(
        self, data: JSONBody[RequestIn], privacy: NamedDependency[PrivacyRequests]
    ) -> Response[RequestCreated]:
        """Always 202, whether or not the contact and order match: a code is sent only
        when they do, to the contact on file."""
        done = await privacy.submit(
            Kind(data.kind), contact_kind(data.contact), data.contact, data.order_id
        )
        body = RequestCreated(
            request_id=str(done.request_id),
            status_token=done.status_token,
            state="received",
            detail="if the contact belongs to the order, a code was sent to it; "
            "verify the request with that code",
        )
        task = None if done.message is None else BackgroundTask(privacy.deliver, done.message)
        return Response(body, status_code=202, headers=NO_STORE, background=task)

    @post("/{request_id:str}/verify", exclude_from_auth=True, status_code=200,
          summary="Confirm a request with the code sent to you")  # fmt: skip
    async def verify(
        self,
        request_id: FromPath[str],
        data: JSONBody[VerifyIn],
        x_status_token: StatusToken,
        privacy: NamedDependency[PrivacyRequests],
    ) -> Response[dict[str, Any]]:
        """The other contacts on file for the orders it covers are told after the answer,
        each with a code to object (`POST /v1/privacy/objections`)."""
        view, notices = await privacy.verify(request_id, x_status_token, data.code)
        return Response(
            view, headers=NO_STORE, background=BackgroundTask(privacy.deliver_all, notices)
        )

    @get("/{request_id:str}", exclude_from_auth=True, summary="Status of your request")
    async def status(
        self,
        request_id: FromPath[str],
        x_status_token: StatusToken,
        privacy: NamedDependency[PrivacyRequests],
    ) -> Response[dict[str, Any]]:
        return Response(await privacy.status(request_id, x_status_token), headers=NO_STORE)

    @get("/{request_id:str}/certificate", exclude_from_auth=True,
         summary="The signed erasure certificate (status token, or a DPO's token)")  # fmt: skip
    async def certificate(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[str],
        downloads: NamedDependency[Downloads],
        authenticator: NamedDependency[Authenticator],
        x_status_token: OptionalToken = None,
        format: FromQuery[Literal["json", "html"]] = "json",
    ) -> Response[dict[str, Any]] | Template:
        """`?format=html` gives the printable page (A4), in Chinese or English by
        `?lang=zh|en` or Accept-Language; JSON is the signed, authoritative document."""
        principal = None
        if x_status_token is None:
            principal = await authenticator.authenticate(request.headers.get("authorization"))
        document = await downloads.certificate(request_id, x_status_token, principal)
        if format == "html":
            return page(
                request, "certificate", here="/privacy/certificate",
                cert=document["certificate"], signature=document["signature"],
            )  # fmt: skip
        return Response(document, headers=NO_STORE)

    @get("/{request_id:str}/export", exclude_from_auth=True,
         summary="Download the export of your data (access requests)")  # fmt: skip
    async def export(
        self,
        request_id: FromPath[str],
        x_status_token: StatusToken,
        downloads: NamedDependency[Downloads],
    ) -> Response[str]:
        text = await downloads.export(request_id, x_status_token)
        return Response(
            text,
            media_type="application/json",
            headers={**NO_STORE, "Content-Disposition": 'attachment; filename="my-data.json"'},
        )


class ObjectionController(Controller):
    path = "/v1/privacy/objections"
    tags = ["data subject requests"]  # noqa: RUF012 - Litestar reads class attributes

    @post("/", exclude_from_auth=True, status_code=200,
          summary="Object to a request about orders that carry your contact")  # fmt: skip
    async def object(
        self, data: JSONBody[ObjectionIn], objections: NamedDependency[Objections]
    ) -> Response[dict[str, Any]]:
        """With the code from the notice you were sent: the request goes on hold for the
        DPO if its work has not finished."""
        return Response(await objections.object(data.code), headers=NO_STORE)


class CertificateController(Controller):
    path = "/v1/privacy/certificates"
    tags = ["data subject requests"]  # noqa: RUF012 - Litestar reads class attributes

    @post("/verify", exclude_from_auth=True, status_code=200,
          summary="Check a certificate's signature and its place in the audit log")  # fmt: skip
    async def verify(
        self, data: JSONBody[CertificateIn], downloads: NamedDependency[Downloads]
    ) -> dict[str, Any]:
        return await downloads.verify(data.model_dump())


class RegisterController(Controller):
    path = "/v1/privacy/register"
    tags = ["data subject requests"]  # noqa: RUF012 - Litestar reads class attributes

    @get("/", summary="The register of data subject requests (dpo, auditor)")
    async def list_requests(
        self,
        request: AuthedRequest,
        register: NamedDependency[Register],
        state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
        kind: FromQuery[str | None] = None,
        overdue: FromQuery[bool] = False,
        due_within_hours: FromQuery[float | None] = None,
        limit: FromQuery[int] = 100,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> dict[str, Any]:
        """`{"items": [...], "next_cursor": ...}`, oldest first; requests that expired
        unverified are listed only with `state=expired`."""
        if not 1 <= limit <= 1000:  # noqa: PLR2004
            raise InvalidParameter("invalid limit", [FieldProblem("limit", "must be 1-1000")])
        if due_within_hours is not None and not 0 < due_within_hours <= 24 * 90:
            raise InvalidParameter(
                "invalid due_within_hours",
                [FieldProblem("due_within_hours", "must be more than 0 and at most 2160")],
            )
        return await register.list(
            request.user,
            RegisterQuery(state_filter, kind, overdue, due_within_hours, limit, cursor),
        )

    @get("/{request_id:str}", summary="One request, with its steps")
    async def get_request(
        self, request: AuthedRequest, request_id: FromPath[str], register: NamedDependency[Register]
    ) -> dict[str, Any]:
        return await register.get(request.user, request_id)

    @post("/{request_id:str}/hold", status_code=200, summary="Place a legal hold")
    async def hold(
        self, request: AuthedRequest, request_id: FromPath[str], data: JSONBody[ReasonIn],
        register: NamedDependency[Register],
    ) -> dict[str, Any]:  # fmt: skip
        return await register.hold(request.user, request_id, data.reason)

    @post("/{request_id:str}/lift", status_code=200, summary="Lift a legal hold")
    async def lift(
        self, request: AuthedRequest, request_id: FromPath[str], data: JSONBody[ReasonIn],
        register: NamedDependency[Register],
    ) -> dict[str, Any]:  # fmt: skip
        return await register.lift(request.user, request_id, data.reason)

    @post("/{request_id:str}/reject", status_code=200, summary="Reject, with the reason")
    async def reject(
        self, request: AuthedRequest, request_id: FromPath[str], data: JSONBody[ReasonIn],
        register: NamedDependency[Register],
    ) -> dict[str, Any]:  # fmt: skip
        return await register.reject(request.user, request_id, data.reason)

    @post("/{request_id:str}/retry", status_code=200,
          summary="Run a request blocked by failed final searches again")  # fmt: skip
    async def retry(
        self, request: AuthedRequest, request_id: FromPath[str], data: JSONBody[ReasonIn],
        register: NamedDependency[Register],
    ) -> dict[str, Any]:  # fmt: skip
        return await register.retry(request.user, request_id, data.reason)

    @post("/{request_id:str}/extend", status_code=200,
          summary="Extend the GDPR deadline by 1-2 months (within the first month)")  # fmt: skip
    async def extend(
        self, request: AuthedRequest, request_id: FromPath[str], data: JSONBody[ExtendIn],
        register: NamedDependency[Register],
    ) -> dict[str, Any]:  # fmt: skip
        return await register.extend(request.user, request_id, data.months, data.reason)


class LinkController(Controller):
    path = "/v1/subject-links"
    tags = ["identity resolution"]  # noqa: RUF012 - Litestar reads class attributes

    @get("/", summary="Records that may be one person, for a DPO to decide (dpo, auditor)")
    async def list_links(
        self,
        request: AuthedRequest,
        links: NamedDependency[Links],
        state_filter: Annotated[str | None, QueryParameter(name="state")] = "candidate",
        limit: FromQuery[int] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> dict[str, Any]:
        return await links.list(request.user, state_filter, limit, cursor)

    @post("/{link_id:str}/confirm", status_code=200,
          summary="Confirm two records are one person (requests then cover both)")  # fmt: skip
    async def confirm(
        self, request: AuthedRequest, link_id: FromPath[str], data: JSONBody[ReasonIn],
        links: NamedDependency[Links],
    ) -> dict[str, Any]:  # fmt: skip
        return await links.decide(request.user, link_id, "confirmed", data.reason)

    @post("/{link_id:str}/reject", status_code=200,
          summary="Record that two records are not one person")  # fmt: skip
    async def reject(
        self, request: AuthedRequest, link_id: FromPath[str], data: JSONBody[ReasonIn],
        links: NamedDependency[Links],
    ) -> dict[str, Any]:  # fmt: skip
        return await links.decide(request.user, link_id, "rejected", data.reason)
