"""A customer who closed the tab comes back: the copy button, and the return link sent
to the verified contact, in a real browser. The token travels after `#` only, so no
server, log or Referer ever sees it in a URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from gateway.core.errors import ConfigurationError
from gateway.core.settings import load_settings
from tests.browser import chromium_page
from tests.privacy.test_page import PHONE, ask, record_urls, serve

PUBLIC = "https://shop.example.com"


def test_the_confirmation_message_brings_a_customer_back(database_url: str, tmp_path: Path) -> None:
    with serve(database_url, tmp_path, privacy_public_url=PUBLIC) as live:
        live.create_order()
        with chromium_page(
            locale="en-US", permissions=["clipboard-read", "clipboard-write"]
        ) as page:
            request_id, token = ask(page, live, "Erase my personal data", PHONE)
            page.get_by_role("button", name="Copy the status token").click()
            expect(page.get_by_text("Copied.")).to_be_visible()
            assert page.evaluate("navigator.clipboard.readText()") == token
            page.get_by_label("6-digit code").fill(live.code_for(request_id))
            page.get_by_role("button", name="Confirm").click()
            expect(page.locator("#state")).to_have_attribute("data-state", "verified")
        [message] = [
            m
            for m in live.messages()
            if m["request_id"] == request_id and "Keep this message" in m["text"]
        ]
        assert message["to"] == PHONE
        link = f"{PUBLIC}/privacy#follow={request_id}:{token}"
        assert link in message["text"]
        assert f"request id {request_id} and status token {token}" in message["text"]
        # Another browser, no cookie: the link alone opens the request.
        with chromium_page(locale="en-US") as page:
            urls = record_urls(page)
            page.goto(live.base_url + link.removeprefix(PUBLIC))
            expect(page.locator("#state")).to_have_attribute("data-state", "verified")
            expect(page.locator("main")).to_contain_text(request_id)
            assert token not in page.url
            assert "#" not in page.url
        assert urls
        assert not [url for url in urls if token in url]


def test_without_javascript_the_copy_button_is_not_offered(
    database_url: str, tmp_path: Path
) -> None:
    with serve(database_url, tmp_path) as live:
        live.create_order()
        with chromium_page(java_script_enabled=False) as page:
            ask(page, live, "Erase my personal data", PHONE)
            expect(page.get_by_role("button", name="Copy the status token")).to_have_count(0)
            expect(page.locator("#new-status-token")).to_be_visible()


def test_without_a_public_address_the_message_names_the_page(
    database_url: str, tmp_path: Path
) -> None:
    with serve(database_url, tmp_path) as live:
        live.create_order()
        with chromium_page(locale="en-US") as page:
            request_id, token = ask(page, live, "Erase my personal data", PHONE)
            page.get_by_label("6-digit code").fill(live.code_for(request_id))
            page.get_by_role("button", name="Confirm").click()
            expect(page.locator("#state")).to_have_attribute("data-state", "verified")
        [message] = [
            m
            for m in live.messages()
            if m["request_id"] == request_id and "Keep this message" in m["text"]
        ]
        assert "#follow=" not in message["text"]
        assert "on the shop's privacy page (/privacy)" in message["text"]
        assert f"request id {request_id} and status token {token}" in message["text"]
        assert not re.search(r"[\u4e00-\u9fff]", message["text"])  # asked in English only


@pytest.mark.parametrize(
    "value",
    [
        "http://shop.example.com",
        "https://shop.example.com/?x=1",
        "https://u:p@shop.example.com",
        "ftp://x",
    ],
)
def test_a_public_address_must_be_plain_https(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PRIVACY_PUBLIC_URL", value)
    with pytest.raises(ConfigurationError, match="GATEWAY_PRIVACY_PUBLIC_URL"):
        load_settings()
