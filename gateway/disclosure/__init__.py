"""Field disclosure: classification, masks, the Casbin policy and compiled field plans.

Knows document field paths (`customer.phone`), never storage columns or HTTP.
"""

from gateway.disclosure.classification import Category, Classification, FieldClass
from gateway.disclosure.masks import MASKS, Mask, get_mask
from gateway.disclosure.plan import FieldPlan, Level, RowScope, WriteScope
from gateway.disclosure.policy import PolicySet, load_policy

__all__ = [
    "MASKS",
    "Category",
    "Classification",
    "FieldClass",
    "FieldPlan",
    "Level",
    "Mask",
    "PolicySet",
    "RowScope",
    "WriteScope",
    "get_mask",
    "load_policy",
]
