"""The processing record: checked at start-up, reported in full, and every gap named."""

from __future__ import annotations

import csv
import io
import re
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings
from tests.helpers import Gateway, bearer
from tests.reports.conftest import page_text

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def _policies(tmp_path: Path, edit: Any = None) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    if edit is not None:
        path = target / "processing.toml"
        path.write_text(edit(path.read_text("utf-8")), "utf-8")
    return target


def _ropa(gw: Gateway, **params: str) -> Any:
    if "dpo" not in gw.tokens:
        gw.tokens["dpo"] = gw.principal("dpo", name="dpo-ropa")
    dpo = gw.tokens["dpo"]
    response = gw.client.get("/v1/reports/gdpr-ropa", params=params, headers=bearer(dpo))
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def shipped(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    with Gateway.start(database_url, tmp_path) as gw:
        yield gw


def test_the_shipped_record_is_complete_and_reported_item_by_item(shipped: Gateway) -> None:
    body = _ropa(shipped).json()
    record = tomllib.loads((POLICIES / "processing.toml").read_text("utf-8"))
    fields = tomllib.loads((POLICIES / "classification.toml").read_text("utf-8"))["fields"]
    assert body["complete"] is True
    assert body["gaps"] == []
    assert body["controller"]["contact"] == record["controller"]["contact"]
    assert body["representative"]["name"] == record["representative"]["name"]["en"]
    assert [a["id"] for a in body["activities"]] == [a["id"] for a in record["activities"]]
    for got, want in zip(body["activities"], record["activities"], strict=True):
        assert got["purposes"] == [p["en"] for p in want["purposes"]]
        assert got["legal_basis"]["gdpr"].startswith(f"Art. 6(1)({want['legal_basis']['gdpr']})")
        assert got["legal_basis"]["pipl"].startswith(f"Art. 13(1)({want['legal_basis']['pipl']})")
        assert [c["category"] for c in got["data_categories"]] == want["data_categories"]
        for category in got["data_categories"]:
            assert category["fields"] == sorted(
                path for path, f in fields.items() if f["category"] == category["category"]
            )
        assert [r["id"] for r in got["recipients"]] == want["recipients"]
        assert [t["country"] for t in got["transfers"]] == [
            t["country"] for t in want.get("transfers", [])
        ]
        assert got["retention"] == want["retention"]["en"]
        assert [m["id"] for m in got["measures"]] == want["measures"]
        assert got["missing"] == []


def _with_gaps(text: str) -> str:
    text = text.replace('contact = "dpo@example-retail.com"\n', "")
    text = re.sub(r'(id = "sales_analytics"\n[^\n]*\n)purposes = \[\n[^\]]*\]\n', r"\1", text)
    text = text.replace(', "free_text"]', "]")
    text = text.replace(
        '["name", "location_coarse", "payment_reference", "payment_method", "purchase"]',
        '["name", "payment_reference", "payment_method", "purchase"]',
    )
    return re.sub(r'(safeguard = "pipl_standard_contract"\n)documentation = [^\n]*\n', r"\1", text)


def test_every_gap_is_named_in_every_form(database_url: str, tmp_path: Path) -> None:
    with Gateway.start(database_url, tmp_path, policy_dir=_policies(tmp_path, _with_gaps)) as gw:
        body = _ropa(gw).json()
        gaps = {(g["code"], g["where"], g["item"]) for g in body["gaps"]}
        assert gaps == {
            ("missing_item", "dpo", "contact"),
            ("missing_item", "activity:sales_analytics", "purposes"),
            ("transfer_undocumented", "activity:order_fulfilment", "DE"),
            ("field_without_activity", "field:note", "free_text"),
            ("field_without_activity", "field:gift_message", "free_text"),
            # Roles that see free text (masked) need an activity that covers it.
            ("role_without_activity", "role:customer_service", "free_text"),
            ("role_without_activity", "role:warehouse", "free_text"),
            ("role_without_activity", "role:dpo", "free_text"),
            ("role_without_activity", "role:finance", "location_coarse"),
        }
        assert body["complete"] is False
        [analytics] = [a for a in body["activities"] if a["id"] == "sales_analytics"]
        assert analytics["missing"] == ["purposes"]
        table = _ropa(gw, format="csv").content.decode("utf-8-sig")
        rows = {row[0]: row for row in csv.reader(io.StringIO(table))}
        assert rows["sales_analytics"][-1] == "purposes"
        assert rows["customer_service"][-1] == ""
        html = _ropa(gw, format="html", lang="zh").text
        assert html.count('class="missing"') == 2  # the DPO's contact, the purposes
        # In words, with the field's path as the code a DPO looks up.
        lines = page_text(html)
        assert lines.count("个人信息字段无对应处理活动") == 2  # note, gift_message
        assert "字段：gift_message" in lines
        assert "角色：客服 customer_service" in lines
        assert "处理活动：经营分析" in lines
        assert "处理目的" in lines


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace('"purchase", "free_text"]', '"purchase", "shoe_size"]'),
            "activity 'order_fulfilment' names unknown data category 'shoe_size'",
        ),
        (
            lambda t: t.replace('roles = ["analyst"]', 'roles = ["intern"]'),
            "activity 'sales_analytics' names unknown role 'intern'",
        ),
        (lambda t: t.replace('gdpr = "f"', 'gdpr = "z"'), "legal_basis.gdpr"),
        (
            lambda t: t.replace('["tax_record"]\n', '["forever"]\n'),
            "unknown retention rule 'forever'",
        ),
        (lambda t: t + "\n[unexpected]\n", "unexpected: Extra inputs are not permitted"),
        (lambda t: t.replace("[controller]", "[controller"), "processing record"),
    ],
)
def test_a_record_naming_the_unknown_stops_the_gateway(
    sqlite_url: str, tmp_path: Path, edit: Any, message: str
) -> None:
    settings = Settings(
        database_url=sqlite_url, var_dir=tmp_path / "var", policy_dir=_policies(tmp_path, edit)
    )
    with pytest.raises(ConfigurationError) as raised:
        create_app(settings)
    assert message in raised.value.detail
    assert str(tmp_path / "policies" / "processing.toml") in raised.value.detail
