"""The console's record screens: the audit log (search, verify now, export), the
reports and their kept copies, who sees what, and health.

HTTP in and out only, like `pages.py`; every read is the services' own (and logged
there), so a screen shows nothing its viewer's role could not read through the API.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from audit import LogUnavailable
from gateway.console.forms import (
    MAX_FIELD,
    SIGN_IN,
    ConsoleController,
    field,
    form,
    moment,
    period,
)
from gateway.console.render import (
    AnyRequest,
    language,
    page,
    redirect,
)
from gateway.console.service import Console, Signed
from gateway.core.errors import (
    FieldProblem,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from gateway.core.webforms import posted_cross_site
from gateway.logsearch import EventQuery
from gateway.reports import report_response

AUDIT_FILTERS = ("actor", "action", "outcome", "order_id", "subject", "since", "until")


class ConsoleScreens(ConsoleController):
    """The log, the reports, the policy matrix and health, for DPOs and auditors."""

    @get("/audit")
    async def audit(self, request: AnyRequest, console: NamedDependency[Console]) -> Response[str]:
        """Search the log by person, action, outcome, order, subject pseudonym and time."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        return await self._audit(request, console, signed)

    async def _audit(
        self,
        request: AnyRequest,
        console: Console,
        signed: Signed,
        report: dict[str, Any] | None = None,
    ) -> Response[str]:
        params = request.query_params
        filters = {name: str(params.get(name) or "").strip()[:MAX_FIELD] for name in AUDIT_FILTERS}
        problems: list[FieldProblem] = []
        query = EventQuery(
            actor=filters["actor"] or None,
            action=filters["action"] or None,
            outcome=filters["outcome"] or None,
            order_id=filters["order_id"] or None,
            subject=filters["subject"] or None,
            since=moment("since", filters["since"], problems),
            until=moment("until", filters["until"], problems),
            cursor=str(params.get("cursor") or "")[:MAX_FIELD] or None,
            unread=tuple(problems),
        )
        try:
            found = await console.audit(signed.principal, query)
        except InvalidInput:
            return page(request, "error", status=400, alert="err.invalid", signed=signed)
        except PermissionDenied:
            return page(request, "error", status=403, alert="err.forbidden", signed=signed)
        except LogUnavailable:
            return page(request, "error", status=503, alert="err.unavailable", signed=signed)
        return page(
            request,
            "audit",
            signed=signed,
            found=found,
            filters=filters,
            query=urlencode({k: v for k, v in filters.items() if v}),
            report=report,
        )

    @post("/audit/verify", status_code=200)
    async def verify(self, request: AnyRequest, console: NamedDependency[Console]) -> Response[str]:
        """Verify the whole log now; the result, with the first bad entry named, on the page."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        data = await form(request)
        if posted_cross_site(request) or not signed.session.csrf_matches(field(data, "csrf")):
            return page(request, "error", status=403, alert="err.cross_site", signed=signed)
        try:
            report = await console.verify(signed.principal)
        except PermissionDenied:
            return page(request, "error", status=403, alert="err.forbidden", signed=signed)
        return await self._audit(request, console, signed, report)

    @get("/matrix")
    async def matrix(self, request: AnyRequest, console: NamedDependency[Console]) -> Response[str]:
        """The compiled field plan per role, as a matrix, with the policy version."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        return page(request, "matrix", signed=signed, matrix=console.matrix())

    @get("/reports")
    async def reports(
        self, request: AnyRequest, console: NamedDependency[Console]
    ) -> Response[str]:
        """Every report with its forms, a period and a language to generate it in; the kept
        PIPL copies with their hashes."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        try:
            index = await console.report_index(signed.principal, language(request))
        except PermissionDenied:
            return page(request, "error", status=403, alert="err.forbidden", signed=signed)
        return page(request, "reports", signed=signed, index=index)

    @get("/reports/{name:str}")
    async def report(
        self,
        request: AnyRequest,
        console: NamedDependency[Console],
        name: FromPath[str],
        fmt: Annotated[str, QueryParameter(name="format", max_length=8)] = "html",
        lang: FromQuery[str] = "en",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
    ) -> Response[Any]:
        """The report itself, as the API answers it: HTML inline, JSON and CSV as files."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        wanted = period(since, until)
        if wanted is None:
            return page(request, "error", status=400, alert="err.invalid", signed=signed)
        start, end = wanted
        try:
            rendered = await console.report(signed.principal, name, fmt, lang, start, end)
        except NotFound:
            return page(request, "error", status=404, alert="err.not_found", signed=signed)
        except InvalidInput:
            return page(request, "error", status=400, alert="err.invalid", signed=signed)
        except PermissionDenied:
            return page(request, "error", status=403, alert="err.forbidden", signed=signed)
        return report_response(rendered)

    @get("/reports/kept/{kept_id:str}")
    async def kept(
        self, request: AnyRequest, console: NamedDependency[Console], kept_id: FromPath[str]
    ) -> Response[Any]:
        """A kept copy exactly as it was generated (JSON): what its hash is of."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        try:
            body = await console.kept_report(signed.principal, kept_id)
        except (InvalidInput, NotFound):
            return page(request, "error", status=404, alert="err.not_found", signed=signed)
        except PermissionDenied:
            return page(request, "error", status=403, alert="err.forbidden", signed=signed)
        # The canonical id, not the path's spelling: uuid.UUID also reads braces, upper
        # case, a urn: prefix and leading white space (CR, LF) in place of zeros.
        disposition = f'attachment; filename="kept-{uuid.UUID(kept_id)}.json"'
        return Response(
            body,
            media_type="application/json",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": disposition,
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get("/health")
    async def health(self, request: AnyRequest, console: NamedDependency[Console]) -> Response[str]:
        """Keys and their rotation, the log's head and last checkpoint, the systems."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        return page(request, "health", signed=signed, facts=await console.health())

    @get("/audit/export")
    async def export(
        self,
        request: AnyRequest,
        console: NamedDependency[Console],
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
    ) -> Response[Any]:
        """The log (or a time range of it) as JSON Lines with its checkpoints, to verify
        offline with `privacy-gateway audit verify --export FILE --public-key FILE`."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        wanted = period(since, until)
        if wanted is None:
            return page(request, "error", status=400, alert="err.invalid", signed=signed)
        start, end = wanted
        try:
            lines = await console.export(signed.principal, start, end)
        except InvalidInput:
            return page(request, "error", status=400, alert="err.invalid", signed=signed)
        except PermissionDenied:
            return page(request, "error", status=403, alert="err.forbidden", signed=signed)
        return Stream(
            lines,
            media_type="application/x-ndjson",
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": 'attachment; filename="audit-export.jsonl"',
                "X-Content-Type-Options": "nosniff",
            },
        )
