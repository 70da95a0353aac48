"""Identifiers written with full-width or other scripts' digits, or with invisible
characters between them, hoping to make a second identity that search, access and
erasure miss, or to slip a phone past free-text detection and the purpose rules.
Everything is folded to what a person reads, at every edge."""

from __future__ import annotations

import pytest

from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, bearer, sample_order

FULL_WIDTH = {
    "customer.phone": "１３８１２３４５６７８",
    "customer.email": "ＺｈａｎｇＳａｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
    "customer.id_number": "１１０１０５１９４９１２３１００２ｘ",
}
ARABIC_INDIC = {"customer.phone": "١٣٨١٢٣٤٥٦٧٨"}


@pytest.mark.parametrize("written", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic"])
def test_look_alike_digits_are_the_same_customer_everywhere(
    gateway: Gateway, written: dict[str, str]
) -> None:
    gw = gateway
    writer = gw.principal("channel")
    plain = gw.create_order(writer, SAMPLE_ORDER)
    look_alike = gw.create_order(writer, sample_order(external_id="WEB-2", **written))
    assert gw.count_rows("data_subjects") == 1  # one record: the very same contacts
    dpo = gw.principal("dpo")
    for body in ({"phone": "13812345678"}, {"phone": "１３８１２３４５６７８"}):
        found = gw.client.post("/v1/orders/search", json=body, headers=bearer(dpo)).json()
        assert sorted(o["order_id"] for o in found["items"]) == sorted([plain, look_alike])
    read = gw.get_order(gw.principal("customer_service"), look_alike).json()
    assert read["customer"]["phone"] == "138****5678"
    # A request in either writing reaches the contact as stored, and covers both orders.
    request_id, token = gw.submit_privacy(
        kind="access", contact="１３８ １２３４ ５６７８", order_id="WEB-2"
    )
    assert [m["to"] for m in gw.outbox() if m["request_id"] == request_id] == ["13812345678"]
    assert gw.verify_privacy(request_id, token, gw.code_for(request_id)).is_success
    assert gw.run_privacy_worker() == 1
    export = gw.client.get(
        f"/v1/privacy/requests/{request_id}/export", headers={"X-Status-Token": token}
    ).json()
    assert sorted(o["order_id"] for o in export["orders"]) == sorted([plain, look_alike])


def test_invisible_characters_do_not_hide_a_phone_in_free_text(gateway: Gateway) -> None:
    gw = gateway
    note = "请打电话138\u200b1234\u200b5678或发邮件到 li\u200bsi@example.com"
    order = gw.create_order(gw.principal("channel"), sample_order(note=note))
    shown = gw.get_order(gw.principal("customer_service"), order).json()["note"]
    assert "1234" not in shown
    assert "si@example" not in shown
    assert shown.startswith("请打电话138")


@pytest.mark.parametrize(
    "purpose",
    [
        "customer wrote from ｌｉｓｉ＠ｅｘａｍｐｌｅ．ｃｏｍ about it",
        "call back on １３８.１２３４.５６７８ today",
        "call back on 138\u200b1234\u200b5678 today",
        "call back on 138/1234/5678 today",
        "客户来电 ١٣٨١٢٣٤٥٦٧٨ 查询包裹",
    ],
)
def test_a_purpose_cannot_carry_a_contact_in_disguise(gateway: Gateway, purpose: str) -> None:
    gw = gateway
    token = gw.principal("customer_service")
    secret = gw.enrol_totp(token)
    problem = assert_problem(gw.grant(token, secret, purpose=purpose), 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == ["purpose"]
    assert "must not hold personal data" in problem["errors"][0]["message"]
