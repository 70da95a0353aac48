"""HTTP for the vault: the token API an order system calls before it writes a row."""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from gateway.auth import AuthedRequest
from gateway.core.http import NO_STORE
from gateway.vault.schemas import TokensIn, TokensOut
from gateway.vault.service import Vault


class VaultController(Controller):
    """`POST /v1/vault/tokens`: personal values in, tokens out."""

    path = "/v1/vault"
    tags = ["vault"]  # noqa: RUF012 - Litestar reads class attributes

    @post("/tokens", summary="Store a customer's personal values, get tokens to write instead")
    async def tokens(
        self, request: AuthedRequest, data: JSONBody[TokensIn], vault: NamedDependency[Vault]
    ) -> Response[TokensOut]:
        """201 with a token per field; the same request (channel + request_key) again
        answers 200 with the same tokens. The values are never answered or logged."""
        system, issued = await vault.issue_tokens(
            request.user, data.system, data.channel, data.request_key, dict(data.fields)
        )
        return Response(
            TokensOut(system=system, tokens=issued.tokens, created=issued.created),
            status_code=201 if issued.created else 200,
            headers=NO_STORE,
        )
