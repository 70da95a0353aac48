"""What the console's handlers share: the posted form's fields, times typed into a
form, the session behind a request, and where an anonymous reader is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller

from gateway.console.render import ERROR_HANDLERS, ROOT, SESSION_COOKIE, AnyRequest
from gateway.console.service import Console, Signed
from gateway.core.errors import FieldProblem

SIGN_IN = f"{ROOT}/sign-in"
MAX_FIELD = 200


def moment(name: str, value: str, problems: list[FieldProblem]) -> datetime | None:
    """A form's `datetime-local` (no zone: the console's times are UTC), or a problem."""
    if not value:
        return None
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        problems.append(FieldProblem(name, "must be a date and time"))
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def period(since: str, until: str) -> tuple[datetime | None, datetime | None] | None:
    """A form's time range (each end optional); None if either end is not a time."""
    problems: list[FieldProblem] = []
    start, end = moment("since", since[:32], problems), moment("until", until[:32], problems)
    return None if problems else (start, end)


async def form(request: AnyRequest) -> dict[str, Any]:
    """The posted form's fields (text only is used: `field`)."""
    return dict(await request.form())


def field(posted: dict[str, Any], name: str) -> str:
    value = posted.get(name)
    return value.strip()[:MAX_FIELD] if isinstance(value, str) else ""


class ConsoleController(Controller):
    """Under /console, outside the OpenAPI document: pages, not an API."""

    path = ROOT
    include_in_schema = False
    exception_handlers = ERROR_HANDLERS  # pages, not problem+json

    async def _signed(self, request: AnyRequest, console: Console) -> Signed | None:
        return await console.signed(request.cookies.get(SESSION_COOKIE))
