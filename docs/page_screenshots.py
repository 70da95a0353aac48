"""Screenshots of the customer's /privacy pages, desktop and phone, in both languages,
for docs/concepts/privacy-page.md.

Run on demand (not by `make test`), from the repository root, after changing how a
page looks:

    PYTHONPATH=. .venv/bin/python docs/page_screenshots.py

It serves the gateway on a throw-away SQLite database (as the page tests do), makes
an erasure request through the form in Debian's Chromium, confirms it with the code
from the outbox, runs the worker, and captures each page 1024 and 390 pixels wide as
JPEG in docs/img/pages/<page>-<lang>-<width>.jpg.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page  # noqa: E402 - after the path is set

from gateway.core import migrate  # noqa: E402
from tests.browser import chromium_page  # noqa: E402
from tests.privacy.test_page import ORDER_NUMBER, PHONE, Live, serve  # noqa: E402

OUT = ROOT / "docs" / "img" / "pages"
WIDTHS = (1024, 390)
LOCALES = {"en": "en-US", "zh": "zh-CN"}


MAX_HEIGHT = 2400  # a certificate is long: its top (the plain summary) is what to show


def shoot(page: Page, name: str, lang: str) -> None:
    """The page at each width, cut at MAX_HEIGHT."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        path = OUT / f"{name}-{lang}-{width}.jpg"
        height = min(MAX_HEIGHT, int(page.evaluate("document.documentElement.scrollHeight")))
        clip = {"x": 0, "y": 0, "width": width, "height": height}
        page.screenshot(path=str(path), full_page=True, clip=clip, type="jpeg", quality=60)
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})


def walk(live: Live, lang: str) -> None:
    """The customer's way through the pages, one screenshot per page."""
    with chromium_page(locale=LOCALES[lang]) as page:
        base = live.base_url
        page.goto(f"{base}/privacy?lang={lang}")
        shoot(page, "home", lang)
        page.locator("#kind-erasure").check()
        page.locator("#contact").fill(PHONE)
        page.locator("#order_id").fill(ORDER_NUMBER)
        page.locator("form[action='/privacy/requests'] button").click()
        page.wait_for_url("**/privacy/status")
        shoot(page, "status-new", lang)
        request_id = page.locator("#new-request-id").inner_text()
        page.locator("#code").fill(live.code_for(request_id))
        page.locator("form[action='/privacy/verify'] button").click()
        live.run_worker()
        page.goto(f"{base}/privacy/status")
        shoot(page, "status-done", lang)
        page.goto(f"{base}/privacy/certificate")
        shoot(page, "certificate", lang)
        with page.expect_download() as download:
            page.locator("a[href='/privacy/certificate.json']").first.click()
        page.goto(f"{base}/privacy/check")
        page.locator("#certificate_file").set_input_files(download.value.path())
        page.locator("form[action='/privacy/check'] button").click()
        shoot(page, "check", lang)


def main() -> None:
    """Each language on a fresh database, so both walks look alike."""
    OUT.mkdir(parents=True, exist_ok=True)
    for lang in LOCALES:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'gateway.db'}"
            migrate.upgrade(url.replace("sqlite://", "sqlite+aiosqlite://", 1))
            with serve(url, Path(tmp)) as live:
                live.create_order()
                walk(live, lang)


if __name__ == "__main__":
    main()
