"""Every setting is documented where operators look (the README's settings table)."""

from __future__ import annotations

from pathlib import Path

from gateway.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme_table() -> None:
    table = README.read_text().partition("## Settings")[2].partition("\n## ")[0]
    missing = [name for name in Settings.model_fields if f"`GATEWAY_{name.upper()}`" not in table]
    assert missing == []
