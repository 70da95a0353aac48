"""Validators and normalisers for order fields.

Each returns the normalised value or raises `ValueError` with a message that
describes the rule, never the rejected value (it may be personal data).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from stdnum.cn import ric

from gateway.core.clock import time_problem
from gateway.core.textfold import fold_identifier

# ASCII digits only: other scripts' digits are folded to them first (`textfold`), never
# matched by a Unicode `\d` and stored as they came (a second, unsearchable identity).
MAINLAND_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
E164 = re.compile(r"^\+[0-9]{8,15}$")
MONEY = re.compile(r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,4})?$")
_PHONE_SEPARATORS = str.maketrans("", "", " -()")


def normalise_phone(value: str) -> str:
    """Mainland mobiles as 11 digits (a `+86` prefix is dropped), others as E.164;
    full-width and other scripts' digits count as the digits they are."""
    compact = fold_identifier(value).strip().translate(_PHONE_SEPARATORS)
    if compact.startswith("+86") and MAINLAND_MOBILE.match(compact[3:]):
        return compact[3:]
    if MAINLAND_MOBILE.match(compact) or E164.match(compact):
        return compact
    raise ValueError(
        "phone must be a mainland mobile number (11 digits starting 13-19) "
        "or an E.164 number ('+' and 8-15 digits)"
    )


def normalise_email(value: str) -> str:
    """Folded (NFKC: `ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ` is `zhang@example.com`), trimmed and
    lower-cased, after a syntax check (no DNS look-up)."""
    try:
        result = validate_email(fold_identifier(value).strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("email is not a valid e-mail address") from None
    return result.normalized.lower()


def normalise_resident_id(value: str) -> str:
    """An 18-character GB 11643 resident identity number with a valid check digit
    (full-width digits and `ｘ` count as what they are)."""
    compact = fold_identifier(value).strip().upper()
    if len(compact) != 18 or not ric.is_valid(compact):  # noqa: PLR2004 - GB 11643 length
        raise ValueError(
            "id_number must be an 18-character resident identity number "
            "with a valid birth date and check digit"
        )
    return compact


def check_money(value: str) -> str:
    """Non-negative decimal text with at most 4 decimal places, kept exactly as given."""
    if not MONEY.match(value):
        raise ValueError(
            "must be non-negative decimal text such as '299.00' (at most 4 decimal places)"
        )
    return value


# Direction overrides and isolates can make text display differently from what it
# is (a "Trojan Source" trick); line and paragraph separators split log lines.
_INVISIBLE_TRICKS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


def check_text(value: str) -> str:
    """Printable text only: control and direction-override characters corrupt logs and exports."""
    if any(unicodedata.category(ch) == "Cc" or ch in _INVISIBLE_TRICKS for ch in value):
        raise ValueError(
            "must not contain control, line-separator or direction-override characters"
        )
    return value


def check_quantity(value: object) -> object:
    """A JSON integer, not `"5"`, `5.0` or `true` (the API and the importer must agree)."""
    if type(value) is not int:
        raise ValueError("must be a whole number (a JSON integer)")
    return value


def check_order_time(value: datetime) -> datetime:
    """Times between 1970 and 2200, so that conversion to UTC cannot overflow."""
    problem = time_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_DIGIT_RUN = re.compile(r"[0-9]{7,}")
# Anything but letters and digits between two digits joins them: 138.1234/5678 is a run.
_DIGIT_SEPARATORS = re.compile(r"(?<=[0-9])[\W_]{1,3}(?=[0-9])")
MIN_WORDS = 3
MIN_CJK = 6


def check_purpose(value: str) -> str:
    """A purpose a reviewer can read in the log, which itself holds no personal data.

    "A few words": three or more, or six Chinese characters. Long digit runs and
    e-mail addresses are refused because the purpose is kept (and later logged)
    in clear: the orders a reveal is for belong in `order_ids`, not in prose. The rule
    is applied to the text as a person reads it: folded first (full-width `＠` and
    digits, other scripts' digits), with invisible format characters (zero-width
    spaces and the like, which hide nothing from a reader) dropped; that text is kept.
    """
    return _few_words(value, "purpose", "; name orders in order_ids instead")


def check_reason(value: str) -> str:
    """A DPO's reason (hold, lift, reject, extend, retry): the rule of `check_purpose`,
    in words about a reason, since the reason is logged and may be sent to the subject."""
    return _few_words(value, "reason", "")


def _few_words(value: str, noun: str, elsewhere: str) -> str:
    visible = "".join(ch for ch in check_text(value) if unicodedata.category(ch) != "Cf")
    text = " ".join(fold_identifier(visible).split())
    if len(text.split()) < MIN_WORDS and len(_CJK.findall(text)) < MIN_CJK:
        raise ValueError(
            f"{noun} must say why in a few words (at least 3 words or 6 Chinese characters)"
        )
    if _EMAIL.search(text) or _DIGIT_RUN.search(_DIGIT_SEPARATORS.sub("", text)):
        raise ValueError(
            f"{noun} must not hold personal data: leave out e-mail addresses and numbers "
            f"of 7 or more digits (phones, ids){elsewhere}"
        )
    return text
