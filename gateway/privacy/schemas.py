"""Documents of the privacy request API, checked at the edge."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gateway.core.textfold import fold_identifier
from gateway.core.validators import check_purpose, normalise_email, normalise_phone


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, hide_input_in_errors=True
    )


def check_contact(value: str) -> str:
    try:
        return normalise_email(value) if "@" in fold_identifier(value) else normalise_phone(value)
    except ValueError:
        raise ValueError(
            "contact must be the phone number or e-mail address given with the order"
        ) from None


def contact_kind(contact: str) -> str:
    return "email" if "@" in contact else "phone"


Reason = Annotated[str, Field(max_length=500), AfterValidator(check_purpose)]


class RequestIn(_Strict):
    kind: Literal["erasure", "access"]
    contact: Annotated[str, Field(min_length=3, max_length=320), AfterValidator(check_contact)]
    order_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The order number the shop showed, or the gateway's order id.",
    )


class RequestCreated(_Strict):
    request_id: str
    status_token: str = Field(
        description="Needed for every later call about the request (header X-Status-Token). "
        "Keep it: it is shown only once."
    )
    state: str
    detail: str


class VerifyIn(_Strict):
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code that was sent.")


class ObjectionIn(_Strict):
    code: str = Field(
        min_length=20,
        max_length=40,
        pattern=r"^[A-Za-z2-7 -]+$",
        description="The objection code from the notice (groups of four letters and digits; "
        "spaces, dashes and case do not matter).",
    )


class ReasonIn(_Strict):
    reason: Reason


class ExtendIn(_Strict):
    months: int = Field(ge=1, le=2)
    reason: Reason


class CertificateIn(BaseModel):
    """A certificate as issued: checked by signature, not by schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate: dict[str, Any]
    signature: dict[str, Any]
