"""How the console answers: its own Jinja environment (autoescaped, strict), cookies,
the reader's language, and every error as a page in that language.

Pages carry a strict Content-Security-Policy: styles from this site, no script at all
yet, forms post here only, no framing. Every answer is no-store, an error that escapes
a handler too (`ERROR_HANDLERS`: a page, not the API's problem+json).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from audit import LogUnavailable
from gateway.accesslog import client_is_loopback
from gateway.console.texts import HTML_LANG, LANGUAGES, choose_language, text
from gateway.core.errors import GatewayError, InvalidInput, NotFound, PermissionDenied

log = logging.getLogger("gateway.console")

HERE = Path(__file__).parent
ROOT = "/console"
SESSION_COOKIE = "opg_console"
LANG_COOKIE = "opg_console_lang"
LANG_SECONDS = 365 * 24 * 3600
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Vary": "Accept-Language, Cookie",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}
AnyRequest = Request[Any, Any, Any]

_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,  # a missing text or value fails a test, not a DPO
    trim_blocks=True,
    lstrip_blocks=True,
)


def language(request: AnyRequest) -> str:
    return choose_language(request.headers.get("accept-language"), request.cookies.get(LANG_COOKIE))


def page(
    request: AnyRequest, name: str, *, status: int = 200, alert: str | None = None, **values: Any
) -> Response[str]:
    lang = language(request)
    body = _ENV.get_template(f"{name}.html").render(
        lang=lang,
        html_lang=HTML_LANG[lang],
        other_lang=next(code for code in LANGUAGES if code != lang),
        t=lambda key: text(key, lang),
        alert=alert,
        root=ROOT,
        **values,
    )
    return Response(body, status_code=status, media_type="text/html", headers=PAGE_HEADERS)


def _secure(request: AnyRequest) -> bool:
    """Decided by what a caller cannot choose (see gateway.privacy's cookies): only the
    embedded default, for a browser on this machine over plain http, goes without."""
    if request.url.scheme == "https" or request.app.state.services.settings.mode != "embedded":
        return True
    return not client_is_loopback()


def cookie(request: AnyRequest, key: str, value: str, max_age: int) -> Cookie:
    """HttpOnly, SameSite=Strict, /console only; Secure as `_secure` decides."""
    return Cookie(
        key=key,
        value=value,
        path=ROOT,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def redirect(location: str, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(
        "", status_code=303, headers={**PAGE_HEADERS, "Location": location}, cookies=cookies or []
    )


def error_page(request: AnyRequest, exc: Exception) -> Response[str]:
    """Whatever escaped a handler (a parameter over its bound, the log unavailable, a
    fault): the error page in the reader's language, never a trace. No session is read
    here, so the page offers no navigation: the reader goes back."""
    status, alert, headers = 500, "err.internal", {}
    if isinstance(exc, LogUnavailable):
        status, alert, headers = 503, "err.unavailable", {"Retry-After": "5"}
    elif isinstance(exc, GatewayError):
        for cls, code, key in (
            (PermissionDenied, 403, "err.forbidden"),
            (NotFound, 404, "err.not_found"),
            (InvalidInput, 400, "err.invalid"),
        ):
            if isinstance(exc, cls):
                status, alert = code, key
                break
    elif isinstance(exc, HTTPException) and exc.status_code < 500:  # noqa: PLR2004
        status = exc.status_code
        alert = "err.not_found" if status == 404 else "err.invalid"  # noqa: PLR2004
    if status == 500:  # noqa: PLR2004
        log.error("unexpected %s in the console", type(exc).__name__)  # type only: no data
    answer = page(request, "error", status=status, alert=alert, signed=None)
    answer.headers.update(headers)
    return answer


# Every type the app's own handlers name (an exact match there would win), and the rest.
ERROR_HANDLERS: ExceptionHandlersMap = dict.fromkeys(
    (
        GatewayError,
        LogUnavailable,
        ValidationException,
        HTTPException,
        UnicodeDecodeError,
        RecursionError,
        Exception,
    ),
    error_page,
)
