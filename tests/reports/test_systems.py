"""The systems map in gdpr-ropa and the PIPL reports: every system with its owner and
country; a system abroad as a transfer (a gap while the record documents none to its
country); a personal field without an erasure treatment as a gap naming system and
field; the own store alone, no gap. On SQLite only: the map is read from the policy
files, the database plays no part in it (test_figures.py runs both backends)."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers import Gateway, bearer, own_store_policies
from tests.reports.conftest import page_text

MAP = """
[own_store]
country = "CN"
owner = "Head of IT"

[systems.crm]
name = "Customer CRM"
owner = "Head of customer service"
purpose = "customer service history"
country = "CN"
connector = "sql"

[systems.crm.datasets.customers]
fields = [
    { name = "mobile", category = "contact", identifies = "phone", erase = "delete_row" },
    { name = "full_name", category = "name" },
]

[systems.eu_shop]
name = "EU web shop"
owner = "Head of EU sales"
purpose = "orders placed on the EU web shop"
country = "DE"
connector = "manual"

[systems.eu_shop.datasets.accounts]
fields = [
    { name = "email", category = "contact", identifies = "email", erase = "delete_row" },
    { name = "street", category = "location_precise", erase = "null" },
]
"""
# The activities whose categories include contact or location_precise (eu_shop's).
REACHING_EU_SHOP = [
    "order_fulfilment",
    "customer_service",
    "cross_border_customs",
    "privacy_requests",
]


def _undocumented(text: str) -> str:
    """The record's transfer to DE without its documentation."""
    return re.sub(r'(safeguard = "pipl_standard_contract"\n)documentation = [^\n]*\n', r"\1", text)


def _policies(
    tmp_path: Path, systems: str | None, record: Callable[[str], str] | None = None
) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(own_store_policies(), target)
    if systems is not None:
        (target / "systems.toml").write_text(systems, "utf-8")
    if record is not None:
        path = target / "processing.toml"
        path.write_text(record(path.read_text("utf-8")), "utf-8")
    return target


def _report(gw: Gateway, name: str, **params: str) -> Any:
    if "dpo" not in gw.tokens:
        gw.tokens["dpo"] = gw.principal("dpo", name="dpo-systems")
    response = gw.client.get(f"/v1/reports/{name}", params=params, headers=bearer(gw.tokens["dpo"]))
    assert response.status_code == 200, response.text
    return response


def _gaps(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(g["code"], g["where"], g["item"]) for g in body["gaps"]}


