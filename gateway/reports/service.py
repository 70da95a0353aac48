"""Generating a report: who may, for which period, against which chain head, logged.

Roles with `reports, read` (dpo, auditor) only. Every report is built against the
audit chain head read when it starts, names it, and is logged (with the SHA-256
of what was produced) before it is handed out: no log entry, no report.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, get_args

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import snapshot
from gateway.accesslog import AccessLog, actor_of
from gateway.core.clock import Clock, time_problem
from gateway.core.errors import FieldProblem, InvalidParameter, NotFound, PermissionDenied
from gateway.core.principal import Principal
from gateway.disclosure import PolicySet
from gateway.reports import access, archive, dsr, integrity, logscan, pipl, render, ropa
from gateway.reports.document import Built, Context, Format, Header, Lang, Period
from gateway.reports.record import ProcessingRecord
from gateway.retention import RetentionRules
from gateway.systems import SystemsMap

Builder = Callable[[Context], Awaitable[Built]]
DEFAULT_DAYS = 365


@dataclass(frozen=True, slots=True)
class Spec:
    build: Builder
    table: bool  # has a CSV form

    @property
    def formats(self) -> tuple[str, ...]:
        """The forms this report comes in: one list for the API, its listing and the CLI."""
        return ("json", "html", "csv") if self.table else ("json", "html")


REPORTS: dict[str, Spec] = {
    "gdpr-ropa": Spec(ropa.build, table=True),
    "dsr-register": Spec(dsr.build, table=True),
    "access": Spec(access.build, table=True),
    "audit-integrity": Spec(integrity.build, table=True),
    "pipl-audit": Spec(pipl.build_audit, table=False),
    "pipl-pia": Spec(pipl.build_pia, table=False),
}


def format_problem(name: str) -> str:
    """What is wrong with asking `name` for a form it does not come in (CSV of a non-table)."""
    return f"{name} is not a table: use {' or '.join(REPORTS[name].formats)}"


# Bare types: the renderers write UTF-8, and Litestar adds `; charset=<encoding>` to
# every text/* type itself (a charset here would be sent twice).
MEDIA_TYPES = {"json": "application/json", "html": "text/html", "csv": "text/csv"}
ENCODING = "utf-8"


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    media_type: str  # without parameters; the body is always `ENCODING`
    filename: str
    header: Header


class Reports:
    """Generates each report for a period, as JSON, HTML or CSV, and logs it."""

    def __init__(
        self,
        engine: AsyncEngine,
        policy: PolicySet,
        retention: RetentionRules,
        record: ProcessingRecord,
        systems: SystemsMap,
        log: AccessLog,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._retention = retention
        self._record = record
        self._systems = systems
        self._log = log
        self._clock = clock

    def authorize(self, principal: Principal) -> None:
        plan = self._policy.plan_for(principal.role)
        if plan is None or not plan.allows("reports", "read"):
            raise PermissionDenied(f"role {principal.role!r} may not generate reports")

    async def may_generate(
        self, principal: Principal, action: str = "report.list", resource: str = "reports"
    ) -> None:
        """Refuse (and log the refusal) unless the principal may generate reports."""
        try:
            self.authorize(principal)
        except PermissionDenied as exc:
            await self._log.denied(principal, action, resource, 403, exc.detail)
            raise

    def _period(
        self, since: datetime | None, until: datetime | None, problems: list[FieldProblem]
    ) -> Period | None:
        """The period asked for (by default the 365 days up to now), or None with what is
        wrong with it added to `problems`."""
        found = len(problems)
        for name, when in (("since", since), ("until", until)):
            problem = None if when is None else time_problem(when)
            if problem is not None:
                problems.append(FieldProblem(name, problem))
        if len(problems) > found:
            return None
        end = until or self._clock.now()
        start = since or end - timedelta(days=DEFAULT_DAYS)
        if start >= end:
            problems.append(FieldProblem("since", "must be before until"))
            return None
        return Period(start, end)

    def _check(
        self,
        name: str,
        fmt: str,
        lang: str,
        since: datetime | None,
        until: datetime | None,
        unread: tuple[FieldProblem, ...],
    ) -> tuple[Spec, Period]:
        """Every parameter in one pass: one problem names each bad one."""
        spec = REPORTS.get(name)
        if spec is None:
            raise NotFound(f"no report named {name!r}; reports: {', '.join(REPORTS)}")
        problems = list(unread)
        if fmt not in get_args(Format):
            problems.append(FieldProblem("format", "must be json, html or csv"))
        elif fmt not in spec.formats:
            problems.append(FieldProblem("format", format_problem(name)))
        if lang not in get_args(Lang):
            problems.append(FieldProblem("lang", "must be en or zh"))
        period = self._period(since, until, problems)
        if problems or period is None:
            raise InvalidParameter("invalid report parameters", problems)
        return spec, period

    async def generate(
        self,
        principal: Principal | None,
        name: str,
        fmt: str = "json",
        lang: str = "en",
        since: datetime | None = None,
        until: datetime | None = None,
        progress: Callable[[int], None] | None = None,
        unread: tuple[FieldProblem, ...] = (),  # parameters the route could not read
    ) -> Rendered:
        action = f"report.{name}" if name in REPORTS else "report.generate"
        if principal is not None:  # None: the command line, whoever holds the keys
            await self.may_generate(principal, action)
        spec, period = self._check(name, fmt, lang, since, until, unread)
        async with snapshot(self._engine) as conn:
            head = await logscan.chain_head(conn)
        header = Header(
            report=name,
            period=period,
            generated_at=self._clock.now(),
            generated_by=actor_of(principal),
            chain_head=head,
            lang=lang,  # type: ignore[arg-type]  # checked above
        )
        ctx = Context(
            self._engine,
            self._policy,
            self._retention,
            self._record,
            self._systems,
            self._log.log,
            header,
        )
        if progress is not None:
            ctx = replace(ctx, progress=progress)
        built = await spec.build(ctx)
        body = _render(fmt, header, built)
        await self._log_and_keep(action, header, fmt, body, built)
        stamp = header.generated_at.strftime("%Y%m%dT%H%M%SZ")
        return Rendered(body, MEDIA_TYPES[fmt], f"{name}-{stamp}.{fmt}", header)

    async def _log_and_keep(
        self, action: str, header: Header, fmt: str, body: bytes, built: Built
    ) -> None:
        """Log what is handed out; keep a copy of a PIPL report. The log names the kept
        copy before it exists: a failed insert leaves an entry pointing at nothing (and
        no report handed out), never a copy that no entry names."""
        copy = None
        if header.report in archive.ARCHIVED:
            copy = archive.prepare(header, render.as_json(header, built))
        kept = {} if copy is None else {"kept_id": str(copy.id), "kept_sha256": copy.sha256}
        await self._log.record(
            header.generated_by,
            action,
            f"reports/{header.report}",
            details={
                "format": fmt,
                "lang": header.lang,
                **header.period.document(),
                "chain_head": header.chain_head.seq,
                "sha256": hashlib.sha256(body).hexdigest(),
                **kept,
            },
        )
        if copy is not None:
            async with self._engine.begin() as conn:
                await archive.keep(conn, copy)


class KeptReports:
    """The kept PIPL reports: listed and read by the roles that generate reports."""

    def __init__(self, engine: AsyncEngine, reports: Reports, log: AccessLog) -> None:
        self._engine = engine
        self._reports = reports
        self._log = log

    async def listing(
        self,
        principal: Principal,
        report: str | None,
        limit: int,
        unread: tuple[FieldProblem, ...] = (),  # parameters the route could not read
    ) -> list[dict[str, Any]]:
        await self._reports.may_generate(principal, "report.kept.list", "reports/kept")
        problems = list(unread)
        if report is not None and report not in archive.ARCHIVED:
            problems.append(FieldProblem("report", "must be pipl-pia or pipl-audit"))
        if not 1 <= limit <= MAX_KEPT_PAGE:
            problems.append(FieldProblem("limit", f"must be between 1 and {MAX_KEPT_PAGE}"))
        if problems:
            raise InvalidParameter("invalid parameters", problems)
        async with snapshot(self._engine) as conn:
            items = await archive.listing(conn, report, limit)
        await self._log.record(
            principal.name, "report.kept.list", "reports/kept", details={"count": len(items)}
        )
        return items

    async def read(self, principal: Principal, kept_id: str) -> bytes:
        await self._reports.may_generate(principal, "report.kept.read", "reports/kept")
        try:
            key = uuid.UUID(kept_id)
        except ValueError:
            raise InvalidParameter(
                "invalid parameters", [FieldProblem("kept_id", "must be a UUID")]
            ) from None
        async with snapshot(self._engine) as conn:
            row = await archive.fetch(conn, key)
        if row is None:
            raise NotFound("no kept report with this id")
        await self._log.record(principal.name, "report.kept.read", f"reports/kept/{key}")
        return str(row.document).encode("utf-8")


MAX_KEPT_PAGE = 500


def _render(fmt: str, header: Header, built: Built) -> bytes:
    if fmt == "html":
        return render.as_html(header, built)
    if fmt == "csv":
        return render.as_csv(header, built)
    return render.as_json(header, built)
