"""The health screen: key versions and rotation state, the log's head and last signed
checkpoint, and the systems of the map."""

from __future__ import annotations

import re

from tests.console.test_sign_in import _dpo, _get, _sign_in
from tests.helpers import Gateway, totp_code


def _text(page: str, element: str) -> str:
    match = re.search(rf'id="{element}">(.*?)</dd>', page, re.S)
    assert match is not None, element
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_health_shows_the_keys_and_the_logs_head_as_they_are(gateway: Gateway) -> None:
    token, secret = _dpo(gateway)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    page = _get(gateway, "/console/health").text
    keys = gateway.services.keys
    assert _text(page, "active-kek") == str(keys.active_kek_version)
    assert keys.audit_key_id in page
    assert _text(page, "data-pending") == "0"
    assert _text(page, "factors-pending") == "0"
    head = _text(page, "head")
    assert re.fullmatch(r"#\d+ [0-9a-f]{64}", head), head
    # The health page writes nothing to the log: the newest entry a search finds next
    # (before the search logs itself) is the head it showed.
    newest = gateway.client.get(
        "/v1/audit/events", params={"limit": "1"}, headers={"Authorization": f"Bearer {token}"}
    ).json()["items"][0]
    assert head == f"#{newest['seq']} {newest['hash']}"
    assert "Only the gateway&#39;s own store." in page
