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


class PrincipalCreated(BaseModel):
    name: str
    role: str
    region: str | None
    channel: str | None
    token: str
