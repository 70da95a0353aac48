"""How the console answers: its own Jinja environment (autoescaped, strict), cookies,
the reader's language, and every error as a page in that language.

Pages carry a strict Content-Security-Policy: styles from this site, no script at all
yet, forms post here only, no framing. Every answer is no-store.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Request, Response
from litestar.datastructures import Cookie

from gateway.accesslog import client_is_loopback
from gateway.console.texts import HTML_LANG, LANGUAGES, choose_language, text

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
