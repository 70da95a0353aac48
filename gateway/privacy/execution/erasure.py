"""The steps of an erasure, one per place that holds the subject's data.

Each step is idempotent and commits together with the record that it ran, so a
crash between steps resumes at the next one and a crash inside a step re-runs
it harmlessly. The data key is destroyed last (anything a step missed is then
unreadable anyway), and `verify` searches every store again before anything is
certified.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway import subjects as subject_records
from gateway import vault as vault_records
from gateway.core import ratelimits
from gateway.core.clock import utc_text
from gateway.core.errors import GatewayError, InvalidTransition
from gateway.core.readpath import AsyncReader
from gateway.disclosure import Classification
from gateway.orders import ITEM_COLUMNS, ITEMS, OPEN_STATUSES, ORDER_COLUMNS, order_items, orders
from gateway.privacy.model import store
from gateway.privacy.model.secrets import RequestSecrets
from gateway.retention import RetentionRules, Rule
from gateway.subjects import SubjectKeys, data_subjects

FREE_TEXT = ("note", "gift_message")
# What detection found in the free text goes with it.
FREE_TEXT_SPANS = ("note_pii", "gift_message_pii")
# An erased value in a column that cannot be NULL: empty text, empty ciphertext.
_ERASED_BINARY = b""
_ERASED_TEXT = ""


class ErasureIncomplete(GatewayError):
    """The final search still found the subject somewhere: nothing is certified."""

    def __init__(self, found: Mapping[str, int]) -> None:
        super().__init__("erasure incomplete: " + ", ".join(f"{k}={v}" for k, v in found.items()))
        self.found = dict(found)


@dataclass(frozen=True)
class StepContext:
    conn: AsyncConnection
    request: store.RequestRow
    now: datetime
    # The subjects the request covers (`gateway.privacy.model.scope`), fixed at verification.
    subjects: tuple[uuid.UUID, ...]


StepFn = Callable[[StepContext], Awaitable[dict[str, Any]]]


class ErasureSteps:
    """The stores, in order; each step returns what it did, for the certificate."""

    def __init__(
        self,
        classification: Classification,
        retention: RetentionRules,
        subjects: SubjectKeys,
        request_secrets: RequestSecrets,
    ) -> None:
        self._classification = classification
        self._retention = retention
        self._subjects = subjects
        self._secrets = request_secrets
        self.steps: tuple[tuple[str, StepFn], ...] = (
            ("free_text", self.free_text),
            ("orders", self.orders),
            ("vault", self.vault),  # before blind_index: it finds others' copies by it
            ("blind_index", self.blind_index),
            ("contact_traces", self.contact_traces),
            ("data_key", self.data_key),
            ("verification", self.verify),
        )

    def _category(self, path: str) -> str:
        return self._classification.fields[path].category

    def _personal(self, path: str) -> bool:
        return self._classification.categories[self._category(path)].personal

    async def free_text(self, ctx: StepContext) -> dict[str, Any]:
        found = or_(*(orders.c[c].is_not(None) for c in FREE_TEXT + FREE_TEXT_SPANS))
        result = await ctx.conn.execute(
            update(orders)
            .where(orders.c.subject_id.in_(ctx.subjects), found)
            .values(**dict.fromkeys(FREE_TEXT + FREE_TEXT_SPANS))
        )
        return {
            "store": "orders.note, orders.gift_message (and their detected spans)",
            "action": "deleted",
            "records": int(result.rowcount),
            "method": "set to NULL",
        }

    async def orders(self, ctx: StepContext) -> dict[str, Any]:
        """Delete the subject's orders; anonymise those a retention rule keeps.

        A kept order also leaves the subject: it moves to a new, keyless subject of its
        own, so kept records are linked neither to each other nor, through the
        subject's pseudonym, to the log.
        """
        query = select(orders.c.id, orders.c.status, orders.c.created_at).where(
            orders.c.subject_id.in_(ctx.subjects), orders.c.retention_rule.is_(None)
        )
        deleted = 0
        retained: dict[str, dict[str, Any]] = {}
        found = list(await ctx.conn.execute(query))
        still_open = sum(1 for order in found if order.status in OPEN_STATUSES)
        for order in found:
            keep = self._retention.for_order(order.status, order.created_at)
            if keep is None:
                await ctx.conn.execute(
                    delete(order_items).where(order_items.c.order_id == order.id)
                )
                await ctx.conn.execute(delete(orders).where(orders.c.id == order.id))
                deleted += 1
                continue
            await self._anonymise(ctx.conn, order.id, set(keep.rule.keep))
            tombstone = uuid.uuid4()
            await ctx.conn.execute(insert(data_subjects).values(id=tombstone, created_at=ctx.now))
            await ctx.conn.execute(
                update(orders)
                .where(orders.c.id == order.id)
                .values(
                    subject_id=tombstone,
                    retention_rule=keep.name,
                    retained_until=keep.until,
                    updated_at=ctx.now,
                )
            )
            entry = retained.setdefault(keep.name, _retained_entry(keep.name, keep.rule))
            entry["records"] += 1
            entry["until"] = max(entry["until"], utc_text(keep.until))
        return {
            "store": "orders, order_items",
            "action": "deleted and anonymised",
            "records_deleted": deleted,
            "records_anonymised": sum(v["records"] for v in retained.values()),
            "method": "rows deleted; retained rows keep only the categories their rule names, "
            "each under a new keyless subject of its own",
            "retained": list(retained.values()),
            # Not yet delivered or closed when erased: their delivery details went too.
            "open_orders": still_open,
        }

    async def _anonymise(self, conn: AsyncConnection, order_id: uuid.UUID, keep: set[str]) -> None:
        values: dict[str, Any] = {}
        for path, column in ORDER_COLUMNS.items():
            if path == "order_id" or self._category(path) in keep:
                continue
            col = orders.c[column]
            if col.nullable:
                values[column] = None
            else:
                values[column] = (
                    _ERASED_BINARY if isinstance(col.type, LargeBinary) else _ERASED_TEXT
                )
        if values:
            await conn.execute(update(orders).where(orders.c.id == order_id).values(**values))
        items = {
            column: (0 if column == "quantity" else _ERASED_TEXT)
            for key, column in ITEM_COLUMNS.items()
            if self._category(f"{ITEMS}.{key}") not in keep
        }
        if items:
            await conn.execute(
                update(order_items).where(order_items.c.order_id == order_id).values(**items)
            )

    async def blind_index(self, ctx: StepContext) -> dict[str, Any]:
        count = 0
        for subject in ctx.subjects:
            count += await subject_records.delete_identifiers(ctx.conn, subject)
        return {
            "store": "subject_identifiers",
            "action": "deleted",
            "records": count,
            "method": "blind-index entries and their encrypted identifiers deleted",
        }

    async def contact_traces(self, ctx: StepContext) -> dict[str, Any]:
        """Messages sent to the contact, rate-limit counters for it, sealed contacts in
        the subject's requests and any access export: everything keyed by the contact."""
        messages = 0
        requests = []
        for subject in ctx.subjects:
            messages += await store.delete_messages(ctx.conn, subject)
            requests += await store.requests_of_subject(ctx.conn, subject)
        # The contact's keyed hash, from every request of the subjects; requests that
        # gave the same contact without matching an order carry it too.
        keys = {r.contact_key for r in requests if r.contact_key is not None}
        if ctx.request.contact_key is not None:
            keys.add(ctx.request.contact_key)
        counters = 0
        for key in keys:
            counters += await ratelimits.forget_key(ctx.conn, key)
        r = store.privacy_requests.c
        cleared = await ctx.conn.execute(
            update(store.privacy_requests)
            .where(
                or_(r.subject_id.in_(ctx.subjects), r.contact_key.in_(keys)),
                or_(
                    r.contact_sealed.is_not(None),
                    r.export_sealed.is_not(None),
                    r.contact_key.is_not(None),
                ),
            )
            .values(contact_sealed=None, export_sealed=None, contact_key=None)
        )
        return {
            "store": "outbox, rate_limits, privacy_requests",
            "action": "deleted",
            "records": messages + counters + int(cleared.rowcount),
            "detail": {
                "outbox_messages": messages,
                "rate_limit_counters": counters,
                "request_contacts_and_exports": int(cleared.rowcount),
            },
            "method": "rows deleted; sealed contacts and exports set to NULL",
        }

    async def vault(self, ctx: StepContext) -> dict[str, Any]:
        """The values the vault took from existing stores: their blind indexes deleted
        and their ciphertexts wiped here, under the data key the next step destroys.
        The tokens stay in the stores' cells, opening nothing; the systems' own steps
        anonymise those rows in place as the map says."""
        by_system = await vault_records.erase_records(ctx.conn, ctx.subjects, ctx.now)
        return {
            "store": "vault_records",
            "action": "crypto-shredded",
            "records": sum(by_system.values()),
            "systems": dict(sorted(by_system.items())),
            "method": "values taken from existing stores, sealed under the data key "
            "destroyed next: ciphertexts and blind indexes deleted",
        }

    async def data_key(self, ctx: StepContext) -> dict[str, Any]:
        destroyed = 0
        versions = set()
        for subject in ctx.subjects:
            row = await subject_records.key_row(ctx.conn, subject)
            if row is not None and row.wrapped_key is not None:
                versions.add(row.kek_version)
            destroyed += await self._subjects.shred(ctx.conn, subject)
        return {
            "store": "subject_keys",
            "action": "crypto-shredded",
            "records": destroyed,
            # What a backup's copies of the keys are wrapped under: the newest, and all.
            "kek_version": max(versions, default=None),
            "kek_versions": sorted(versions),
            "method": "the data key (AES-256) of each record in scope deleted: every "
            "ciphertext under it in this database can no longer be decrypted (for older "
            "copies, see backups)",
        }

    async def verify(self, ctx: StepContext) -> dict[str, Any]:
        found = await self.search(ctx.conn, ctx.request, ctx.subjects)
        if any(found.values()):
            raise ErasureIncomplete(found)
        return {
            "store": "all stores",
            "action": "verified",
            "records": 0,
            "method": "searched again: " + ", ".join(sorted(found)),
            "found": found,
        }

    async def search(
        self,
        conn: AsyncConnection,
        request: store.RequestRow,
        subjects: tuple[uuid.UUID, ...],
    ) -> dict[str, int]:
        """Every place that could still hold the records in scope, with how much it holds."""
        mine = orders.c.subject_id.in_(subjects)
        encrypted = [
            orders.c[ORDER_COLUMNS[p]] for p in sorted(self._classification.encrypted_paths())
        ]
        live = or_(
            *(and_(c.is_not(None), func.length(c) > 0) for c in encrypted),
        )
        counts: dict[str, int] = {}
        counts["vault_records_open"] = await vault_records.still_open(conn, subjects)
        counts["orders_with_personal_fields"] = await _count(
            conn, select(func.count()).where(mine, live)
        )
        counts["orders_not_erased"] = await _count(
            conn,
            select(func.count()).where(mine, orders.c.retention_rule.is_(None)),
        )
        counts["free_text"] = await _count(
            conn,
            select(func.count()).where(
                mine, or_(*(orders.c[c].is_not(None) for c in FREE_TEXT + FREE_TEXT_SPANS))
            ),
        )
        counts["blind_index"] = await _count(
            conn,
            select(func.count())
            .select_from(subject_records.subject_identifiers)
            .where(subject_records.subject_identifiers.c.subject_id.in_(subjects)),
        )
        counts["identifier_copies"] = await self._copies(conn, request)
        counts["outbox"] = sum([await store.count_messages(conn, s) for s in subjects])
        counts["request_contacts"] = await _count(
            conn,
            select(func.count()).where(
                store.privacy_requests.c.subject_id.in_(subjects),
                or_(
                    store.privacy_requests.c.contact_sealed.is_not(None),
                    store.privacy_requests.c.export_sealed.is_not(None),
                    store.privacy_requests.c.contact_key.is_not(None),
                ),
            ),
        )
        keys = [await subject_records.key_row(conn, s) for s in subjects]
        counts["data_key"] = sum(k is not None and k.wrapped_key is not None for k in keys)
        return counts

    async def _copies(self, conn: AsyncConnection, request: store.RequestRow) -> int:
        """The verified contact held by any live subject that existed when the request was
        verified (a record the scope should have covered): blind-index candidates,
        confirmed by decrypting and comparing digests. A subject created later is a new
        relationship (a new order after the request), which this request does not cover;
        records that share only another identifier are not covered by the request at all."""
        raw = await store.get_blob(conn, request.id, "match_digests")
        prints = [] if raw is None else json.loads(raw)
        verified = request.verified_at
        if verified is None:  # fail closed: no final search can pass for such a request
            raise InvalidTransition("a request that was never verified cannot be certified")
        found = 0
        for kind, digest, full in prints:
            for candidate in await subject_records.candidates(
                AsyncReader(conn), kind, bytes.fromhex(digest)
            ):
                created = await subject_records.created_at(conn, candidate.subject_id)
                if created is None or created > verified:
                    continue
                value = self._subjects.open_identifier(candidate, kind)
                found += value is not None and self._secrets.match_digest(kind, value) == full
        return found


def _retained_entry(name: str, rule: Rule) -> dict[str, Any]:
    return {
        "rule": name,
        "citation": rule.citation,
        "categories_kept": sorted(rule.keep),
        "readable_by": sorted(rule.readable_by),
        "records": 0,
        "until": "",
    }


async def _count(conn: AsyncConnection, query: Any) -> int:
    return int((await conn.execute(query)).scalar_one())
