"""HTTP in and out for second factors and unmask grants.

Answers that carry a secret (an enrolment, a grant) are marked `no-store`, so
no cache or proxy between the gateway and the caller keeps a copy.
"""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from gateway.auth.middleware import AuthedRequest
from gateway.clock import utc_text
from gateway.reveal.factors import SecondFactors
from gateway.reveal.grants import Grants
from gateway.reveal.schemas import (
    ActivateIn,
    EnrollIn,
    EnrollOut,
    FactorOut,
    GrantIn,
    GrantOut,
)

NO_STORE = {"Cache-Control": "no-store"}


class TotpController(Controller):
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


class GrantController(Controller):
    path = "/v1/unmask-grants"
    tags = ["second factor"]  # noqa: RUF012 - Litestar reads class attributes

    @post("/", summary="Prove a fresh code and a purpose; get a short-lived unmask grant")
    async def issue(
        self, request: AuthedRequest, data: JSONBody[GrantIn], grants: NamedDependency[Grants]
    ) -> Response[GrantOut]:
        """Bound to the caller and, when given, to `order_ids` and `fields`; send it as
        `X-Unmask-Grant` with `GET /v1/orders/{id}?reveal=...`."""
        issued = await grants.issue(request.user, data)
        row = issued.row
        body = GrantOut(
            grant=issued.token,
            grant_id=str(row.id),
            expires_at=utc_text(row.expires_at),
            purpose=row.purpose,
            order_ids=None if row.order_ids is None else sorted(row.order_ids),
            fields=sorted(issued.fields),
        )
        return Response(body, status_code=201, headers=NO_STORE)
