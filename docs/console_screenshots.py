"""Screenshots of the DPO console's screens, in both languages, for docs/guides/console.md.

Run on demand (not by `make test`), from the repository root, after changing how a
screen looks:

    PYTHONPATH=. .venv/bin/python docs/console_screenshots.py

It serves the gateway on a throw-away SQLite database (as the console's browser tests
do), makes and verifies an erasure request, signs the demo DPO in through the form in
Debian's Chromium, puts the request on hold, and captures each screen 1280 pixels wide
as JPEG in docs/img/console/<screen>-<lang>.jpg.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import chromium_page  # noqa: E402 - after the path is set
from tests.console.test_browser import make_request, serve_console, sign_in  # noqa: E402

OUT = ROOT / "docs" / "img" / "console"
REASON = "the order is part of an open fraud investigation"


def main() -> None:
    """Serve, sign in, hold a request, and capture every screen in both languages."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:  # noqa: SIM117 - the database lives in it
        with serve_console(f"sqlite:///{tmp}/console.db", Path(tmp)) as console:
            request_id = make_request(console)
            base = console.live.base_url
            screens = {
                "sign-in": "/console/sign-in",
                "inbox": "/console/",
                "request": f"/console/requests/{request_id}",
                "audit": "/console/audit",
                "reports": "/console/reports",
                "matrix": "/console/matrix",
                "health": "/console/health",
            }
            with chromium_page(viewport={"width": 1280, "height": 900}) as page:
                page.goto(base + screens["sign-in"])
                page.screenshot(path=OUT / "sign-in-en.jpg", full_page=True, quality=80)
                sign_in(page, console)
                page.goto(base + screens["request"])
                hold = page.locator("#act-hold")
                hold.get_by_label("Reason").fill(REASON)
                hold.get_by_label("I confirm this action").check()
                hold.get_by_role("button", name="Put on hold").click()
                for lang in ("en", "zh"):
                    page.goto(f"{base}/console/lang/{lang}")
                    for name, path in screens.items():
                        if name == "sign-in":
                            continue
                        page.goto(base + path)
                        target = OUT / f"{name}-{lang}.jpg"
                        page.screenshot(path=target, full_page=True, quality=80)
                        print(target.relative_to(ROOT))


if __name__ == "__main__":
    main()
