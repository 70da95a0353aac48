"""The reports screen: every report generated for a period and language, viewed or
downloaded as the API gives it; the kept PIPL copies listed with their hashes."""

from __future__ import annotations

import hashlib
import re

from tests.console.test_sign_in import _dpo, _get, _sign_in
from tests.helpers import Gateway, totp_code


def test_the_pipl_audit_in_chinese_is_generated_viewed_and_kept(gateway: Gateway) -> None:
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    index = _get(gateway, "/console/reports", **{"Accept-Language": "zh-CN"}).text
    assert 'id="report-pipl-audit"' in index
    assert "尚无留存副本" in index  # nothing kept yet
    gateway.clock.advance(seconds=1)
    shown = _get(gateway, "/console/reports/pipl-audit?format=html&lang=zh")
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"].startswith("text/html")
    assert shown.headers["content-disposition"].startswith("inline")
    assert '<html lang="zh' in shown.text
    as_json = _get(gateway, "/console/reports/pipl-audit?format=json&lang=zh")
    assert as_json.headers["content-disposition"].startswith("attachment")
    assert as_json.json()["report"] == "pipl-audit"
    listed = _get(gateway, "/console/reports").text
    kept = re.findall(
        r'<tr data-kept="([0-9a-f-]{36})">.*?<code>([0-9a-f]{64})</code>', listed, re.S
    )
    assert len(kept) == 2  # each PIPL report generated is kept
    kept_id, digest = kept[0]
    document = _get(gateway, f"/console/reports/kept/{kept_id}")
    assert document.status_code == 200
    assert hashlib.sha256(document.content).hexdigest() == digest


def test_a_bad_period_or_report_is_a_page_that_says_so(gateway: Gateway) -> None:
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    for path in ("/console/reports/access?since=yesterday", "/console/reports/access?lang=fr"):
        answer = _get(gateway, path)
        assert answer.status_code == 400
        assert "not valid" in answer.text
    for path in ("/console/reports/nonsense", "/console/reports/kept/not-a-uuid"):
        assert "No such request, report or copy" in _get(gateway, path).text
