"""What identifies the subject in another system, and how a value is compared there.

Systems store the same phone number as `13812345678`, `+86 138 1234 5678` or
`138-1234-5678`, and e-mail addresses in any case, so a search compares normalised
values on both sides: the gateway normalises the subject's values here, and the SQL
connector normalises the column the same way in the query. The values themselves are
personal data: they travel only inside a request's sealed identities and the query's
bound parameters, never into a log, a problem or a step's evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gateway.systems.map import Identity

IDENTITIES: tuple[Identity, ...] = (
    "phone",
    "email",
    "order_number",
    "customer_id",
    "resident_id",
)
# What both sides drop from any value before comparing (a value imported with a
# trailing newline, a tab or an ideographic space is the same value), then trim spaces.
WHITESPACE = ("\t", "\n", "\r", "\u00a0", "\u3000")
# What the SQL connector strips from a stored phone number before comparing.
PHONE_NOISE = (" ", "-", "(", ")", "+", ".")
_DIGITS = frozenset("0123456789")
_CN_PREFIX = "86"
_CN_MOBILE = re.compile(r"^1\d{10}$")


def phone_forms(value: str) -> set[str]:
    """A phone number with its noise stripped, with and without China's country code
    (the forms a system may hold it in, once the column is stripped the same way)."""
    digits = "".join(ch for ch in value if ch in _DIGITS)  # not "１" or "²": SQL keeps those
    if not digits:
        return set()
    forms = {digits}
    if digits.startswith(_CN_PREFIX) and _CN_MOBILE.match(digits[len(_CN_PREFIX) :]):
        forms.add(digits[len(_CN_PREFIX) :])
    elif _CN_MOBILE.match(digits):
        forms.add(_CN_PREFIX + digits)
    return forms


def normalise(kind: Identity, value: str) -> set[str]:
    """The forms a stored value of this kind is compared with (after the same
    normalisation of the stored side: stripped, and lower- or upper-cased)."""
    text = value
    for ch in WHITESPACE:
        text = text.replace(ch, "")
    text = text.strip(" ")  # as SQL's trim(): spaces only, the rest went above
    if not text:
        return set()
    if kind == "phone":
        return phone_forms(text)
    if kind == "email":
        return {text.lower()}
    if kind == "resident_id":
        return {text.upper()}
    return {text}


@dataclass(frozen=True)
class Identities:
    """Every value known to identify the subject, by kind, normalised."""

    values: Mapping[Identity, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: Iterable[tuple[Identity, str]]) -> Identities:
        found: dict[Identity, set[str]] = {}
        for kind, value in pairs:
            forms = normalise(kind, value)
            if forms:
                found.setdefault(kind, set()).update(forms)
        return cls({k: frozenset(v) for k, v in sorted(found.items())})

    def __bool__(self) -> bool:
        return any(self.values.values())

    def kinds(self) -> list[Identity]:
        return [k for k, v in self.values.items() if v]

    def to_json(self) -> dict[str, list[str]]:
        return {k: sorted(v) for k, v in self.values.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, list[str]]) -> Identities:
        known = set(IDENTITIES)
        return cls({k: frozenset(v) for k, v in data.items() if k in known})

    def appear_in(self, text: str) -> bool:
        """Whether `text` (a system's receipt, a person's reference) holds the subject's
        phone, e-mail or resident id, in any of the forms they are compared in."""
        digits = "".join(ch for ch in text if ch in _DIGITS)
        folded = text.lower()
        for kind, values in self.values.items():
            if kind == "phone" and any(v in digits for v in values):
                return True
            if kind in ("email", "resident_id") and any(v.lower() in folded for v in values):
                return True
        return False

    def merged(self, other: Identities) -> Identities:
        kinds = sorted(set(self.values) | set(other.values))
        return Identities(
            {k: self.values.get(k, frozenset()) | other.values.get(k, frozenset()) for k in kinds}
        )
