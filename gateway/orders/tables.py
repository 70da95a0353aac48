"""The order tables, and the names the rest of the capability uses for their columns.

Everything else speaks in flat document paths (`customer.phone`); these maps are the
one place those paths meet column names.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from gateway.core.db import UtcDateTime, metadata

orders = Table(
    "orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("subject_id", Uuid, ForeignKey("data_subjects.id", ondelete="RESTRICT"), nullable=False),
    Column("region", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("ingested_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("customer_name", LargeBinary, nullable=False),
    Column("customer_phone", LargeBinary, nullable=True),
    Column("customer_email", LargeBinary, nullable=True),
    Column("customer_id_number", LargeBinary, nullable=True),
    Column("ship_province", Text, nullable=False),
    Column("ship_city", Text, nullable=False),
    Column("ship_district", Text, nullable=False),
    Column("ship_detail", LargeBinary, nullable=False),
    Column("ship_postal_code", String(10), nullable=False),
    Column("total_amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_method", String(32), nullable=False),
    Column("payment_transaction_id", LargeBinary, nullable=True),
    Column("note", LargeBinary, nullable=True),
    Column("gift_message", LargeBinary, nullable=True),
    # Personal data detected in the free text when it was written (sealed like the
    # text), and the detector's stamp: `pii redetect` re-runs it where that differs.
    Column("note_pii", LargeBinary, nullable=True),
    Column("gift_message_pii", LargeBinary, nullable=True),
    Column("pii_version", String(16), nullable=True),
    # Set when an erasure kept this order because the law requires it: only the
    # rule's roles may read it, and the retention sweeper deletes it after `retained_until`.
    Column("retention_rule", String(64), nullable=True),
    Column("retained_until", UtcDateTime, nullable=True),
    UniqueConstraint("channel", "external_id"),
    Index("ix_orders_created_at_id", "created_at", "id"),
    Index("ix_orders_region_created_at", "region", "created_at"),
    Index("ix_orders_subject_id", "subject_id"),
    Index("ix_orders_retained_until", "retained_until"),
    # A public privacy request names an order by its number alone, without the channel.
    Index("ix_orders_external_id", "external_id"),
)

order_items = Table(
    "order_items",
    metadata,
    Column("order_id", Uuid, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", String(32), nullable=False),
)

# Document path -> column. Together with ITEM_COLUMNS, these are the document's fields.
ORDER_COLUMNS: Mapping[str, str] = {
    "order_id": "id",
    "external_id": "external_id",
    "channel": "channel",
    "region": "region",
    "status": "status",
    "created_at": "created_at",
    "customer.name": "customer_name",
    "customer.phone": "customer_phone",
    "customer.email": "customer_email",
    "customer.id_number": "customer_id_number",
    "shipping_address.province": "ship_province",
    "shipping_address.city": "ship_city",
    "shipping_address.district": "ship_district",
    "shipping_address.detail": "ship_detail",
    "shipping_address.postal_code": "ship_postal_code",
    "total_amount": "total_amount",
    "currency": "currency",
    "payment.method": "payment_method",
    "payment.transaction_id": "payment_transaction_id",
    "note": "note",
    "gift_message": "gift_message",
}
ITEMS = "items"
ITEM_COLUMNS: Mapping[str, str] = {
    "sku": "sku",
    "name": "name",
    "quantity": "quantity",
    "unit_price": "unit_price",
}
# Free-text path -> the column of its detected spans (not document fields themselves).
SPAN_COLUMNS: Mapping[str, str] = {"note": "note_pii", "gift_message": "gift_message_pii"}
SPAN_LABEL = "_pii:"
DOCUMENT_FIELDS: tuple[str, ...] = (
    *ORDER_COLUMNS,
    *(f"{ITEMS}.{key}" for key in ITEM_COLUMNS),
)
LIST_SECTIONS = frozenset({ITEMS})
