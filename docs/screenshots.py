"""Screenshots of every DPO report in both languages, for docs/guides/reports.md.

Run on demand (not by `make test`), from the repository root, after changing how
a report looks:

    PYTHONPATH=. .venv/bin/python docs/screenshots.py

It seeds the scenario the report tests use (tests/reports/conftest.py: orders,
reads, reveals, refusals and five data subject requests) into a throw-away SQLite
database, prints each report's HTML on A4 in Debian's Chromium, and renders the
first printed page with poppler's pdftoppm, 992 pixels wide, saved as a 16-level
greyscale PNG (small; the reports are black on white) in
docs/img/reports/<report>-<lang>.png.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import chromium_page  # noqa: E402 - after the path is set
from tests.helpers import bearer  # noqa: E402
from tests.reports.conftest import PERIOD, _seeded  # noqa: E402

OUT = ROOT / "docs" / "img" / "reports"
REPORTS = ("gdpr-ropa", "dsr-register", "access", "audit-integrity", "pipl-audit", "pipl-pia")
DPI = 120  # an A4 page 992 pixels wide


def read_pgm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and pixels of the 8-bit greyscale image pdftoppm wrote."""
    data = path.read_bytes()
    found = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
    if found is None:
        raise ValueError(f"{path} is not an 8-bit PGM")
    width, height = int(found[1]), int(found[2])
    return width, height, data[found.end() : found.end() + width * height]


def grey_png(width: int, height: int, pixels: bytes) -> bytes:
    """A 4-bit greyscale PNG (16 levels: enough for black text on white, a third of the
    size of 8 bits), written with zlib: no image library needed."""
    levels = bytes(round(v / 17) for v in range(256))  # 0..255 to 0..15
    rows = []
    for y in range(height):
        row = pixels[y * width : (y + 1) * width].translate(levels) + b"\0"
        packed = bytes((row[i] << 4) | row[i + 1] for i in range(0, width, 2))
        rows.append(b"\0" + packed)  # filter type 0: none

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 4, 0, 0, 0, 0)  # 4-bit greyscale
    idat = zlib.compress(b"".join(rows), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def report_pages(where: Path) -> dict[str, str]:
    """Every report's HTML in both languages, from the seeded scenario."""
    seed = _seeded(f"sqlite:///{where / 'reports.db'}", where)
    s = next(seed)
    pages = {}
    for name in REPORTS:
        for lang in ("en", "zh"):
            response = s.gw.client.get(
                f"/v1/reports/{name}",
                params={**PERIOD, "format": "html", "lang": lang},
                headers=bearer(s.tokens["dpo"]),
            )
            response.raise_for_status()
            pages[f"{name}-{lang}"] = response.text
    seed.close()
    return pages


def main() -> None:
    """Write docs/img/reports/<report>-<lang>.png for every report and language."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        sys.exit("pdftoppm not found: apt-get install poppler-utils")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        pages = report_pages(where)  # before the browser: Playwright's sync API holds a loop
        with chromium_page() as page:
            page.emulate_media(media="print")
            for stem, html in pages.items():
                page.set_content(html)
                pdf = where / f"{stem}.pdf"
                pdf.write_bytes(page.pdf(prefer_css_page_size=True, print_background=True))
                args = [tool, "-r", str(DPI), "-gray", "-f", "1", "-l", "1", "-singlefile"]
                subprocess.run([*args, str(pdf), str(where / stem)], check=True)  # noqa: S603
                target = OUT / f"{stem}.png"
                target.write_bytes(grey_png(*read_pgm(where / f"{stem}.pgm")))
                print(target, target.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
