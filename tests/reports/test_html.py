"""What a person reads in the HTML reports: proper punctuation in both languages,
words instead of codes, times to the minute with their zone, and the exact
Content-Type of each form. The seeded scenario of conftest.py on SQLite only: the
HTML is laid out from the same figures on both backends (test_figures.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser import chromium_page
from tests.helpers import bearer
from tests.reports.conftest import PERIOD, Seeded, page_text
from tests.reports.raster import mm, render

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


REPORTS = ("gdpr-ropa", "dsr-register", "access", "audit-integrity", "pipl-audit", "pipl-pia")


@pytest.fixture(scope="module")
def pages(seeded: Seeded) -> dict[tuple[str, str], str]:
    """Every report's HTML in both languages, fetched once."""
    return {
        (name, lang): _get(seeded, name, format="html", lang=lang)[1]
        for name in REPORTS
        for lang in ("en", "zh")
    }


def test_joined_texts_read_as_sentences_in_both_languages(
    pages: dict[tuple[str, str], str],
) -> None:
    for (name, lang), html in pages.items():
        for line in page_text(html):
            for wrong in (".;", "。；", ". ;", "。;", ";;", "；；"):
                assert wrong not in line, (name, lang, line)
    ropa_en, ropa_zh = page_text(pages["gdpr-ropa", "en"]), page_text(pages["gdpr-ropa", "zh"])
    # Phrases joined as a list; sentences simply follow each other.
    assert (
        "Accept, pack and deliver the customer's order; Tell the customer about the delivery"
        in ropa_en
    )
    assert "接收、包装并配送顾客订单；向顾客通知配送情况" in ropa_zh
    measures = next(line for line in ropa_zh if line.startswith("直接标识符"))
    assert "封装。删除请求销毁顾客的数据密钥" in measures
    measures = next(line for line in ropa_en if line.startswith("Direct identifiers"))
    assert "outside the database. Erasure destroys" in measures
    # Lists of labels: a comma in English, the enumeration comma in Chinese.
    assert "姓名、联系方式、详细地址、省市区、购买信息、自由文本" in ropa_zh


def test_people_read_words_and_codes_only_where_a_dpo_looks_them_up(
    pages: dict[tuple[str, str], str],
) -> None:
    snake = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
    for (name, lang), html in pages.items():
        for line in page_text(html, codes=False):
            assert not snake.search(line), (name, lang, line)
    audit_en, audit_zh = page_text(pages["pipl-audit", "en"]), page_text(pages["pipl-audit", "zh"])
    assert "customer service customer_service" in audit_en  # words, then the policy's name
    assert "客服 customer_service" in audit_zh
    assert "客服：掩码、数据保护官：二次验证后明文、财务：明文" in audit_zh  # payment references
    assert "Records erased, step: search index entries" in audit_en
    assert "已删除记录，步骤：检索索引条目" in audit_zh
    assert "e-commerce transaction records ecommerce_transaction" in audit_en
    assert "Art. 13(1)(2) necessary for a contract" in audit_en  # not the bare code "2"
    assert "reveal rate stands out" in audit_en
    assert "cs-c: customer service" in audit_en
    ropa_en = page_text(pages["gdpr-ropa", "en"])
    transfer = next(line for line in ropa_en if line.startswith("DE: "))
    assert transfer.startswith(
        "DE: Fulfilment warehouse for EU deliveries (Example Logistics GmbH), CAC standard "
        "contract (PIPL Art. 38(1)(3)). CAC standard contract for the outbound transfer"
    )
    integrity_zh = page_text(pages["audit-integrity", "zh"])
    assert "完好：所有条目和签名均已核验" in integrity_zh


def test_times_read_to_the_minute_in_utc(pages: dict[tuple[str, str], str]) -> None:
    iso = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
    fraction = re.compile(r":\d{2}\.\d+")
    for (name, lang), html in pages.items():
        for line in page_text(html):
            assert not iso.search(line), (name, lang, line)
            assert not fraction.search(line), (name, lang, line)
    register = page_text(pages["dsr-register", "en"])
    assert "2026-11-01 00:00 UTC – 2027-01-01 00:00 UTC" in register  # the period
    assert "2026-11-20 10:00 UTC" in register  # received, to the minute
    assert "2026-12-05 10:00 UTC" in register  # the deadline
    # When the report was made, and when a checkpoint was signed, are evidence: seconds.
    generated = register[register.index("Generated at") + 1]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", generated)
    checkpoints = page_text(pages["audit-integrity", "en"])
    assert "2026-11-20 10:00:30 UTC" in checkpoints


A4_TEXT_WIDTH_PX = 688  # 210 mm less the 2 x 14 mm page margins, at 96 px per inch
PAGE_MARGIN_MM = 14.0
MIN_COLUMN_MM = 8.2  # two CJK characters of 8.5 pt, or four Latin letters, and padding
MEASURE = (Path(__file__).parent / "measure.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def printer() -> Iterator[Page]:
    """One browser for the print tests, laid out as print at an A4 page's text width."""
    with chromium_page(viewport={"width": A4_TEXT_WIDTH_PX, "height": 1000}) as page:
        page.emulate_media(media="print")
        yield page


@pytest.mark.parametrize("report", [("dsr-register", "en"), ("pipl-audit", "zh")], ids=str)
def test_printed_tables_fit_a4_and_keep_words_whole(
    pages: dict[tuple[str, str], str], printer: Page, tmp_path: Path, report: tuple[str, str]
) -> None:
    """The widest report in English and the densest in Chinese, laid out for print,
    then printed and looked at as pixels."""
    printer.set_content(pages[report])
    got = printer.evaluate(MEASURE)
    assert got["page"] <= A4_TEXT_WIDTH_PX, got["tables"]  # nothing wider than the page
    assert [t for t in got["tables"] if t[1] > A4_TEXT_WIDTH_PX] == []
    assert got["overflowing"] == []  # no cell's text runs out of its cell
    assert got["broken"] == []  # no word split across lines
    assert got["whole"] > 50  # the words it checked ("erasure", "已完成" …) are there
    pdf = printer.pdf(prefer_css_page_size=True, print_background=True)
    printed = render(pdf, tmp_path)
    assert printed
    for number, sheet in enumerate(printed, 1):
        left, right = sheet.ink_extent()
        assert mm(left) > PAGE_MARGIN_MM - 0.5, number  # nothing runs into the margins
        assert mm(sheet.width - right) > PAGE_MARGIN_MM - 0.5, number
        for widths in sheet.table_columns():
            assert min(widths) >= MIN_COLUMN_MM, (number, [round(w, 1) for w in widths])
