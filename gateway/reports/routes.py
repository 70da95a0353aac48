"""HTTP for the DPO reports (roles with `reports, read`: dpo, auditor)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from gateway.auth import AuthedRequest
from gateway.core.params import IntQuery, ParamCheck, TimeQuery
from gateway.reports.render import content_security_policy
from gateway.reports.schemas import KeptReportsPage, ReportIndex, ReportKind
from gateway.reports.service import ENCODING, REPORTS, KeptReports, Rendered, Reports
from gateway.reports.text import title


class ReportController(Controller):
    """DPO reports: the index, generation, and kept copies."""

    path = "/v1/reports"
    tags = ["reports"]  # noqa: RUF012 - Litestar reads class attributes

    @get("/", summary="The reports there are, and their forms")
    async def index(self, request: AuthedRequest, reports: NamedDependency[Reports]) -> ReportIndex:
        await reports.may_generate(request.user)
        return ReportIndex(
            reports=[
                ReportKind(
                    name=name,
                    title=title(name, "en"),
                    title_zh=title(name, "zh"),
                    formats=list(spec.formats),
                )
                for name, spec in REPORTS.items()
            ]
        )

    @get("/kept", summary="Kept copies of the PIPL reports (Art. 56: at least 3 years)")
    async def kept(
        self,
        request: AuthedRequest,
        kept: NamedDependency[KeptReports],
        report: FromQuery[str | None] = None,
        limit: IntQuery = None,
    ) -> KeptReportsPage:
        """Newest first: id, report, period, who generated it, chain head, SHA-256 of the
        kept JSON document and the date until which it must be kept. `limit` defaults to 50."""
        read = ParamCheck()
        count = read.integer("limit", limit)
        items = await kept.listing(
            request.user, report, 50 if count is None else count, tuple(read.problems)
        )
        return KeptReportsPage.model_validate({"items": items})

    @get("/kept/{kept_id:str}", summary="One kept report, exactly as it was generated")
    async def kept_document(
        self, request: AuthedRequest, kept_id: FromPath[str], kept: NamedDependency[KeptReports]
    ) -> Response[bytes]:
        body = await kept.read(request.user, kept_id)
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})

    @get("/{name:str}", summary="Generate a report for a period (logged)")
    async def report(
        self,
        request: AuthedRequest,
        name: FromPath[str],
        reports: NamedDependency[Reports],
        format: FromQuery[str] = "json",
        lang: FromQuery[str] = "en",
        since: TimeQuery = None,
        until: TimeQuery = None,
    ) -> Response[bytes]:
        """`format`: json, html (print-ready A4) or csv (table reports); `lang`: en or zh;
        the period defaults to the 365 days up to now. Every report names its period,
        when and by whom it was generated, and the audit chain head it was built on."""
        read = ParamCheck()
        start, end = read.time("since", since), read.time("until", until)
        rendered = await reports.generate(
            request.user, name, format, lang, start, end, unread=tuple(read.problems)
        )
        return report_response(rendered)


def report_response(rendered: Rendered) -> Response[bytes]:
    """A generated report as an answer, the API's and the console's alike: HTML inline
    (print-ready A4), JSON and CSV as files, never cached."""
    disposition = "inline" if rendered.filename.endswith(".html") else "attachment"
    return Response(
        rendered.body,
        media_type=rendered.media_type,
        encoding=ENCODING,  # Litestar names it in the Content-Type of text/* types
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'{disposition}; filename="{rendered.filename}"',
            "X-Content-Type-Options": "nosniff",
            # The HTML form needs nothing from anywhere: one inline style sheet, no script.
            "Content-Security-Policy": content_security_policy(),
        },
    )