def test_every_system_of_the_map_is_in_the_record_with_owner_and_country(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    with Gateway.start(clean_sqlite_url, tmp_path, policy_dir=_policies(tmp_path, MAP)) as gw:
        body = _report(gw, "gdpr-ropa").json()
        shown = {s["system"]: s for s in body["systems"]}
        assert list(shown) == ["gateway", "crm", "eu_shop"]
        assert body["controller_country"] == "CN"
        assert (shown["gateway"]["owner"], shown["gateway"]["country"]) == ("Head of IT", "CN")
        assert shown["crm"]["owner"] == "Head of customer service"
        assert shown["eu_shop"]["country"] == "DE"
        assert shown["eu_shop"]["data_categories"] == ["contact", "location_precise"]
        assert shown["eu_shop"]["erasure"] == {"delete_row": 1, "null": 1}
        assert shown["crm"]["erasure"] == {"delete_row": 1, "none": 1}
        assert shown["crm"]["gaps"] == ["customers.full_name"]
        [moved] = body["system_transfers"]
        assert moved["system"] == "eu_shop"
        assert moved["country"] == "DE"
        assert moved["activities"] == REACHING_EU_SHOP
        # The record documents a transfer to DE: this one is not a gap.
        assert (moved["safeguards"], moved["documented"]) == (["pipl_standard_contract"], True)
        assert _gaps(body) == {("system_without_erasure", "system:crm", "customers.full_name")}
        assert body["complete"] is False
        service = next(a for a in body["activities"] if a["id"] == "customer_service")
        assert service["transfers"] == []  # none in the record, one through the map
        assert [t["system"] for t in service["system_transfers"]] == ["eu_shop"]

        lines = page_text(_report(gw, "gdpr-ropa", format="html").text)
        for text in ("Customer CRM", "Head of customer service", "EU web shop", "Head of IT"):
            assert text in lines
        assert "Controller's country (where the gateway's own store runs)" in lines
        assert "DE: EU web shop, a system of the systems map." in lines  # customer service
        assert "row deleted: 1, not stated: 1" in lines  # the CRM's erasure
        assert "personal field of a system without erasure treatment" in lines
        assert "system: Customer CRM" in lines
        assert "customers.full_name" in lines
        zh = page_text(_report(gw, "gdpr-ropa", format="html", lang="zh").text)
        assert "DE：EU web shop，系统清单中的系统。" in zh
        assert "删除整行：1、清空：1" in zh
        assert "系统：Customer CRM" in zh

        table = _report(gw, "gdpr-ropa", format="csv").content.decode("utf-8-sig")
        rows = {row[0]: row for row in csv.reader(io.StringIO(table))}
        assert "DE: EU web shop, a system of the systems map." in rows["customer_service"][8]
        assert "EU web shop" not in rows["sales_analytics"][8]


def test_a_system_abroad_the_record_does_not_document_is_a_gap_and_an_art55_case(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    policies = _policies(tmp_path, MAP, _undocumented)
    with Gateway.start(clean_sqlite_url, tmp_path, policy_dir=policies) as gw:
        body = _report(gw, "gdpr-ropa").json()
        assert ("system_transfer_undocumented", "system:eu_shop", "DE") in _gaps(body)
        assert body["system_transfers"][0]["documented"] is False
        lines = page_text(_report(gw, "gdpr-ropa", format="html").text)
        assert "system abroad without a documented transfer" in lines
        assert "system: EU web shop" in lines
        assert "The record documents no transfer to this country." in " ".join(lines)

        audit = _report(gw, "pipl-audit").json()
        assert [s["system"] for s in audit["systems"]] == ["gateway", "crm", "eu_shop"]
        triggered = {a["id"]: a["art55_triggers"] for a in audit["activities"]}
        assert "art55_4_cross_border" in triggered["customer_service"]  # through the map only
        assert "art55_4_cross_border" not in triggered["sales_analytics"]
        codes = {(f["code"], f["subject"]) for f in audit["findings"]}
        assert ("record_system_transfer_undocumented", "system:eu_shop DE") in codes
        assert ("record_system_without_erasure", "system:crm customers.full_name") in codes
        audit_zh = page_text(_report(gw, "pipl-audit", format="html", lang="zh").text)
        assert "境外系统缺少已载明的跨境传输" in audit_zh
        assert "Head of EU sales" in audit_zh

        pia = {e["activity"]: e for e in _report(gw, "pipl-pia").json()["activities"]}
        service = pia["customer_service"]
        assert "art55_4_cross_border" in service["art55_triggers"]
        assert service["system_transfers"] == [
            {"system": "eu_shop", "name": "EU web shop", "country": "DE", "documented": False}
        ]
        assert pia["sales_analytics"]["system_transfers"] == []
        pia_zh = page_text(_report(gw, "pipl-pia", format="html", lang="zh").text)
        assert "DE：EU web shop，系统清单中的系统。处理活动记录未载明向该国家的传输。" in pia_zh


def test_without_the_own_stores_country_no_transfer_can_be_told(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    unplaced = MAP.replace('[own_store]\ncountry = "CN"\nowner = "Head of IT"\n', "")
    policies = _policies(tmp_path, unplaced)
    with Gateway.start(clean_sqlite_url, tmp_path, policy_dir=policies) as gw:
        body = _report(gw, "gdpr-ropa").json()
        assert body["controller_country"] is None
        assert body["system_transfers"] == []
        assert ("system_unplaced", "system:gateway", "country") in _gaps(body)
        lines = page_text(_report(gw, "gdpr-ropa", format="html").text)
        assert "where the gateway's own store runs is not stated" in lines


def test_the_own_store_alone_is_the_one_system_and_no_gap(
    clean_sqlite_url: str, tmp_path: Path
) -> None:
    with Gateway.start(clean_sqlite_url, tmp_path, policy_dir=_policies(tmp_path, None)) as gw:
        body = _report(gw, "gdpr-ropa").json()
        [own] = body["systems"]
        assert (own["system"], own["name"]) == ("gateway", "Order Privacy Gateway order store")
        assert own["country"] is None  # no map says where it runs
        assert own["gaps"] == []
        assert body["system_transfers"] == []
        assert body["gaps"] == []
        assert body["complete"] is True
        lines = page_text(_report(gw, "gdpr-ropa", format="html").text)
        assert "Order Privacy Gateway order store" in lines
        assert lines[lines.index("Systems abroad") + 1] == "none"
        audit = _report(gw, "pipl-audit").json()
        assert [s["system"] for s in audit["systems"]] == ["gateway"]
        assert not [f for f in audit["findings"] if f["code"].startswith("record_system")]
