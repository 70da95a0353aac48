"""Every setting is documented where operators look: the settings reference, which the
docs build generates from the model (docs/hooks/reference.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from gateway.core.settings import Settings

HOOK = Path(__file__).resolve().parents[1] / "docs" / "hooks" / "reference.py"


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference_hook", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_setting_has_a_description() -> None:
    missing = [name for name, field in Settings.model_fields.items() if not field.description]
    assert missing == []


def test_the_settings_reference_lists_every_variable_with_its_meaning() -> None:
    rows = _hook().settings_table().splitlines()[2:]
    assert len(rows) == len(Settings.model_fields)
    for row, (name, field) in zip(rows, Settings.model_fields.items(), strict=True):
        assert row.startswith(f"| `GATEWAY_{name.upper()}` |")
        assert " ".join((field.description or "").split())[:40] in row


def test_the_problem_reference_lists_every_registered_type() -> None:
    from gateway.core.problems import PROBLEM_TYPES

    table = _hook().problems_table()
    assert all(f"`/problems/{slug}`" in table for slug in PROBLEM_TYPES)
