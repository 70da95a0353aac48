"""Detected spans: what the detector found in a text, as stored with the order.

This module has no Presidio in it: the read path masks from stored spans and
never runs detection (nor imports the analyzer).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

# Entity types, in the names of the labelled corpora (and of Presidio where it has one).
PHONE: Final = "PHONE_NUMBER"
EMAIL: Final = "EMAIL_ADDRESS"
RESIDENT_ID: Final = "CN_RESIDENT_ID"
BANK_CARD: Final = "BANK_CARD"
IBAN: Final = "IBAN_CODE"
PERSON: Final = "PERSON"
ENTITY_TYPES: Final = (PHONE, EMAIL, RESIDENT_ID, BANK_CARD, IBAN, PERSON)


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """Characters `start:end` of a text hold a value of `type`."""

    start: int
    end: int
    type: str


@dataclass(frozen=True, slots=True)
class DetectedText:
    """A free-text value with its stored detection; spans None if it was never run."""

    text: str
    spans: tuple[Span, ...] | None


def encode(spans: Sequence[Span]) -> str:
    """Compact JSON for storage (encrypted like the text): `[[type, start, end], ...]`."""
    return json.dumps([[s.type, s.start, s.end] for s in spans], separators=(",", ":"))


def decode(raw: str, text_length: int) -> tuple[Span, ...]:
    """Parse stored spans; anything malformed or out of range raises ValueError.

    The caller treats a ValueError like a missing detection: the whole text is
    masked rather than trusting spans that do not fit the text.
    """
    value = json.loads(raw)
    if not isinstance(value, list):
        raise ValueError("spans are not a list")  # noqa: TRY004 - callers catch ValueError
    spans = []
    for item in value:
        if not (
            isinstance(item, list)
            and len(item) == 3  # noqa: PLR2004 - [type, start, end]
            and isinstance(item[0], str)
            and all(isinstance(n, int) and not isinstance(n, bool) for n in item[1:])
            and 0 <= item[1] < item[2] <= text_length
        ):
            raise ValueError("malformed span")
        spans.append(Span(item[1], item[2], item[0]))
    return tuple(sorted(spans))
