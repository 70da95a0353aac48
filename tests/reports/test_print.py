"""The HTML reports in a real headless Chromium: self-contained, readable in both
languages, and printed as A4 with each processing activity on a page of its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from playwright.sync_api import Request

from gateway.cli import main
from gateway.core import migrate
from gateway.core.clock import ManualClock
from gateway.core.settings import Settings
from tests.browser import chromium_page, live_gateway

REPORTS = ["gdpr-ropa", "dsr-register", "access", "audit-integrity", "pipl-audit", "pipl-pia"]
A4_POINTS = (595.28, 841.89)  # 210 x 297 mm (US Letter would be 612 x 792)
TITLES = {
    ("gdpr-ropa", "en"): "Record of processing activities (GDPR Art. 30(1))",
    ("gdpr-ropa", "zh"): "处理活动记录（GDPR第30条第1款）",
    ("dsr-register", "en"): "Register of data subject requests",
    ("dsr-register", "zh"): "个人信息主体请求登记簿",
    ("access", "en"): "Access to personal data",
    ("access", "zh"): "个人信息访问报告",
    ("audit-integrity", "en"): "Audit log integrity",
    ("audit-integrity", "zh"): "审计日志完整性",
    ("pipl-audit", "en"): "Personal information protection compliance audit (PIPL Art. 54)",
    ("pipl-audit", "zh"): "个人信息保护合规审计报告（《个人信息保护法》第五十四条）",
    ("pipl-pia", "en"): "Personal information protection impact assessment record "
    "(PIPL Art. 55-56)",
    ("pipl-pia", "zh"): "个人信息保护影响评估记录（《个人信息保护法》第五十五、五十六条）",
}


def _dpo_token(tmp_path: Path, url: str) -> str:
    env = {"GATEWAY_DATABASE_URL": url, "GATEWAY_VAR_DIR": str(tmp_path / "var")}
    args = ["principals", "create", "--name", "dpo-print", "--role", "dpo", "--json"]
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["token"])


def _media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def test_every_report_prints_as_a4_with_nothing_from_elsewhere(
    empty_sqlite_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=empty_sqlite_url, var_dir=tmp_path / "var")
    migrate.upgrade(settings.sqlalchemy_url)
    token = _dpo_token(tmp_path, empty_sqlite_url)
    with (
        live_gateway(settings, ManualClock()) as base_url,
        chromium_page(extra_http_headers={"Authorization": f"Bearer {token}"}) as page,
    ):
        requested: list[str] = []

        def note(request: Request) -> None:
            requested.append(request.url)

        page.on("request", note)
        for name in REPORTS:
            for lang in ("en", "zh"):
                requested.clear()
                url = f"{base_url}/v1/reports/{name}?format=html&lang={lang}"
                response = page.goto(url)
                assert response is not None
                assert response.status == 200, name
                assert requested == [url]  # no style sheet, font, image or script fetched
                title = page.locator("h1").inner_text()
                assert title == TITLES[(name, lang)]
                assert page.locator("html").get_attribute("lang") == (
                    "zh-CN" if lang == "zh" else "en"
                )
                meta = page.locator("dl.meta").inner_text()
                assert ("审计链头" if lang == "zh" else "Audit chain head") in meta
                assert page.locator(".missing").count() == 0  # the shipped record is whole
                pdf = page.pdf(prefer_css_page_size=True, print_background=True)
                boxes = _media_boxes(pdf)
                assert boxes, name
                for w, h in boxes:
                    assert abs(w - A4_POINTS[0]) < 1.5, (name, w)
                    assert abs(h - A4_POINTS[1]) < 1.5, (name, h)
                if lang == "zh":  # Chinese drawn with a CJK font, not boxes
                    assert b"NotoSansCJK" in pdf or b"NotoSerifCJK" in pdf, name
                activities = page.locator("section.record-section").count()
                if name == "gdpr-ropa":
                    assert activities == 6
                    assert len(boxes) > activities  # each activity starts a new page
                if name == "pipl-pia":  # the first activity under the header, no blank page
                    assert len(boxes) == activities == 6
