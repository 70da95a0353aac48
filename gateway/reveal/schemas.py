"""Second-factor and unmask-grant documents in and out of the API."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gateway.orders.validators import check_text
from gateway.textfold import fold_identifier

Code = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="The 6-digit code shown now.")]

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
    visible = "".join(ch for ch in check_text(value) if unicodedata.category(ch) != "Cf")
    text = " ".join(fold_identifier(visible).split())
    if len(text.split()) < MIN_WORDS and len(_CJK.findall(text)) < MIN_CJK:
        raise ValueError(
            "purpose must say why in a few words (at least 3 words or 6 Chinese characters)"
        )
    if _EMAIL.search(text) or _DIGIT_RUN.search(_DIGIT_SEPARATORS.sub("", text)):
        raise ValueError(
            "purpose must not hold personal data: leave out e-mail addresses and numbers "
            "of 7 or more digits (phones, ids); name orders in order_ids instead"
        )
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, hide_input_in_errors=True
    )


class EnrollIn(_Strict):
    """Re-enrolling over an active factor needs a current code from it."""

    code: Code | None = None


class ActivateIn(_Strict):
    code: Code


class GrantIn(_Strict):
    code: Code
    purpose: Annotated[str, Field(max_length=500), AfterValidator(check_purpose)]
    order_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)] | None = None
    fields: Annotated[list[str], Field(min_length=1, max_length=50)] | None = None


class EnrollOut(BaseModel):
    state: str
    secret: str
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code, an inline SVG document.")


class FactorOut(BaseModel):
    state: str = Field(description="`none`, `pending` (enrolled, not activated) or `active`.")
    activated_at: str | None
    pending_since: str | None
    locked_until: str | None


class GrantOut(BaseModel):
    grant: str = Field(description="Send as `X-Unmask-Grant`; shown only in this answer.")
    grant_id: str
    expires_at: str
    purpose: str
    order_ids: list[str] | None
    fields: list[str]
