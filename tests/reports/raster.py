"""Printed pages as pixels: a PDF rendered by poppler's `pdftoppm` (Debian's
poppler-utils, installed by `make test`) and measured where a reader would look.

Pages are rendered as greyscale PGM, a format read here without an image library.
A table's column borders are the only long vertical lines a report draws (text
strokes are a few millimetres at most), so they give each printed column's width.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

DPI = 150
INK = 225  # darker than this is ink; table headers' #eee background (238) is not
LINE_MM = 8.0  # a vertical run this long is a border, not a glyph
_INK = bytes(49 if i < INK else 48 for i in range(256))  # b"1" for ink, b"0" for paper


def mm(pixels: float) -> float:
    return pixels * 25.4 / DPI


@dataclass(frozen=True)
class Page:
    width: int
    height: int
    pixels: bytes  # row after row, one byte per pixel

    def column(self, x: int) -> bytes:
        return self.pixels[x :: self.width].translate(_INK)

    def ink_extent(self) -> tuple[int, int]:
        """The leftmost and rightmost columns with any ink."""
        inked = [x for x in range(self.width) if b"1" in self.column(x)]
        return (inked[0], inked[-1]) if inked else (0, 0)

    def table_columns(self) -> list[list[float]]:
        """Each table's column widths (mm) on this page, tables told apart by the
        vertical span their borders share."""
        shortest = round(LINE_MM / 25.4 * DPI)
        runs: dict[tuple[int, int], list[int]] = {}
        for x in range(self.width):
            for run in re.finditer(rb"1{%d,}" % shortest, self.column(x)):
                key = next(
                    (k for k in runs if abs(k[0] - run.start()) < 4 and abs(k[1] - run.end()) < 4),
                    (run.start(), run.end()),
                )
                runs.setdefault(key, []).append(x)
        tables = []
        for xs in runs.values():
            borders = [x for i, x in enumerate(xs) if i == 0 or x - xs[i - 1] > 3]
            if len(borders) > 1:
                tables.append([mm(b - a) for a, b in itertools.pairwise(borders)])
        return tables


def _read_pgm(path: Path) -> Page:
    data = path.read_bytes()
    match = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert match is not None, path
    width, height = int(match[1]), int(match[2])
    return Page(width, height, data[match.end() : match.end() + width * height])


def render(pdf: bytes, where: Path) -> list[Page]:
    """Every page of `pdf`, rendered at `DPI`."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.fail(
            "pdftoppm not found: apt-get install poppler-utils (`make test` does, for a new .venv)"
        )
    source = where / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(  # noqa: S603 - a fixed tool on a file the test wrote
        [tool, "-r", str(DPI), "-gray", str(source), str(where / "page")], check=True
    )
    return [_read_pgm(p) for p in sorted(where.glob("page-*.pgm"))]
