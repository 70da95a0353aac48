"""Principal documents of the HTTP API. Tokens appear only in `PrincipalCreated`, once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class PrincipalIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=100)]
    role: Annotated[str, Field(min_length=1, max_length=50)]
    region: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    channel: Annotated[str, Field(min_length=1, max_length=32)] | None = None


class PrincipalOut(BaseModel):
    name: str
    role: str
    region: str | None
    channel: str | None
    created_at: datetime
    revoked: bool
    kind: str = Field(
        description="`service` (a gateway token), `person` or `app` (an identity provider's)."
    )


class PersonOut(BaseModel):
    """Who a pseudonym in the log is: for those who read the log, never in it."""

    name: str = Field(
        description="As the log names them: `person:<hex>` or `app:<issuer>:<client>`."
    )
    kind: str
    issuer: str | None = Field(description="The issuer's name in `policies/identity.toml`.")
    subject: str | None = Field(description="Their subject (`sub`) at the issuer.")
    display_name: str | None
    role: str = Field(description="The role their groups mapped to at their latest sign-in.")
    region: str | None
    channel: str | None
    first_seen: datetime
    updated_at: datetime | None
    revoked: bool


class PrincipalCreated(BaseModel):
    name: str
    role: str
    region: str | None
    channel: str | None
    token: str


Code = Annotated[str, Field(pattern=r"^[0-9]{6}$", description="The 6-digit code shown now.")]


class _StrictFactor(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, hide_input_in_errors=True
    )


class EnrollIn(_StrictFactor):
    """Re-enrolling over an active factor needs a current code from it."""

    code: Code | None = None


class ActivateIn(_StrictFactor):
    code: Code


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
