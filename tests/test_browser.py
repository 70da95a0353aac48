"""The browser test infrastructure, end to end: a live gateway seen by real Chromium."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from gateway.core.clock import ManualClock
from gateway.core.settings import Settings
from tests.browser import chromium_page, live_gateway


def _settings(url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=url, var_dir=tmp_path / "var")


def test_chromium_renders_a_page_of_the_live_gateway(clean_sqlite_url: str, tmp_path: Path) -> None:
    with (
        live_gateway(_settings(clean_sqlite_url, tmp_path), ManualClock()) as base_url,
        chromium_page(locale="en-US") as page,
    ):
        response = page.goto(f"{base_url}/problems/not-found")
        assert response is not None
        assert response.status == 200
        # What the browser shows, not what the server sent: the rendered text.
        shown = json.loads(page.locator("pre").inner_text())
        assert shown["title"] == "Not found"
        assert shown["type"] == "/problems/not-found"
        # The context's locale is what pages choose their language by.
        assert response.request.all_headers()["accept-language"].startswith("en-US")
        assert page.evaluate("navigator.language") == "en-US"


def test_live_gateway_stops_serving_when_left(clean_sqlite_url: str, tmp_path: Path) -> None:
    with live_gateway(_settings(clean_sqlite_url, tmp_path)) as base_url:
        assert httpx.get(f"{base_url}/healthz").status_code == 200

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/healthz", timeout=1.0)
    assert not [t for t in threading.enumerate() if t.name.startswith("live-gateway-")]
