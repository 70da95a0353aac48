"""The console's pages: sign-in, sign-out, the language switch, the inbox and a request.

HTTP in and out only; the work is `Console`'s. Outside the bearer-token middleware:
a page is reached with the session cookie, and every POST carries the session's CSRF
token and must come from this site. Refusals are pages in the reader's language.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from audit import LogUnavailable
from gateway.console.forms import SIGN_IN, ConsoleController, field, form
from gateway.console.render import (
    HERE,
    LANG_COOKIE,
    LANG_SECONDS,
    ROOT,
    SESSION_COOKIE,
    AnyRequest,
    cookie,
    page,
    redirect,
)
from gateway.console.service import INBOX_LIMIT, Console, Signed
from gateway.console.texts import LANGUAGES
from gateway.core.errors import (
    AuthenticationFailed,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    SecondFactorLocked,
    SecondFactorMissing,
    SecondFactorRejected,
)
from gateway.core.validators import check_reason
from gateway.core.webforms import posted_cross_site
from gateway.privacy import RegisterQuery

ACTIONS = ("hold", "lift", "extend", "reject", "retry")
_CSS = (HERE / "static" / "console.css").read_bytes()


FINAL_STATES = frozenset({"completed", "rejected", "expired"})


def _offered(view: dict[str, Any]) -> tuple[str, ...]:
    """The actions that can apply to the request as it is (the register still decides):
    lift only what is on hold, retry only what is blocked, nothing on a finished one."""
    state = view["state"]
    if state in FINAL_STATES:
        return ()
    offered = ["lift"] if state == "on_hold" else ["hold"]
    if view.get("extension_reason") is None:
        offered.append("extend")
    offered.append("reject")
    if view.get("blocked"):
        offered.append("retry")
    return tuple(offered)


class ConsolePages(ConsoleController):
    """Sign-in and out, the language, the inbox and a request's screen with its actions."""

    @get("/console.css", sync_to_thread=False)
    def stylesheet(self) -> Response[bytes]:
        return Response(_CSS, media_type="text/css", headers={"Cache-Control": "no-cache"})

    @get("/sign-in")
    async def sign_in_form(self, request: AnyRequest) -> Response[str]:
        return page(request, "sign_in", signed=None)

    @post("/sign-in", status_code=303)
    async def sign_in(
        self, request: AnyRequest, console: NamedDependency[Console]
    ) -> Response[str]:
        data = await form(request)
        if posted_cross_site(request):
            return page(request, "sign_in", status=403, alert="err.cross_site", signed=None)
        token, code = field(data, "token"), field(data, "code")
        if not token or not code.isdigit() or len(code) != 6:  # noqa: PLR2004 - six digits
            return page(request, "sign_in", status=422, alert="err.sign_in", signed=None)
        try:
            opened = await console.local.sign_in(token, code)
        except (AuthenticationFailed, SecondFactorRejected):
            return page(request, "sign_in", status=401, alert="err.sign_in", signed=None)
        except SecondFactorLocked:
            return page(request, "sign_in", status=429, alert="err.locked", signed=None)
        except SecondFactorMissing:
            return page(request, "sign_in", status=409, alert="err.no_factor", signed=None)
        except PermissionDenied:
            return page(request, "sign_in", status=403, alert="err.no_entry", signed=None)
        hours = request.app.state.services.settings.console_session_hours
        session = cookie(request, SESSION_COOKIE, opened.cookie, int(hours * 3600))
        return redirect(f"{ROOT}/", [session])

    @post("/sign-out", status_code=303)
    async def sign_out(
        self, request: AnyRequest, console: NamedDependency[Console]
    ) -> Response[str]:
        data = await form(request)
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        if posted_cross_site(request) or not signed.session.csrf_matches(field(data, "csrf")):
            return page(request, "error", status=403, alert="err.cross_site", signed=signed)
        await console.sessions.end(request.cookies.get(SESSION_COOKIE))
        return redirect(SIGN_IN, [cookie(request, SESSION_COOKIE, "", 0)])

    @get("/lang/{lang:str}")
    async def switch_language(self, request: AnyRequest, lang: FromPath[str]) -> Response[str]:
        chosen = lang if lang in LANGUAGES else "en"
        return redirect(f"{ROOT}/", [cookie(request, LANG_COOKIE, chosen, LANG_SECONDS)])

    @get("/")
    async def inbox(
        self,
        request: AnyRequest,
        console: NamedDependency[Console],
        wanted_state: Annotated[str | None, QueryParameter(name="state", max_length=32)] = None,
        kind: FromQuery[str | None] = None,
        overdue: FromQuery[str | None] = None,
        request_id: FromQuery[str | None] = None,
    ) -> Response[str]:
        """Open requests with their clocks; filters by state, kind and overdue."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        query = RegisterQuery(
            state=wanted_state or None, kind=kind or None, overdue=overdue == "1", limit=INBOX_LIMIT
        )
        try:
            found = await console.inbox(signed.principal, query)
        except InvalidInput:
            return page(request, "error", status=400, alert="err.invalid", signed=signed)
        except LogUnavailable:
            return page(request, "error", status=503, alert="err.unavailable", signed=signed)
        wanted = (request_id or "").strip().lower()
        if wanted:
            found["items"] = [i for i in found["items"] if i["request_id"].startswith(wanted)]
        return page(
            request,
            "inbox",
            signed=signed,
            found=found,
            filters={
                "state": wanted_state or "",
                "kind": kind or "",
                "overdue": overdue == "1",
                "request_id": wanted,
            },
        )

    @get("/requests/{request_id:str}")
    async def request_page(
        self,
        request: AnyRequest,
        console: NamedDependency[Console],
        request_id: FromPath[str],
        done: FromQuery[str | None] = None,
    ) -> Response[str]:
        """A request's clocks, holds, steps and systems; the DPO's actions beside them."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        return await self._request(request, console, signed, request_id, done=done in ACTIONS)

    async def _request(
        self,
        request: AnyRequest,
        console: Console,
        signed: Signed,
        request_id: str,
        *,
        status: int = 200,
        alert: str | None = None,
        done: bool = False,
    ) -> Response[str]:
        try:
            view = await console.request(signed.principal, request_id)
        except NotFound:
            return page(request, "error", status=404, alert="err.not_found", signed=signed)
        except LogUnavailable:
            return page(request, "error", status=503, alert="err.unavailable", signed=signed)
        return page(
            request,
            "request",
            status=status,
            alert=alert or ("act.done" if done else None),
            signed=signed,
            view=view,
            actions=_offered(view) if signed.may_act else (),
        )

    @post("/requests/{request_id:str}/{action:str}", status_code=303)
    async def act(
        self,
        request: AnyRequest,
        console: NamedDependency[Console],
        request_id: FromPath[str],
        action: FromPath[str],
    ) -> Response[str]:
        """Hold, lift, extend, reject or retry, confirmed and CSRF-checked; the register
        decides (and logs) whether the principal may, whatever the page showed."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        data = await form(request)
        if posted_cross_site(request) or not signed.session.csrf_matches(field(data, "csrf")):
            return page(request, "error", status=403, alert="err.cross_site", signed=signed)
        if action not in ACTIONS:
            return page(request, "error", status=404, alert="err.not_found", signed=signed)
        if field(data, "confirm") != "yes":
            return await self._request(
                request, console, signed, request_id, status=422, alert="err.unconfirmed"
            )
        months = field(data, "months")
        try:
            reason = check_reason(field(data, "reason"))
            await console.act(
                signed.principal, request_id, action, reason, int(months) if months.isdigit() else 0
            )
        except (ValueError, InvalidInput):
            return await self._request(
                request, console, signed, request_id, status=422, alert="err.invalid"
            )
        except PermissionDenied:
            return page(request, "error", status=403, alert="err.forbidden", signed=signed)
        except InvalidTransition:
            return await self._request(
                request, console, signed, request_id, status=409, alert="err.transition"
            )
        except NotFound:
            return page(request, "error", status=404, alert="err.not_found", signed=signed)
        return redirect(f"{ROOT}/requests/{request_id}?done={action}")

    @get("/requests/{request_id:str}/certificate")
    async def certificate(
        self,
        request: AnyRequest,
        console: NamedDependency[Console],
        request_id: FromPath[str],
        download: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """The erasure certificate, readable, verified here (signature and chain head),
        and downloadable as the signed JSON document the subject received."""
        signed = await self._signed(request, console)
        if signed is None:
            return redirect(SIGN_IN)
        try:
            document, verdict = await console.certificate(signed.principal, request_id)
        except NotFound:
            return page(request, "error", status=404, alert="err.not_found", signed=signed)
        except PermissionDenied:
            return page(request, "error", status=403, alert="err.forbidden", signed=signed)
        if download == "1":
            name = f"certificate-{document['certificate'].get('request_id', 'request')}.json"
            return Response(
                json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"),
                media_type="application/json",
                headers={
                    "Cache-Control": "no-store",
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "X-Content-Type-Options": "nosniff",
                },
            )
        return page(
            request,
            "certificate",
            signed=signed,
            request_id=request_id,
            fields=document["certificate"],
            verdict=verdict,
        )
