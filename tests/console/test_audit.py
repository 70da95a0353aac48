"""The audit screen: search the log (here for one order's reads), and "verify now",
which names the first bad entry of a tampered log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.core import migrate
from gateway.core.settings import Settings
from tests.auditing.test_tamper import _superuser
from tests.console.test_sign_in import SAME_SITE, _csrf, _dpo, _get, _post, _sign_in
from tests.helpers import SAMPLE_ORDER, Gateway, sample_order, totp_code


@pytest.fixture
def fresh(empty_database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """A log of its own: the tampering must not reach other tests' entries."""
    migrate.upgrade(Settings(database_url=empty_database_url).sqlalchemy_url)
    with Gateway.start(empty_database_url, tmp_path) as gw:
        yield gw


def _signed_in(gw: Gateway) -> None:
    token, secret = _dpo(gw)
    _sign_in(gw, token, totp_code(secret, gw.clock))


def _seqs(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', page)]


def test_the_dpo_searches_the_log_for_one_orders_reads(gateway: Gateway) -> None:
    writer = gateway.principal("channel")
    mine = gateway.create_order(writer, SAMPLE_ORDER)
    other = gateway.create_order(writer, sample_order(external_id="WEB-2"))
    reader = gateway.principal("customer_service", name="cs-reader")
    for order in (mine, other, mine):
        gateway.clock.advance(seconds=1)
        assert gateway.get_order(reader, order).status_code == 200
    _signed_in(gateway)
    page = _get(gateway, f"/console/audit?action=orders.read&order_id={mine}").text
    cells = r"<td>\d+</td><td>[^<]+</td><td>([^<]+)</td><td>([^<]+)</td>"
    rows = re.findall(r'<tr data-seq="\d+" class="allowed">' + cells, page)
    assert rows == [("cs-reader", "orders.read")] * 2
    assert other not in page
    assert _get(gateway, "/console/audit?order_id=not-an-order").status_code == 400


def test_verify_now_names_the_first_bad_entry_of_a_tampered_log(
    fresh: Gateway, empty_database_url: str
) -> None:
    reader = fresh.principal("customer_service", name="cs-1")
    order = fresh.create_order(fresh.principal("channel"), SAMPLE_ORDER)
    for _ in range(5):
        fresh.clock.advance(seconds=1)
        fresh.get_order(reader, order)
    _signed_in(fresh)
    page = _get(fresh, "/console/audit").text
    csrf = _csrf(page)
    intact = _post(fresh, "/console/audit/verify", {"csrf": csrf}, **SAME_SITE)
    assert intact.status_code == 200, intact.text
    assert "The log is intact" in intact.text
    target = sorted(_seqs(page))[3]
    tamper = f"UPDATE audit_entries SET actor = 'someone-else' WHERE seq = {int(target)}"  # noqa: S608 - our own integer
    _superuser(empty_database_url, tamper)
    broken = _post(fresh, "/console/audit/verify", {"csrf": csrf}, **SAME_SITE)
    match = re.search(r'<strong id="first-bad">(\d+)</strong>', broken.text)
    assert match is not None, broken.text
    assert int(match.group(1)) == target
    assert _post(fresh, "/console/audit/verify", {"csrf": "0" * 64}, **SAME_SITE).status_code == 403


def test_export_gives_the_logs_lines_to_verify_offline(fresh: Gateway, tmp_path: Path) -> None:
    fresh.get_order(fresh.principal("customer_service", name="cs-2"), "0" * 8)
    _signed_in(fresh)
    export = _get(fresh, "/console/audit/export")
    assert export.status_code == 200
    assert export.headers["content-disposition"].startswith("attachment")
    assert export.headers["x-content-type-options"] == "nosniff"
    assert export.headers["cache-control"] == "no-store"
    target, key = tmp_path / "export.jsonl", tmp_path / "key.pem"
    target.write_bytes(export.content)
    key.write_text(fresh.cli("audit", "public-key").stdout)
    checked = fresh.cli("audit", "verify", "--export", str(target), "--public-key", str(key))
    assert checked.exit_code == 0, checked.output
    assert _get(fresh, "/console/audit/export?since=soon").status_code == 400
