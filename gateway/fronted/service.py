"""Orders of an existing store, as the gateway's read path needs them (mode 1:
read-through).

The rows come from the store's own tables through the reviewed mapping, over a
connection the operator gives read-only rights; nothing is written there. Each order
becomes the flat document the gateway's own store yields once opened, so the same
field plan, masks, reveal grants and audit entries apply to it unchanged:

- `order_id` is a UUID holding the store's integer key (`gateway.fronted.ids`);
- the subject is a keyed pseudonym of the store's customer (an HMAC under a key
  derived from the blind-index key), so the log names who was read without naming
  them, and the same customer is the same subject in every entry;
- free text is searched for personal data when it is read (the store never ran the
  gateway's detection), with the result cached under a keyed hash of the text.

What read-through cannot do is said where an operator reads it (the guide): the data
stays in clear in the store and its backups, and an erasure there is the SQL
connector's, in place, not crypto-shredding.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from gateway.core.clock import utc_text
from gateway.core.errors import ConfigurationError, Unavailable
from gateway.fronted.ids import order_key, order_uuid
from gateway.fronted.reader import (
    Conn,
    Filters,
    StorePool,
    StoreReader,
    status_of,
    statuses_of,
)
from gateway.pii import DetectedText, Span
from gateway.systems import (
    Connections,
    ConnectorFailed,
    Identities,
    Identity,
    System,
    async_url,
)
from gateway.vault import VAULT_RESTRICTED, VAULT_SUBJECT, VaultReads

if TYPE_CHECKING:
    from gateway.pii import Detector

log = logging.getLogger("gateway.fronted")
CACHE_SIZE = 10_000  # detected texts kept (keyed hashes and spans: no text)
# Longer free text is not searched (the gateway's own store takes at most 500
# characters): detection's cost grows with what it finds, and it runs on the event
# loop. Such a text is masked whole, as text never searched is.
DETECTED_MAX = 500
# The search kinds of `POST /v1/orders/search`, as identities and document paths.
_SEARCH: dict[str, tuple[Identity, str]] = {
    "phone": ("phone", "customer.phone"),
    "email": ("email", "customer.email"),
    "id_number": ("resident_id", "customer.id_number"),
}


class ListFilter(Protocol):
    """A list's filters as the order service has checked them."""

    @property
    def status(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def created_from(self) -> datetime | None: ...
    @property
    def created_to(self) -> datetime | None: ...


class FrontedOrders:
    """Reads one existing store's orders as the gateway's opened order documents."""

    def __init__(
        self,
        key: str,
        system: System,
        connections: Connections,
        *,
        paths: Sequence[str],
        statuses: Collection[str],
        pseudonym_key: bytes,
        detector: Detector | None,
        vault: VaultReads | None = None,
    ) -> None:
        if system.orders is None:
            raise ConfigurationError(
                f"GATEWAY_ORDER_SOURCE={key}: the systems map gives {key!r} no [orders] mapping"
            )
        self.key = key
        self.source = system.orders
        unknown = sorted(set(self.source.statuses.values()) - set(statuses))
        if unknown:
            raise ConfigurationError(
                f"systems map: {key}.orders.statuses maps to unknown status(es) "
                f"{', '.join(unknown)} (known: {', '.join(statuses)})"
            )
        # Connected on first read: the demo (and an operator) may write the connection
        # file after the gateway's settings name the store.
        self._connections = connections
        self._pool: StorePool | None = None
        self._reader = StoreReader(self.source)
        self._paths = tuple(paths)
        self._zone = ZoneInfo(self.source.time_zone)
        self._pseudonyms = hmac.new(pseudonym_key, b"opg-fronted-subject", hashlib.sha256).digest()
        self._detector = detector
        self._detected: OrderedDict[bytes, tuple[Span, ...]] = OrderedDict()
        # Mode 2: cells holding the vault's tokens are opened from the vault.
        self._vault = vault

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.dispose()

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[Conn]:
        """A connection to the store; the store out of reach is `Unavailable` (503:
        nothing read, nothing disclosed), with the driver's error type only."""
        try:
            if self._pool is None:
                self._pool = StorePool(async_url(self._connections.read_url(self.key)))
            async with self._pool.connect() as conn:
                yield conn
        except ConnectorFailed as exc:
            raise Unavailable(f"the order store {self.key!r}: {exc.reason}") from None
        except (SQLAlchemyError, OSError) as exc:
            log.warning("order store %s: %s", self.key, type(exc).__name__)
            raise Unavailable(
                f"the order store {self.key!r} cannot be read now ({type(exc).__name__})"
            ) from None

    # --- what the order service asks -----------------------------------------------

    async def fetch(
        self, order_id: uuid.UUID, region: str | None, spans: frozenset[str]
    ) -> dict[str, Any] | None:
        key = order_key(self.key, order_id)
        if key is None:
            return None
        async with self._reading() as conn:
            rows = await self._reader.fetch(conn, [key], region)
        await self._open_tokens(rows)
        return self._opened(rows[0], spans) if rows else None

    async def id_by_number(self, channel: str, external_id: str) -> uuid.UUID | None:
        """The id of the order a sales channel numbers so (None: no such order)."""
        async with self._reading() as conn:
            key = await self._reader.key_by_number(conn, channel, external_id)
        return None if key is None else order_uuid(self.key, key)

    async def visible(self, order_ids: Sequence[uuid.UUID], region: str | None) -> set[uuid.UUID]:
        keys = [k for k in (order_key(self.key, i) for i in order_ids) if k is not None]
        if not keys:
            return set()
        async with self._reading() as conn:
            rows = await self._reader.fetch(conn, keys, region)
        return {order_uuid(self.key, int(row["_key"])) for row in rows}

    async def page(
        self,
        query: ListFilter,
        region: str | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        spans: frozenset[str],
        identifier: tuple[str, str] | None = None,
    ) -> tuple[list[dict[str, Any]], tuple[datetime, uuid.UUID] | None]:
        """A page of opened orders and the (created_at, order_id) after its last one.
        `query`: the list's checked filters; `identifier`: (phone|email, value) for a
        search."""
        position = None
        if after is not None:
            key = order_key(self.key, after[1])
            if key is None:
                return [], None  # a cursor of the gateway's own store: nothing here
            position = (after[0].astimezone(self._zone).replace(tzinfo=None), key)
        filters = Filters(
            statuses=None if query.status is None else statuses_of(self.source, query.status),
            channel=query.channel,
            region=query.region,
            created_from=self._stored_time(query.created_from),
            created_to=self._stored_time(query.created_to),
        )
        async with self._reading() as conn:
            match = None
            if identifier is not None:
                kind, path = _SEARCH[identifier[0]]
                forms = sorted(Identities.of([(kind, identifier[1])]).values.get(kind, ()))
                vaulted: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
                if self._vault is not None:
                    found = await self._vault.lookup(identifier[0], identifier[1])
                    vaulted = (found.customers, found.orders)
                match = self._reader.identifies(path, kind, forms, conn.dialect.name, vaulted)
                if match is None:
                    return [], None
            rows = await self._reader.page(conn, filters, region, limit + 1, position, match)
        await self._open_tokens(rows)
        opened = [self._opened(row, spans) for row in rows[:limit]]
        if len(rows) <= limit:
            return opened, None
        last = rows[limit - 1]
        return opened, (self._utc(last["created_at"]), order_uuid(self.key, int(last["_key"])))

    # --- rows into documents ---------------------------------------------------------

    async def _open_tokens(self, rows: list[dict[str, Any]]) -> None:
        if self._vault is None or not rows:
            return
        try:
            await self._vault.open_rows(rows)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("vault of %s: %s", self.key, type(exc).__name__)
            raise Unavailable(f"the vault of {self.key!r} cannot be read now") from None

    def _stored_time(self, value: datetime | None) -> datetime | None:
        """A time as the store keeps it: in its zone, without one."""
        if value is None:
            return None
        return value.astimezone(self._zone).replace(tzinfo=None)

    def _utc(self, value: datetime | str) -> datetime:
        if isinstance(value, str):  # SQLite keeps times as text
            value = datetime.fromisoformat(value)
        return (value if value.tzinfo else value.replace(tzinfo=self._zone)).astimezone(UTC)

    def _opened(self, row: dict[str, Any], spans: frozenset[str]) -> dict[str, Any]:
        flat: dict[str, Any] = dict.fromkeys(self._paths)
        for path in self.source.columns:
            flat[path] = _text(row[path])
        flat["order_id"] = str(order_uuid(self.key, int(row["_key"])))
        flat["created_at"] = utc_text(self._utc(row["created_at"]))
        flat["status"] = status_of(self.source, row["status"])
        if "total_amount" in self.source.columns:
            flat["total_amount"] = _amount(row["total_amount"])
        flat["items"] = [
            {
                "sku": _plain(line.get("sku")),
                "name": _plain(line.get("name")),
                "quantity": int(line["quantity"]),
                "unit_price": _amount(line.get("unit_price")),
            }
            for line in row["items"]
        ]
        flat["_subject_id"] = row.get(VAULT_SUBJECT) or self._subject(row)
        flat["_restricted"] = bool(row.get(VAULT_RESTRICTED, False))
        flat["_retention_rule"] = None
        name = flat.get("customer.name") or ""
        for path in spans:
            text = flat.get(path)
            if isinstance(text, str) and text:
                flat[path] = DetectedText(text, self._detect(text, str(name)))
        return flat

    def _subject(self, row: dict[str, Any]) -> uuid.UUID:
        """The customer's keyed pseudonym: their key in the store; without a customers
        table, their phone or e-mail as the gateway compares it (one customer, one
        subject, however the store wrote it); else the order alone."""
        who = row.get("_customer")
        if who is None:
            contacts: tuple[tuple[Identity, str], ...] = (
                ("phone", "customer.phone"),
                ("email", "customer.email"),
            )
            for kind, path in contacts:
                value = row.get(path)
                forms = Identities.of([(kind, str(value))]).values.get(kind) if value else None
                if forms:
                    who = f"{kind}:{min(forms)}"
                    break
            else:
                who = f"order:{row['_key']}"
        digest = hmac.new(self._pseudonyms, f"{self.key}\0{who}".encode(), hashlib.sha256)
        raw = bytearray(digest.digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80  # version 8 (RFC 9562: custom), by hand before 3.14
        raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC's variant
        return uuid.UUID(bytes=bytes(raw))

    def _detect(self, text: str, name: str) -> tuple[Span, ...] | None:
        if self._detector is None or len(text) > DETECTED_MAX:
            return None
        key = hmac.new(self._pseudonyms, f"{name}\0{text}".encode(), hashlib.sha256).digest()
        found = self._detected.get(key)
        if found is None:
            found = self._detector.detect(text, known_names=[name] if name else [])
            self._detected[key] = found
            if len(self._detected) > CACHE_SIZE:
                self._detected.popitem(last=False)
        else:
            self._detected.move_to_end(key)
        return found


def _text(value: Any) -> Any:
    """A document field's value as text (a phone a store keeps as a number too)."""
    plain = _plain(value)
    return plain if plain is None or isinstance(plain, str) else str(plain)


def _amount(value: Any) -> Any:
    """Money as the document holds it, text with its cents: a store may hand back a
    number (SQLite's NUMERIC affinity turns '39.90' into 39.9)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{Decimal(str(value)):.2f}"
    return _plain(value)


def _plain(value: Any) -> Any:
    """A store's value as the document holds it: amounts as text, keeping their scale;
    an empty text is no value (stores keep '' where the gateway has none)."""
    if value == "":
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return value
