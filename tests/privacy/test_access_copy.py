"""The access copy a customer can read (GDPR Art. 15: "in an intelligible form"): a page
in their language, order by order, beside the JSON file, with the same content."""

from __future__ import annotations

import re

import pytest

from tests.helpers import SAMPLE_ORDER, Gateway, sample_order, visible_text


def _completed_access(gw: Gateway) -> tuple[str, str]:
    writer = gw.principal("channel")
    gw.create_order(writer, SAMPLE_ORDER)
    gw.create_order(writer, sample_order(external_id="WEB-10002", status="shipped"))
    request_id, token = gw.submit_privacy(kind="access")
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert gw.run_privacy_worker() == 1
    return request_id, token


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_copy_reads_order_by_order_in_the_readers_language(gateway: Gateway, lang: str) -> None:
    gw = gateway
    gw.principal("customer_service")  # someone who may read the orders
    request_id, token = _completed_access(gw)
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    status = gw.client.get("/privacy/status", headers={"Accept-Language": lang}).text
    assert 'href="/privacy/copy"' in status
    answer = gw.client.get("/privacy/copy", headers={"Accept-Language": lang})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    page = answer.text
    sections = re.findall(r'<section class="order".*?</section>', page, re.S)
    assert len(sections) == 2  # one per order
    shown = {re.findall(r"WEB-\d+", visible_text(s))[0]: visible_text(s) for s in sections}
    first, second = shown["WEB-10001"], shown["WEB-10002"]
    labels = {
        "en": (
            "Order WEB-10001",
            "Phone number 13812345678",
            "Street address 建国路88号",
            "Status paid",
            "Status on its way",
            "Item code",
        ),
        "zh": (
            "订单 WEB-10001",
            "手机号码 13812345678",
            "详细地址 建国路88号",
            "状态 已付款",
            "状态 配送中",
            "商品编码",
        ),
    }[lang]
    order, phone, street, paid, shipped, sku = labels
    assert first.startswith(order + " ·")
    assert phone in first
    assert street in first
    assert paid in first
    assert shipped in second
    assert sku in first
    assert "电饭煲" in first  # the item, as bought
    assert "customer.phone" not in page  # field names for people, not paths
    assert "shipping_address" not in page
    download = gw.client.get("/privacy/export")
    assert download.status_code == 200
    assert download.json()["orders"][0]["customer.phone"] == "13812345678"  # the same data


def test_the_copy_needs_the_request_it_belongs_to(gateway: Gateway) -> None:
    gw = gateway
    _completed_access(gw)
    answer = gw.client.get("/privacy/copy", headers={"Accept-Language": "en"})
    assert answer.status_code == 404
    assert "13812345678" not in answer.text
    gw.client.cookies.set("opg_request", "not-a-request:opgs_wrong")
    answer = gw.client.get("/privacy/copy", headers={"Accept-Language": "en"})
    assert answer.status_code == 404
    assert "13812345678" not in answer.text
