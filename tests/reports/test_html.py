"""What a person reads in the HTML reports: proper punctuation in both languages,
words instead of codes, times to the minute with their zone, and the exact
Content-Type of each form. The seeded scenario of conftest.py on SQLite only: the
HTML is laid out from the same figures on both backends (test_figures.py)."""

from __future__ import annotations

import pytest

from tests.helpers import bearer
from tests.reports.conftest import PERIOD, Seeded

pytestmark = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)


def _get(s: Seeded, name: str, **params: str) -> tuple[str, str]:
    response = s.gw.client.get(
        f"/v1/reports/{name}", params={**PERIOD, **params}, headers=bearer(s.tokens["dpo"])
    )
    assert response.status_code == 200, response.text
    return response.headers["content-type"], response.text


@pytest.mark.parametrize(
    ("name", "fmt", "content_type"),
    [
        ("dsr-register", "html", "text/html; charset=utf-8"),
        ("dsr-register", "csv", "text/csv; charset=utf-8"),
        ("dsr-register", "json", "application/json"),
    ],
)
def test_each_form_names_its_charset_once(
    seeded: Seeded, name: str, fmt: str, content_type: str
) -> None:
    got, _ = _get(seeded, name, format=fmt)
    assert got == content_type
