"""The inbox: open requests with the time left to the 72-hour target and to the legal
deadline, overdue and due-soon first, counts at the top, filters; in both languages."""

from __future__ import annotations

import re

from tests.console.test_sign_in import _dpo, _get, _sign_in
from tests.helpers import SAMPLE_ORDER, Gateway, sample_order, totp_code


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="([^"]*)" data-request="([0-9a-f-]{36})">', page)  # type: ignore[return-value]


def _count(page: str, name: str) -> int:
    match = re.search(rf'id="count-{name}"[^>]*><strong>(\d+)</strong>', page)
    assert match is not None, page
    return int(match.group(1))


def test_overdue_first_then_due_soon_with_counts_and_clocks(gateway: Gateway) -> None:
    gw = gateway
    writer = gw.principal("channel")
    gw.create_order(writer, SAMPLE_ORDER)
    gw.create_order(writer, sample_order(external_id="WEB-2", **{"customer.phone": "13900000002"}))
    first, token = gw.submit_privacy()
    gw.verify_privacy(first, token, gw.code_for(first))
    gw.clock.advance(hours=60)
    second, token = gw.submit_privacy(contact="13900000002", order_id="WEB-2")
    gw.verify_privacy(second, token, gw.code_for(second))
    gw.clock.advance(hours=12, minutes=1)  # first: 1 minute past its target; second: 12 h in
    gw.sweep()
    dpo, secret = _dpo(gw)
    _sign_in(gw, dpo, totp_code(secret, gw.clock))
    page = _get(gw, "/console/").text
    rows = _rows(page)
    assert [r[1] for r in rows] == [first, second]
    assert rows[0][0].startswith("overdue")
    assert (_count(page, "open"), _count(page, "overdue"), _count(page, "due-soon")) == (2, 1, 0)
    assert "0.0 h late" in page  # the target passed a minute ago
    assert "60.0 h left" in page  # the second's target, 72 h after it was received
    only = _get(gw, "/console/?overdue=1").text
    assert [r[1] for r in _rows(only)] == [first]
    found = _get(gw, f"/console/?request_id={second[:8]}").text
    assert [r[1] for r in _rows(found)] == [second]
    chinese = _get(gw, "/console/", **{"Accept-Language": "zh-CN"}).text
    assert "未完成的请求" in chinese
    assert "已逾期" in chinese


def test_a_bad_filter_is_a_page_that_says_so_not_an_error(gateway: Gateway) -> None:
    dpo, secret = _dpo(gateway)
    _sign_in(gateway, dpo, totp_code(secret, gateway.clock))
    answer = _get(gateway, "/console/?state=nonsense")
    assert answer.status_code == 400
    assert "not valid" in answer.text
