"""The order store: writes from sales channels, reads under the disclosure plan,
sealing of personal fields under each data subject's key.
"""

from gateway.orders.importer import import_lines
from gateway.orders.redetect import count_due
from gateway.orders.redetect import redetect as redetect_orders
from gateway.orders.rekey import OrderContacts, contacts_of, move_orders, order_ids_of, subject_of
from gateway.orders.routes import OrderController
from gateway.orders.schemas import OPEN_STATUSES, STATUSES
from gateway.orders.service import OrderService, SearchLimits
from gateway.orders.store import count_orders

# The gateway's own store as one system a data subject request reaches: the erasure,
# export and lookup steps of `gateway.privacy` work on these tables directly, inside
# their own transactions. (Issue 16 puts them behind the connector interface.)
from gateway.orders.tables import (
    DOCUMENT_FIELDS,
    ITEM_COLUMNS,
    ITEMS,
    LIST_SECTIONS,
    ORDER_COLUMNS,
    order_items,
    orders,
)

__all__ = [
    "DOCUMENT_FIELDS",
    "ITEMS",
    "ITEM_COLUMNS",
    "LIST_SECTIONS",
    "OPEN_STATUSES",
    "ORDER_COLUMNS",
    "STATUSES",
    "OrderContacts",
    "OrderController",
    "OrderService",
    "SearchLimits",
    "contacts_of",
    "count_due",
    "count_orders",
    "import_lines",
    "move_orders",
    "order_ids_of",
    "order_items",
    "orders",
    "redetect_orders",
    "subject_of",
]
