"""Demo data for the embedded default: fake orders and one principal per role."""

from gateway.demo.service import seed_demo

__all__ = ["seed_demo"]
