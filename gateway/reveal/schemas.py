"""Unmask-grant documents in and out of the API."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gateway.auth import Code
from gateway.core.validators import check_purpose


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, hide_input_in_errors=True
    )


class GrantIn(_Strict):
    """`code` from the caller's TOTP factor; a person signed in at an identity provider
    sends none: their token's recent strong authentication stands for it (RFC 9470)."""

    code: Code | None = None
    purpose: Annotated[str, Field(max_length=500), AfterValidator(check_purpose)]
    order_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)] | None = None
    fields: Annotated[list[str], Field(min_length=1, max_length=50)] | None = None


class GrantOut(BaseModel):
    grant: str = Field(description="Send as `X-Unmask-Grant`; shown only in this answer.")
    grant_id: str
    expires_at: str
    purpose: str
    order_ids: list[str] | None
    fields: list[str]
