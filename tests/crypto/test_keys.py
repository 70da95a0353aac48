"""Key material: generated only in embedded mode, checked strictly, never shown."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import pytest

from gateway.core.errors import ConfigurationError
from gateway.core.settings import Settings
from gateway.crypto.keys import KEY_BYTES, load_keys


def b64(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * KEY_BYTES).decode()


def test_embedded_mode_generates_owner_only_keys_once_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    with caplog.at_level(logging.WARNING, logger="gateway.keys"):
        first = load_keys(settings)
    assert "production must provide its own" in caplog.text
    keys_dir = tmp_path / "var" / "keys"
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    names = sorted(p.name for p in keys_dir.iterdir())
    assert names == ["audit-signing.key", "blind-index.key", "kek-v1.key"]
    for path in keys_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    caplog.clear()
    again = load_keys(settings)
    assert caplog.text == ""
    assert again.kek(1) == first.kek(1)
    assert again.blind_index_key == first.blind_index_key
    assert again.audit_key_id == first.audit_key_id
    assert len({first.kek(1), first.blind_index_key}) == 2
    for key in (first.kek(1), first.blind_index_key):
        assert key.hex() not in repr(first)
        assert base64.b64encode(key).decode() not in repr(first)


def test_production_mode_never_generates_and_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="production mode needs keys"):
        load_keys(Settings(mode="production", var_dir=tmp_path))
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    settings = Settings(mode="production", keys_dir=keys_dir)
    with pytest.raises(ConfigurationError, match="blind-index key not found"):
        load_keys(settings)
    assert list(keys_dir.iterdir()) == []


def _write(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    path.chmod(mode)


def test_production_key_files_are_checked(tmp_path: Path) -> None:
    settings = Settings(mode="production", keys_dir=tmp_path)
    _write(tmp_path / "kek-v1.key", b64(1))
    _write(tmp_path / "kek-v2.key", b64(2))
    _write(tmp_path / "blind-index.key", b64(3))
    _write(tmp_path / "audit-signing.key", b64(4))
    keys = load_keys(settings)
    assert keys.active_kek_version == 2
    assert keys.kek(1) == bytes([1]) * KEY_BYTES
    with pytest.raises(ConfigurationError, match="KEK version 3 is not available"):
        keys.kek(3)
    pinned = load_keys(Settings(mode="production", keys_dir=tmp_path, kek_version=1))
    assert pinned.active_kek_version == 1

    (tmp_path / "blind-index.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match=r"readable by others \(mode 644\)"):
        load_keys(settings)
    _write(tmp_path / "blind-index.key", "not base64!")
    with pytest.raises(ConfigurationError, match=r"blind-index key .* is not valid base64"):
        load_keys(settings)
    short = base64.b64encode(b"short").decode()
    _write(tmp_path / "blind-index.key", short)
    with pytest.raises(ConfigurationError, match="must be 32 bytes, not 5") as info:
        load_keys(settings)
    assert short not in info.value.detail


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GATEWAY_KEKS", f"1:{b64(1)}, 3:{b64(3)}")
    monkeypatch.setenv("GATEWAY_BLIND_INDEX_KEY", b64(5))
    monkeypatch.setenv("GATEWAY_AUDIT_SIGNING_KEY", b64(6))
    monkeypatch.setenv("GATEWAY_MODE", "production")
    keys = load_keys(Settings())
    assert keys.active_kek_version == 3
    assert keys.blind_index_key == bytes([5]) * KEY_BYTES
    assert b64(5) not in repr(Settings())  # secrets stay hidden in the settings' repr too
    monkeypatch.setenv("GATEWAY_KEK_VERSION", "2")
    with pytest.raises(ConfigurationError, match="GATEWAY_KEK_VERSION is 2"):
        load_keys(Settings())
    monkeypatch.delenv("GATEWAY_KEK_VERSION")
    monkeypatch.setenv("GATEWAY_KEKS", "one")
    with pytest.raises(ConfigurationError, match="<version>:<base64>"):
        load_keys(Settings())
    monkeypatch.delenv("GATEWAY_AUDIT_SIGNING_KEY")
    with pytest.raises(ConfigurationError, match="must be given together"):
        load_keys(Settings())


def test_a_missing_directory_or_kek_is_named(tmp_path: Path) -> None:
    missing = Settings(mode="production", keys_dir=tmp_path / "nowhere")
    with pytest.raises(ConfigurationError, match=r"key directory .* does not exist"):
        load_keys(missing)
    _write(tmp_path / "blind-index.key", b64(3))
    _write(tmp_path / "audit-signing.key", b64(4))
    with pytest.raises(ConfigurationError, match=r"no key-encryption key \(KEK\)"):
        load_keys(Settings(mode="production", keys_dir=tmp_path))
