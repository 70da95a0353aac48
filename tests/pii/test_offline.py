"""Detection works with no network and no downloaded model; an operator's NER model is
used only if it is really there, and a missing one stops start-up instead of downloading."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import spacy

from gateway.core.errors import ConfigurationError
from gateway.pii.analyzer import Detector


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connection attempt is recorded and refused."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(
        socket, "create_connection", lambda address, *_, **__: refuse(None, address)
    )
    return attempts


def test_a_new_detector_builds_and_detects_offline(no_network: list[Any]) -> None:
    detector = Detector()
    spans = detector.detect("收件人何丽,电话13166131860,邮箱heli@example.com")
    assert [s.type for s in spans] == ["PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS"]
    assert no_network == []


def test_a_ner_model_that_is_not_installed_stops_start_up(no_network: list[Any]) -> None:
    with pytest.raises(ConfigurationError) as info:
        Detector({"en": "en_core_web_sm_not_installed"})
    assert "is not installed" in info.value.detail
    assert "GATEWAY_PII_NER_MODELS" in info.value.detail
    with pytest.raises(ConfigurationError, match="unknown language 'fr'"):
        Detector({"fr": "fr_core_news_sm"})
    assert no_network == []


def test_an_installed_ner_model_is_loaded_from_disk(no_network: list[Any], tmp_path: Path) -> None:
    # A model directory as an operator would install it (here: a blank pipeline,
    # which has no NER: the rules still find everything, nothing is downloaded).
    model = tmp_path / "en_model"
    spacy.blank("en").to_disk(model)
    detector = Detector({"en": str(model)})
    assert detector.version != Detector().version  # re-detection follows a model change
    spans = detector.detect("Dear Jonas, call +33612345678")
    assert [s.type for s in spans] == ["PERSON", "PHONE_NUMBER"]
    assert [s.type for s in detector.detect("联系电话13987654321")] == ["PHONE_NUMBER"]
    assert no_network == []


def test_the_detector_stamp_follows_the_models_contents(tmp_path: Path) -> None:
    """Orders are re-detected when a model changes, even under the same path."""
    model = tmp_path / "en_model"
    spacy.blank("en").to_disk(model)
    before = Detector({"en": str(model)}).version
    meta = model / "meta.json"
    meta.write_text(meta.read_text("utf-8").replace('"version":"0.0.0"', '"version":"0.0.1"'))
    assert '"version":"0.0.1"' in meta.read_text("utf-8")
    assert Detector({"en": str(model)}).version != before
