"""Order use cases: write (idempotent), read and list under the caller's field plan.

Every read goes through the caller's compiled `FieldPlan`: the plan decides which
orders (row scope) and which fields (levels) leave the gateway. Deny by default:
a role the policy does not know, or a plan without the operation, is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.auditing.recorder import AccessLog
from gateway.auth.principal import Principal
from gateway.clock import Clock
from gateway.disclosure import FieldPlan, PolicySet
from gateway.disclosure.plan import RowScope, WriteScope
from gateway.errors import (
    ConfigurationError,
    GatewayError,
    IdempotencyConflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from gateway.orders import sealing, store
from gateway.orders.documents import flatten, same_document
from gateway.orders.queries import (
    ListQuery,
    OrderRead,
    Page,
    check_list_query,
    parse_order_id,
    resource_name,
)
from gateway.orders.schemas import OrderIn, SearchIn
from gateway.pii import spans as pii_spans
from gateway.pii.analyzer import Detector
from gateway.privacy.retention import RetentionRules
from gateway.readpath import AsyncReader, ReadPool
from gateway.reveal.grants import Grants
from gateway.subjects.service import SubjectKeys
from gateway.subjects.store import KeyRow

# Which status may follow which; a status not listed as a key is final.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"shipped", "cancelled", "refunded"}),
    "shipped": frozenset({"delivered", "refunded"}),
    "delivered": frozenset({"completed", "refunded"}),
    "completed": frozenset({"refunded"}),
}
_WRITE_ATTEMPTS = 3


class OrderService:
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
    ) -> None:
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
        if needing != set(store.SPAN_COLUMNS):
            raise ConfigurationError(
                "fields masked by detection "
                f"({', '.join(sorted(needing))}) do not match the span columns of the store "
                f"({', '.join(sorted(store.SPAN_COLUMNS))})"
            )
        # None: detection is off; free text is then stored without spans, masked whole.
        self._detector = detector
        self._clock = clock
        self._grants = grants
        self._log = log
        self._retention = retention
        self._default_limit = default_page_size
        self._max_limit = max_page_size

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

    # --- writing -----------------------------------------------------------------

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
        self._check_channel(self._write_channel(principal, "create"), order)
        document = flatten(order)
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

    def _detect(self, flat: dict[str, Any]) -> dict[str, tuple[pii_spans.Span, ...]]:
        """Personal data in each free-text field, found before the transaction opens.

        The order's own customer name is a hint: "给王芳" is a name here even with
        no cue word before it.
        """
        if self._detector is None:
            return {}
        return {
            path: self._detector.detect(flat[path], known_names=[flat["customer.name"]])
            for path in store.SPAN_COLUMNS
            if flat[path] is not None
        }

    async def _create_in(
        self,
        conn: AsyncConnection,
        document: tuple[dict[str, Any], list[dict[str, Any]]],
        found: dict[str, tuple[pii_spans.Span, ...]],
    ) -> tuple[str, bool]:
        flat, items = document
        existing = await store.find_by_external_id(conn, flat["channel"], flat["external_id"])
        if existing is not None:
            stored = await store.fetch_order(AsyncReader(conn), existing, None)
            if stored is not None and same_document(document, self._open(stored, self._encrypted)):
                return str(existing), False
            raise IdempotencyConflict(
                "an order with this channel and external_id exists with a different body"
            )
        now = self._clock.now()
        key = await self._subjects.link(
            conn,
            {"phone": flat["customer.phone"], "email": flat["customer.email"]},
            now,
            also={"id_number": flat["customer.id_number"]},
        )
        order_id = uuid.uuid4()
        sealed = sealing.seal_fields(flat, self._encrypted, key, order_id)
        detection = store.Detection(
            {path: sealing.seal_spans(found[path], path, key, order_id) for path in found},
            None if self._detector is None else self._detector.version,
        )
        await store.insert_order(conn, order_id, key.subject_id, sealed, items, now, detection)
        return str(order_id), True

    def _open(
        self,
        flat: dict[str, Any],
        paths: frozenset[str],
        with_spans: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Decrypt the encrypted fields among `paths`; others (and a shredded subject's) are None.

        Free-text paths in `with_spans` come out as `DetectedText`, the text with its
        stored detection, for the mask that needs it. A ciphertext that does not
        authenticate (moved, tampered) raises: fail closed.
        """
        row = KeyRow(*(flat.pop(label) for label in store.KEY_LABELS))
        sealed_spans = {
            path: flat.pop(store.SPAN_LABEL + path, None) for path in store.SPAN_COLUMNS
        }
        flat["_subject_id"] = row.subject_id  # for the audit log; never rendered
        restricted = flat.pop("_restricted_since", None) is not None
        flat["_restricted"] = restricted
        flat["_retention_rule"] = flat.pop("_retention_rule", None)
        key = self._subjects.unwrap(row) if row.wrapped_key is not None else None
        order_id = uuid.UUID(flat["order_id"])
        for path in self._encrypted:
            value = flat[path]
            if value is None or path not in paths or key is None or key.dek is None or restricted:
                flat[path] = None
                continue
            flat[path] = sealing.decrypt(key, value, store.ORDER_COLUMNS[path], order_id)
            if path in with_spans:
                found = sealed_spans[path]
                raw = None
                if found is not None:
                    raw = sealing.decrypt(key, found, store.SPAN_COLUMNS[path], order_id)
                flat[path] = pii_spans.DetectedText(
                    flat[path], sealing.decode_spans(raw, flat[path])
                )
        return flat

    async def create_many(
        self, principal: Principal | None, orders: list[OrderIn]
    ) -> list[tuple[str, bool] | GatewayError]:
        """Bulk import in one transaction; refusals are reported per order, not raised."""
        own = self._write_channel(principal, "create")
        # Detection is CPU work: done before the transaction, not while it holds locks.
        documents = [flatten(order) for order in orders]
        found = [self._detect(flat) for flat, _ in documents]
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
        found: dict[str, tuple[pii_spans.Span, ...]],
    ) -> tuple[str, bool] | GatewayError:
        try:
            self._check_channel(own, order)
            return await self._create_in(conn, document, found)
        except (IdempotencyConflict, PermissionDenied) as exc:
            return exc

    async def change_status(self, principal: Principal, order_id: str, status: str) -> None:
        """Move the order to `status` if the transition table allows it; same status is a no-op."""
        own = self._write_channel(principal, "update_status")
        key = parse_order_id(order_id)
        async with self._engine.begin() as conn:
            current = await store.current_status(conn, key, own)
            if current is None:
                # Another channel's order answers like a missing one.
                raise NotFound("no order with this order_id")
            if status == current:
                return
            if status not in TRANSITIONS.get(current, frozenset()):
                raise InvalidTransition(f"an order that is {current} cannot become {status}")
            # Conditional on the status read above: SQLite has no row locks.
            if not await store.set_status(conn, key, current, status, self._clock.now()):
                raise InvalidTransition("the order's status changed meanwhile; read it again")

    # --- reading -----------------------------------------------------------------

    @asynccontextmanager
    async def _audited(
        self, principal: Principal, action: str, resource: str
    ) -> AsyncIterator[None]:
        """Log a refusal (403, 404) before it leaves; a log failure turns it into a 503."""
        try:
            yield
        except (PermissionDenied, NotFound) as exc:
            status = 404 if isinstance(exc, NotFound) else 403
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
        resource = resource_name(order_id)
        action = "orders.read" if grant is None and reveal is None else "orders.reveal"
        async with self._audited(principal, action, resource):
            plan, region = self._read_plan(principal)
            granted = None
            if grant is not None or reveal is not None:
                granted = await self._grants.authorize(principal, grant, order_id, reveal)
                plan = self._policy.revealing(plan, granted.fields)
            key = parse_order_id(order_id)
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
            return plan, {"retained": opened["_retention_rule"], "purpose": rule.purpose}
        return plan, {}

    async def list(self, principal: Principal, query: ListQuery) -> Page:
        async with self._audited(principal, "orders.list", "orders"):
            plan, region = self._read_plan(principal)
            filters, limit, cursor = check_list_query(query, self._default_limit, self._max_limit)
            filters = replace(filters, retention_rules=self._retention.readable_by(plan.role))
            async with self._reads.connect() as reader:
                rows, next_cursor = await store.list_orders(reader, filters, region, limit, cursor)
        return await self._page(principal, "orders.list", plan, rows, next_cursor, {})

    async def search(self, principal: Principal, query: SearchIn) -> Page:
        """A subject's orders found through the blind index only, answered like a list."""
        kind, value = query.identifier
        async with self._audited(principal, "orders.search", "orders"):
            plan, region = self._read_plan(principal)
            if not plan.allows("orders.search", kind):
                raise PermissionDenied(f"role {principal.role!r} may not search by {kind}")
            filters, limit, cursor = check_list_query(
                ListQuery(limit=query.limit, cursor=query.cursor),
                self._default_limit,
                self._max_limit,
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
        opened = [self._open(flat, plan.shown, plan.spans) for flat in rows]
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
