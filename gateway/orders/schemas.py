"""Order documents in and out of the API.

Unknown keys are refused (`extra="forbid"`): a field the classification does not
know could carry personal data no policy covers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from gateway.core import validators as v
from gateway.core.slugs import SLUG_PATTERN

OrderStatus = Literal[
    "pending", "paid", "shipped", "delivered", "completed", "cancelled", "refunded"
]
STATUSES: tuple[str, ...] = OrderStatus.__args__  # type: ignore[attr-defined]
# Not yet delivered or closed: erasing such an order takes the details its delivery
# needs, so the public page warns before, and the erasure says how many there were.
OPEN_STATUSES = ("pending", "paid", "shipped")

Text = Annotated[str, AfterValidator(v.check_text)]
Money = Annotated[str, AfterValidator(v.check_money)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN)]
# A sales channel's own order number: written with the order, and one way to read it back.
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"
EXTERNAL_ID_RULE = "must be 1-64 letters, digits, '.', '_', ':' or '-'"


class _Strict(BaseModel):
    # hide_input_in_errors: a ValidationError must not carry personal values around.
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, hide_input_in_errors=True
    )


class CustomerIn(_Strict):
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    phone: Annotated[str, AfterValidator(v.normalise_phone)] | None = None
    email: Annotated[str, Field(max_length=254), AfterValidator(v.normalise_email)] | None = None
    id_number: Annotated[str, AfterValidator(v.normalise_resident_id)] | None = None

    @model_validator(mode="after")
    def _reachable(self) -> CustomerIn:
        if self.phone is None and self.email is None:
            raise ValueError("a customer needs a phone or an email")
        return self


class AddressIn(_Strict):
    province: Annotated[Text, Field(min_length=1, max_length=50)]
    city: Annotated[Text, Field(min_length=1, max_length=50)]
    district: Annotated[Text, Field(min_length=1, max_length=50)]
    detail: Annotated[Text, Field(min_length=1, max_length=200)]
    postal_code: Annotated[str, Field(pattern=r"^[0-9A-Za-z -]{3,10}$")]


class ItemIn(_Strict):
    sku: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:/-]{1,64}$")]
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    quantity: Annotated[int, BeforeValidator(v.check_quantity), Field(ge=1, le=100_000)]
    unit_price: Money


class PaymentIn(_Strict):
    method: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")]
    transaction_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None


class OrderIn(_Strict):
    """An order as a sales channel writes it."""

    external_id: Annotated[str, Field(pattern=EXTERNAL_ID_PATTERN)]
    channel: Slug
    region: Slug
    status: OrderStatus = "pending"
    created_at: Annotated[AwareDatetime, AfterValidator(v.check_order_time)]
    customer: CustomerIn
    shipping_address: AddressIn
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=500)]
    total_amount: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    payment: PaymentIn
    note: Annotated[Text, Field(max_length=500)] | None = None
    gift_message: Annotated[Text, Field(max_length=500)] | None = None


class OrderCreated(BaseModel):
    order_id: str
    created: bool


class StatusChange(_Strict):
    status: OrderStatus


class StatusChanged(BaseModel):
    order_id: str
    status: OrderStatus


class SearchIn(_Strict):
    """Search by exactly one identifier, in the body so it never sits in a URL or log."""

    phone: Annotated[str, AfterValidator(v.normalise_phone)] | None = None
    email: Annotated[str, Field(max_length=254), AfterValidator(v.normalise_email)] | None = None
    id_number: Annotated[str, AfterValidator(v.normalise_resident_id)] | None = None
    limit: int | None = None
    cursor: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SearchIn:
        given = [k for k in ("phone", "email", "id_number") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of phone, email or id_number")
        return self

    @property
    def identifier(self) -> tuple[str, str]:
        for kind in ("phone", "email", "id_number"):
            value = getattr(self, kind)
            if value is not None:
                return kind, str(value)
        raise AssertionError("validated to hold one identifier")  # pragma: no cover
