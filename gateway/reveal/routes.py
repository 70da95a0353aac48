"""HTTP in and out for unmask grants.

Answers that carry a secret (a grant) are marked `no-store`, so
no cache or proxy between the gateway and the caller keeps a copy.
"""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from gateway.auth import AuthedRequest
from gateway.core.clock import utc_text
from gateway.core.http import NO_STORE
from gateway.reveal.grants import Grants
from gateway.reveal.schemas import GrantIn, GrantOut


class GrantController(Controller):
    """Unmask grants: a fresh code and a purpose buy a short-lived grant."""

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
