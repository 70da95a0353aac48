"""The public /privacy page, driven by headless Chromium against a live gateway.

Codes come from the notifier's outbox and requests run to completion through the
operator's CLI (`privacy-gateway outbox`, `worker --once`), as in a real deployment.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, expect

from gateway.cli import main
from gateway.core.clock import ManualClock
from gateway.core.settings import Settings
from gateway.privacy.model.states import State
from gateway.privacy.web.texts import LANGUAGES, TEXT, choose_language
from tests.browser import chromium_page, live_gateway
from tests.helpers import SAMPLE_ORDER, assert_no_personal_data, bearer, own_store_policies

PHONE = SAMPLE_ORDER["customer"]["phone"]
ORDER_NUMBER = SAMPLE_ORDER["external_id"]
OTHER_PHONE = "13900000000"  # clearly fake, on no order
STEPS = (
    "free_text",
    "orders",
    "vault",
    "blind_index",
    "contact_traces",
    "data_key",
    "verification",
)


@dataclass
class Live:
    base_url: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run the CLI in its own thread: Playwright's sync API holds this thread's loop."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            result = pool.submit(
                CliRunner().invoke, main, list(args), env=self.env, catch_exceptions=False
            ).result()
        assert result.exit_code == 0, result.output
        return result.output

    def create_order(self) -> None:
        created = self.cli(
            "principals",
            "create",
            "--name",
            "shop",
            "--role",
            "channel",
            "--channel",
            SAMPLE_ORDER["channel"],
            "--json",
        )
        token = json.loads(created)["token"]
        answer = httpx.post(f"{self.base_url}/v1/orders", json=SAMPLE_ORDER, headers=bearer(token))
        assert answer.status_code == 201, answer.text

    def messages(self) -> list[dict[str, Any]]:
        lines = self.cli("outbox", "--json").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def code_for(self, request_id: str) -> str:
        """The code sent for a request (it leaves after the answer: wait a little)."""
        for _ in range(50):
            for message in self.messages():
                if message["request_id"] == request_id:
                    return re.findall(r"\b\d{6}\b", message["text"])[0]
            time.sleep(0.1)
        pytest.fail(f"no code was sent for request {request_id}")

    def run_worker(self) -> None:
        assert "done:" in self.cli("worker", "--once")


@contextmanager
def serve(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Live]:
    var_dir = tmp_path / "var"
    settings = Settings(
        database_url=database_url,
        var_dir=var_dir,
        privacy_worker_seconds=0,
        privacy_cooling_off_hours=0,
        **{"policy_dir": own_store_policies(), **overrides},
    )
    env = {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_VAR_DIR": str(var_dir),
        "GATEWAY_POLICY_DIR": str(settings.policy_dir),
    }
    with live_gateway(settings, ManualClock()) as base_url:
        yield Live(base_url, env)


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Live]:
    """The gateway on each backend in turn, with an empty database."""
    with serve(database_url, tmp_path) as gateway:
        yield gateway


@pytest.fixture
def live_pages(clean_sqlite_url: str, tmp_path: Path) -> Iterator[Live]:
    """For tests of the pages alone (no request is stored): one backend is enough."""
    with serve(clean_sqlite_url, tmp_path) as gateway:
        yield gateway


def fits_a_phone(page: Page) -> None:
    """At 390 px wide (a phone), nothing scrolls sideways and no id or hash is clipped."""
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('main code, main td, main th, main dd')]
            .filter(e => e.getBoundingClientRect().right > 390 || e.scrollWidth > e.clientWidth + 1)
            .map(e => e.textContent.slice(0, 40))"""
    )
    assert clipped == []
    page.set_viewport_size({"width": 1280, "height": 720})


