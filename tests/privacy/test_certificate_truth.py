"""Every statement an erasure certificate signs is true of its own request: the laws it
cites are the ones its steps applied, and what it says was not searched matches how
this gateway is configured. Checked on the signed JSON, through the real API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.core import migrate
from gateway.core.settings import Settings
from tests.helpers import Gateway, sample_order

TAX_LAW = "税收征收管理法实施细则"
ECOMMERCE_LAW = "电子商务法 第三十一条"


def _erased(gw: Gateway, statuses: list[str]) -> dict[str, Any]:
    """One customer with an order in each status; their erasure, completed: its certificate."""
    writer = gw.principal("channel")
    for n, status in enumerate(statuses):
        gw.create_order(writer, sample_order(external_id=f"WEB-3{n:04d}", status=status))
    request_id, token = gw.submit_privacy(order_id="WEB-30000")
    verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert verified.status_code == 200, verified.text
    gw.clock.advance(hours=1)
    assert gw.run_privacy_worker() == 1
    response = gw.client.get(
        f"/v1/privacy/requests/{request_id}/certificate", headers={"X-Status-Token": token}
    )
    assert response.status_code == 200, response.text
    certificate: dict[str, Any] = response.json()["certificate"]
    return certificate


def _check_laws(cert: dict[str, Any]) -> None:
    """The laws cited follow from what the certificate itself says was done."""
    kept = [r for r in cert["retained"] if r["records"] > 0]
    laws = {law["law"]: law for law in cert["laws_applied"]}
    gdpr = laws.pop("GDPR")["articles"]
    assert laws.pop("PIPL")["articles"] == ["Art. 47", "Art. 50"]
    # Beyond GDPR and PIPL: exactly the law of each rule that kept records.
    assert set(laws) == {r["citation"] for r in kept}
    assert {law["rule"] for law in laws.values()} == {r["rule"] for r in kept}
    assert ("Art. 17(3)(b)" in gdpr) == bool(kept)
    assert ("Art. 18" in gdpr) == bool(cert["subject_pseudonyms"])  # restricted while it ran
    assert "Art. 19" not in gdpr  # no recipient is told: the gateway cannot know them
    assert gdpr[:2] == ["Art. 17(1)", "Art. 12(3)"]


def test_nothing_kept_cites_no_retention_law(gateway: Gateway) -> None:
    cert = _erased(gateway, ["pending"])
    _check_laws(cert)
    assert cert["retained"] == [] or all(r["records"] == 0 for r in cert["retained"])
    cited = " ".join(law["law"] for law in cert["laws_applied"])
    assert TAX_LAW not in cited
    assert ECOMMERCE_LAW not in cited


def test_a_paid_order_kept_for_tax_cites_the_tax_rule_only(gateway: Gateway) -> None:
    cert = _erased(gateway, ["paid", "pending"])
    _check_laws(cert)
    cited = [law["law"] for law in cert["laws_applied"]]
    assert any(TAX_LAW in law for law in cited)
    assert not any(ECOMMERCE_LAW in law for law in cited)


def test_a_cancelled_order_kept_as_a_transaction_record_cites_the_ecommerce_law(
    gateway: Gateway,
) -> None:
    cert = _erased(gateway, ["cancelled"])
    _check_laws(cert)
    cited = [law["law"] for law in cert["laws_applied"]]
    assert any(ECOMMERCE_LAW in law for law in cited)
    assert not any(TAX_LAW in law for law in cited)


@pytest.fixture
def undetected(empty_database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    migrate.upgrade(Settings(database_url=empty_database_url).sqlalchemy_url)
    with Gateway.start(empty_database_url, tmp_path, pii_detection=False) as gw:
        yield gw


def _free_text_reason(cert: dict[str, Any]) -> str:
    [entry] = [e for e in cert["scope"]["excluded"] if e["store"].startswith("free text")]
    reason: str = entry["reason"]
    return reason


def test_what_was_not_searched_says_how_free_text_is_handled_here(
    gateway: Gateway, undetected: Gateway
) -> None:
    detected = _free_text_reason(_erased(gateway, ["pending"]))
    assert "not yet part of the gateway" not in detected
    assert "masked wherever it is shown" in detected
    off = _free_text_reason(_erased(undetected, ["pending"]))
    assert "GATEWAY_PII_DETECTION=false" in off
    assert "masked whole" in off
