"""How the /privacy page answers: templates, cookies, language, and errors as pages.

The plumbing of `pages.py`, kept apart so the handlers read as the flow they are.
Every answer is no-store and carries a strict Content-Security-Policy (one script of
this site's own, which the pages do not need); errors become a page in the reader's
language, never a trace or problem+json.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig
from litestar.types import ExceptionHandlersMap

from audit import LogUnavailable
from gateway.accesslog import client_is_loopback
from gateway.core.errors import (
    CodeLocked,
    CodeRejected,
    GatewayError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    RateLimited,
)
from gateway.core.webforms import posted_cross_site
from gateway.privacy.notify.voice import Voice, readable_time
from gateway.privacy.web.summary import summarise
from gateway.privacy.web.texts import HTML_LANG, LANGUAGES, TEXT, choose_language
from gateway.privacy.web.texts import statement as translated_statement

log = logging.getLogger("gateway.privacy.web.pages")

HERE = Path(__file__).parent
ROOT = "/privacy"
REQUEST_COOKIE = "opg_request"  # "request_id:status_token"
SHOW_ONCE_COOKIE = "opg_show_token"  # the next status page shows the token, then drops this
LANG_COOKIE = "opg_lang"
REMEMBER_SECONDS = 90 * 24 * 3600  # a request can take months (extensions); "forget" ends it
SHOW_ONCE_SECONDS = 600
LANG_SECONDS = 365 * 24 * 3600
# The one script the pages load, allowed by its hash alone (not all of 'self', where
# other files are served too): a script gadget elsewhere on the site cannot run here.
_SCRIPT = (HERE / "static" / "page.js").read_bytes()  # served, and hashed, as read once
SCRIPT_INTEGRITY = "sha256-" + base64.b64encode(hashlib.sha256(_SCRIPT).digest()).decode()
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Vary": "Accept-Language, Cookie",
    "Referrer-Policy": "same-origin",  # nothing to other sites; URLs hold no secret
    "X-Content-Type-Options": "nosniff",
    # Styles from this site, one script by its hash (the pages work without it), forms
    # post here only, no framing, no connections anywhere.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; "
    f"script-src '{SCRIPT_INTEGRITY}'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
}
Held = tuple[str, str]  # (request id, status token) from the cookie
AnyRequest = Request[Any, Any, Any]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """The Jinja environment of the public pages: autoescaped, with their filters."""
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,  # a missing text or value fails a test, not a reader
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = _when
    environment.filters["statement"] = translated_statement
    environment.globals["summarise"] = summarise
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


@pass_context
def _when(context: Context, value: str | None, lang: str) -> str:
    """A time in the reader's zone (the page's `zone`), to the minute, the zone named."""
    return readable_time(value, lang, context.get("zone"))


class Refused(GatewayError):
    """A handler's refusal, shown by `error_page` on `template` with `alert`."""

    def __init__(self, status: int, alert: str, template: str = "error") -> None:
        super().__init__(alert)
        self.status, self.alert, self.template = status, alert, template


# --- cookies and language --------------------------------------------------------------


def cookie(
    request: AnyRequest, key: str, value: str, max_age: int, *, strict: bool = True
) -> Cookie:
    """HttpOnly, SameSite=Strict, /privacy only; Secure except in the embedded default
    for a browser on this machine over plain http (`make run`)."""
    return Cookie(
        key=key,
        value=value,
        path=ROOT,
        max_age=max_age,
        httponly=True,
        samesite="strict" if strict else "lax",
        secure=_secure(request),
    )


def _secure(request: AnyRequest) -> bool:
    """Decided by what a caller cannot choose: the mode, and the client address as the
    TCP peer (or a trusted proxy) gives it, never the Host header. Behind a TLS proxy on
    this machine the proxy must be in GATEWAY_TRUSTED_PROXIES, or the client looks local."""
    if request.url.scheme == "https" or request.app.state.services.settings.mode != "embedded":
        return True
    return not client_is_loopback()


