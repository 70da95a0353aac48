"""HTTP in and out for the audit log (roles with `audit, read`: dpo, auditor)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Stream

from gateway.auth import AuthedRequest
from gateway.core.params import IntQuery, ParamCheck, TimeQuery
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
        since: TimeQuery = None,
        until: TimeQuery = None,
        limit: IntQuery = None,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """`{"items": [...], "next_cursor": ...}`; each item is an entry with its hash.
        `subject` is a data subject's pseudonym as it appears in entries."""
        read = ParamCheck()
        query = EventQuery(
            actor,
            action,
            outcome,
            order_id,
            subject,
            read.time("since", since),
            read.time("until", until),
            read.integer("limit", limit),
            cursor,
            tuple(read.problems),
        )
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
        since: TimeQuery = None,
        until: TimeQuery = None,
    ) -> Stream:
        """Streamed; verify with `privacy-gateway audit verify --export FILE --public-key FILE`."""
        read = ParamCheck()
        start, end = read.time("since", since), read.time("until", until)
        lines = await log_search.export(request.user, start, end, tuple(read.problems))
        return Stream(
            lines,
            media_type="application/x-ndjson",
            headers={"Content-Disposition": 'attachment; filename="audit-export.jsonl"'},
        )
