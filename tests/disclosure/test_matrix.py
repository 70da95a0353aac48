"""Authorisation matrix, generated from the policy files themselves.

For every role in `policies/policy.csv` and every field in `classification.toml`,
the level the files give is checked through the HTTP API against a real stored
order, on SQLite and PostgreSQL. The files are parsed here with `csv` and
`tomllib`, independently of the gateway's Casbin compilation, so a bug in the
compiler cannot hide itself. Masked values are literal expectations, not
recomputed with the gateway's masks.
"""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, bearer

POLICIES = Path(__file__).resolve().parents[2] / "policies"
LEVEL_RANK = {"masked": 1, "clear_after_2fa": 2, "clear": 3}


def _policy_lines() -> list[list[str]]:
    text = (POLICIES / "policy.csv").read_text(encoding="utf-8")
    rows = csv.reader(
        line for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
    return [[cell.strip() for cell in row] for row in rows]


LINES = _policy_lines()
FIELDS = list(tomllib.loads((POLICIES / "classification.toml").read_text("utf-8"))["fields"])
ROLES = sorted({line[1] for line in LINES if line[0] == "p"})
READERS = sorted({line[1] for line in LINES if line[2:] == ["orders", "read"]})


def expected_level(role: str, path: str) -> str:
    granted = [line[3] for line in LINES if line[1] == role and line[2] == f"field:{path}"]
    return max(granted, key=LEVEL_RANK.__getitem__) if granted else "hidden"


def region_of(role: str) -> str | None:
    scoped = any(line[1:] == [role, "orders.scope", "region"] for line in LINES)
    return SAMPLE_ORDER["region"] if scoped else None


# What the seeded values look like masked (clear_after_2fa shows the mask until revealed).
MASKED: dict[str, str] = {
    "customer.name": "张*",
    "customer.phone": "138****5678",
    "customer.email": "z***@example.com",
    "customer.id_number": "110105********002X",
    "shipping_address.detail": "****",
    "payment.transaction_id": "*********2001",
    # Free text: each value detected when the order was written, masked by its type.
    "note": "请在下午6点后送达,联系电话139****4321",
    "gift_message": "张*,生日快乐!",
}
# Personal values inside the free text: never shown unless the text is shown in clear.
# (Unless another field the role sees in clear carries the same value.)
INSIDE = {
    "note": (("13987654321", None), ("87654321", None)),
    "gift_message": (("张三", "customer.name"),),
}
PERSONAL = [
    "customer.name",
    "customer.phone",
    "customer.email",
    "customer.id_number",
    "shipping_address.detail",
    "payment.transaction_id",
    "note",
    "gift_message",
]


def seeded(path: str) -> Any:
    section, _, key = path.rpartition(".")
    if section == "items":
        return SAMPLE_ORDER["items"][0][key]
    return SAMPLE_ORDER[section][key] if section else SAMPLE_ORDER[key]


def shown(doc: dict[str, Any], path: str) -> tuple[bool, Any]:
    """(present, value) of `path` in an output document."""
    section, _, key = path.rpartition(".")
    if section == "items":
        items = doc.get("items")
        if items is None:
            return False, None
        return (key in items[0], items[0].get(key))
    container = doc.get(section, {}) if section else doc
    return (key in container, container.get(key))


def check_document(role: str, doc: dict[str, Any], order_id: str) -> None:
    for path in FIELDS:
        level = expected_level(role, path)
        present, value = shown(doc, path)
        if level == "hidden":
            assert not present, f"{role} should not see {path}"
        elif level == "clear":
            expected = order_id if path == "order_id" else seeded(path)
            assert (present, value) == (True, expected), f"{role} should see {path} in clear"
        else:
            assert (present, value) == (True, MASKED[path]), f"{role} should see {path} masked"
    for section in ("customer", "shipping_address", "payment"):
        if section in doc:
            assert doc[section], f"empty section {section} for {role}"


@pytest.mark.parametrize("role", ROLES)
def test_role_sees_each_field_at_its_policy_level(gateway: Gateway, role: str) -> None:
    writer = gateway.principal("channel", name="writer")
    order_id = gateway.create_order(writer, SAMPLE_ORDER)
    token = gateway.principal(role, region_of(role), name="reader")

    single = gateway.get_order(token, order_id)
    listed = gateway.client.get("/v1/orders", headers=bearer(token))
    if role not in READERS:
        assert_problem(single, 403, "forbidden")
        assert_problem(listed, 403, "forbidden")
        return

    assert single.status_code == 200, single.text
    assert listed.status_code == 200, listed.text
    assert [item["order_id"] for item in listed.json()["items"]] == [order_id]
    for response, doc in ((single, single.json()), (listed, listed.json()["items"][0])):
        check_document(role, doc, order_id)
        # No personal value leaves the gateway unless the role sees it in clear.
        body = response.content.decode()
        unescaped = json.dumps(response.json(), ensure_ascii=False)
        for path in PERSONAL:
            if expected_level(role, path) != "clear":
                values = [str(seeded(path))] + [
                    value
                    for value, also in INSIDE.get(path, ())
                    if also is None or expected_level(role, also) != "clear"
                ]
                for value in values:
                    assert value not in body, f"{path} leaked to {role}"
                    assert value not in unescaped, f"{path} leaked to {role}"


def test_matrix_covers_every_role_and_field() -> None:
    """Guard against a silently empty matrix (a parse error would make it vacuous)."""
    assert {"customer_service", "warehouse", "finance", "dpo", "analyst"} <= set(READERS)
    assert {"admin", "channel"} <= set(ROLES) - set(READERS)
    assert len(FIELDS) == 25
    assert set(MASKED) <= set(FIELDS)
