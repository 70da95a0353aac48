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
from gateway.core.http import NO_STORE
from gateway.core.params import BoolQuery, IntQuery, NumberQuery, ParamCheck
from gateway.privacy.desk.links import Links
from gateway.privacy.desk.register import Register, RegisterQuery
from gateway.privacy.downloads import Downloads
from gateway.privacy.intake.objections import Objections
from gateway.privacy.intake.requests import PrivacyRequests
from gateway.privacy.model.states import Kind
from gateway.privacy.schemas import (
    CertificateCheck,
    CertificateIn,
    ExtendIn,
    Link,
    LinkPage,
    ObjectionIn,
    ObjectionRecorded,
    ReasonIn,
    RegisterNotified,
    RegisterPage,
    RegisterRequest,
    RequestCreated,
    RequestIn,
    RequestStatus,
    SignedCertificate,
    VerifyIn,
    contact_kind,
)
from gateway.privacy.web.render import page

StatusToken = Annotated[str, HeaderParameter(name="X-Status-Token", min_length=10, max_length=100)]
OptionalToken = Annotated[
    str | None, HeaderParameter(name="X-Status-Token", required=False, max_length=100)
]


class PublicRequestController(Controller):
    """The public API of data subject requests: ask, verify, follow, download."""

    path = "/v1/privacy/requests"
    tags = ["data subject requests"]  # noqa: RUF012 - Litestar reads class attributes

    @post("/", exclude_from_auth=True, summary="Ask for erasure of, or a copy of, your data")
    async def submit(
        self, data: JSONBody[RequestIn], privacy: NamedDependency[PrivacyRequests]
    ) -> Response[RequestCreated]:
        """Always 202, whether or not the contact and order match: a code is sent only
        when they do, to the contact on file."""
        done = await privacy.submit(
            Kind(data.kind), contact_kind(data.contact), data.contact, data.order_id, data.lang
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

    @post(
        "/{request_id:str}/verify",
        exclude_from_auth=True,
        status_code=200,
        summary="Confirm a request with the code sent to you",
    )
    async def verify(
        self,
        request_id: FromPath[str],
        data: JSONBody[VerifyIn],
        x_status_token: StatusToken,
        privacy: NamedDependency[PrivacyRequests],
    ) -> Response[RequestStatus]:
        """The other contacts on file for the orders it covers are told after the answer,
        each with a code to object (`POST /v1/privacy/objections`)."""
        view, notices = await privacy.verify(request_id, x_status_token, data.code)
        return Response(
            RequestStatus.model_validate(view),
            headers=NO_STORE,
            background=BackgroundTask(privacy.deliver_all, notices),
        )

    @get("/{request_id:str}", exclude_from_auth=True, summary="Status of your request")
    async def status(
        self,
        request_id: FromPath[str],
        x_status_token: StatusToken,
        privacy: NamedDependency[PrivacyRequests],
    ) -> Response[RequestStatus]:
        view = await privacy.status(request_id, x_status_token)
        return Response(RequestStatus.model_validate(view), headers=NO_STORE)

    @get(
        "/{request_id:str}/certificate",
        exclude_from_auth=True,
        summary="The signed erasure certificate (status token, or a DPO's token)",
    )
    async def certificate(
        self,
        request: Request[Any, Any, Any],
        request_id: FromPath[str],
        downloads: NamedDependency[Downloads],
        authenticator: NamedDependency[Authenticator],
        x_status_token: OptionalToken = None,
        format: FromQuery[Literal["json", "html"]] = "json",
    ) -> Response[SignedCertificate] | Template:
        """`?format=html` gives the printable page (A4), in Chinese or English by
        `?lang=zh|en` or Accept-Language; JSON is the signed, authoritative document."""
        principal = None
        if x_status_token is None:
            principal = await authenticator.authenticate(request.headers.get("authorization"))
        document = await downloads.certificate(request_id, x_status_token, principal)
        if format == "html":
            return page(
                request,
                "certificate",
                here="/privacy/certificate",
                cert=document["certificate"],
                signature=document["signature"],
            )
        return Response(SignedCertificate.model_validate(document), headers=NO_STORE)

    @get(
        "/{request_id:str}/export",
        exclude_from_auth=True,
        summary="Download the export of your data (access requests)",
    )
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
    """Objections from the other contacts on file, with the code from their notice."""

    path = "/v1/privacy/objections"
    tags = ["data subject requests"]  # noqa: RUF012 - Litestar reads class attributes

    @post(
        "/",
        exclude_from_auth=True,
        status_code=200,
        summary="Object to a request about orders that carry your contact",
    )
    async def object(
        self, data: JSONBody[ObjectionIn], objections: NamedDependency[Objections]
    ) -> Response[ObjectionRecorded]:
        """With the code from the notice you were sent: the request goes on hold for the
        DPO if its work has not finished."""
        recorded = await objections.object(data.code)
        return Response(ObjectionRecorded.model_validate(recorded), headers=NO_STORE)


class CertificateController(Controller):
    """Checking an erasure certificate against this gateway's key and log."""

    path = "/v1/privacy/certificates"
    tags = ["data subject requests"]  # noqa: RUF012 - Litestar reads class attributes

    @post(
        "/verify",
        exclude_from_auth=True,
        status_code=200,
        summary="Check a certificate's signature and its place in the audit log",
    )
    async def verify(
        self, data: JSONBody[CertificateIn], downloads: NamedDependency[Downloads]
    ) -> CertificateCheck:
        return CertificateCheck.model_validate(await downloads.verify(data.model_dump()))


class RegisterController(Controller):
    """The DPO's register: list, read, hold, lift, reject, retry, extend."""

    path = "/v1/privacy/register"
    tags = ["data subject requests"]  # noqa: RUF012 - Litestar reads class attributes

    @get("/", summary="The register of data subject requests (dpo, auditor)")
    async def list_requests(
        self,
        request: AuthedRequest,
        register: NamedDependency[Register],
        state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
        kind: FromQuery[str | None] = None,
        overdue: BoolQuery = None,
        due_within_hours: NumberQuery = None,
        limit: IntQuery = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> RegisterPage:
        """Oldest first; requests that expired unverified are listed only with
        `state=expired`. `limit`: 1-1000 (default 100)."""
        read = ParamCheck()
        query = RegisterQuery(
            state_filter,
            kind,
            bool(read.boolean("overdue", overdue)),
            read.number("due_within_hours", due_within_hours),
            _or(read.integer("limit", limit), 100),
            cursor,
            tuple(read.problems),
        )
        page = await register.list(request.user, query)
        return RegisterPage.model_validate(page)

    @get("/{request_id:str}", summary="One request, with its steps")
    async def get_request(
        self, request: AuthedRequest, request_id: FromPath[str], register: NamedDependency[Register]
    ) -> RegisterRequest:
        return RegisterRequest.model_validate(await register.get(request.user, request_id))

    @post("/{request_id:str}/hold", status_code=200, summary="Place a legal hold")
    async def hold(
        self,
        request: AuthedRequest,
        request_id: FromPath[str],
        data: JSONBody[ReasonIn],
        register: NamedDependency[Register],
    ) -> RegisterRequest:
        done = await register.hold(request.user, request_id, data.reason)
        return RegisterRequest.model_validate(done)

    @post("/{request_id:str}/lift", status_code=200, summary="Lift a legal hold")
    async def lift(
        self,
        request: AuthedRequest,
        request_id: FromPath[str],
        data: JSONBody[ReasonIn],
        register: NamedDependency[Register],
    ) -> RegisterRequest:
        done = await register.lift(request.user, request_id, data.reason)
        return RegisterRequest.model_validate(done)

    @post("/{request_id:str}/reject", status_code=200, summary="Reject, with the reason")
    async def reject(
        self,
        request: AuthedRequest,
        request_id: FromPath[str],
        data: JSONBody[ReasonIn],
        register: NamedDependency[Register],
    ) -> RegisterNotified:
        done = await register.reject(request.user, request_id, data.reason)
        return RegisterNotified.model_validate(done)

    @post(
        "/{request_id:str}/retry",
        status_code=200,
        summary="Run a request blocked by failed final searches again",
    )
    async def retry(
        self,
        request: AuthedRequest,
        request_id: FromPath[str],
        data: JSONBody[ReasonIn],
        register: NamedDependency[Register],
    ) -> RegisterRequest:
        done = await register.retry(request.user, request_id, data.reason)
        return RegisterRequest.model_validate(done)

    @post(
        "/{request_id:str}/approve",
        status_code=200,
        summary="Approve a verified request that waits for a DPO (GATEWAY_PRIVACY_APPROVAL)",
    )
    async def approve(
        self,
        request: AuthedRequest,
        request_id: FromPath[str],
        data: JSONBody[ReasonIn],
        register: NamedDependency[Register],
    ) -> RegisterRequest:
        done = await register.approve(request.user, request_id, data.reason)
        return RegisterRequest.model_validate(done)

    @post(
        "/{request_id:str}/extend",
        status_code=200,
        summary="Extend the GDPR deadline by 1-2 months (within the first month)",
    )
    async def extend(
        self,
        request: AuthedRequest,
        request_id: FromPath[str],
        data: JSONBody[ExtendIn],
        register: NamedDependency[Register],
    ) -> RegisterNotified:
        done = await register.extend(request.user, request_id, data.months, data.reason)
        return RegisterNotified.model_validate(done)


class LinkController(Controller):
    """Candidate links between records, for a DPO to confirm or reject."""

    path = "/v1/subject-links"
    tags = ["identity resolution"]  # noqa: RUF012 - Litestar reads class attributes

    @get("/", summary="Records that may be one person, for a DPO to decide (dpo, auditor)")
    async def list_links(
        self,
        request: AuthedRequest,
        links: NamedDependency[Links],
        state_filter: Annotated[str | None, QueryParameter(name="state")] = "candidate",
        limit: IntQuery = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> LinkPage:
        """`limit`: 1-100 (default 50)."""
        read = ParamCheck()
        count = _or(read.integer("limit", limit), 50)
        page = await links.list(request.user, state_filter, count, cursor, tuple(read.problems))
        return LinkPage.model_validate(page)

    @post(
        "/{link_id:str}/confirm",
        status_code=200,
        summary="Confirm two records are one person (requests then cover both)",
    )
    async def confirm(
        self,
        request: AuthedRequest,
        link_id: FromPath[str],
        data: JSONBody[ReasonIn],
        links: NamedDependency[Links],
    ) -> Link:
        return Link.model_validate(
            await links.decide(request.user, link_id, "confirmed", data.reason)
        )

    @post(
        "/{link_id:str}/reject",
        status_code=200,
        summary="Record that two records are not one person",
    )
    async def reject(
        self,
        request: AuthedRequest,
        link_id: FromPath[str],
        data: JSONBody[ReasonIn],
        links: NamedDependency[Links],
    ) -> Link:
        return Link.model_validate(
            await links.decide(request.user, link_id, "rejected", data.reason)
        )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value
