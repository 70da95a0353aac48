"""Query parameters read in one pass, so one problem names every bad one.

Litestar converts typed query parameters before a route runs: a `limit=ten` was
refused there, alone, and `outcome=lost` beside it went unnamed, because the
service that knows the rules never ran. Routes take these parameters as text
instead (`IntQuery`, `TimeQuery` ...: the OpenAPI document still gives their real
type), read them with a `ParamCheck`, and hand what could not be read to the service,
whose own check then names those together with the rules it finds broken.
Problems name the parameter and the rule, never the value given.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from litestar.params import QueryParameter

from gateway.core.errors import FieldProblem


def _typed(**schema: str) -> QueryParameter:
    """A text parameter the OpenAPI document describes as its real type."""
    return QueryParameter(schema_extra={"one_of": None, **schema})


IntQuery = Annotated[str | None, _typed(type="integer")]
NumberQuery = Annotated[str | None, _typed(type="number")]
BoolQuery = Annotated[str | None, _typed(type="boolean")]
TimeQuery = Annotated[str | None, _typed(type="string", format="date-time")]

_WHOLE = re.compile(r"^-?[0-9]{1,18}$")
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})


class ParamCheck:
    """The parameters of one request that could not be read, in the order met."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def integer(self, name: str, raw: str | None) -> int | None:
        if raw is None:
            return None
        if not _WHOLE.match(raw):
            self.problems.append(FieldProblem(name, "must be a whole number"))
            return None
        return int(raw)

    def number(self, name: str, raw: str | None) -> float | None:
        if raw is None:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")):  # noqa: PLR0124 - NaN
            self.problems.append(FieldProblem(name, "must be a number"))
            return None
        return value

    def boolean(self, name: str, raw: str | None) -> bool | None:
        if raw is None:
            return None
        word = raw.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        self.problems.append(FieldProblem(name, "must be true or false"))
        return None

    def time(self, name: str, raw: str | None) -> datetime | None:
        """An ISO 8601 time; its zone and range are the service's to check."""
        if raw is None:
            return None
        try:
            return datetime.fromisoformat(raw.strip())
        except ValueError:
            self.problems.append(
                FieldProblem(name, "must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z")
            )
            return None
