"""Order use cases: read and list under the caller's field plan (writes: `writes.py`).

Every read goes through the caller's compiled `FieldPlan`: the plan decides which
orders (row scope) and which fields (levels) leave the gateway. Deny by default:
a role the policy does not know, or a plan without the operation, is refused.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import Outcome
from gateway.accesslog import AccessLog
from gateway.core import ratelimits
from gateway.core.clock import Clock
from gateway.core.errors import (
    ConfigurationError,
    Conflict,
    GatewayError,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from gateway.core.principal import Principal
from gateway.core.readpath import ReadPool
from gateway.disclosure import FieldPlan, PolicySet, RowScope
from gateway.fronted import FrontedOrders
from gateway.orders import store, tables
from gateway.orders.opening import RowOpener
from gateway.orders.queries import (
    UNKNOWN_NUMBER,
    ListQuery,
    OrderNumber,
    OrderRead,
    Page,
    check_list_query,
    parse_order_id,
    resource_name,
)
from gateway.orders.schemas import OrderIn, SearchIn
from gateway.orders.writes import OrderWrites
from gateway.pii import Detector
from gateway.retention import RetentionRules
from gateway.reveal import Grants
from gateway.subjects import SubjectKeys

# No order has the nil id (orders get random ones): reading it finds nothing.
_NO_ORDER = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class SearchLimits:
    alert_per_hour: int = 200
    limit_per_hour: int = 1000


class OrderService:
    """Reads under the caller's field plan; writes are `OrderWrites`, exposed here."""

    def __init__(
        self,
        engine: AsyncEngine,
        reads: ReadPool,
        policy: PolicySet,
        subjects: SubjectKeys,
        clock: Clock,
        grants: Grants,
        log: AccessLog,
        retention: RetentionRules,
        detector: Detector | None,
        *,
        default_page_size: int,
        max_page_size: int,
        search: SearchLimits = SearchLimits(),
        fronted: FrontedOrders | None = None,
    ) -> None:
        self._search = search
        # An existing store served read-through (GATEWAY_ORDER_SOURCE), or None.
        self._fronted = fronted
        self._engine = engine
        self._reads = reads
        self._policy = policy
        self._subjects = subjects
        self._encrypted = policy.classification.encrypted_paths()
        if self._encrypted != store.binary_paths():
            raise ConfigurationError(
                "the classification's encrypted fields "
                f"({', '.join(sorted(self._encrypted))}) do not match the ciphertext "
                f"columns of the store ({', '.join(sorted(store.binary_paths()))})"
            )
        needing = {p for p in policy.classification.fields if _needs_spans(policy, p)}
        if needing != set(tables.SPAN_COLUMNS):
            raise ConfigurationError(
                "fields masked by detection "
                f"({', '.join(sorted(needing))}) do not match the span columns of the store "
                f"({', '.join(sorted(tables.SPAN_COLUMNS))})"
            )
        self._opener = RowOpener(subjects, self._encrypted)
        self._open = self._opener.open
        self._writes = OrderWrites(
            engine, self._plan, subjects, clock, self._opener, self._encrypted, detector, log
        )
        self.create = self._writes.create if fronted is None else self._written_elsewhere
        self.create_many = self._writes.create_many if fronted is None else self._imported_elsewhere
        self.change_status = (
            self._writes.change_status if fronted is None else self._changed_elsewhere
        )
        self._clock = clock
        self._grants = grants
        self._log = log
        self._retention = retention
        self._default_limit = default_page_size
        self._max_limit = max_page_size

    async def _written_elsewhere(self, principal: Principal, order: OrderIn) -> tuple[str, bool]:
        """Orders of a fronted store are written by its own order system, not here."""
        self._plan(principal, "orders", "create")
        raise Conflict(self._elsewhere())

    async def _imported_elsewhere(
        self, principal: Principal | None, orders: list[OrderIn]
    ) -> list[tuple[str, bool] | GatewayError]:
        raise Conflict(self._elsewhere())

    async def _changed_elsewhere(self, principal: Principal, order_id: str, status: str) -> None:
        self._plan(principal, "orders", "update_status")
        raise Conflict(self._elsewhere())

    def _elsewhere(self) -> str:
        assert self._fronted is not None  # noqa: S101 - only set when fronting
        return (
            f"orders are written by the existing order system of {self._fronted.key!r}; "
            "this gateway serves them read-through (GATEWAY_ORDER_SOURCE)"
        )

    def _plan(self, principal: Principal, obj: str, act: str) -> FieldPlan:
        plan = self._policy.plan_for(principal.role)
        if plan is None or not plan.allows(obj, act):
            raise PermissionDenied(f"role {principal.role!r} may not {act} {obj}")
        return plan

    def _read_plan(self, principal: Principal) -> tuple[FieldPlan, str | None]:
        plan = self._plan(principal, "orders", "read")
        if not plan.can_read_orders:
            raise PermissionDenied(f"role {principal.role!r} has no row scope for orders")
        if plan.row_scope is RowScope.REGION:
            if principal.region is None:
                # A regional role without a region sees nothing rather than everything.
                raise PermissionDenied(f"principal of role {principal.role!r} has no region")
            return plan, principal.region
        return plan, None

    async def outside_scope(self, principal: Principal, order_ids: Sequence[str]) -> list[int]:
        """Positions of `order_ids` this principal could not read (absent, another region,
        a retained record of another rule): an unmask grant may not name them."""
        plan, region = self._read_plan(principal)
        keys: dict[int, uuid.UUID] = {}
        for position, order_id in enumerate(order_ids):
            with contextlib.suppress(ValueError):
                keys[position] = uuid.UUID(order_id)
        if self._fronted is not None:
            visible = await self._fronted.visible(list(keys.values()), region)
            return [i for i in range(len(order_ids)) if keys.get(i) not in visible]
        async with self._reads.connect() as reader:
            visible = await store.visible_ids(
                reader, list(keys.values()), region, self._retention.readable_by(plan.role)
            )
        return [i for i in range(len(order_ids)) if keys.get(i) not in visible]

    # --- reading -----------------------------------------------------------------

    @asynccontextmanager
    async def _audited(
        self, principal: Principal, action: str, resource: str
    ) -> AsyncIterator[None]:
        """Log a refusal (403, 404) before it leaves; a log failure turns it into a 503."""
        try:
            yield
        except (PermissionDenied, NotFound, RateLimited) as exc:
            status = {NotFound: 404, RateLimited: 429}.get(type(exc), 403)
            await self._log.denied(principal, action, resource, status, exc.detail)
            raise

    async def get(
        self,
        principal: Principal,
        order_id: str,
        grant: str | None = None,
        reveal: str | None = None,
    ) -> OrderRead:
        """One order. With an unmask grant and `reveal` (field paths, comma-separated),
        clear_after_2fa fields the grant covers are shown in clear."""
        return await self._read(principal, order_id, resource_name(order_id), grant, reveal)

    async def get_by_number(
        self,
        principal: Principal,
        number: OrderNumber,
        grant: str | None = None,
        reveal: str | None = None,
    ) -> OrderRead:
        """One order by its sales channel's number, read exactly as `get` reads it by id."""
        if self._fronted is not None:
            key = await self._fronted.id_by_number(number.channel, number.external_id)
        else:
            async with self._reads.connect() as reader:
                key = await store.id_by_number(reader, number.channel, number.external_id)
        if key is None:
            # Read as an id no order has: the same work and the same answer as an order
            # outside the caller's scope, so neither tells which it was.
            return await self._read(principal, str(_NO_ORDER), UNKNOWN_NUMBER, grant, reveal)
        return await self._read(principal, str(key), resource_name(str(key)), grant, reveal)

    async def _read(
        self,
        principal: Principal,
        order_id: str,
        resource: str,
        grant: str | None,
        reveal: str | None,
    ) -> OrderRead:
        """The one read of one order: plan, grant, row scope, restriction marks, the log."""
        action = "orders.read" if grant is None and reveal is None else "orders.reveal"
        async with self._audited(principal, action, resource):
            plan, region = self._read_plan(principal)
            granted = None
            if grant is not None or reveal is not None:
                granted = await self._grants.authorize(principal, grant, order_id, reveal)
                plan = self._policy.revealing(plan, granted.fields)
            key = parse_order_id(order_id)
            if self._fronted is not None:
                opened = await self._fronted.fetch(key, region, plan.spans)
                if opened is None:
                    raise NotFound("no order with this order_id")
            else:
                async with self._reads.connect() as reader:
                    flat = await store.fetch_order(reader, key, region)
                if flat is None or not self._may_see_retained(plan, flat):
                    raise NotFound("no order with this order_id")
                opened = self._open(flat, plan.shown, plan.spans)
        plan, restriction = self._restriction(plan, opened)
        await self._log.record(
            principal.name,
            action,
            resource,
            orders=[str(key)],
            subjects=[opened["_subject_id"]],
            fields=plan.shown_levels,
            grant=None if granted is None else str(granted.grant_id),
            purpose=None if granted is None else granted.purpose,
            details={
                **({} if granted is None else {"revealed": sorted(granted.fields)}),
                **restriction,
            },
        )
        return OrderRead(plan.render(opened), None if granted is None else granted.fields)

    def _may_see_retained(self, plan: FieldPlan, flat: dict[str, Any]) -> bool:
        """A record kept by law after an erasure is for the roles its rule names only."""
        rule = flat.get("_retention_rule")
        return rule is None or rule in self._retention.readable_by(plan.role)

    def _restriction(
        self, plan: FieldPlan, opened: dict[str, Any]
    ) -> tuple[FieldPlan, dict[str, Any]]:
        """The plan a row is shown under, and why the log should know."""
        if opened["_restricted"]:
            return self._policy.restricted(plan), {
                "restricted": "erasure requested: personal fields withheld (GDPR Art. 18)"
            }
        if opened["_retention_rule"] is not None:
            rule = self._retention.rules[opened["_retention_rule"]]
            return self._policy.keeping(plan, rule.keep), {
                "retained": opened["_retention_rule"],
                "purpose": rule.purpose,
            }
        return plan, {}

    async def list(self, principal: Principal, query: ListQuery) -> Page:
        async with self._audited(principal, "orders.list", "orders"):
            plan, region = self._read_plan(principal)
            filters, limit, cursor = check_list_query(query, self._default_limit, self._max_limit)
            filters = replace(filters, retention_rules=self._retention.readable_by(plan.role))
            if self._fronted is not None:
                rows, next_cursor = await self._fronted_page(plan, filters, region, limit, cursor)
                return await self._page(principal, "orders.list", plan, rows, next_cursor, {})
            async with self._reads.connect() as reader:
                rows, next_cursor = await store.list_orders(reader, filters, region, limit, cursor)
        return await self._page(principal, "orders.list", plan, rows, next_cursor, {})

    async def _fronted_page(
        self,
        plan: FieldPlan,
        filters: store.OrderFilter,
        region: str | None,
        limit: int,
        cursor: store.Cursor | None,
        identifier: tuple[str, str] | None = None,
    ) -> tuple[Sequence[dict[str, Any]], store.Cursor | None]:
        """A page of the fronted store's orders, already opened, and the next cursor."""
        assert self._fronted is not None  # noqa: S101 - callers check
        after = None if cursor is None else (cursor.created_at, cursor.order_id)
        rows, last = await self._fronted.page(filters, region, limit, after, plan.spans, identifier)
        return rows, None if last is None else store.Cursor(*last)

    async def search(self, principal: Principal, query: SearchIn) -> Page:
        """A subject's orders found through the blind index only, answered like a list."""
        kind, value = query.identifier
        async with self._audited(principal, "orders.search", "orders"):
            plan, region = self._read_plan(principal)
            if not plan.allows("orders.search", kind):
                raise PermissionDenied(f"role {principal.role!r} may not search by {kind}")
            await self._count_search(principal)
            filters, limit, cursor = check_list_query(
                ListQuery(limit=query.limit, cursor=query.cursor),
                self._default_limit,
                self._max_limit,
            )
            if self._fronted is not None:
                found, after = await self._fronted_page(
                    plan, filters, region, limit, cursor, (kind, value)
                )
                return await self._page(
                    principal, "orders.search", plan, found, after, {"by": kind}
                )
            async with self._reads.connect() as reader:
                subjects = await self._subjects.find(reader, kind, value)
                rows: list[dict[str, Any]] = []
                next_cursor = None
                if subjects:
                    scoped = replace(
                        filters,
                        subject_ids=tuple(subjects),
                        retention_rules=self._retention.readable_by(plan.role),
                    )
                    rows, next_cursor = await store.list_orders(
                        reader, scoped, region, limit, cursor
                    )
        return await self._page(principal, "orders.search", plan, rows, next_cursor, {"by": kind})

    async def _count_search(self, principal: Principal) -> None:
        """Searches by identifier per principal per hour: past the alert level the log gets
        one `orders.search_volume` entry (someone may be walking a list of phones), past
        the limit the search is refused."""
        now = self._clock.now()
        async with self._engine.begin() as conn:
            window = ratelimits.window_start(now)
            count = await ratelimits.hit(conn, "search", principal.id.bytes, window)
        if count == self._search.alert_per_hour + 1:
            await self._log.record(
                principal.name,
                "orders.search_volume",
                "orders",
                Outcome.ERROR,
                details={
                    "searches_this_hour": count,
                    "alert_at": self._search.alert_per_hour,
                    "limit": self._search.limit_per_hour,
                },
            )
        if count > self._search.limit_per_hour:
            raise RateLimited(
                f"more than {self._search.limit_per_hour} searches this hour; retry later",
                ratelimits.retry_after(now),
            )

    async def _page(
        self,
        principal: Principal,
        action: str,
        plan: FieldPlan,
        rows: Sequence[dict[str, Any]],
        next_cursor: store.Cursor | None,
        details: dict[str, Any],
    ) -> Page:
        """Open and log the rows of a list, then render them: nothing leaves unlogged."""
        if self._fronted is None:
            opened = [self._open(flat, plan.shown, plan.spans) for flat in rows]
        else:
            opened = list(rows)  # a fronted store's rows come opened
        restricted = sum(1 for flat in opened if flat["_restricted"])
        if restricted:
            details = {**details, "restricted": restricted}
        await self._log.record(
            principal.name,
            action,
            "orders",
            orders=[flat["order_id"] for flat in opened],
            subjects=[flat["_subject_id"] for flat in opened],
            fields=plan.shown_levels if opened else {},
            details={**details, "count": len(opened)},
        )
        return Page(
            items=[self._restriction(plan, flat)[0].render(flat) for flat in opened],
            next_cursor=None if next_cursor is None else next_cursor.encode(),
        )


def _needs_spans(policy: PolicySet, path: str) -> bool:
    mask = policy.classification.mask_for(path)
    return mask is not None and mask.needs_spans
