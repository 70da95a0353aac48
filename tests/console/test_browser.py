"""The console in a real browser against a real store: a DPO signs in with the second
factor, finds the request in the inbox, opens it and puts it on hold, in English and
in Chinese; axe-core finds no serious or critical violation on any screen."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Page

from gateway.core import migrate
from gateway.core.clock import ManualClock
from gateway.core.settings import Settings
from tests.browser import chromium_page, live_gateway
from tests.helpers import bearer, own_store_policies
from tests.privacy.test_page import Live

AXE = Path(__file__).resolve().parents[1] / "axe" / "node_modules" / "axe-core" / "axe.min.js"
REASON = "the order is part of an open fraud investigation"


@dataclass
class Console:
    live: Live
    clock: ManualClock
    token: str
    secret: str

    def code(self) -> str:
        return str(pyotp.TOTP(self.secret).at(self.clock.now()))


@contextmanager
def serve_console(database_url: str, tmp_path: Path) -> Iterator[Console]:
    """The gateway on `database_url` (migrated here) over real HTTP, with a DPO whose
    TOTP factor is active; the clock is the test's (docs/console_screenshots.py too)."""
    migrate.upgrade(Settings(database_url=database_url).sqlalchemy_url)
    var_dir = tmp_path / "var"
    settings = Settings(
        database_url=database_url,
        var_dir=var_dir,
        privacy_worker_seconds=0,
        privacy_cooling_off_hours=0,
        policy_dir=own_store_policies(),
    )
    env = {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_VAR_DIR": str(var_dir),
        "GATEWAY_POLICY_DIR": str(settings.policy_dir),
    }
    clock = ManualClock()
    with live_gateway(settings, clock) as base_url:
        live = Live(base_url, env)
        created = live.cli("principals", "create", "--name", "dpo-web", "--role", "dpo", "--json")
        token = json.loads(created)["token"]
        enrolled = httpx.post(f"{base_url}/v1/auth/totp/enroll", headers=bearer(token))
        secret = enrolled.json()["secret"]
        code = pyotp.TOTP(secret).at(clock.now())
        activated = httpx.post(
            f"{base_url}/v1/auth/totp/activate", json={"code": code}, headers=bearer(token)
        )
        assert activated.status_code == 200, activated.text
        clock.advance(seconds=30)  # the sign-in's code is the next one
        yield Console(live, clock, token, secret)


@pytest.fixture
def console(empty_database_url: str, tmp_path: Path) -> Iterator[Console]:
    """A gateway on a new database: "verify now" checks a log that is this test's alone
    (the shared databases' logs hold entries signed by other tests' keys)."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `make test` (it installs tests/axe's npm packages)")
    with serve_console(empty_database_url, tmp_path) as served:
        yield served


def make_request(console: Console) -> str:
    """A verified erasure request of the sample order's customer; its id."""
    live = console.live
    live.create_order()
    answer = httpx.post(
        f"{live.base_url}/v1/privacy/requests",
        json={"kind": "erasure", "contact": "13812345678", "order_id": "WEB-10001"},
    )
    body = answer.json()
    verified = httpx.post(
        f"{live.base_url}/v1/privacy/requests/{body['request_id']}/verify",
        json={"code": live.code_for(body["request_id"])},
        headers={"X-Status-Token": body["status_token"]},
    )
    assert verified.status_code == 200, verified.text
    return str(body["request_id"])


def _serious(page: Page) -> list[str]:
    """The ids of axe-core's serious and critical violations on the page as it is."""
    page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate(
        """async () => (await axe.run()).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    return found


def sign_in(page: Page, console: Console) -> None:
    """Through the sign-in form, as a DPO does."""
    base = console.live.base_url
    page.goto(f"{base}/console/")
    page.get_by_label("Gateway token").fill(console.token)
    page.get_by_label("One-time code").fill(console.code())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/console/")


def _sign_in_and_hold(page: Page, console: Console, request_id: str) -> None:
    base = console.live.base_url
    page.goto(f"{base}/console/")
    assert page.url.endswith("/console/sign-in")
    assert _serious(page) == []
    sign_in(page, console)
    row = page.locator(f'tr[data-request="{request_id}"]')
    assert row.count() == 1
    assert _serious(page) == []
    row.get_by_role("link").click()
    page.wait_for_url(f"{base}/console/requests/{request_id}")
    assert page.locator("#state").inner_text() == "verified"
    assert _serious(page) == []
    hold = page.locator("#act-hold")
    hold.get_by_label("Reason").fill(REASON)
    hold.get_by_label("I confirm this action").check()
    hold.get_by_role("button", name="Put on hold").click()
    page.wait_for_url(f"{base}/console/requests/{request_id}?done=hold")
    assert page.locator("#state").inner_text() == "on_hold"
    assert page.get_by_role("alert").inner_text() == "Done: the action is in the log."


def _verify_and_report(page: Page, base: str) -> None:
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(f"{base}/console/audit")
    assert page.locator("tr[data-seq]").count() > 0
    assert _serious(page) == []
    page.get_by_role("button", name="Verify now").click()
    assert "The log is intact" in page.locator("#verify-result").inner_text()
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url(f"{base}/console/reports")
    assert _serious(page) == []
    audit = page.locator("#report-pipl-audit")
    audit.get_by_label("Language").select_option("zh")
    audit.get_by_role("button", name="Generate").click()
    page.wait_for_url(re.compile(r".*/console/reports/pipl-audit\?.*"))
    assert (page.locator("html").get_attribute("lang") or "").startswith("zh")
    printed = page.pdf(format="A4")  # what "print to PDF" gives
    assert printed.startswith(b"%PDF-")
    assert printed.count(b"/Type /Page") - printed.count(b"/Type /Pages") >= 1
    page.goto(f"{base}/console/reports")
    assert page.locator("tr[data-kept]").count() == 1  # the PIPL audit, kept


def test_a_dpo_signs_in_holds_a_request_verifies_the_log_and_prints_a_report(
    console: Console,
) -> None:
    request_id = make_request(console)
    base = console.live.base_url
    with chromium_page(bypass_csp=True) as page:  # axe is injected: the console has no script
        _sign_in_and_hold(page, console, request_id)
        _verify_and_report(page, base)
        page.get_by_role("link", name="Who sees what").click()
        page.wait_for_url(f"{base}/console/matrix")
        assert _serious(page) == []
        page.get_by_role("link", name="Health").click()
        page.wait_for_url(f"{base}/console/health")
        assert _serious(page) == []
        page.get_by_role("link", name="中文").click()
        page.goto(f"{base}/console/requests/{request_id}")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.get_by_role("heading", name="时限").count() == 1
        assert _serious(page) == []
        page.get_by_role("button", name="退出").click()
        page.wait_for_url(f"{base}/console/sign-in")
        page.goto(f"{base}/console/")
        assert page.url.endswith("/console/sign-in")  # the session has ended
