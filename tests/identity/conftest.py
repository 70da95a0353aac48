"""Fixtures: the suite's OpenID Connect provider, and a Chromium to sign in with.

`idp` is one provider for the whole session (`default_config()`: users alice, bob, carol,
wendy with per-session TOTP secrets, in `idp.users`). A test that changes the provider's state
for everyone (rotating keys, disabling a user) should start its own with `TestIdP.start`.
`page` is a page of a fresh browser context (no cookies, so no provider session) of the
module's `browser`.

`browser` lives for one test module, not the session: while Playwright's sync API is running,
its event loop counts as running in this thread, so `asyncio.run` (the database fixtures, any
async test helper) fails with "cannot be called from a running event loop", and so does a
second `sync_playwright()` (tests/browser.py's `chromium_page`). A module scope keeps that to
the modules that ask for a browser; don't mix `page` with asyncio in one module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser import CHROMIUM_ENV, PAGE_TIMEOUT_MS, chromium_path
from tests.identity.idp import TestIdP, default_config


@pytest.fixture(scope="session")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestIdP]:
    with TestIdP.start(default_config(), tmp_path_factory.mktemp("idp")) as provider:
        yield provider


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if not os.access(executable, os.X_OK):
        pytest.fail(
            f"Chromium not found at {executable}: run `make test`, which installs Debian's "
            f"chromium (or set {CHROMIUM_ENV} to a Chromium binary)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        # --no-sandbox: tests run as root (in CI too), where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
