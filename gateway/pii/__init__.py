"""Free-text PII detection: Presidio's analyzer with our own recognizers, no models.

Spans (what was found, as stored with an order) are importable without Presidio: the
read path masks from stored spans and never runs detection. The detector itself is
loaded on first use (`Detector`, `shared_detector`), so importing this face stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.pii.spans import (
    BANK_CARD,
    EMAIL,
    ENTITY_TYPES,
    IBAN,
    PERSON,
    PHONE,
    RESIDENT_ID,
    DetectedText,
    Span,
)
from gateway.pii.spans import decode as decode_spans
from gateway.pii.spans import encode as encode_spans

if TYPE_CHECKING:
    from gateway.pii.analyzer import Detector, shared_detector

__all__ = [
    "BANK_CARD",
    "EMAIL",
    "ENTITY_TYPES",
    "IBAN",
    "PERSON",
    "PHONE",
    "RESIDENT_ID",
    "DetectedText",
    "Detector",
    "Span",
    "decode_spans",
    "encode_spans",
    "shared_detector",
]

_LAZY = frozenset({"Detector", "shared_detector"})


def __getattr__(name: str) -> Any:
    """Load Presidio only when the detector is asked for (PEP 562)."""
    if name in _LAZY:
        from gateway.pii import analyzer

        return getattr(analyzer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
