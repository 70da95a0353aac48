"""The certificate a customer reads, and the public page that checks one.

The summary at the top is checked against the signed JSON of the same certificate
(what was erased and kept, until when and why); the issuer is the shop from the
processing record; `/privacy/check` checks a pasted or uploaded certificate on the
server, and says plainly when one was altered.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from typing import Any

import pytest

from gateway.core.resources import shipped_dir
from gateway.privacy.web.texts import TEXT
from tests.helpers import Gateway, sample_order, visible_text

SHOP = tomllib.loads((shipped_dir("policies") / "processing.toml").read_text("utf-8"))["controller"]
TAX_LAW = "中华人民共和国税收征收管理法实施细则 第二十九条"


def _erased(gw: Gateway) -> tuple[dict[str, Any], str, str]:
    """A customer with a paid and a pending order, erased: (signed document, id, token)."""
    writer = gw.principal("channel")
    for n, status in enumerate(["delivered", "pending"]):
        gw.create_order(writer, sample_order(external_id=f"WEB-4{n:04d}", status=status))
    request_id, token = gw.submit_privacy(order_id="WEB-40000")
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    gw.clock.advance(hours=1)
    assert gw.run_privacy_worker() == 1
    answer = gw.client.get(
        f"/v1/privacy/requests/{request_id}/certificate", headers={"X-Status-Token": token}
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document, request_id, token


def _check(gw: Gateway, lang: str = "en", **form: Any) -> tuple[int, str]:
    files = form.pop("files", None)
    answer = gw.client.post(
        "/privacy/check",
        data=form,
        files=files,
        headers={"Accept-Language": lang, "Origin": str(gw.client.base_url)},
    )
    return answer.status_code, visible_text(answer.text)


def test_the_issuer_is_the_shop_and_the_software_only_produced_it(gateway: Gateway) -> None:
    document, _, _ = _erased(gateway)
    cert = document["certificate"]
    assert cert["issuer"] == {
        "name": SHOP["name"],
        "contact": SHOP["contact"],
        "privacy_notice": SHOP["privacy_notice"],
    }
    assert cert["produced_by"] == "Order Privacy Gateway"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_summary_says_what_the_signed_evidence_says(gateway: Gateway, lang: str) -> None:
    gw = gateway
    document, request_id, token = _erased(gw)
    cert = document["certificate"]
    orders = next(step for step in cert["steps"] if step["step"] == "orders")
    [kept] = [entry for entry in cert["retained"] if entry["records"] > 0]
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    page = gw.client.get("/privacy/certificate", headers={"Accept-Language": lang}).text
    summary = visible_text(page[page.index('class="summary"') : page.index('id="c-evidence"')])
    erased = orders["records_deleted"] + orders["records_anonymised"]
    if lang == "en":
        assert f"personal data of the {erased} order record(s)" in summary
        assert f"Of these, {orders['records_anonymised']} record(s) stay" in summary
        assert "The key that encrypted your data was destroyed" in summary
        assert "Kept until 20 Nov 2036, 10:00 UTC" in summary
        assert "write to " + SHOP["contact"] in summary
        assert "supervisory authority (GDPR Art. 77)" in summary
    else:
        assert f"{erased} 条订单记录中的个人信息" in summary
        assert f"其中 {orders['records_anonymised']} 条" in summary
        assert "加密您数据的密钥已销毁" in summary
        assert "保留至 2036年11月20日 18:00（Asia/Shanghai，UTC+8）" in summary
        assert "如需咨询，请联系 " + SHOP["contact"] in summary
        assert "人民法院提起诉讼" in summary
    assert kept["until"].startswith("2036-11-20T10:00")  # the signed date the summary reads
    for category in kept["categories_kept"]:  # each kept category by its name, never a code
        assert TEXT[lang][f"category.{category}"] in summary
        assert category not in summary
    assert TAX_LAW in summary
    assert f"{kept['records']} " in summary
    assert kept["readable_by"] == ["finance"]
    assert "finance" in summary
    assert "privacy-gateway" not in visible_text(page)  # no command line for a customer


def test_nothing_kept_is_said_plainly(gateway: Gateway) -> None:
    gw = gateway
    gw.create_order(
        gw.principal("channel"), sample_order(external_id="WEB-50000", status="pending")
    )
    request_id, token = gw.submit_privacy(order_id="WEB-50000")
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert gw.run_privacy_worker() == 1
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    page = gw.client.get("/privacy/certificate", headers={"Accept-Language": "en"}).text
    assert "Nothing: no law required us to keep any of it." in visible_text(page)


def test_the_check_page_finds_a_genuine_certificate_and_an_altered_one(gateway: Gateway) -> None:
    gw = gateway
    document, request_id, _ = _erased(gw)
    status, shown = _check(gw, certificate=json.dumps(document))
    assert status == 200
    assert f"Genuine: this certificate was signed by {SHOP['name']['en']}," in shown
    assert request_id in shown
    # The same file, uploaded, in Chinese.
    upload = {"certificate_file": ("cert.json", json.dumps(document).encode(), "application/json")}
    status, shown = _check(gw, "zh", files=upload)
    assert status == 200
    assert f"真实：本证明由以下机构签署： {SHOP['name']['zh']}" in shown
    # A kept record's date moved by a year: the signature no longer matches.
    altered = copy.deepcopy(document)
    altered["certificate"]["retained"][0]["until"] = "2035-11-20T11:00:00Z"
    status, shown = _check(gw, certificate=json.dumps(altered))
    assert status == 200
    assert "Not genuine, or altered: signature does not match: the certificate was altered" in (
        shown
    )
    assert "Genuine:" not in shown
    status, shown = _check(gw, "zh", certificate=json.dumps(altered))
    assert "签名不符：证明已被篡改" in shown


@pytest.mark.parametrize(
    "pasted",
    ["", "   ", "{not json", "[1, 2]", '{"certificate": {}, "signature": {}}', "x" * 300_000],
)
def test_the_check_page_refuses_what_is_not_a_certificate(gateway: Gateway, pasted: str) -> None:
    status, shown = _check(gateway, certificate=pasted)
    if pasted.strip() and len(pasted) <= 256 * 1024:
        assert status == 200
        assert "Not genuine, or altered:" in shown
    else:
        assert status == 422
        assert "Paste the certificate's JSON, or choose its file (at most 256 KB)." in shown
    assert "Genuine:" not in shown
    assert "Traceback" not in shown


def test_the_check_page_refuses_a_post_from_another_site(gateway: Gateway) -> None:
    answer = gateway.client.post(
        "/privacy/check", data={"certificate": "{}"}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403
    assert "Not genuine" not in answer.text


@pytest.mark.parametrize(
    ("accept", "warning"),
    [("en", "Is an order still on its way?"), ("zh", "还有订单在配送途中吗？")],
)
def test_the_form_warns_before_an_order_on_its_way_is_erased(
    gateway: Gateway, accept: str, warning: str
) -> None:
    page = gateway.client.get("/privacy", headers={"Accept-Language": accept}).text
    said = re.search(r'<p class="warning" id="open-orders-warning">(.*?)</p>', page, re.S)
    assert said is not None
    assert said.group(1).startswith(warning)
    erasure = re.search(r'<input type="radio" id="kind-erasure"[^>]*>', page, re.S)
    assert erasure is not None
    assert 'aria-describedby="hint-kind-erasure open-orders-warning"' in erasure.group(0)
    access = re.search(r'<input type="radio" id="kind-access"[^>]*>', page, re.S)
    assert access is not None
    assert "open-orders-warning" not in access.group(0)


def test_the_result_says_what_became_of_orders_still_on_their_way(gateway: Gateway) -> None:
    gw = gateway
    writer = gw.principal("channel")
    for n, status in enumerate(["shipped", "delivered", "pending"]):
        gw.create_order(writer, sample_order(external_id=f"WEB-6{n:04d}", status=status))
    request_id, token = gw.submit_privacy(order_id="WEB-60000")
    gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert gw.run_privacy_worker() == 1
    cert = gw.client.get(
        f"/v1/privacy/requests/{request_id}/certificate", headers={"X-Status-Token": token}
    ).json()["certificate"]
    [orders] = [step for step in cert["steps"] if step["step"] == "orders"]
    assert orders["open_orders"] == 2  # shipped and pending; delivered is done
    assert gw.privacy_status(request_id, token)["open_orders_erased"] == 2
    gw.client.cookies.set("opg_request", f"{request_id}:{token}")
    status = visible_text(gw.client.get("/privacy/status", headers={"Accept-Language": "en"}).text)
    assert "2 of your orders were not yet delivered or completed" in status
    page = gw.client.get("/privacy/certificate", headers={"Accept-Language": "zh"}).text
    summary = visible_text(page[page.index('class="summary"') : page.index('id="c-evidence"')])
    assert "其中 2 个订单尚未送达或完成" in summary


def test_the_check_refuses_a_foreign_key_before_any_costly_work(gateway: Gateway) -> None:
    """A certificate by a key this shop does not hold is refused on its key id: its body
    (here a large one) is never canonicalised. Size counts bytes, not characters."""
    document, _, _ = _erased(gateway)
    forged = copy.deepcopy(document)
    forged["signature"]["key_id"] = "0" * 16
    forged["certificate"]["padding"] = [1.5] * 20_000
    status, shown = _check(gateway, certificate=json.dumps(forged))
    assert status == 200
    assert "signed by an unknown key" in shown
    status, shown = _check(gateway, certificate="证" * 100_000)  # 300 KB of UTF-8
    assert status == 422
