"""The read-path benchmark still runs end to end and prints its ratio (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_read_path_benchmark_prints_its_ratio() -> None:
    result = subprocess.run(
        [sys.executable, "bench/read_path.py", "--tool", "python", "--duration", "1",
         "--orders", "30", "--connections", "2", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["orders"] == 30
    assert figures["gateway_rps"] > 0
    assert figures["direct_rps"] > 0
    assert abs(figures["ratio"] - figures["gateway_rps"] / figures["direct_rps"]) < 0.002
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert 0 < figures["decrypt_us_per_field"] < 1000


def test_totp_timing_benchmark_compares_wrong_codes_with_a_locked_factor() -> None:
    result = subprocess.run(
        [sys.executable, "bench/totp_timing.py", "--samples", "20", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["samples"] >= 20
    assert figures["wrong_code_median_ms"] > 0
    assert figures["locked_median_ms"] > 0
    ratio = figures["locked_median_ms"] / figures["wrong_code_median_ms"]
    assert abs(figures["ratio"] - ratio) < 0.01
