"""Clocks: the system one, and a controllable one for tests and simulations."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; shipped for users' tests as well as ours."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


def utc_text(value: datetime) -> str:
    """The one text form of times leaving the gateway: UTC, ISO 8601, with a `Z`."""
    return value.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


# Times callers give (filters, periods, order times) must lie here: converting one
# outside to UTC can overflow (`9999-12-31T23:00-05:00`), which must be a 400, not a 500.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def time_problem(value: datetime) -> str | None:
    """What is wrong with a caller's time, or None: it needs a zone and a sane year."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "must include a time zone, e.g. Z"
    try:
        in_range = EARLIEST <= value <= LATEST
    except OverflowError:  # pragma: no cover - comparison normalises without overflow today
        in_range = False
    if not in_range:
        return "must lie between 1970 and 2200"
    return None


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day (31 Jan + 1 = 28/29 Feb):
    how "one month" is read for GDPR Art. 12(3) (Regulation 1182/71, Art. 3(2)(c))."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
