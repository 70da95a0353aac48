"""HTTP in and out for principals (role with `principals, manage`: admin) and for each
caller's own second factor (answers that carry a secret are `no-store`)."""

from __future__ import annotations

from litestar import Controller, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from gateway.auth.factors import SecondFactors
from gateway.auth.middleware import AuthedRequest
from gateway.auth.people import STAFF_NAME, People
from gateway.auth.schemas import (
    ActivateIn,
    EnrollIn,
    EnrollOut,
    FactorOut,
    PersonOut,
    PrincipalCreated,
    PrincipalIn,
    PrincipalOut,
)
from gateway.auth.service import NewPrincipal, PrincipalService
from gateway.core.clock import utc_text
from gateway.core.http import NO_STORE
from gateway.disclosure import PolicySet

_STAFF_NAME = f"^{STAFF_NAME.pattern}$"


class PrincipalController(Controller):
    """Principals, for the roles that manage them (admin)."""

    path = "/v1/principals"
    tags = ["principals"]  # noqa: RUF012 - Litestar reads class attributes

    @post("/", summary="Create a principal; its token is in this answer only")
    async def create(
        self,
        request: AuthedRequest,
        data: JSONBody[PrincipalIn],
        principals: NamedDependency[PrincipalService],
    ) -> Response[PrincipalCreated]:
        new = NewPrincipal(data.name, data.role, data.region, data.channel)
        issued = await principals.create(new, actor=request.user)
        p = issued.principal
        body = PrincipalCreated(
            name=p.name, role=p.role, region=p.region, channel=p.channel, token=issued.token
        )
        return Response(body, status_code=201, headers=NO_STORE)

    @get("/", summary="List principals (never their tokens)")
    async def list_principals(
        self, request: AuthedRequest, principals: NamedDependency[PrincipalService]
    ) -> list[PrincipalOut]:
        records = await principals.list(actor=request.user)
        return [
            PrincipalOut(
                name=r.name,
                role=r.role,
                region=r.region,
                channel=r.channel,
                created_at=r.created_at,
                revoked=r.revoked_at is not None,
                kind=r.kind,
            )
            for r in records
        ]

    @delete("/{name:str}", summary="Revoke a principal's token")
    async def revoke(
        self,
        request: AuthedRequest,
        name: FromPath[str],
        principals: NamedDependency[PrincipalService],
    ) -> None:
        await principals.revoke(name, actor=request.user)


class TotpController(Controller):
    """The caller's own second factor: status, enrolment and activation."""

    path = "/v1/auth/totp"
    tags = ["second factor"]  # noqa: RUF012 - Litestar reads class attributes

    @get("/", summary="The caller's second factor: none, pending or active, and any lock")
    async def status(
        self, request: AuthedRequest, factors: NamedDependency[SecondFactors]
    ) -> FactorOut:
        s = await factors.status(request.user)
        return FactorOut(
            state=s.state.value,
            activated_at=None if s.activated_at is None else utc_text(s.activated_at),
            pending_since=None if s.pending_since is None else utc_text(s.pending_since),
            locked_until=None if s.locked_until is None else utc_text(s.locked_until),
        )

    @post("/enroll", summary="Start (re-)enrolling a TOTP authenticator")
    async def enroll(
        self,
        request: AuthedRequest,
        factors: NamedDependency[SecondFactors],
        data: JSONBody[EnrollIn | None] = None,
    ) -> Response[EnrollOut]:
        """A new secret, its otpauth URI and QR code. Over an active factor, send
        `{"code": ...}` from it; the old factor stays in force until activation."""
        given = data or EnrollIn()
        p = await factors.enroll(request.user, given.code)
        body = EnrollOut(state="pending", secret=p.secret, otpauth_uri=p.uri, qr_svg=p.qr_svg)
        return Response(body, status_code=201, headers=NO_STORE)

    @post("/activate", status_code=200, summary="Activate the enrolled factor with its first code")
    async def activate(
        self,
        request: AuthedRequest,
        data: JSONBody[ActivateIn],
        factors: NamedDependency[SecondFactors],
    ) -> FactorOut:
        activated = await factors.activate(request.user, data.code)
        return FactorOut(
            state="active", activated_at=utc_text(activated), pending_since=None, locked_until=None
        )


class PeopleController(Controller):
    """Who a person or app in the log is, for the roles that read the log (DPO, auditor)."""

    path = "/v1/people"
    tags = ["principals"]  # noqa: RUF012 - Litestar reads class attributes

    @get("/", summary="People and apps of the identity providers, by their name in the log")
    async def look_up(
        self,
        request: AuthedRequest,
        people: NamedDependency[People],
        policy: NamedDependency[PolicySet],
        name: str | None = Parameter(
            default=None,
            pattern=_STAFF_NAME,
            description="One name as the log gives it: `person:<hex>` or `app:<issuer>:<client>`.",
        ),
    ) -> Response[list[PersonOut]]:
        """The look-up is itself logged; the answer is `no-store` (it holds names)."""
        rows = await people.look_up(request.user, policy, name)
        body = [
            PersonOut(
                name=r.name,
                kind=r.kind,
                issuer=r.issuer,
                subject=r.subject,
                display_name=r.display_name,
                role=r.role,
                region=r.region,
                channel=r.channel,
                first_seen=r.created_at,
                updated_at=r.updated_at,
                revoked=r.revoked_at is not None,
            )
            for r in rows
        ]
        return Response(body, headers=NO_STORE)
