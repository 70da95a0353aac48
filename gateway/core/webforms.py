"""What every server-rendered page of the gateway asks of a posted form (the public
/privacy page and the DPO console alike): was it posted from another site?"""

from __future__ import annotations

from typing import Any

from litestar import Request


def posted_cross_site(request: Request[Any, Any, Any]) -> bool:
    """A form posted from another site: by Sec-Fetch-Site where the browser sends it,
    else by Origin (the cookies are SameSite as well)."""
    if request.method != "POST":
        return False
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site != "same-origin"
    origin = request.headers.get("origin")
    return origin is not None and origin.partition("://")[2] != request.headers.get("host", "")
