"""The life of a data subject request: its states, the moves between them, its clocks.

Moves are explicit: `check_move` refuses any pair not in `MOVES`, so a request
can never jump from `received` to `completed` or leave a final state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gateway.core.errors import InvalidTransition


class Kind(StrEnum):
    ERASURE = "erasure"
    ACCESS = "access"


class State(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"
    ON_HOLD = "on_hold"
    EXPIRED = "expired"


MOVES: Mapping[State, frozenset[State]] = {
    State.RECEIVED: frozenset({State.VERIFIED, State.REJECTED, State.EXPIRED}),
    State.VERIFIED: frozenset({State.IN_PROGRESS, State.ON_HOLD, State.REJECTED}),
    # Once erasure has begun, personal data is gone: no rejection, only a hold.
    State.IN_PROGRESS: frozenset({State.COMPLETED, State.ON_HOLD}),
    # Lifting a hold returns to where the request was (`held_from`).
    State.ON_HOLD: frozenset({State.VERIFIED, State.IN_PROGRESS, State.REJECTED}),
}
FINAL = frozenset({State.COMPLETED, State.REJECTED, State.EXPIRED})
# States the worker runs; the sweeper watches every state that is not final.
RUNNABLE = (State.VERIFIED.value, State.IN_PROGRESS.value)
OPEN = tuple(s.value for s in State if s not in FINAL)


def check_move(current: str, target: State, held_from: str | None = None) -> None:
    """Refuse any move not in `MOVES`; from a hold, only back to where it was, or to
    `rejected` if the work had not started (a started erasure cannot be undone)."""
    if target not in MOVES.get(State(current), frozenset()):
        raise InvalidTransition(f"a request that is {current} cannot become {target.value}")
    if current == State.ON_HOLD.value and held_from is not None:
        if target is State.REJECTED and held_from == State.IN_PROGRESS.value:
            raise InvalidTransition(
                "this request was put on hold after its work began: it cannot be rejected"
            )
        if target is not State.REJECTED and target.value != held_from:
            raise InvalidTransition(f"a hold is lifted back to {held_from} only")


class Sla(StrEnum):
    ON_TRACK = ""
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Every clock a request runs against; the earliest open one decides its SLA."""

    target_at: datetime | None
    gdpr_deadline_at: datetime
    pipl_deadline_at: datetime

    def earliest(self) -> datetime:
        dates = [self.gdpr_deadline_at, self.pipl_deadline_at]
        if self.target_at is not None:
            dates.append(self.target_at)
        return min(dates)

    def sla(self, now: datetime, lead: timedelta) -> Sla:
        due = self.earliest()
        if now >= due:
            return Sla.OVERDUE
        if now >= due - lead:
            return Sla.DUE_SOON
        return Sla.ON_TRACK
