"""One seeded gateway per backend for the report tests, on a database of its own.

The log is never reset between tests (it refuses deletes), and every test's clock
starts at the same instant: reports over a shared database would count other
tests' reads. So the report tests get a new database, seeded once per module with
a scenario whose figures the seed itself writes down as it goes (`Seeded.expected`),
from the API's answers, never from the log.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from gateway.core import migrate
from gateway.core.settings import Settings
from tests.conftest import _postgres_database
from tests.helpers import Gateway, bearer, sample_order, totp_code

PERIOD = {"since": "2026-11-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"}
CUSTOMERS = [
    ("WEB-20001", "13800000001", "north"),
    ("WEB-20002", "13800000002", "north"),
    ("WEB-20003", "13800000003", "south"),
    ("WEB-20004", "13800000004", "north"),
    ("WEB-20005", "13800000005", "south"),
]
PURPOSE = "customer called about a lost parcel"
FIGURES = ("accesses", "records", "personal_records", "reveals", "denials")


class _Text(HTMLParser):
    BLOCKS = frozenset({"p", "li", "dt", "dd", "th", "td", "tr", "h1", "h2", "title", "style"})

    def __init__(self, codes: bool) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._hidden = {"style"} if codes else {"style", "code"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in self._hidden

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in self._hidden
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: str, codes: bool = True) -> list[str]:
    """The lines a person reads on a report page: one per cell, fact or paragraph
    (without what is set as `<code>` unless `codes`)."""
    parser = _Text(codes)
    parser.feed(html)
    lines = "".join(parser.parts).splitlines()
    return [" ".join(line.split()) for line in lines if line.strip()]


@dataclass
class Seeded:
    gw: Gateway
    tokens: dict[str, str]
    orders: dict[str, str]
    expected: dict[str, Any] = field(default_factory=dict)


def _principal(gw: Gateway, tokens: dict[str, str], name: str, role: str, **kw: Any) -> str:
    tokens[name] = gw.principal(role, name=name, **kw)
    return tokens[name]


def _reads(s: Seeded) -> None:
    """Who reads what; the expected per-principal figures follow the answers."""
    gw, t, orders = s.gw, s.tokens, s.orders
    figures: dict[str, dict[str, int]] = {}

    def add(name: str, records: int, reveal: bool = False, denied: bool = False) -> None:
        f = figures.setdefault(name, dict.fromkeys(FIGURES, 0))
        if denied:
            f["denials"] += 1
            return
        f["accesses"] += 1
        f["records"] += records
        f["personal_records"] += records  # every role here sees some personal field
        f["reveals"] += int(reveal)

    for key in ("WEB-20001", "WEB-20002"):  # cs-a reads two orders
        assert gw.get_order(t["cs-a"], orders[key]).status_code == 200
        add("cs-a", 1)
    page = gw.client.get("/v1/orders?limit=3", headers=bearer(t["cs-b"]))
    assert page.status_code == 200
    add("cs-b", len(page.json()["items"]))
    assert gw.get_order(t["cs-b"], orders["WEB-20003"]).status_code == 200
    add("cs-b", 1)
    # cs-c reveals phones five times, with a stated purpose, and reads one order.
    secret = gw.enrol_totp(t["cs-c"])
    grant = gw.client.post(
        "/v1/unmask-grants",
        headers=bearer(t["cs-c"]),
        json={
            "purpose": PURPOSE,
            "code": totp_code(secret, gw.clock),
            "fields": ["customer.phone"],
        },
    )
    assert grant.status_code == 201, grant.text
    for key in ("WEB-20001", "WEB-20002", "WEB-20003", "WEB-20004", "WEB-20005"):
        shown = gw.client.get(
            f"/v1/orders/{orders[key]}",
            params={"reveal": "customer.phone"},
            headers={**bearer(t["cs-c"]), "X-Unmask-Grant": grant.json()["grant"]},
        )
        assert shown.status_code == 200, shown.text
        assert shown.json()["customer"]["phone"] == next(c[1] for c in CUSTOMERS if c[0] == key)
        add("cs-c", 1, reveal=True)
    assert gw.get_order(t["cs-c"], orders["WEB-20004"]).status_code == 200
    add("cs-c", 1)
    north = gw.client.get("/v1/orders?limit=50", headers=bearer(t["wh-north"]))
    add("wh-north", len(north.json()["items"]))
    books = gw.client.get("/v1/orders?limit=50", headers=bearer(t["fin"]))
    add("fin", len(books.json()["items"]))
    # Refusals: the warehouse asks for a report; the analyst searches by phone.
    refused = gw.client.get("/v1/reports/access", headers=bearer(t["wh-north"]))
    assert refused.status_code == 403
    add("wh-north", 0, denied=True)
    search = gw.client.post(
        "/v1/orders/search", headers=bearer(t["an"]), json={"phone": "13800000001"}
    )
    assert search.status_code == 403, search.text
    add("an", 0, denied=True)
    s.expected["principals"] = figures
    s.expected["wh_north_records"] = len(north.json()["items"])


def _requests(s: Seeded) -> None:
    """Five requests: completed on time (2), held past its deadline, rejected, expired."""
    gw, dpo = s.gw, s.tokens["dpo"]
    hours: list[float] = []
    ids: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for key, phone, _ in CUSTOMERS:
        kind = "access" if key == "WEB-20002" else "erasure"
        ids[key], tokens[key] = gw.submit_privacy(kind=kind, contact=phone, order_id=key)
    received = gw.clock.now()
    for key in ("WEB-20001", "WEB-20002", "WEB-20003"):
        request_id, token = ids[key], tokens[key]
        assert gw.verify_privacy(request_id, token, gw.code_for(request_id)).status_code == 200
    # A hold placed and lifted before the work ran: gone from the request, kept in its history.
    for act, reason in (
        ("hold", "chargeback under review"),
        ("lift", "the chargeback was settled"),
    ):
        moved = gw.client.post(
            f"/v1/privacy/register/{ids['WEB-20001']}/{act}",
            headers=bearer(dpo),
            json={"reason": reason},
        )
        assert moved.status_code == 200, moved.text
    held = gw.client.post(
        f"/v1/privacy/register/{ids['WEB-20003']}/hold",
        headers=bearer(dpo),
        json={"reason": "tax audit under way"},
    )
    assert held.status_code == 200, held.text
    rejected = gw.client.post(
        f"/v1/privacy/register/{ids['WEB-20004']}/reject",
        headers=bearer(dpo),
        json={"reason": "order placed by a company"},
    )
    assert rejected.status_code == 200, rejected.text
    gw.clock.advance(hours=5)
    gw.run_privacy_worker()
    done = gw.clock.now()
    hours += [(done - received).total_seconds() / 3600] * 2
    gw.clock.advance(days=20)  # past every deadline of the held request; the 5th expires
    gw.sweep()
    s.expected["requests"] = ids
    _restricted_list(s)
    s.expected["completion_hours"] = hours
    s.expected["median_hours"] = statistics.median(hours)


def _restricted_list(s: Seeded) -> None:
    """cs-b lists orders while an erasure is on hold: that customer's row comes back
    with personal fields withheld (GDPR Art. 18), and is not personal data disclosed."""
    page = s.gw.client.get("/v1/orders?limit=50", headers=bearer(s.tokens["cs-b"]))
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    withheld = [i for i in items if "customer" not in i]
    assert len(withheld) == 1  # the held erasure's order
    f = s.expected["principals"]["cs-b"]
    f["accesses"] += 1
    f["records"] += len(items)
    f["personal_records"] += len(items) - len(withheld)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    tmp = tmp_path_factory.mktemp("reports")
    if request.param == "sqlite":
        yield from _seeded(f"sqlite:///{tmp / 'reports.db'}", tmp)
    else:
        with _postgres_database("opg_reports") as url:
            yield from _seeded(url, tmp)


def _seeded(url: str, tmp: Path) -> Iterator[Seeded]:
    migrate.upgrade(Settings(database_url=url).sqlalchemy_url)
    with Gateway.start(url, tmp, audit_checkpoint_every=5) as gw:
        s = Seeded(gw, {}, {})
        channel = gw.principal("channel")
        for key, phone, region in CUSTOMERS:
            doc = sample_order(
                external_id=key,
                region=region,
                **{"customer.phone": phone, "customer.email": f"{key.lower()}@example.com"},
            )
            doc["customer"].pop("id_number")
            s.orders[key] = gw.create_order(channel, doc)
        for name, role, kw in (
            ("cs-a", "customer_service", {}),
            ("cs-b", "customer_service", {}),
            ("cs-c", "customer_service", {}),
            ("wh-north", "warehouse", {"region": "north"}),
            ("fin", "finance", {}),
            ("an", "analyst", {}),
            ("dpo", "dpo", {}),
            ("aud", "auditor", {}),
        ):
            _principal(gw, s.tokens, name, role, **kw)
        _reads(s)
        _requests(s)
        yield s
