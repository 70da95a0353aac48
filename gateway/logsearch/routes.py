"""HTTP in and out for the audit log (roles with `audit, read`: dpo, auditor)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Stream

from gateway.auth import AuthedRequest
from gateway.logsearch.schemas import LogVerification
from gateway.logsearch.service import EventQuery, LogSearch


class LogSearchController(Controller):
    """The audit log's API: search, verify, export (roles with `audit, read`)."""

    path = "/v1/audit"
    tags = ["audit"]  # noqa: RUF012 - Litestar reads class attributes

    @get("/events", summary="Search the log, newest first, with cursor pagination")
    async def events(
        self,
        request: AuthedRequest,
        log_search: NamedDependency[LogSearch],
        actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        outcome: FromQuery[str | None] = None,
        order_id: FromQuery[str | None] = None,
        subject: FromQuery[str | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: FromQuery[int | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """`{"items": [...], "next_cursor": ...}`; each item is an entry with its hash.
        `subject` is a data subject's pseudonym as it appears in entries."""
        query = EventQuery(actor, action, outcome, order_id, subject, since, until, limit, cursor)
        page = await log_search.events(request.user, query)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @get("/verify", summary="Verify the whole chain and its signed checkpoints")
    async def verify(
        self, request: AuthedRequest, log_search: NamedDependency[LogSearch]
    ) -> LogVerification:
        """The first entry that cannot be trusted, and why."""
        report = await log_search.verify(request.user)
        return LogVerification.model_validate(report.document())

    @get(
        "/export",
        media_type="application/x-ndjson",
        summary="Entries and checkpoints as JSON Lines, for offline verification",
    )
    async def export(
        self,
        request: AuthedRequest,
        log_search: NamedDependency[LogSearch],
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
    ) -> Stream:
        """Streamed; verify with `privacy-gateway audit verify --export FILE --public-key FILE`."""
        lines = await log_search.export(request.user, since, until)
        return Stream(
            lines,
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="audit-export.jsonl"'},
        )
