"""A customer who closed the tab comes back: the copy button, and the return link sent
to the verified contact, in a real browser. The token travels after `#` only, so no
server, log or Referer ever sees it in a URL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from gateway.core.errors import ConfigurationError
from gateway.core.settings import load_settings
from tests.browser import chromium_page
from tests.helpers import SAMPLE_ORDER, Gateway
from tests.privacy.test_page import ORDER_NUMBER, PHONE, Live, ask, record_urls, serve

PUBLIC = "https://shop.example.com"


def _confirmation(live: Live, request_id: str) -> dict[str, Any]:
    [message] = [
        m for m in live.messages() if m["request_id"] == request_id and "return code" in m["text"]
    ]
    return message


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
        message = _confirmation(live, request_id)
        assert message["to"] == PHONE
        assert token not in message["text"]  # the status token is never sent, nor kept
        found = re.search(rf"{PUBLIC}/privacy/follow#{request_id}:(opgr_[\w-]+) ", message["text"])
        assert found is not None, message["text"]
        code = found.group(1)
        assert f"enter request id {request_id} and return code {code}" in message["text"]
        # Another browser, no cookie: the link fills the form; the customer opens it.
        with chromium_page(locale="en-US") as page:
            urls = record_urls(page)
            page.goto(f"{live.base_url}/privacy/follow#{request_id}:{code}")
            assert "#" not in page.url  # the code leaves the address bar at once
            expect(page.get_by_label("Return code")).to_have_value(code)
            page.get_by_role("button", name="Open my request").click()
            expect(page.locator("#state")).to_have_attribute("data-state", "verified")
            new_token = page.locator("#new-status-token").inner_text()  # shown once
            assert new_token.startswith("opgs_")
            assert new_token != token
        assert not [url for url in urls if code in url or new_token in url]
        # The old token stops working; the code works once.
        old = httpx.get(
            f"{live.base_url}/v1/privacy/requests/{request_id}", headers={"X-Status-Token": token}
        )
        assert old.status_code == 404
        with chromium_page(locale="en-US") as page:
            page.goto(f"{live.base_url}/privacy/follow#{request_id}:{code}")
            page.get_by_role("button", name="Open my request").click()
            expect(page.get_by_role("alert")).to_contain_text("was used already")


def test_a_link_cannot_plant_someone_elses_request(database_url: str, tmp_path: Path) -> None:
    """An attacker who knows a customer's phone and order number asks in their name and
    sends them a link to the real shop: neither the status token nor a made-up code
    opens anything, and a request awaiting its code has no return code at all."""
    with serve(database_url, tmp_path, privacy_public_url=PUBLIC) as live:
        live.create_order()
        made = httpx.post(
            f"{live.base_url}/v1/privacy/requests",
            json={"kind": "access", "contact": PHONE, "order_id": ORDER_NUMBER},
        )
        evil_id, evil_token = made.json()["request_id"], made.json()["status_token"]
        with chromium_page(locale="en-US") as page:
            own_id, _ = ask(page, live, "Erase my personal data", PHONE)
            for fragment in (f"{evil_id}:{evil_token}", f"{evil_id}:opgr_{'A' * 32}"):
                page.goto(f"{live.base_url}/privacy/follow#{fragment}")
                button = page.get_by_role("button", name="Open my request")
                if page.get_by_label("Return code").input_value():
                    button.click()
                    expect(page.get_by_role("alert")).to_contain_text("was used already")
                # Nothing was sent by itself: the page waits for the customer.
                assert urlsplit(page.url).path == "/privacy/follow"
            # The victim's own request is still the one this browser remembers.
            page.goto(f"{live.base_url}/privacy/status")
            expect(page.locator("main")).to_contain_text(own_id)
            assert evil_id not in page.locator("main").inner_text()
        # The classic lookup with the attacker's token still needs the customer to type
        # it in; a follow with the status token, or a guessed code, is refused.
        refused = httpx.post(
            f"{live.base_url}/privacy/follow",
            data={"request_id": evil_id, "return_code": evil_token},
            headers={"Origin": live.base_url},
        )
        assert refused.status_code == 404
        assert "opg_request" not in refused.headers.get("set-cookie", "")


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
        message = _confirmation(live, request_id)
        assert "#" not in message["text"]
        assert (
            "open the shop's privacy page /privacy/follow and enter request id" in (message["text"])
        )
        assert token not in message["text"]
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


def test_a_return_code_expires_after_thirty_days(gateway: Gateway) -> None:
    gw = gateway
    gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    request_id, token = gw.submit_privacy()
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    [text] = [m["text"] for m in gw.outbox() if "return code" in m["text"]]
    found = re.search(r"return code (opgr_[\w-]+)", text)
    assert found is not None
    gw.clock.advance(days=30, seconds=1)
    late = gw.client.post(
        "/privacy/follow",
        data={"request_id": request_id, "return_code": found.group(1)},
        headers={"Origin": str(gw.client.base_url), "Accept-Language": "en"},
        follow_redirects=False,
    )
    assert late.status_code == 404
    assert "This return code was used already, has expired, or does not belong" in late.text
    assert "opg_request" not in late.headers.get("set-cookie", "")
    assert gw.privacy_status(request_id, token)["state"] == "verified"  # the old token lives


def test_wrong_return_codes_are_rate_limited_and_a_right_one_still_opens(
    database_url: str, tmp_path: Path
) -> None:
    with Gateway.start(database_url, tmp_path, privacy_verify_per_hour=2) as gw:
        gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
        request_id, token = gw.submit_privacy()
        gw.verify_privacy(request_id, token, gw.code_for(request_id))
        [text] = [m["text"] for m in gw.outbox() if "return code" in m["text"]]
        found = re.search(r"return code (opgr_[\w-]+)", text)
        assert found is not None

        def follow(code: str) -> httpx.Response:
            return gw.client.post(
                "/privacy/follow",
                data={"request_id": request_id, "return_code": code},
                headers={"Origin": str(gw.client.base_url), "Accept-Language": "en"},
                follow_redirects=False,
            )

        assert [follow(f"opgr_guess{n}").status_code for n in range(3)] == [404, 404, 429]
        limited = follow("opgr_guess3")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        opened = follow(found.group(1))  # the customer's own still works
        assert opened.status_code == 303
        assert opened.headers["location"] == "/privacy/status"
        assert f"opg_request={request_id}:opgs_" in opened.headers["set-cookie"]
