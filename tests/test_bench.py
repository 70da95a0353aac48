"""The read-path benchmark still runs end to end and prints its ratio (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_read_path_benchmark_prints_its_ratio() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "bench/read_path.py",
            "--tool",
            "python",
            "--duration",
            "1",
            "--orders",
            "30",
            "--connections",
            "2",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["orders"] == 30
    assert figures["gateway_rps"] > 0
    assert figures["direct_rps"] > 0
    assert abs(figures["ratio"] - figures["gateway_rps"] / figures["direct_rps"]) < 0.002
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert 0 < figures["decrypt_us_per_field"] < 1000
    assert figures["unlogged_rps"] > 0
    cost = 1 - figures["gateway_rps"] / figures["unlogged_rps"]
    assert abs(figures["logging_cost"] - cost) < 0.002


def test_fronting_benchmark_reads_through_and_from_the_vault_and_follows_writes() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "bench/fronted_read.py",
            "--tool",
            "python",
            "--duration",
            "1",
            "--orders",
            "30",
            "--connections",
            "2",
            "--write-rate",
            "10",
            "--write-seconds",
            "1",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["orders"], figures["oms"]) == (30, "sqlite")
    assert figures["native_rps"] > 0
    assert figures["fronted_rps"] > 0  # every read answered 200 (the client checks)
    assert abs(figures["ratio"] - figures["fronted_rps"] / figures["native_rps"]) < 0.002
    assert figures["vault_rps"] > 0  # and a sample read the same as read-through
    assert abs(figures["vault_ratio"] - figures["vault_rps"] / figures["native_rps"]) < 0.002
    # The 30 orders' customers and orders, every personal cell sealed.
    assert figures["backfill_rows"] > 30
    assert figures["backfill_rows_per_s"] > 0
    assert figures["backfill_cells"] > figures["backfill_rows"]
    assert (figures["write_rate"], figures["written_orders"]) == (10, 10)
    assert figures["written_rows"] >= 10  # and the new customers among them
    assert 0 <= figures["follow_lag_p50_s"] <= figures["follow_lag_p99_s"]
    assert figures["follow_lag_p99_s"] <= figures["follow_lag_max_s"]
    assert figures["follow_passes"] >= 1
    assert figures["clear_remaining"] == 0


def test_totp_timing_benchmark_compares_wrong_codes_with_a_locked_factor() -> None:
    result = subprocess.run(
        [sys.executable, "bench/totp_timing.py", "--samples", "20", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["samples"] >= 20
    assert figures["wrong_code_median_ms"] > 0
    assert figures["locked_median_ms"] > 0
    ratio = figures["locked_median_ms"] / figures["wrong_code_median_ms"]
    assert abs(figures["ratio"] - ratio) < 0.01


def test_audit_append_benchmark_reports_each_concurrency_and_a_valid_chain() -> None:
    result = subprocess.run(
        [sys.executable, "bench/audit_append.py", "--seconds", "0.5", "--writers", "1,8", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["database"] == "sqlite"
    assert [r["writers"] for r in figures["results"]] == [1, 8]
    for run in figures["results"]:
        assert run["entries_per_s"] > 0
        assert run["chain_ok"] is True
        assert 1 <= run["mean_batch"] <= run["writers"]


def test_reports_benchmark_counts_what_it_wrote_and_measures_both_sizes() -> None:
    result = subprocess.run(
        [sys.executable, "bench/reports.py", "--entries", "3000", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["entries"] == 3000
    assert figures["records_reported"] == figures["records_written"] > 3000
    assert figures["reveals_reported"] == figures["reveals_written"] > 0
    assert figures["outliers"] == ["cs-00"]  # the one principal made to reveal far more
    assert figures["integrity_ok"] is True
    assert figures["integrity_entries_checked"] > 3000  # the whole log, reports' own entries too
    assert figures["recent_tenth_integrity_ok"] is True
    assert 300 <= figures["recent_tenth_entries_checked"] < figures["integrity_entries_checked"]
    assert figures["access_max_rss_mb_at_tenth"] > 0
    growth = figures["access_max_rss_mb"] / figures["access_max_rss_mb_at_tenth"]
    assert abs(figures["rss_growth_for_10x_entries"] - growth) < 0.01
    assert growth < 1.5  # ten times the entries, not ten times the memory
    ratio = figures["access_seconds"] / figures["direct_read_seconds"]
    assert abs(figures["ratio_to_direct_read"] - ratio) < 0.01 * ratio + 0.01
