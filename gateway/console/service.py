"""What the console's pages need, in one place: sessions, sign-in, and the services
whose views the screens show (the register now; the log and reports next)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.auth import Authenticator
from gateway.console.health import health
from gateway.console.sessions import Session, Sessions
from gateway.console.signin import LocalSignIn, may_enter
from gateway.core.clock import Clock
from gateway.core.principal import Principal
from gateway.crypto import KeyRing
from gateway.disclosure import PolicySet
from gateway.logsearch import EventQuery, LogSearch
from gateway.privacy import Downloads, Register, RegisterQuery
from gateway.reports import REPORTS, KeptReports, Rendered, Reports, report_title
from gateway.systems import SystemsMap

DUE_SOON = timedelta(hours=24)
INBOX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Signed:
    """A live session and the principal behind it, as the policy sees them now."""

    session: Session
    principal: Principal
    # Whether the screens offer actions: an auditor's show none (and the services refuse
    # a posted one anyway, by the same policy).
    may_act: bool


class Console:
    """The console's use of the gateway's services, for a signed-in DPO or auditor."""

    def __init__(
        self,
        sessions: Sessions,
        local: LocalSignIn,
        authenticator: Authenticator,
        policy: PolicySet,
        register: Register,
        log_search: LogSearch,
        reports: Reports,
        kept: KeptReports,
        clock: Clock,
        facts: tuple[AsyncEngine, KeyRing, SystemsMap],
        downloads: Downloads,
    ) -> None:
        self._facts = facts
        self._downloads = downloads
        self._log_search = log_search
        self._reports = reports
        self._kept = kept
        self.sessions = sessions
        self.local = local
        self._authenticator = authenticator
        self._policy = policy
        self._register = register
        self._clock = clock

    async def signed(self, cookie: str | None) -> Signed | None:
        session = await self.sessions.find(cookie)
        if session is None:
            return None
        principal = await self._authenticator.principal_named(session.principal_name)
        if principal is None or principal.id != session.principal_id:
            return None  # revoked, or a new principal under an old name
        if not may_enter(self._policy, principal):
            return None
        plan = self._policy.plan_for(principal.role)
        acts = plan is not None and plan.allows("privacy_requests", "manage")
        return Signed(session, principal, acts)

    async def request(self, principal: Principal, request_id: str) -> dict[str, Any]:
        """One request as the register shows it, with its clocks worked out."""
        view = await self._register.get(principal, request_id)
        return _with_clocks(view, self._clock.now())

    async def certificate(
        self, principal: Principal, request_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A completed erasure's signed certificate (a DPO's to read, as for the API) and
        its verification here: this gateway's signature, and its chain head in the log."""
        document = await self._downloads.certificate(request_id, None, principal)
        return document, await self._downloads.verify(document)

    async def act(
        self, principal: Principal, request_id: str, action: str, reason: str, months: int
    ) -> None:
        """One of the DPO's actions, by the register's own rules (and its log entry)."""
        register = self._register
        if action == "extend":
            await register.extend(principal, request_id, months, reason)
            return
        moves = {
            "hold": register.hold,
            "lift": register.lift,
            "reject": register.reject,
            "retry": register.retry,
        }
        await moves[action](principal, request_id, reason)

    async def audit(self, principal: Principal, query: EventQuery) -> dict[str, Any]:
        """A page of the log, newest first, as the log search gives it (and logs it)."""
        found = await self._log_search.events(principal, query)
        return {"items": found.items, "next_cursor": found.next_cursor}

    async def export(
        self, principal: Principal, since: datetime | None, until: datetime | None
    ) -> AsyncIterator[bytes]:
        """The log's JSON Lines for the range, as the API streams them (logged there)."""
        return await self._log_search.export(principal, since, until)

    async def verify(self, principal: Principal) -> dict[str, Any]:
        """The whole chain and its signed checkpoints checked now; the first bad entry."""
        return (await self._log_search.verify(principal)).document()

    async def report_index(self, principal: Principal, lang: str) -> dict[str, Any]:
        """The reports there are, in the reader's language, and the kept PIPL copies."""
        await self._reports.may_generate(principal)
        kinds = [
            {"name": name, "title": report_title(name, lang), "formats": list(spec.formats)}  # type: ignore[arg-type]
            for name, spec in REPORTS.items()
        ]
        kept = await self._kept.listing(principal, None, 50)
        return {"reports": kinds, "kept": kept}

    async def report(
        self,
        principal: Principal,
        name: str,
        fmt: str,
        lang: str,
        since: datetime | None,
        until: datetime | None,
    ) -> Rendered:
        """Generated (and logged, and kept if a PIPL report) by the reports service."""
        return await self._reports.generate(principal, name, fmt, lang, since, until)

    async def kept_report(self, principal: Principal, kept_id: str) -> bytes:
        return await self._kept.read(principal, kept_id)

    async def health(self) -> dict[str, Any]:
        """Keys and rotation, the log's head and last checkpoint, the map's systems."""
        return await health(*self._facts)

    def matrix(self) -> dict[str, Any]:
        """Who sees what: each field's level per role as the compiled plans have it
        (hidden, masked, clear, clear after a second factor), with the policy version,
        so an auditor reads the policy without its CSV."""
        roles = [r for r in self._policy.roles if self._policy.plans[r].can_read_orders]
        classification = self._policy.classification
        rows = [
            {
                "field": path,
                "category": field.category or "",
                "levels": [str(self._policy.plans[r].levels.get(path, "hidden")) for r in roles],
            }
            for path, field in sorted(classification.fields.items())
        ]
        scopes = [str(self._policy.plans[r].row_scope or "") for r in roles]
        return {"version": self._policy.version, "roles": roles, "rows": rows, "scopes": scopes}

    async def inbox(self, principal: Principal, query: RegisterQuery) -> dict[str, Any]:
        """Open requests, overdue and due-soon first, with the counts at the top."""
        page = await self._register.list(principal, query)
        now = self._clock.now()
        items = [_with_clocks(item, now) for item in page["items"]]
        items.sort(key=lambda i: (i["sla"] != "overdue", not i["due_soon"], i["next_due"]))
        return {
            "items": items,
            "counts": {
                "open": len(items),
                "overdue": sum(1 for i in items if i["sla"] == "overdue"),
                "due_soon": sum(1 for i in items if i["due_soon"]),
            },
            "more": page["next_cursor"] is not None,
        }


def _when(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def _left(due: datetime | None, now: datetime) -> dict[str, Any] | None:
    if due is None:
        return None
    seconds = (due - now).total_seconds()
    return {"at": due, "hours": round(abs(seconds) / 3600, 1), "late": seconds < 0}


def _with_clocks(item: dict[str, Any], now: datetime) -> dict[str, Any]:
    target = _when(item["target_at"])
    legal = min(d for d in (_when(item["gdpr_deadline_at"]), _when(item["pipl_deadline_at"])) if d)
    nearest = min(d for d in (target, legal) if d is not None)
    return {
        **item,
        "target": _left(target, now),
        "legal": _left(legal, now),
        "next_due": nearest,
        "due_soon": item["sla"] != "overdue" and nearest - now <= DUE_SOON,
    }