def expired(request: AnyRequest, key: str) -> Cookie:
    return Cookie(
        key=key,
        value="",
        path=ROOT,
        max_age=0,
        expires=0,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def held(request: AnyRequest) -> Held | None:
    request_id, sep, token = request.cookies.get(REQUEST_COOKIE, "").partition(":")
    return (request_id, token) if sep and request_id and token else None


def require_held(request: AnyRequest) -> Held:
    found = held(request)
    if found is None:
        raise Refused(404, "err.no_request", "home")
    return found


def reader_language(request: AnyRequest) -> str:
    """The language the page answers this reader in (their notices follow it)."""
    return _language(request)[0]


def _language(request: AnyRequest) -> tuple[str, Cookie | None]:
    chosen = request.query_params.get("lang")
    lang = choose_language(
        chosen, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
    )
    if chosen not in LANGUAGES:
        return lang, None
    # Lax: a link from elsewhere still shows the chosen language (it is no secret).
    return lang, cookie(request, LANG_COOKIE, lang, LANG_SECONDS, strict=False)


# --- answers -----------------------------------------------------------------------------


def page(
    request: AnyRequest,
    name: str,
    *,
    status: int = 200,
    here: str = ROOT,
    cookies: tuple[Cookie, ...] = (),
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """Render `name`.html in the reader's language. `here` is the GET address the
    language switch links to (never one that carries a secret)."""
    lang, lang_cookie = _language(request)
    values: dict[str, Any] = {
        "errors": {},
        "alert": None,
        "alert_n": 0,
        "form": {},
        "remembered": held(request) is not None,
    }
    values |= context
    voice: Voice = request.app.state.services.voice
    values |= {"t": TEXT[lang], "lang": lang, "html_lang": HTML_LANG[lang], "here": here}
    values |= {"zone": voice.zone(lang), "controller": voice.controller, "voice": voice}
    values["script_integrity"] = SCRIPT_INTEGRITY
    return Template(
        f"{name}.html",
        context=values,
        status_code=status,
        headers={**PAGE_HEADERS, **(headers or {})},
        cookies=[*cookies, *([] if lang_cookie is None else [lang_cookie])],
    )


def redirect(to: str, *, cookies: tuple[Cookie, ...] = (), task: Any = None) -> Redirect:
    # 303: after a POST the browser GETs the next page, so a reload never posts again.
    return Redirect(
        to, status_code=303, cookies=list(cookies), headers=PAGE_HEADERS, background=task
    )


def download(text: str, filename: str) -> Response[str]:
    return Response(
        text,
        media_type="application/json",
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


@cache
def stylesheet() -> bytes:
    return (HERE / "static" / "page.css").read_bytes()


def script() -> bytes:
    return _SCRIPT


def forgotten(request: AnyRequest) -> Template:
    """The cookie names no request we know: say so, and drop it."""
    return page(
        request,
        "home",
        status=404,
        alert="err.not_found",
        cookies=(expired(request, REQUEST_COOKIE),),
        remembered=False,
    )


def refusal(exc: GatewayError) -> dict[str, Any]:
    """Status, message and headers of the page for a refusal the pages expect."""
    if isinstance(exc, RateLimited):
        minutes = max(1, math.ceil(exc.retry_after_seconds / 60))
        return {
            "status": 429,
            "alert": "err.rate_limited",
            "alert_n": minutes,
            "headers": {"Retry-After": str(exc.retry_after_seconds)},
        }
    for cls, status, key in (
        (CodeLocked, 429, "err.code_locked"),
        (CodeRejected, 403, "err.code_rejected"),
        (InvalidTransition, 409, "err.not_waiting"),
        (NotFound, 404, "err.not_found"),
        (InvalidInput, 422, "err.bad_request"),
    ):
        if isinstance(exc, cls):
            return {"status": status, "alert": key}
    return {"status": 500, "alert": "err.internal"}


def error_page(request: AnyRequest, exc: Exception) -> Response[Any]:
    """Whatever escaped a handler: a page in the reader's language, never a trace."""
    if isinstance(exc, Refused):
        return page(request, exc.template, status=exc.status, alert=exc.alert)
    answer: dict[str, Any] = {"status": 500, "alert": "err.internal"}
    if isinstance(exc, GatewayError):
        answer = refusal(exc)
    elif isinstance(exc, LogUnavailable):
        answer = {"status": 503, "alert": "err.unavailable", "headers": {"Retry-After": "5"}}
    elif isinstance(exc, HTTPException) and exc.status_code < 500:  # noqa: PLR2004
        answer = {"status": exc.status_code, "alert": "err.bad_request"}
    if answer["status"] == 500:  # noqa: PLR2004
        # Type only: a library's message can carry personal data.
        log.error("unexpected %s on the privacy page", type(exc).__name__)
    return page(request, "error", **answer)


def cross_site(request: AnyRequest) -> Response[Any] | None:
    """Refuse a form posted from another site (the cookies are SameSite as well):
    by Sec-Fetch-Site where the browser sends it, else by Origin."""
    if not posted_cross_site(request):
        return None
    return page(request, "error", status=403, alert="err.cross_site")


ERROR_HANDLERS: ExceptionHandlersMap = dict.fromkeys(
    (Refused, GatewayError, LogUnavailable, HTTPException, UnicodeDecodeError, Exception),
    error_page,
)
