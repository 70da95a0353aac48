"""HTTP in and out for principals (role with `principals, manage`: admin)."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from gateway.auth.middleware import AuthedRequest
from gateway.auth.schemas import PrincipalCreated, PrincipalIn, PrincipalOut
from gateway.auth.service import NewPrincipal, PrincipalService


class PrincipalController(Controller):
    path = "/v1/principals"
    tags = ["principals"]  # noqa: RUF012 - Litestar reads class attributes

    @post("/", summary="Create a principal; its token is in this answer only")
    async def create(
        self,
        request: AuthedRequest,
        data: JSONBody[PrincipalIn],
        principals: NamedDependency[PrincipalService],
    ) -> PrincipalCreated:
        new = NewPrincipal(data.name, data.role, data.region, data.channel)
        issued = await principals.create(new, actor=request.user)
        p = issued.principal
        return PrincipalCreated(
            name=p.name, role=p.role, region=p.region, channel=p.channel, token=issued.token
        )

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
