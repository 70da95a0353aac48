"""The API docs at /schema: served whole by the gateway (no CDN), under a CSP that
allows scripts from this origin only, and working in a browser with no internet."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from gateway.apidocs.page import CSP
from gateway.core.clock import ManualClock
from gateway.core.settings import Settings
from tests.browser import chromium_page, live_gateway
from tests.helpers import Gateway


def test_the_docs_page_loads_nothing_from_elsewhere(clean_sqlite_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=clean_sqlite_url, var_dir=tmp_path / "var")
    hosts: set[str] = set()
    refused: list[str] = []
    with live_gateway(settings, ManualClock()) as base_url, chromium_page() as page:
        page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
        page.on(
            "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
        )
        page.goto(f"{base_url}/schema")
        title = page.locator(".swagger-ui .info .title")
        title.wait_for()
        assert "Order Privacy Gateway" in title.inner_text()
        assert page.locator(".opblock-tag").count() >= 5  # the API's tags are listed
    assert hosts == {urlsplit(base_url).netloc}
    assert refused == []


def test_docs_answers_carry_the_csp_and_only_named_assets_exist(gateway: Gateway) -> None:
    page = gateway.client.get("/schema")
    assert page.headers["content-security-policy"] == CSP
    assert "<script>" not in page.text  # no inline script: the CSP forbids them
    assert "cdn." not in page.text
    asset = gateway.client.get("/schema/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/javascript")
    assert asset.headers["content-security-policy"] == CSP
    for name in ("swagger-editor-bundle.js", "..%2F__init__.py", "LICENSE"):
        assert gateway.client.get(f"/schema/assets/{name}").status_code == 404
