"""The documentation site builds strictly from this checkout, its generated reference
says what the code says, and its API explorer works offline, from the files alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gateway.core.problems import PROBLEM_TYPES
from gateway.core.settings import Settings
from tests.browser import chromium_page

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    built = subprocess.run(  # noqa: S603 - mkdocs from this venv, fixed arguments
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(target)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr
    return target


def test_the_reference_pages_list_every_setting_and_problem_type(site: Path) -> None:
    settings = (site / "reference" / "settings" / "index.html").read_text()
    problems = (site / "reference" / "problems" / "index.html").read_text()
    assert [n for n in Settings.model_fields if f"GATEWAY_{n.upper()}" not in settings] == []
    assert [s for s in PROBLEM_TYPES if f"/problems/{s}" not in problems] == []
    cli = (site / "reference" / "cli" / "index.html").read_text()
    assert all(command in cli for command in ("rotate-kek", "verify", "redetect", "outbox"))


def test_the_api_explorer_shows_every_operation_from_local_files_only(site: Path) -> None:
    operations = (site / "reference" / "api" / "index.html").read_text().count("<tr>") - 1
    schemes: set[str] = set()
    with chromium_page() as page:
        page.on("request", lambda request: schemes.add(urlsplit(request.url).scheme))
        page.goto((site / "reference" / "explorer" / "index.html").as_uri())
        page.wait_for_selector(".opblock")
        shown = page.locator(".opblock").count()
    assert operations > 30
    assert shown == operations
    assert schemes == {"file"}
