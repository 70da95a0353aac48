"""The token API's body and answer."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.core.slugs import SLUG_PATTERN

_FIELD = re.compile(r"^[a-z_]{1,64}(\.[a-z_]{1,64})?$")
MAX_VALUE = 2000


class TokensIn(BaseModel):
    """Personal values of one customer and order, for the tokens to write instead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = Field(
        default=None, description="The existing store's key in the map (if it has several)."
    )
    channel: Annotated[str, Field(pattern=SLUG_PATTERN)] = Field(
        description="The sales channel the order is for: a channel's principal asks for its own."
    )
    request_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,80}$")] = Field(
        description="Idempotency key: the same request again answers the same tokens."
    )
    fields: dict[str, str] = Field(
        min_length=1,
        max_length=32,
        description="Document fields (`customer.phone`) or `table.column` the vault takes.",
    )

    @field_validator("fields")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        # Checked here, not as a key pattern: a key that breaks a pattern is named in the
        # problem, and a caller's key may be a value (`{"13812345678": ...}`).
        # Values are checked here too: a problem at `fields.<key>` would echo the key.
        if not all(_FIELD.match(name) for name in value):
            raise ValueError("holds a name that is no document field or table.column")
        if not all(0 < len(text) <= MAX_VALUE for text in value.values()):
            raise ValueError(f"holds a value that is empty or longer than {MAX_VALUE} characters")
        return value


class TokensOut(BaseModel):
    """The tokens, by the fields asked for; `created` false for a replayed request."""

    system: str
    tokens: dict[str, str]
    created: bool
