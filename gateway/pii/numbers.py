r"""Recognizers for values with a fixed shape and, where one exists, a check.

Each one finds candidates with a pattern that will not start or end inside a
longer run of letters or digits (`\b` does not work between Han characters and
digits), then keeps those that pass the value's own check: GB 11643 for resident
ids, Luhn for cards, mod-97 and the country's length for IBANs, Google's
phonenumbers metadata for international numbers. Checks come from maintained
libraries (python-stdnum, phonenumbers), not from this file.
"""

from __future__ import annotations

from collections.abc import Iterator

import phonenumbers
import regex
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.cn import ric

from gateway.pii import spans
from gateway.pii.base import Found, Recognizer
from gateway.pii.context import (
    CARD_CUES,
    PHONE_CUES,
    clause_after,
    clause_before,
    has,
    is_labelled_number,
)

_EDGE_L = r"(?<![0-9A-Za-z])"
_EDGE_R = r"(?![0-9A-Za-z])"
_SEPARATORS = regex.compile(r"[\s\-.()/]")


def _digits(value: str) -> str:
    return str(_SEPARATORS.sub("", value))


class MainlandMobile(Recognizer):
    """11-digit mainland mobiles, 1[3-9]…, bare or as 138 1234 5678 / +86 138-1234-5678."""

    entity = spans.PHONE
    _PATTERN = regex.compile(
        _EDGE_L + r"(?:(?:\+|00)86[\s\-]?)?1[3-9]\d(?:[\s\-.]?\d{4}){2}" + _EDGE_R
    )

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            # Member numbers are often the member's mobile: only issued numbers
            # (order, tracking, reference) make a mobile-shaped number not a phone.
            if is_labelled_number(text, match.start(), PHONE_CUES, issued_only=True):
                continue
            yield Found(match.start(), match.end(), 0.9)


class InternationalPhone(Recognizer):
    """Numbers in international form (+33 6 12 34 56 78, +4930123456, 0049 30 …).

    The country code and the number's length must be possible for that country
    (phonenumbers' metadata); a run of digits after "+" alone is not enough.
    """

    entity = spans.PHONE
    _PATTERN = regex.compile(
        r"(?<![0-9A-Za-z+])(?:\+|00)[1-9]\d{0,2}(?:[\s\-.]?(?:\(0\)|\(\d{1,4}\)))?"
        r"(?:[\s\-.]?\d){5,14}" + _EDGE_R
    )

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            compact = _digits(match.group().replace("(0)", ""))
            number = compact if compact.startswith("+") else "+" + compact[2:]
            try:
                parsed = phonenumbers.parse(number, None)
            except phonenumbers.NumberParseException:
                continue
            if not phonenumbers.is_possible_number(parsed):
                continue
            if is_labelled_number(text, match.start(), PHONE_CUES):
                continue
            yield Found(match.start(), match.end(), 0.85)


class CuedNationalPhone(Recognizer):
    """A national number (06 12 34 56 78, 030 1234567, 612 345 678, 010-88886666)
    taken only with a phone word in its clause, just before or after it ("Tel",
    "电话", "… is my mobile"): without one, such digit groups are as likely dates,
    amounts or references."""

    entity = spans.PHONE
    _PATTERN = regex.compile(_EDGE_L + r"\(?\d{2,5}\)?(?:[\s\-./]?\d{2,8}){1,5}" + _EDGE_R)
    _CODE_PREFIX = regex.compile(r"[A-Za-z][\-_#/]$")
    _DATE = regex.compile(r"\d{4}[\-./]\d{1,2}[\-./]\d{1,2}|\d{1,2}[\-./]\d{1,2}[\-./]\d{2,4}")

    def _is_date(self, value: str) -> bool:
        """A date, or a date and a time: "25/11/2026", "2026/05/15 21"; not "07.87.12.31.00"."""
        head = self._DATE.match(value)
        return head is not None and (head.end() == len(value) or value[head.end()] == " ")

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            digits = _digits(match.group())
            if not 7 <= len(digits) <= 12 or self._is_date(match.group()):  # noqa: PLR2004
                continue
            if self._CODE_PREFIX.search(text, 0, match.start()):
                continue  # "ORD-2026-513711": the tail of an identifier
            if is_labelled_number(text, match.start(), PHONE_CUES):
                continue
            before = clause_before(text, match.start(), width=12)
            if has(PHONE_CUES, before) or has(PHONE_CUES, clause_after(text, match.end())):
                yield Found(match.start(), match.end(), 0.7)


