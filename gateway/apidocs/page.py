"""The interactive API documentation at /schema, served entirely from this gateway.

Litestar's stock render plugins load Swagger UI or Scalar from a CDN: a third party's
script on a page that holds staff tokens, and a blank page without internet. Here the
Swagger UI files come from a maintained PyPI package that ships them (`swagger-ui-py`,
Swagger UI 5), pinned with the gateway, and are served under /schema/assets; the page
has no inline script and a Content-Security-Policy that allows scripts from this
origin only.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ASSET_HANDLERS", "CSP", "SwaggerOffline", "docs_headers_middleware"]

ASSETS = "/schema/assets"
# Swagger UI styles elements inline (style attributes): styles may be inline, scripts not.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_VENDOR = Path(str(files("swagger_ui") / "static"))
_OURS = Path(__file__).parent / "static"
_FILES: dict[str, tuple[Path, str]] = {
    "swagger-ui.css": (_VENDOR / "swagger-ui.css", "text/css"),
    "swagger-ui-bundle.js": (_VENDOR / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui-standalone-preset.js": (
        _VENDOR / "swagger-ui-standalone-preset.js",
        "text/javascript",
    ),
    "favicon-32x32.png": (_VENDOR / "favicon-32x32.png", "image/png"),
    "init.js": (_OURS / "init.js", "text/javascript"),
}


class SwaggerOffline(OpenAPIRenderPlugin):
    """Swagger UI from local files; the default page of /schema."""

    def __init__(self) -> None:
        super().__init__(path=["/swagger", "/"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = str(openapi_schema["info"]["title"]).replace("<", "&lt;")
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{ASSETS}/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/swagger-ui-standalone-preset.js"></script>
<script src="{ASSETS}/init.js"></script>
</body>
</html>
""".encode()


@cache
def _read(path: Path) -> bytes:
    """Each file once per process: they are part of the installed package."""
    return path.read_bytes()


@get(
    f"{ASSETS}/{{name:str}}", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False
)
def asset(name: FromPath[str]) -> Response[bytes]:
    """One of the named files above; nothing else of the package is reachable."""
    found = _FILES.get(name)
    if found is None:
        raise NotFoundException()
    path, media_type = found
    return Response(
        _read(path),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


ASSET_HANDLERS = [asset]


def docs_headers_middleware(app: ASGIApp) -> ASGIApp:
    """Every answer under /schema carries the CSP (pages, the document, the assets)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not scope["path"].startswith("/schema"):
            await app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-security-policy", CSP.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                message["headers"] = headers
            await send(message)

        await app(scope, receive, with_headers)

    return middleware