def record_urls(page: Page) -> list[str]:
    """Every URL the page asks for (navigations, redirects, styles) from now on."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def ask(page: Page, live: Live, kind_label: str, contact: str) -> tuple[str, str]:
    """Fill and send the request form like a person would; the new (request id, token)."""
    page.goto(f"{live.base_url}/privacy")
    page.get_by_label(kind_label).check()
    page.get_by_label("Phone number or e-mail address").fill(contact)
    page.get_by_label("Order number").fill(ORDER_NUMBER)
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/privacy/status")
    return page.locator("#new-request-id").inner_text(), page.locator(
        "#new-status-token"
    ).inner_text()


def test_erasure_from_the_form_to_a_verified_certificate(live: Live) -> None:
    live.create_order()
    with chromium_page(locale="en-US") as page:
        urls = record_urls(page)
        page.goto(f"{live.base_url}/privacy")
        assert page.locator("html").get_attribute("lang") == "en"
        inputs = page.locator("input").all()
        assert len(inputs) == 6  # two kinds, contact, order; request id, token
        for field in inputs:
            assert page.locator(f'label[for="{field.get_attribute("id")}"]').count() == 1
        expect(page.locator("fieldset legend")).to_have_text("What are you asking for?")

        request_id, token = ask(page, live, "Erase my personal data", PHONE)
        keep = page.locator(".keep").inner_text()
        assert "only time the status token is shown" in keep
        assert token.startswith("opgs_")
        assert_no_personal_data(page.content())  # the contact is never shown back
        expect(page.locator("#state")).to_have_attribute("data-state", "received")

        page.get_by_label("6-digit code").fill(live.code_for(request_id))
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator("#state")).to_have_text("Verified")
        expect(page.locator(".keep")).to_have_count(0)  # the token was shown once

        live.run_worker()
        page.reload()
        expect(page.locator("#state")).to_have_attribute("data-state", "completed")
        expect(page.locator(".steps")).to_contain_text("Your encryption key destroyed")
        expect(page.get_by_text("Completed", exact=True).first).to_be_visible()

        page.get_by_role("link", name="Erasure certificate (printable page)").click()
        shown = page.locator("main").inner_text()
        assert request_id in shown
        assert "Ed25519" in shown
        assert page.locator("#signature-value").inner_text()
        assert "中华人民共和国税收征收管理法实施细则" in shown  # the retained rule's citation
        assert "privacy-gateway" not in shown  # no command line for a customer
        assert "Records kept by law" in shown
        # The plain summary comes first, the evidence after it.
        assert shown.index("What we erased") < shown.index("The evidence") < shown.index("Ed25519")
        fits_a_phone(page)

        with page.expect_download() as download:
            page.get_by_role("link", name="Signed certificate (JSON file)").first.click()
        document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert document["certificate"]["request_id"] == request_id
        verdict = httpx.post(f"{live.base_url}/v1/privacy/certificates/verify", json=document)
        assert verdict.json()["valid"] is True
        # Anyone shown it checks it on the public page, by uploading the file.
        page.goto(f"{live.base_url}/privacy/certificate")
        page.get_by_role("link", name="Check a certificate").first.click()
        page.get_by_label("Or choose the file").set_input_files(download.value.path())
        page.get_by_role("button", name="Check").click()
        expect(page.locator("#verdict")).to_have_attribute("data-valid", "true")
        expect(page.locator("#verdict")).to_contain_text("Example Retail (Shanghai) Co., Ltd.")
        expect(page.locator("#verdict")).to_contain_text(request_id)
        fits_a_phone(page)

    assert urls
    assert not [url for url in urls if token in url]


def test_language_follows_the_browser_and_the_switch_sticks(live_pages: Live) -> None:
    live = live_pages
    with chromium_page(locale="zh-CN") as page:
        page.goto(f"{live.base_url}/privacy")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        expect(page.get_by_role("heading", level=1)).to_have_text("您的个人数据")
        expect(page.get_by_role("heading", name="提交请求")).to_be_visible()
        expect(page.get_by_label("手机号码或电子邮箱")).to_be_visible()

        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your personal data")
        assert page.url.endswith("/privacy?lang=en")

        page.goto(f"{live.base_url}/privacy")  # no ?lang: the cookie remembers
        assert page.locator("html").get_attribute("lang") == "en"
        expect(page.get_by_label("Order number")).to_be_visible()

        page.get_by_role("link", name="中文").click()
        page.goto(f"{live.base_url}/privacy/status")  # another page, no request yet
        expect(page.get_by_role("alert")).to_contain_text("此设备上没有保存的请求")


def test_wrong_code_is_refused_and_answers_do_not_tell_whose_contact(live: Live) -> None:
    live.create_order()
    with chromium_page() as page:
        other_id, other_token = ask(page, live, "Erase my personal data", OTHER_PHONE)
        unmatched = page.locator("main").inner_text()
        page.get_by_role("button", name="Forget this request on this device").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your personal data")

        request_id, token = ask(page, live, "Erase my personal data", PHONE)
        matched = page.locator("main").inner_text()
        assert matched.replace(request_id, "ID").replace(token, "TOKEN") == unmatched.replace(
            other_id, "ID"
        ).replace(other_token, "TOKEN")
        assert [m["request_id"] for m in live.messages()] == [request_id]

        wrong = "000000" if live.code_for(request_id) != "000000" else "111111"
        page.get_by_label("6-digit code").fill(wrong)
        with page.expect_response(lambda r: r.url.endswith("/privacy/verify")) as answer:
            page.get_by_role("button", name="Confirm").click()
        assert answer.value.status == 403
        expect(page.get_by_role("alert")).to_contain_text("This code is not right")
        code = page.get_by_label("6-digit code")
        expect(code).to_have_attribute("aria-invalid", "true")
        described = (code.get_attribute("aria-describedby") or "").split()
        assert "err-code" in described
        expect(page.locator("#err-code")).to_be_attached()
        expect(page.locator("#state")).to_have_attribute("data-state", "received")


def test_tab_moves_through_the_form_in_the_documented_order(live_pages: Live) -> None:
    live = live_pages
    describe = """() => {
        const e = document.activeElement;
        const style = getComputedStyle(e);
        return [e.id || e.getAttribute('href') || e.textContent.trim(), style.outlineStyle];
    }"""
    with chromium_page() as page:
        page.goto(f"{live.base_url}/privacy")
        seen = []
        for _ in range(9):
            page.keyboard.press("Tab")
            seen.append(page.evaluate(describe))
    order = [name for name, _ in seen]
    assert order == [
        "#main",  # skip link
        "/privacy?lang=zh",  # language switch
        "kind-erasure",  # the radio group is one stop
        "contact",
        "order_id",
        "Send request",
        "request_id",
        "status_token",
        "Show status",
    ]
    assert all(outline != "none" for _, outline in seen[1:])  # focus is visible


def test_works_without_javascript(live: Live) -> None:
    live.create_order()
    with chromium_page(java_script_enabled=False) as page:
        request_id, _ = ask(page, live, "Send me a copy of my data", PHONE)
        expect(page.locator("#state")).to_have_attribute("data-state", "received")
        page.get_by_label("6-digit code").fill(live.code_for(request_id))
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator("#state")).to_have_attribute("data-state", "verified")
        live.run_worker()
        page.get_by_role("link", name="Refresh the status").click()
        expect(page.locator("#state")).to_have_attribute("data-state", "completed")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download a copy of my data (JSON file)").click()
        export = Path(download.value.path()).read_text(encoding="utf-8")
        assert PHONE in export  # their own data, to them


def test_the_token_is_never_in_a_url(live: Live) -> None:
    live.create_order()
    with chromium_page() as page:
        urls = record_urls(page)
        request_id, token = ask(page, live, "Erase my personal data", PHONE)
        page.get_by_role("button", name="Forget this request on this device").click()
        page.goto(f"{live.base_url}/privacy/status")
        expect(page.get_by_role("alert")).to_contain_text("No request is remembered")

        page.get_by_label("Request id").fill(request_id)
        page.get_by_label("Status token").fill(token)
        page.get_by_role("button", name="Show status").click()
        expect(page.locator("#state")).to_have_attribute("data-state", "received")
        expect(page.locator("main")).to_contain_text(request_id)
        expect(page.locator(".keep")).to_have_count(0)
        page.get_by_label("6-digit code").fill(live.code_for(request_id))
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator("#state")).to_have_attribute("data-state", "verified")
        page.get_by_role("link", name="中文").click()
        expect(page.locator("#state")).to_have_text("已验证")
        urls.append(page.url)
    assert len(urls) > 10
    assert not [url for url in urls if token in url or "token" in url.lower()]


# --- without a browser: HTTP details ---------------------------------------------------


def test_cookie_headers_and_bad_input(live: Live) -> None:
    with httpx.Client(base_url=live.base_url) as client:
        bad = client.post(
            "/privacy/requests",
            data={"kind": "delete", "contact": "zhangsan@", "order_id": "no spaces"},
        )
        assert bad.status_code == 422
        assert 'role="alert"' in bad.text
        assert "Choose what you are asking for." in bad.text
        assert "zhangsan@" not in bad.text  # never echoed
        assert bad.headers["cache-control"] == "no-store"
        policy = bad.headers["content-security-policy"]
        assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]{44}';", policy)  # one file only
        assert "unsafe-inline" not in policy
        assert "default-src 'none'" in policy

        sent = client.post(
            "/privacy/requests",
            data={"kind": "erasure", "contact": OTHER_PHONE, "order_id": ORDER_NUMBER},
            headers={"Accept-Language": "zh-CN,zh;q=0.9"},
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == "/privacy/status"
        cookie = next(c for c in sent.headers.get_list("set-cookie") if "opg_request" in c)
        assert {"HttpOnly", "Path=/privacy", "SameSite=strict"} <= set(cookie.split("; "))
        assert "Secure" not in cookie  # the embedded default, a browser on this machine
        with httpx.Client(base_url=live.base_url) as other:  # its own cookie jar
            other_host = other.post(
                "/privacy/requests",
                data={"kind": "erasure", "contact": OTHER_PHONE, "order_id": ORDER_NUMBER},
                headers={"Host": "shop.example", "Origin": "http://shop.example"},
            )
        assert other_host.status_code == 303, other_host.text
        cookie = next(c for c in other_host.headers.get_list("set-cookie") if "opg_request" in c)
        assert "Secure" not in cookie.split("; ")  # the Host header decides nothing

        status = client.get("/privacy/status", headers={"Accept-Language": "zh-CN"})
        assert status.headers["cache-control"] == "no-store"
        assert "等待验证码" in status.text

        unknown = client.post(
            "/privacy/lookup",
            data={"request_id": "0b6f3f5e-4d0c-4a57-9d3e-6f1f4f3d2a10", "status_token": "opgs_x"},
        )
        assert unknown.status_code == 404
        assert "We found no request with this request id and status token." in unknown.text

        answers = []
        while len(answers) < 20:  # the address's hourly limit is 10 submissions
            again = client.post(
                "/privacy/requests",
                data={"kind": "access", "contact": OTHER_PHONE, "order_id": ORDER_NUMBER},
            )
            answers.append(again.status_code)
            if again.status_code != 303:
                break
        assert set(answers[:-1]) == {303}
        assert again.status_code == 429
        assert int(again.headers["retry-after"]) > 0
        assert "Too many requests. Please try again in about" in again.text
        assert OTHER_PHONE not in again.text

        foreign = client.post("/privacy/forget", headers={"Origin": "https://evil.example.com"})
        assert foreign.status_code == 403
        short = client.post("/privacy/verify", data={"code": "12"})
        assert short.status_code == 422
        assert "Enter the 6 digits of the code." in short.text


def test_the_cookie_is_secure_for_a_client_behind_a_trusted_proxy(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    with (
        serve(clean_sqlite_url, tmp_path, trusted_proxies="127.0.0.1") as live,
        httpx.Client(base_url=live.base_url) as client,
    ):
        sent = client.post(
            "/privacy/requests",
            data={"kind": "erasure", "contact": OTHER_PHONE, "order_id": ORDER_NUMBER},
            headers={"X-Forwarded-For": "198.51.100.20"},
        )
        assert sent.status_code == 303, sent.text
        cookie = next(c for c in sent.headers.get_list("set-cookie") if "opg_request" in c)
        assert "Secure" in cookie.split("; ")


def test_language_choice_and_catalogue() -> None:
    assert choose_language(None, None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert choose_language(None, None, "en-US,en;q=0.9,zh;q=0.8") == "en"
    assert choose_language(None, None, "fr;q=0.5,zh-TW;q=0.7") == "zh"
    assert choose_language(None, "zh", "en") == "zh"
    assert choose_language("en", "zh", "zh") == "en"
    assert choose_language("xx", None, None) == "en"
    for lang in LANGUAGES:
        text = TEXT[lang]
        assert all(text[f"state.{s.value}"] and text[f"state_help.{s.value}"] for s in State)
        assert all(text[f"step.{name}"] for name in (*STEPS, "export"))


def test_the_objection_page_puts_a_request_on_hold(live: Live) -> None:
    """The code a notice carries, typed into /privacy/object, holds the request."""
    live.create_order()
    with httpx.Client(base_url=live.base_url) as client:
        body = {"kind": "access", "contact": "zhangsan@example.com", "order_id": ORDER_NUMBER}
        made = client.post("/v1/privacy/requests", json=body).json()
        code = live.code_for(made["request_id"])
        verified = client.post(
            f"/v1/privacy/requests/{made['request_id']}/verify",
            json={"code": code},
            headers={"X-Status-Token": made["status_token"]},
        )
        assert verified.status_code == 200
        notice = next(
            m["text"]
            for m in live.messages()
            if m["request_id"] == made["request_id"] and "objection code" in m["text"]
        )
        objection = re.search(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){4}", notice)
        assert objection is not None
        form = client.get("/privacy/object")
        assert "Objection code" in form.text
        wrong = client.post("/privacy/object", data={"code": "AAAA-BBBB-CCCC-DDDD-EEEE"})
        assert wrong.status_code == 404
        assert "This code is not right" in wrong.text
        held = client.post(
            "/privacy/object",
            data={"code": objection.group(0).lower()},
            headers={"Accept-Language": "zh-CN"},
        )
        assert held.status_code == 200
        assert "该请求已暂停" in held.text
        status = client.get(
            f"/v1/privacy/requests/{made['request_id']}",
            headers={"X-Status-Token": made["status_token"]},
        ).json()
        assert status["state"] == "on_hold"
