"""Who speaks to a customer, and in which time zone: read off the pages and notices.

The shop (the controller in `policies/processing.toml`) is named in every page header
and footer, with its privacy notice and contact; times read in the reader's zone,
chosen by language (`GATEWAY_PRIVACY_TIME_ZONES`), to the minute, with the zone named.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from gateway.core.errors import ConfigurationError
from gateway.core.resources import shipped_dir
from gateway.core.settings import load_settings
from tests.helpers import SAMPLE_ORDER, Gateway, bearer, visible_text

RECORD = tomllib.loads((shipped_dir("policies") / "processing.toml").read_text("utf-8"))
SHOP = RECORD["controller"]


@pytest.mark.parametrize(("accept", "lang"), [("en", "en"), ("zh-CN", "zh")])
def test_every_page_names_the_shop_with_its_notice_and_contact(
    gateway: Gateway, accept: str, lang: str
) -> None:
    for path in ("/privacy", "/privacy/object"):
        page = gateway.client.get(path, headers={"Accept-Language": accept})
        assert page.status_code == 200, page.text
        title = re.search(r"<title>(.*?)</title>", page.text, re.S)
        assert title is not None
        assert title.group(1).endswith(f"– {SHOP['name'][lang]}")
        header = re.search(r'<p class="site-name">(.*?)</p>', page.text, re.S)
        assert header is not None
        assert header.group(1).startswith(SHOP["name"][lang])
        assert "Order Privacy Gateway" not in page.text
        assert "订单隐私网关" not in page.text
        footer = page.text[page.text.index("<footer") :]
        assert f'href="{SHOP["privacy_notice"]}"' in footer
        assert f'href="mailto:{SHOP["contact"]}"' in footer
        assert SHOP["name"][lang] in visible_text(footer)


def test_times_read_in_the_readers_zone_to_the_minute_with_the_zone_named(
    gateway: Gateway,
) -> None:
    gw = gateway
    gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    request_id, token = gw.submit_privacy()  # at the test clock's 2026-11-20 10:00:00 UTC
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    english = visible_text(gw.client.get("/privacy/status", headers={"Accept-Language": "en"}).text)
    assert "20 Nov 2026, 10:00 UTC" in english
    chinese = visible_text(gw.client.get("/privacy/status", headers={"Accept-Language": "zh"}).text)
    assert "2026年11月20日 18:00（Asia/Shanghai，UTC+8）" in chinese
    assert "10:00" not in chinese
    assert not re.search(r"\d:\d\d:\d\d", english + chinese)  # never seconds


def test_the_zone_of_each_language_is_a_setting(database_url: str, tmp_path: Path) -> None:
    zones = {"en": "America/New_York", "zh": "Asia/Shanghai"}
    with Gateway.start(database_url, tmp_path, privacy_time_zones=zones) as gw:
        gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
        request_id, token = gw.submit_privacy()
        gw.client.cookies.set("opg_request", f"{request_id}:{token}")
        page = visible_text(
            gw.client.get("/privacy/status", headers={"Accept-Language": "en"}).text
        )
    assert "20 Nov 2026, 05:00 (America/New_York, UTC-5)" in page


def test_an_unknown_zone_stops_start_up_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PRIVACY_TIME_ZONES", '{"zh": "Asia/Beijing"}')
    with pytest.raises(ConfigurationError) as stopped:
        load_settings()
    assert "GATEWAY_PRIVACY_TIME_ZONES" in str(stopped.value)
    assert "'Asia/Beijing' is not an IANA time zone name" in str(stopped.value)


def _ask(gw: Gateway, lang: str | None) -> tuple[str, str]:
    gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    body = {"kind": "erasure", "contact": "13812345678", "order_id": "WEB-10001"}
    answer = gw.client.post("/v1/privacy/requests", json=body | ({"lang": lang} if lang else {}))
    assert answer.status_code == 202, answer.text
    return str(answer.json()["request_id"]), str(answer.json()["status_token"])


def _sent(gw: Gateway, request_id: str) -> list[str]:
    return [m["text"] for m in gw.outbox() if m["request_id"] == request_id]


def test_notices_come_in_the_language_asked_in_signed_by_the_shop(gateway: Gateway) -> None:
    gw = gateway
    request_id, _ = _ask(gw, "zh")
    [code] = _sent(gw, request_id)
    assert code.startswith("您的验证码：")
    assert not re.search(
        r"[A-Za-z]{4,}", code.replace(SHOP["privacy_notice"], "").replace(SHOP["contact"], "")
    )  # no English sentence beside the Chinese one
    assert code.endswith(f"— {SHOP['name']['zh']} · {SHOP['privacy_notice']} · {SHOP['contact']}")
    gw.client.post(
        f"/v1/privacy/register/{request_id}/reject",
        json={"reason": "订单由企业账户下单"},
        headers=bearer(gw.principal("dpo")),
    )
    [rejection] = [text for text in _sent(gw, request_id) if "拒绝" in text]
    assert rejection.startswith("您的隐私请求已被拒绝。原因：订单由企业账户下单\n")
    assert "《个人信息保护法》第五十条" in rejection
    assert "GDPR 第 12(4) 条" in rejection
    assert "Your privacy request" not in rejection


def test_a_request_that_named_no_language_is_told_in_both(gateway: Gateway) -> None:
    gw = gateway
    request_id, _ = _ask(gw, None)
    [code] = _sent(gw, request_id)
    chinese, english = code.split("\n\n")
    assert chinese.startswith("您的验证码：")
    assert chinese.endswith(SHOP["contact"])
    assert english.startswith("Your code: ")
    assert SHOP["name"]["en"] in english


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_extension_notice_says_what_the_page_shows(gateway: Gateway, lang: str) -> None:
    """The GDPR deadline moves; the PIPL one cannot, and notice and page both say so."""
    gw = gateway
    request_id, token = _ask(gw, lang)
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    reason = "我们需要向三个仓库核实记录" if lang == "zh" else "three warehouses must be checked"
    gw.clock.advance(days=3)
    extended = gw.client.post(
        f"/v1/privacy/register/{request_id}/extend",
        json={"months": 2, "reason": reason},
        headers=bearer(gw.principal("dpo")),
    )
    assert extended.status_code == 200, extended.text
    [notice] = [text for text in _sent(gw, request_id) if reason in text]
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    page = gw.client.get("/privacy/status", headers={"Accept-Language": lang}).text
    deadlines = visible_text(page[page.index('id="deadlines"') :].split("</dl>")[0])
    if lang == "zh":
        before, after, pipl = (
            "2026年12月20日 18:00（Asia/Shanghai，UTC+8）",
            "2027年2月20日 18:00（Asia/Shanghai，UTC+8）",
            "2026年12月5日 18:00（Asia/Shanghai，UTC+8）",
        )
        assert f"已由 {before} 延长至 {after}" in notice
        assert f"期限 {pipl} 不可延长" in notice
        assert f"理由：{reason}\n" in notice
        assert "此期限不可延长" in deadlines
    else:
        before, after, pipl = (
            "20 Dec 2026, 10:00 UTC",
            "20 Feb 2027, 10:00 UTC",
            "5 Dec 2026, 10:00 UTC",
        )
        assert f"extended from {before} to {after} (GDPR Art. 12(3))" in notice
        assert f"The PIPL deadline, {pipl}, cannot be extended" in notice
        assert f"Reason: {reason}\n" in notice
        assert "This deadline cannot be extended." in deadlines
    # The page shows the same two dates, and the DPO's reason as written.
    assert after in deadlines
    assert pipl in deadlines
    assert before not in deadlines
    assert reason in deadlines
