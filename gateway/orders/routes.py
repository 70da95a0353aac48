"""HTTP in and out for orders; all decisions live in `OrderService`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, Parameter

from gateway.auth import AuthedRequest
from gateway.core.http import NO_STORE
from gateway.core.params import IntQuery, ParamCheck, TimeQuery
from gateway.core.slugs import SLUG_PATTERN
from gateway.orders.queries import ListQuery, OrderNumber, OrderRead
from gateway.orders.schemas import (
    EXTERNAL_ID_PATTERN,
    OrderCreated,
    OrderIn,
    SearchIn,
    StatusChange,
    StatusChanged,
)
from gateway.orders.service import OrderService

# The order number's two parts. Their patterns are stated for the OpenAPI document and
# checked by `OrderNumber.check`, whose problems say the rule in words.
_CHANNEL = Parameter(
    description="The sales channel that wrote the order (its `channel`)",
    schema_extra={"pattern": SLUG_PATTERN},
)
_EXTERNAL_ID = Parameter(
    description="The channel's own order number (the order's `external_id`)",
    schema_extra={"pattern": EXTERNAL_ID_PATTERN},
)


class OrderController(Controller):
    """The order API: writes from channels, reads under each caller's field plan."""

    path = "/v1/orders"
    tags = ["orders"]  # noqa: RUF012 - Litestar reads class attributes

    @post("/", summary="Write an order (idempotent on channel + external_id)")
    async def create(
        self, request: AuthedRequest, data: JSONBody[OrderIn], orders: NamedDependency[OrderService]
    ) -> Response[OrderCreated]:
        """201 with the new `order_id`; the same body again answers 200 with the same id."""
        order_id, created = await orders.create(request.user, data)
        return Response(
            OrderCreated(order_id=order_id, created=created), status_code=201 if created else 200
        )

    @get("/{order_id:str}", summary="Read one order at the caller's disclosure levels")
    async def read(
        self,
        request: AuthedRequest,
        order_id: FromPath[str],
        orders: NamedDependency[OrderService],
        reveal: FromQuery[str | None] = None,
        unmask_grant: Annotated[str | None, HeaderParameter(name="X-Unmask-Grant")] = None,
    ) -> Response[dict[str, Any]]:
        """With `X-Unmask-Grant` and `?reveal=customer.phone,...`, fields the role has at
        `clear_after_2fa` and the grant covers are shown in clear; others keep their level.
        `X-Revealed-Fields` names the fields shown in clear because of the grant."""
        read = await orders.get(request.user, order_id, unmask_grant, reveal)
        return _answer(read)

    @get(
        "/by-number/{channel:str}/{external_id:str}",
        summary="Read one order by its sales channel's order number",
    )
    async def read_by_number(
        self,
        request: AuthedRequest,
        channel: Annotated[str, _CHANNEL],
        external_id: Annotated[str, _EXTERNAL_ID],
        orders: NamedDependency[OrderService],
        reveal: FromQuery[str | None] = None,
        unmask_grant: Annotated[str | None, HeaderParameter(name="X-Unmask-Grant")] = None,
    ) -> Response[dict[str, Any]]:
        """The same answer as `GET /v1/orders/{order_id}` for the order this number names
        (`channel` + `external_id`, as the channel wrote it); an unknown number is a 404."""
        number = OrderNumber.check(channel, external_id)
        read = await orders.get_by_number(request.user, number, unmask_grant, reveal)
        return _answer(read)

    @get("/", summary="List orders, newest first, with cursor pagination")
    async def list_orders(
        self,
        request: AuthedRequest,
        orders: NamedDependency[OrderService],
        status: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        region: FromQuery[str | None] = None,
        created_from: TimeQuery = None,
        created_to: TimeQuery = None,
        limit: IntQuery = None,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """`{"items": [...], "next_cursor": "..." | null}`; `limit` is at most 100 by default."""
        read = ParamCheck()
        query = ListQuery(
            status,
            channel,
            region,
            read.time("created_from", created_from),
            read.time("created_to", created_to),
            read.integer("limit", limit),
            cursor,
            tuple(read.problems),
        )
        page = await orders.list(request.user, query)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @post("/search", status_code=200, summary="Find a customer's orders by phone, e-mail or id")
    async def search(
        self,
        request: AuthedRequest,
        data: JSONBody[SearchIn],
        orders: NamedDependency[OrderService],
    ) -> dict[str, Any]:
        """Exactly one of `phone`, `email`, `id_number` (in the body, never in the URL);
        answers like the order list. Which roles may search by which field is policy."""
        page = await orders.search(request.user, data)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @patch("/{order_id:str}", summary="Change an order's status")
    async def change_status(
        self,
        request: AuthedRequest,
        order_id: FromPath[str],
        data: JSONBody[StatusChange],
        orders: NamedDependency[OrderService],
    ) -> StatusChanged:
        await orders.change_status(request.user, order_id, data.status)
        return StatusChanged(order_id=order_id, status=data.status)


def _answer(read: OrderRead) -> Response[dict[str, Any]]:
    """One order; with the fields a grant revealed named, and kept out of every cache."""
    if read.revealed is None:
        return Response(read.document)
    headers = {"X-Revealed-Fields": ",".join(sorted(read.revealed)), **NO_STORE}
    return Response(read.document, headers=headers)
