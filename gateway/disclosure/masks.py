"""Format-preserving masks, one registry looked up by name.

A mask turns a stored, normalised value into something a person can recognise
(`138****5678`) without disclosing it. Masks are total: any string gives a result,
and a value too short to keep its edges is starred out entirely rather than
leaking more than the mask promises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

from gateway import pii
from gateway.core.errors import ConfigurationError
from gateway.pii import DetectedText

STAR = "*"
MIN_HIDDEN = 2  # a mask that keeps edges must still hide at least this many characters
SHORT_LOCAL_PART = 3  # e-mail local parts shorter than this show no character at all


@dataclass(frozen=True, slots=True)
class Mask:
    """A named mask with a one-line description for docs and reports."""

    name: str
    description: str
    # A stored value in, what the role sees out. A mask that `needs_spans` gets a
    # `DetectedText` (the text and its stored detection) instead of a bare string.
    apply: Callable[[Any], str]
    needs_spans: bool = False


def _keep_edges(value: str, head: int, tail: int) -> str:
    hidden = len(value) - head - tail
    if hidden < MIN_HIDDEN:
        # Too short to keep the edges and still hide something: hide it all.
        return STAR * len(value)
    return value[:head] + STAR * hidden + value[len(value) - tail :]


def mask_phone(value: str) -> str:
    return _keep_edges(value, 3, 4)


def mask_email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return STAR * 3
    # A local part of one or two characters would be half shown by its first one.
    shown = local[0] if len(local) >= SHORT_LOCAL_PART else ""
    return f"{shown}***@{domain}"


def mask_name(value: str) -> str:
    # Split on single spaces and keep them, so "John Smith" -> "J*** S****".
    masked = " ".join(word[:1] + STAR * (len(word) - 1) for word in value.split(" "))
    # Words of one character ("李", "张 三") would be shown whole: hide everything.
    return masked if STAR in masked else STAR * len(value)


def mask_resident_id(value: str) -> str:
    # 18 characters (every valid id) -> exactly 8 stars between the kept edges.
    return _keep_edges(value, 6, 4)


def mask_redact(value: str) -> str:
    return STAR * 4


def mask_last4(value: str) -> str:
    return _keep_edges(value, 0, 4)


_SEPARATORS = frozenset(" -./()")


def _keep_edges_in_place(value: str, head: int, tail: int) -> str:
    """`_keep_edges` over the characters that are not separators, which stay put:
    "138 1234 5678" -> "138 **** 5678", as a person wrote it."""
    places = [i for i, char in enumerate(value) if char not in _SEPARATORS]
    hidden = len(places) - head - tail
    keep = set(places[:head] + places[len(places) - tail :]) if hidden >= MIN_HIDDEN else set()
    return "".join(
        char if i in keep or char in _SEPARATORS else STAR for i, char in enumerate(value)
    )


# The field mask of each detected type, applied to the span where it stands.
_SPAN_MASKS: Mapping[str, Callable[[str], str]] = {
    pii.PHONE: lambda v: _keep_edges_in_place(v, 3, 4),
    pii.EMAIL: mask_email,
    pii.RESIDENT_ID: lambda v: _keep_edges_in_place(v, 6, 4),
    pii.BANK_CARD: lambda v: _keep_edges_in_place(v, 0, 4),
    pii.IBAN: lambda v: _keep_edges_in_place(v, 0, 4),
    pii.PERSON: mask_name,
}
_OPERATORS = {
    **{
        entity: OperatorConfig("custom", {"lambda": apply}) for entity, apply in _SPAN_MASKS.items()
    },
    # A type this gateway does not know (a newer detector's): hide it whole.
    "DEFAULT": OperatorConfig("custom", {"lambda": lambda v: STAR * len(v)}),
}
_ANONYMIZER = AnonymizerEngine()  # type: ignore[no-untyped-call]


def mask_detected(value: DetectedText | str) -> str:
    """Free text with each detected span masked as its type is masked in a field.

    Text that was never run through detection (spans None, or no spans loaded)
    is hidden whole: without detection nothing in it is known to be safe.
    """
    if isinstance(value, str) or value.spans is None:
        return mask_redact("")
    if not value.spans:
        return value.text
    results = [RecognizerResult(s.type, s.start, s.end, 1.0) for s in value.spans]
    return str(_ANONYMIZER.anonymize(value.text, results, _OPERATORS).text)


MASKS: Mapping[str, Mask] = MappingProxyType(
    {
        mask.name: mask
        for mask in (
            Mask("phone", "first 3 and last 4 characters kept, the rest `*`", mask_phone),
            Mask(
                "email",
                "first character of the local part (none if it is shorter than 3), `***`, "
                "then `@domain`",
                mask_email,
            ),
            Mask(
                "name",
                "each word keeps its first character, the rest `*`; all `*` if that hid nothing",
                mask_name,
            ),
            Mask("resident_id", "first 6 and last 4 kept, 8 `*` between", mask_resident_id),
            Mask("redact", "replaced by `****` whatever its length", mask_redact),
            Mask("last4", "last 4 characters kept, the rest `*`", mask_last4),
            Mask(
                "detected",
                "free text with each personal value found at write time masked by its type's "
                "mask; text never run through detection is `****`",
                mask_detected,
                needs_spans=True,
            ),
        )
    }
)


def get_mask(name: str) -> Mask:
    """Look a mask up by name; an unknown name is a configuration error, found at start-up."""
    try:
        return MASKS[name]
    except KeyError:
        known = ", ".join(sorted(MASKS))
        raise ConfigurationError(f"unknown mask {name!r} (known masks: {known})") from None