def is_resident_id(value: str) -> bool:
    """GB 11643: a real birth date and the ISO 7064 check digit.

    The area code is not checked against a table: tables age (areas are renamed
    and merged), while the check digit and date already rule out almost every
    number that is not an id.
    """
    value = value.upper()
    try:
        ric.get_birth_date(value)
    except ValueError:  # stdnum's InvalidComponent is a ValueError
        return False
    return bool(ric.calc_check_digit(value) == value[-1])  # it ignores the last character


class ResidentId(Recognizer):
    """18-character resident identity numbers that pass GB 11643 (date and check digit)."""

    entity = spans.RESIDENT_ID
    _PATTERN = regex.compile(
        _EDGE_L
        + r"[1-9]\d{5} ?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]) ?\d{3}[\dXx]"
        + _EDGE_R
    )

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            if is_resident_id(match.group().replace(" ", "")):
                yield Found(match.start(), match.end(), 1.0)


class BankCard(Recognizer):
    """Payment card numbers: 15 to 19 digits (grouped by 4 or not) that pass Luhn.

    Issuer prefixes 2-6 only (Mastercard, Amex/JCB, Visa, Mastercard/Maestro,
    UnionPay/Discover). An 18-digit number is taken only after a card word: a
    random 18-digit member number passes Luhn one time in ten, and a valid resident
    id is an id, never also a card.
    """

    entity = spans.BANK_CARD
    _PATTERN = regex.compile(
        _EDGE_L
        + r"(?:[2-6]\d{14,18}|[2-6]\d{3}(?:[\s\-]\d{4}){3}(?:[\s\-]?\d{1,3})?"
        + r"|3[47]\d{2}[\s\-]\d{6}[\s\-]\d{5})"
        + _EDGE_R
    )
    _ID_LENGTH = 18

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            digits = _digits(match.group())
            if not luhn.is_valid(digits):
                continue
            if len(digits) == self._ID_LENGTH and (
                is_resident_id(digits) or not has(CARD_CUES, clause_before(text, match.start()))
            ):
                continue
            if is_labelled_number(text, match.start(), CARD_CUES):
                continue
            yield Found(match.start(), match.end(), 0.95)


class Iban(Recognizer):
    """IBANs, compact or in groups of four, valid by mod-97 and their country's format.

    Country-specific national check digits inside the BBAN are not required:
    mod-97 already makes a random match unlikely, and a mistyped national check
    is still somebody's account number.
    """

    entity = spans.IBAN
    _PATTERN = regex.compile(
        _EDGE_L + r"[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?" + _EDGE_R
    )

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            # The pattern may have taken a following capitalised word: try shorter.
            candidate = match.group()
            while candidate:
                if stdnum_iban.is_valid(candidate.upper(), check_country=False):
                    start = match.start()
                    yield Found(start, start + len(candidate), 1.0)
                    break
                candidate = candidate[: candidate.rfind(" ")] if " " in candidate else ""


class Email(Recognizer):
    """E-mail addresses with an ASCII local part and a dotted domain.

    Written for mixed text: the address may touch Han characters on either side
    ("邮箱a@b.com,订单…"), which Presidio's built-in recognizer would swallow.
    """

    entity = spans.EMAIL
    _PATTERN = regex.compile(
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,63}[A-Za-z0-9_%+\-])?"
        r"[@＠](?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
        r"(?![A-Za-z0-9\-])"
    )

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            end = match.end()
            label = match.group().rpartition(".")[2]
            if label[:1].isupper() and label[1:].islower():
                # "li@mail.Anna Smith": a capitalised last label is a word written
                # against the address (a name, here), not its top-level domain.
                end -= len(label) + 1
            yield Found(match.start(), end, 1.0)


NUMBER_RECOGNIZERS: tuple[type[Recognizer], ...] = (
    MainlandMobile,
    InternationalPhone,
    CuedNationalPhone,
    ResidentId,
    BankCard,
    Iban,
    Email,
)
