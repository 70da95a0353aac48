"""Read requests as callers give them, checked into what the store understands.

Identifiers from paths are caller input: a malformed one answers like a missing
order, and the audit log never keeps it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.core.clock import time_problem
from gateway.core.errors import FieldProblem, InvalidParameter, NotFound
from gateway.core.slugs import SLUG_RE, SLUG_RULE
from gateway.orders import store
from gateway.orders.schemas import EXTERNAL_ID_PATTERN, EXTERNAL_ID_RULE, STATUSES

EXTERNAL_ID_RE = re.compile(EXTERNAL_ID_PATTERN)
# What the log names when a number finds no order: never the number the caller gave.
UNKNOWN_NUMBER = "orders/(unknown order number)"


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A list request as the caller gave it; checked by `OrderService.list`."""

    status: str | None = None
    channel: str | None = None
    region: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int | None = None
    cursor: str | None = None
    unread: tuple[FieldProblem, ...] = ()  # parameters the route could not read


@dataclass(frozen=True, slots=True)
class OrderNumber:
    """A sales channel's order number: the channel and its own `external_id`, checked."""

    channel: str
    external_id: str

    @classmethod
    def check(cls, channel: str, external_id: str) -> OrderNumber:
        """Both parts by the rules orders are written with; a problem names each bad part."""
        problems = []
        if not SLUG_RE.fullmatch(channel):
            problems.append(FieldProblem("channel", SLUG_RULE))
        if not EXTERNAL_ID_RE.fullmatch(external_id):
            problems.append(FieldProblem("external_id", EXTERNAL_ID_RULE))
        if problems:
            raise InvalidParameter("invalid order number", problems)
        return cls(channel, external_id)


@dataclass(frozen=True, slots=True)
class OrderRead:
    document: dict[str, Any]
    # Fields shown in clear because of an unmask grant; None when no grant was used.
    revealed: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def check_list_query(
    q: ListQuery, default_limit: int, max_limit: int
) -> tuple[store.OrderFilter, int, store.Cursor | None]:
    problems = list(q.unread)
    limit = default_limit if q.limit is None else q.limit
    if not 1 <= limit <= max_limit:
        problems.append(FieldProblem("limit", f"must be between 1 and {max_limit}"))
    if q.status is not None and q.status not in STATUSES:
        problems.append(FieldProblem("status", f"must be one of {', '.join(STATUSES)}"))
    for name, text in (("channel", q.channel), ("region", q.region)):
        if text is not None and not SLUG_RE.match(text):
            problems.append(FieldProblem(name, SLUG_RULE))
    for name, value in (("created_from", q.created_from), ("created_to", q.created_to)):
        problem = None if value is None else time_problem(value)
        if problem is not None:
            problems.append(FieldProblem(name, problem))
    cursor = None
    if q.cursor is not None:
        try:
            cursor = store.Cursor.decode(q.cursor)
        except ValueError:
            problems.append(FieldProblem("cursor", "is not a cursor from a previous page"))
    if problems:
        raise InvalidParameter("invalid list parameters", problems)
    filters = store.OrderFilter(q.status, q.channel, q.region, q.created_from, q.created_to)
    return filters, limit, cursor


def resource_name(order_id: str) -> str:
    """The log names an order by its id; anything else a caller put in the path is not kept."""
    try:
        return f"orders/{uuid.UUID(order_id)}"
    except ValueError:
        return "orders/(not an order id)"


def parse_order_id(order_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(order_id)
    except ValueError:
        # Same answer as a missing order: an id's shape tells nothing.
        raise NotFound("no order with this order_id") from None
