"""Demo data for the embedded default: fake orders, one principal per role, and demo
databases for the systems map's SQL systems (the legacy OMS among them).
"""

from gateway.demo.data import demo_orders
from gateway.demo.legacy import LEGACY_KEY, legacy_rows
from gateway.demo.legacy import SCHEMA as LEGACY_SCHEMA
from gateway.demo.service import seed_demo

__all__ = ["LEGACY_KEY", "LEGACY_SCHEMA", "demo_orders", "legacy_rows", "seed_demo"]
