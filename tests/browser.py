"""Browser test helpers: the gateway served over real HTTP, driven by headless Chromium.

The browser is Debian's `chromium` package (`make test` installs it), driven by
Playwright through `executable_path`: Playwright never downloads a browser here.
The gateway runs in this process (uvicorn in a thread), so a test can move the
`ManualClock` it was given. Use both from plain (sync) tests: Playwright's sync API
refuses to run inside a running asyncio loop.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from gateway.app import create_app
from gateway.cli.main import SERVER_OPTIONS
from gateway.core.clock import Clock
from gateway.core.settings import Settings

CHROMIUM_ENV = "OPG_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
STARTUP_TIMEOUT = 15.0  # seconds for the gateway to answer /healthz
SHUTDOWN_TIMEOUT = 10.0  # seconds for the server thread to end
PAGE_TIMEOUT_MS = 10_000  # Playwright's default of 30 s makes a failing test slow


def chromium_path() -> str:
    """The Chromium binary: $OPG_CHROMIUM, else `chromium` on PATH, else /usr/bin/chromium."""
    return os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or DEFAULT_CHROMIUM


@contextmanager
def live_gateway(settings: Settings, clock: Clock | None = None) -> Iterator[str]:
    """Serve `create_app(settings, clock=clock)` on a free local port; yield its base URL.

    The server stops (and its thread ends) when the block is left.
    """
    app = create_app(settings, clock=clock)
    # Bind first and hand uvicorn the socket: no race for the port with other tests.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        log_config=None,  # leave the process's logging set-up (and pytest's capture) alone
        ws="none",  # no websocket routes; importing the websockets stack only warns
        lifespan="on",
        **SERVER_OPTIONS,  # as `privacy-gateway serve` runs it
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"live-gateway-{port}", daemon=True
    )
    base_url = f"http://127.0.0.1:{port}"
    thread.start()
    try:
        _wait_until_healthy(base_url, thread)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
        sock.close()
        if thread.is_alive():
            pytest.fail(f"the gateway at {base_url} did not stop within {SHUTDOWN_TIMEOUT} s")


def _wait_until_healthy(base_url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(base_url=base_url, timeout=1.0) as client:
        while True:
            if not thread.is_alive():
                pytest.fail(f"the gateway at {base_url} stopped while starting (see its log)")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the gateway at {base_url} did not answer /healthz in time")
            time.sleep(0.02)


@contextmanager
def chromium_page(*, locale: str = "en-US", **context_options: Any) -> Iterator[Page]:
    """A page of a fresh headless Chromium context; everything is closed afterwards.

    `locale` sets both `navigator.language` and the Accept-Language header, which is
    what the gateway's pages choose their language by. Other keyword arguments go to
    Playwright's `Browser.new_context` (e.g. `timezone_id`, `viewport`).
    """
    executable = chromium_path()
    if not os.access(executable, os.X_OK):
        pytest.fail(
            f"Chromium not found at {executable}: run `make test`, which installs Debian's "
            f"chromium (or set {CHROMIUM_ENV} to a Chromium binary)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        # --no-sandbox: tests run as root (in CI too), where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            context = browser.new_context(locale=locale, **context_options)
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            try:
                yield context.new_page()
            finally:
                context.close()
        finally:
            browser.close()
