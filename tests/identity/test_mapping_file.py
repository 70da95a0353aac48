"""The identity file is checked at start-up like the policy: a bad rule stops start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.core.errors import ConfigurationError
from gateway.core.resources import shipped_dir
from gateway.disclosure import load_policy
from gateway.orders import DOCUMENT_FIELDS, LIST_SECTIONS
from gateway.staff import load_identity

ISSUER = """
[[issuers]]
name = "corp"
issuer = "https://login.example.com/realms/corp"
audience = "urn:opg:gateway"
"""


def _load(tmp_path: Path, text: str) -> object:
    (tmp_path / "identity.toml").write_text(text, encoding="utf-8")
    policy = load_policy(shipped_dir("policies"), DOCUMENT_FIELDS, LIST_SECTIONS)
    return load_identity(tmp_path, policy)


def test_the_shipped_file_declares_no_issuer_so_only_gateway_tokens_work() -> None:
    policy = load_policy(shipped_dir("policies"), DOCUMENT_FIELDS, LIST_SECTIONS)
    config = load_identity(shipped_dir("policies"), policy)
    assert config.issuers == []
    assert config.people == []


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            '[[people]]\nissuer = "corp"\ngroup = "g"\nrole = "superuser"\n',
            "unknown role 'superuser'",
        ),
        (
            '[[people]]\nissuer = "other"\ngroup = "g"\nrole = "auditor"\n',
            "issuer 'other' is not declared",
        ),
        (
            '[[people]]\nissuer = "corp"\ngroup = "g"\nrole = "warehouse"\n',
            "role 'warehouse' reads one region",
        ),
        (
            '[[apps]]\nissuer = "corp"\nclient_id = "pos"\nrole = "channel"\n',
            "role 'channel' writes one channel",
        ),
    ],
)
def test_a_rule_the_policy_cannot_honour_stops_start_up(
    tmp_path: Path, rules: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        _load(tmp_path, ISSUER + rules)
    assert expected in refused.value.detail


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        ('issuer = "http://login.example.com/"', "https URL"),
        ('issuer = "https://login.example.com/"\nalgorithms = ["HS256"]', "never `none`"),
        ('issuer = "https://login.example.com/"\nalgorithms = ["none"]', "unsupported algorithms"),
        ('issuer = "https://login.example.com/"\n[issuers.step_up]\nacr_values = []', "acr_values"),
    ],
)
def test_an_unsafe_issuer_entry_stops_start_up(tmp_path: Path, issuer: str, expected: str) -> None:
    text = f'[[issuers]]\nname = "corp"\naudience = "urn:opg:gateway"\n{issuer}\n'
    with pytest.raises(ConfigurationError) as refused:
        _load(tmp_path, text)
    assert expected in refused.value.detail


def test_region_from_a_claim_satisfies_a_scoped_role(tmp_path: Path) -> None:
    rules = (
        '[[people]]\nissuer = "corp"\ngroup = "wh"\nrole = "warehouse"\nregion_claim = "region"\n'
    )
    config = _load(tmp_path, ISSUER + rules)
    assert [r.region_claim for r in config.people] == ["region"]  # type: ignore[attr-defined]


def test_an_unreadable_ca_bundle_stops_start_up(tmp_path: Path) -> None:
    from gateway.core.clock import ManualClock
    from gateway.staff import StaffSignIn

    (tmp_path / "corp-ca.pem").write_text("not a certificate", encoding="utf-8")
    config = _load(tmp_path, ISSUER + 'ca_file = "corp-ca.pem"\n')
    with pytest.raises(ConfigurationError) as refused:
        StaffSignIn(config, ManualClock(), tmp_path, lambda issuer, subject: "person:x")  # type: ignore[arg-type]
    assert "ca_file" in refused.value.detail
    assert "not a readable PEM bundle" in refused.value.detail
