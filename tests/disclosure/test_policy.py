"""Loading the policy: the shipped files give the issue's table; broken files stop start-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.core.errors import ConfigurationError
from gateway.disclosure import load_policy
from gateway.disclosure.plan import Level, RowScope
from gateway.orders.tables import DOCUMENT_FIELDS, LIST_SECTIONS

POLICIES = Path(__file__).resolve().parents[2] / "policies"
C, M, T, H = Level.CLEAR, Level.MASKED, Level.CLEAR_AFTER_2FA, Level.HIDDEN
ROLES = ("customer_service", "warehouse", "finance", "dpo", "analyst")
ALWAYS = ("order_id", "external_id", "channel", "region", "status", "created_at")
COARSE = tuple(f"shipping_address.{k}" for k in ("province", "city", "district", "postal_code"))

# The table, written out by hand: the shipped policy must say exactly this.
SPEC: dict[str, tuple[Level, ...]] = {
    "customer.name": (T, C, M, T, H),
    "customer.phone": (T, T, H, T, H),
    "customer.email": (T, H, H, T, H),
    "customer.id_number": (H, H, H, T, H),
    "shipping_address.detail": (M, C, H, T, H),
    **dict.fromkeys(COARSE, (C, C, C, C, C)),
    **dict.fromkeys(("items.sku", "items.name", "items.quantity"), (C, C, C, C, C)),
    **dict.fromkeys(("items.unit_price", "total_amount", "currency"), (C, H, C, C, C)),
    "payment.method": (C, H, C, C, C),
    "payment.transaction_id": (M, H, C, T, H),
    "note": (M, M, H, T, H),
    "gift_message": (M, H, H, M, H),
    **dict.fromkeys(ALWAYS, (C, C, C, C, C)),
}


def load(policy_dir: Path = POLICIES):  # type: ignore[no-untyped-def]
    return load_policy(policy_dir, DOCUMENT_FIELDS, LIST_SECTIONS)


def test_shipped_policy_matches_the_specified_table() -> None:
    policy = load()
    assert set(SPEC) == set(DOCUMENT_FIELDS)
    for field, levels in SPEC.items():
        for role, level in zip(ROLES, levels, strict=True):
            plan = policy.plan_for(role)
            assert plan is not None
            assert plan.levels[field] is level, (role, field)


def test_operations_and_row_scopes() -> None:
    policy = load()
    for role in ROLES:
        plan = policy.plan_for(role)
        assert plan is not None
        assert plan.can_read_orders
        assert not plan.allows("orders", "create")
        expected = RowScope.REGION if role == "warehouse" else RowScope.ALL
        assert plan.row_scope is expected
    for role in ("admin", "channel"):
        plan = policy.plan_for(role)
        assert plan is not None
        assert not plan.can_read_orders
        assert set(plan.levels.values()) == {H}
    channel = policy.plan_for("channel")
    assert channel is not None
    assert channel.allows("orders", "create")
    assert policy.plan_for("nobody") is None


def test_policy_version_changes_with_the_files(tmp_path: Path) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    before = load(copy)
    assert before.version == load(POLICIES).version
    with (copy / "policy.csv").open("a") as handle:
        handle.write("p, analyst, field:customer.name, masked\n")
    after = load(copy)
    assert after.version != before.version
    plan = after.plan_for("analyst")
    assert plan is not None
    assert plan.levels["customer.name"] is M


@pytest.mark.parametrize(
    ("file", "addition", "message"),
    [
        ("policy.csv", "p, analyst, field:custmer.name, clear\n", "unknown field 'custmer.name'"),
        ("policy.csv", "p, analyst, field:customer.name, visible\n", "unknown level 'visible'"),
        ("policy.csv", "p, analyst, orders, delete\n", "unknown action 'delete'"),
        ("policy.csv", "p, analyst, invoices, read\n", "unknown object 'invoices'"),
        ("policy.csv", "p, analyst, field:customer.email, clear, x\n", "exactly sub, obj, act"),
        (
            "classification.toml",
            '\n[fields."customer.age"]\ncategory = "name"\ndescription = "x"\n',
            "'customer.age' is not part of the order document",
        ),
        (
            "classification.toml",
            '\n[categories.new]\npersonal = "maybe"\ndescription = "x"\n',
            "categories.new.personal",
        ),
    ],
)
def test_broken_policy_files_stop_start_up(
    tmp_path: Path, file: str, addition: str, message: str
) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    with (copy / file).open("a") as handle:
        handle.write(addition)
    with pytest.raises(ConfigurationError, match=message):
        load(copy)


def test_a_masked_field_without_a_mask_stops_start_up(tmp_path: Path) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    text = (copy / "classification.toml").read_text()
    text = text.replace('mask = "last4"\n', "")
    (copy / "classification.toml").write_text(text)
    with pytest.raises(ConfigurationError, match="gives it no mask"):
        load(copy)


def test_unknown_mask_and_unclassified_fields_are_reported(tmp_path: Path) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    text = (copy / "classification.toml").read_text()
    text = text.replace('mask = "phone"', 'mask = "rot13"')
    text = text.replace('[fields."note"]', '[fields."ignored_note"]')
    (copy / "classification.toml").write_text(text)
    with pytest.raises(ConfigurationError) as info:
        load(copy)
    assert "unknown mask 'rot13'" in info.value.detail
    assert "document field 'note' has no classification" in info.value.detail


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"model\.conf not found"):
        load(tmp_path)
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    (copy / "classification.toml").unlink()
    with pytest.raises(ConfigurationError, match=r"classification\.toml not found"):
        load(copy)
    (copy / "classification.toml").write_text("fields = [")
    with pytest.raises(ConfigurationError, match=r"classification\.toml"):
        load(copy)


def test_render_keeps_document_order_and_drops_hidden_sections() -> None:
    policy = load()
    analyst = policy.plan_for("analyst")
    assert analyst is not None
    flat = {path: f"v-{path}" for path in DOCUMENT_FIELDS if not path.startswith("items.")}
    flat["items"] = [{"sku": "S", "name": "N", "quantity": 1, "unit_price": "1.00"}]
    doc = analyst.render(flat)
    assert "customer" not in doc
    assert "note" not in doc
    assert list(doc)[:6] == list(ALWAYS)
    assert list(doc).index("items") < list(doc).index("total_amount")
    assert doc["payment"] == {"method": "v-payment.method"}


def test_a_kept_plan_shows_only_the_kept_categories_and_keeps_its_reveals_apart() -> None:
    policy = load()
    dpo = policy.plan_for("dpo")
    assert dpo is not None
    kept = policy.keeping(dpo, ["order_reference", "contact"])
    assert kept.shown_levels == {
        "order_id": "clear",
        "external_id": "clear",
        "customer.phone": "clear_after_2fa",
        "customer.email": "clear_after_2fa",
    }
    revealed = policy.keeping(policy.revealing(dpo, frozenset({"customer.phone"})), ["contact"])
    assert revealed.shown_levels == {"customer.phone": "clear", "customer.email": "clear_after_2fa"}
    # The plain plan's kept variant is not the revealing one's, whichever came first.
    assert policy.keeping(dpo, ["contact"]).shown_levels["customer.phone"] == "clear_after_2fa"
