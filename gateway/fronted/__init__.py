"""Fronting an existing order store: the gateway serves the orders a retailer's own
order system keeps, read through the systems map's mapping of its tables (mode 1).
"""

from gateway.fronted.ids import order_key, order_uuid
from gateway.fronted.service import FrontedOrders

__all__ = ["FrontedOrders", "order_key", "order_uuid"]
