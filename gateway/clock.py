"""Clocks: the system one, and a controllable one for tests and simulations."""

from __future__ import annotations

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
