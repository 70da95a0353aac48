"""A caller sends X-Forwarded-For to pick its own address, and with it a fresh
rate-limit bucket (uvicorn believed the header from 127.0.0.1). Only the operator's
trusted proxies are believed, hop by hop from the right, and only addresses count."""

from __future__ import annotations

import asyncio
import ipaddress
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from gateway.accesslog.context import TrustedProxies
from gateway.core.errors import ConfigurationError
from gateway.core.settings import load_settings
from tests.browser import live_gateway
from tests.helpers import SAMPLE_ORDER, Gateway, dump_audit, scalar_sql

BODY = {"kind": "access", "contact": "13812345678", "order_id": "WEB-10001"}


def _submit_three(base: str, forwarded: list[str]) -> list[int]:
    with httpx.Client(base_url=base) as client:
        return [
            client.post(
                "/v1/privacy/requests", json=BODY, headers={"X-Forwarded-For": hop}
            ).status_code
            for hop in forwarded
        ]


def _serve(database_url: str, tmp_path: Path, trusted: str = "") -> AbstractContextManager[str]:
    with Gateway.start(database_url, tmp_path) as gw:
        gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    settings = load_settings(
        database_url=database_url,
        var_dir=tmp_path / "var",
        privacy_worker_seconds=0,
        privacy_submit_per_hour=2,
        trusted_proxies=trusted,
    )
    return live_gateway(settings)


def test_without_trusted_proxies_the_header_is_ignored(database_url: str, tmp_path: Path) -> None:
    with _serve(database_url, tmp_path) as base:
        assert _submit_three(base, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) == [
            202,
            202,
            429,
        ]
    clients = asyncio.run(
        scalar_sql(
            database_url,
            (
                "SELECT COUNT(*) FROM audit_entries WHERE action = 'privacy.submit' "
                "AND client NOT LIKE 'ip:%'"
            ),
        )
    )
    assert clients == 0  # a data subject's address is kept as a pseudonym only
    assert "198.51.100" not in asyncio.run(dump_audit(database_url)).decode()


def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(
    database_url: str, tmp_path: Path
) -> None:
    with _serve(database_url, tmp_path, trusted="127.0.0.0/8") as base:
        assert _submit_three(base, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) == [202] * 3
        # A client prepending its own hops does not escape its bucket (read from the right).
        assert _submit_three(
            base, ["1.1.1.1, 198.51.100.9", "2.2.2.2, 198.51.100.9", "not-an-ip, 198.51.100.9"]
        ) == [202, 202, 429]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # not a trusted proxy: ignored
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["198.51.100.1, 10.0.0.3"], "198.51.100.1"),  # two trusted hops
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # the client's own prefix
        ("10.0.0.2", ["drop table, 10.0.0.3"], "10.0.0.3"),  # text: stop at the last proxy
        ("10.0.0.2", ["[2001:db8::1]"], "2001:db8::1"),
        ("10.0.0.2", ["::ffff:198.51.100.7"], "198.51.100.7"),
        ("10.0.0.2", [], "10.0.0.2"),
        ("testclient", ["198.51.100.1"], None),  # not an address at all
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(
    peer: str, forwarded: list[str], client: str | None
) -> None:
    proxies = TrustedProxies([ipaddress.ip_network("10.0.0.0/24")])
    assert proxies.client(peer, forwarded) == client


def test_a_bad_trusted_proxy_setting_stops_start_up() -> None:
    with pytest.raises(ConfigurationError, match="GATEWAY_TRUSTED_PROXIES"):
        load_settings(trusted_proxies="10.0.0.1, my-proxy")
