"""Requests as the DPO's register shows them, and the DSR report reads them."""

from __future__ import annotations

from typing import Any

from gateway.core.clock import utc_text
from gateway.privacy.model import store


def _time(value: Any) -> str | None:
    return None if value is None else utc_text(value)


def hold_view(hold: store.HoldRow) -> dict[str, Any]:
    """One hold of a request's history, as the register and the DSR report show it."""
    return {
        "number": hold.number,
        "held_at": utc_text(hold.held_at),
        "held_by": hold.held_by,
        "held_from": hold.held_from,
        "reason": hold.hold_reason,
        "ended_at": _time(hold.ended_at),
        "ended_by": hold.ended_by,
        "ended_as": hold.ended_as,
        "end_reason": hold.end_reason,
    }


def dpo_view(row: store.RequestRow, holds: list[store.HoldRow]) -> dict[str, Any]:
    """A request as the register shows it; `holds` is its whole hold history."""
    return {
        "request_id": str(row.id),
        "kind": row.kind,
        "state": row.state,
        "matched": row.subject_id is not None,
        "received_at": utc_text(row.received_at),
        "verified_at": _time(row.verified_at),
        "started_at": _time(row.started_at),
        "completed_at": _time(row.completed_at),
        "target_at": _time(row.target_at),
        "gdpr_deadline_at": utc_text(row.gdpr_deadline_at),
        "pipl_deadline_at": utc_text(row.pipl_deadline_at),
        "sla": row.sla or "on_track",
        "blocked": row.blocked_reason,
        "extension_reason": row.extension_reason,
        "extended_by": row.extended_by,
        "approval": None
        if not row.approval_required
        else {
            "approved": row.approved_at is not None,
            "by": row.approved_by,
            "at": _time(row.approved_at),
            "reason": row.approval_reason,
        },
        "hold": None
        if row.hold_reason is None
        else {"reason": row.hold_reason, "by": row.hold_by, "at": _time(row.held_at)},
        "holds": [hold_view(hold) for hold in holds],
        "rejection": None
        if row.reject_reason is None
        else {"reason": row.reject_reason, "by": row.rejected_by},
    }
