"""Writing orders: idempotent creates (one by one or in bulk) and status changes.

Free text is run through the PII detector before the transaction opens (CPU work
must not hold locks); the spans are sealed with the order under the subject's key.
Every write and every refused write is logged (`order.create`, `order.import`,
`order.status`), after its commit: if the log cannot be written the caller gets a 503,
and the same write again is an idempotent replay that is logged then.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway import pii
from gateway.accesslog import AccessLog, actor_of
from gateway.core.clock import Clock
from gateway.core.errors import (
    GatewayError,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from gateway.core.principal import Principal
from gateway.core.readpath import AsyncReader
from gateway.disclosure import FieldPlan, WriteScope
from gateway.orders import sealing, store, tables
from gateway.orders.documents import flatten, same_document
from gateway.orders.opening import RowOpener
from gateway.orders.queries import parse_order_id, resource_name
from gateway.orders.schemas import OrderIn
from gateway.pii import Detector
from gateway.subjects import SubjectKeys

# Which status may follow which; a status not listed as a key is final.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"shipped", "cancelled", "refunded"}),
    "shipped": frozenset({"delivered", "refunded"}),
    "delivered": frozenset({"completed", "refunded"}),
    "completed": frozenset({"refunded"}),
}
_WRITE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Written:
    order_id: str
    created: bool
    subject_id: uuid.UUID
    candidate_links: int = 0


class OrderWrites:
    def __init__(
        self,
        engine: AsyncEngine,
        plan: Callable[[Principal, str, str], FieldPlan],
        subjects: SubjectKeys,
        clock: Clock,
        opener: RowOpener,
        encrypted: frozenset[str],
        detector: Detector | None,
        log: AccessLog,
    ) -> None:
        self._log = log
        self._engine = engine
        self._plan = plan
        self._subjects = subjects
        self._clock = clock
        self._opener = opener
        self._encrypted = encrypted
        # None: detection is off; free text is then stored without spans, masked whole.
        self._detector = detector

    def _write_channel(self, principal: Principal | None, act: str) -> str | None:
        """The one channel `principal` may write, None for any; refuse if it may not write.

        `principal` None is the operator at the command line, who holds the database.
        """
        if principal is None:
            return None
        plan = self._plan(principal, "orders", act)
        if plan.write_scope is None:
            raise PermissionDenied(f"role {principal.role!r} has no write scope for orders")
        if plan.write_scope is WriteScope.ANY:
            return None
        if principal.channel is None:
            # A channel-bound role without a channel writes nothing rather than anything.
            raise PermissionDenied(f"principal of role {principal.role!r} has no channel")
        return principal.channel

    def _check_channel(self, own: str | None, order: OrderIn) -> None:
        if own is not None and order.channel != own:
            raise PermissionDenied(f"this principal writes orders of channel {own!r} only")

    async def create(self, principal: Principal, order: OrderIn) -> tuple[str, bool]:
        """Store `order`; return (order_id, created). Same body again: same id, not created."""
        try:
            self._check_channel(self._write_channel(principal, "create"), order)
            written = await self._create(order)
        except (PermissionDenied, IdempotencyConflict) as exc:
            status = 403 if isinstance(exc, PermissionDenied) else 409
            await self._log.denied(principal, "order.create", "orders", status, exc.detail)
            raise
        await self._log.record(
            principal.name,
            "order.create",
            f"orders/{written.order_id}",
            orders=[written.order_id],
            subjects=[written.subject_id],
            details={
                "channel": order.channel,
                "created": written.created,
                "candidate_links": written.candidate_links,
            },
        )
        return written.order_id, written.created

    async def _create(self, order: OrderIn) -> Written:
        document = flatten(order)
        if self._detector is not None and self._detector.heavy:
            # With an NER model a scan takes milliseconds: too long for the event loop.
            found = await asyncio.to_thread(self._detect, document[0])
        else:
            found = self._detect(document[0])
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                async with self._engine.begin() as conn:
                    return await self._create_in(conn, document, found)
            except IntegrityError:
                # A concurrent writer created the same order or subject first: look again.
                if attempt == _WRITE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _detect(self, flat: dict[str, Any]) -> dict[str, tuple[pii.Span, ...]]:
        """Personal data in each free-text field, found before the transaction opens.

        The order's own customer name is a hint: "给王芳" is a name here even with
        no cue word before it.
        """
        if self._detector is None:
            return {}
        return {
            path: self._detector.detect(flat[path], known_names=[flat["customer.name"]])
            for path in tables.SPAN_COLUMNS
            if flat[path] is not None
        }

    async def _create_in(
        self,
        conn: AsyncConnection,
        document: tuple[dict[str, Any], list[dict[str, Any]]],
        found: dict[str, tuple[pii.Span, ...]],
    ) -> Written:
        flat, items = document
        existing = await store.find_by_external_id(conn, flat["channel"], flat["external_id"])
        if existing is not None:
            stored = await store.fetch_order(AsyncReader(conn), existing, None)
            if stored is not None and same_document(
                document, opened := self._opener.open(stored, self._encrypted)
            ):
                return Written(str(existing), False, opened["_subject_id"])
            raise IdempotencyConflict(
                "an order with this channel and external_id exists with a different body"
            )
        now = self._clock.now()
        linked = await self._subjects.link(
            conn,
            {"phone": flat["customer.phone"], "email": flat["customer.email"]},
            now,
            also={"id_number": flat["customer.id_number"]},
        )
        key = linked.key
        order_id = uuid.uuid4()
        sealed = sealing.seal_fields(flat, self._encrypted, key, order_id)
        detection = store.Detection(
            {path: sealing.seal_spans(found[path], path, key, order_id) for path in found},
            None if self._detector is None else self._detector.version,
        )
        await store.insert_order(conn, order_id, key.subject_id, sealed, items, now, detection)
        return Written(str(order_id), True, key.subject_id, len(linked.candidates))

    async def create_many(
        self, principal: Principal | None, orders: list[OrderIn]
    ) -> list[tuple[str, bool] | GatewayError]:
        """Bulk import in one transaction; refusals are reported per order, not raised."""
        results = await self._create_many(principal, orders)
        written = [r for r in results if isinstance(r, Written)]
        await self._log.record(
            actor_of(principal),
            "order.import",
            "orders",
            orders=[w.order_id for w in written if w.created],
            subjects=[w.subject_id for w in written if w.created],
            details={
                "created": sum(w.created for w in written),
                "unchanged": sum(not w.created for w in written),
                "refused": len(results) - len(written),
                "candidate_links": sum(w.candidate_links for w in written),
            },
        )
        return [(r.order_id, r.created) if isinstance(r, Written) else r for r in results]

    async def _create_many(
        self, principal: Principal | None, orders: list[OrderIn]
    ) -> list[Written | GatewayError]:
        own = self._write_channel(principal, "create")
        # Detection is CPU work: done before the transaction, not while it holds locks.
        documents = [flatten(order) for order in orders]
        # Orders this principal may not write are refused below: not worth scanning.
        mine = [own is None or order.channel == own for order in orders]
        found = await asyncio.to_thread(
            lambda: [
                self._detect(d[0]) if ok else {} for d, ok in zip(documents, mine, strict=True)
            ]
        )
        for attempt in range(_WRITE_ATTEMPTS):
            try:
                async with self._engine.begin() as conn:
                    return [
                        await self._create_one(conn, own, *batch)
                        for batch in zip(orders, documents, found, strict=True)
                    ]
            except IntegrityError:
                # A concurrent writer got there first; the batch was rolled back: redo it.
                if attempt == _WRITE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _create_one(
        self,
        conn: AsyncConnection,
        own: str | None,
        order: OrderIn,
        document: tuple[dict[str, Any], list[dict[str, Any]]],
        found: dict[str, tuple[pii.Span, ...]],
    ) -> Written | GatewayError:
        try:
            self._check_channel(own, order)
            return await self._create_in(conn, document, found)
        except (IdempotencyConflict, PermissionDenied) as exc:
            return exc

    async def change_status(self, principal: Principal, order_id: str, status: str) -> None:
        """Move the order to `status` if the transition table allows it; same status is a no-op."""
        resource = resource_name(order_id)
        try:
            current = await self._change_status(principal, order_id, status)
        except (PermissionDenied, NotFound, InvalidTransition) as exc:
            code = {PermissionDenied: 403, NotFound: 404}.get(type(exc), 409)
            await self._log.denied(principal, "order.status", resource, code, exc.detail)
            raise
        await self._log.record(
            principal.name,
            "order.status",
            resource,
            orders=[str(parse_order_id(order_id))],
            details={"from": current, "to": status},
        )

    async def _change_status(self, principal: Principal, order_id: str, status: str) -> str:
        own = self._write_channel(principal, "update_status")
        key = parse_order_id(order_id)
        async with self._engine.begin() as conn:
            current = await store.current_status(conn, key, own)
            if current is None:
                # Another channel's order answers like a missing one.
                raise NotFound("no order with this order_id")
            if status == current:
                return current
            if status not in TRANSITIONS.get(current, frozenset()):
                raise InvalidTransition(f"an order that is {current} cannot become {status}")
            # Conditional on the status read above: SQLite has no row locks.
            if not await store.set_status(conn, key, current, status, self._clock.now()):
                raise InvalidTransition("the order's status changed meanwhile; read it again")
        return current
