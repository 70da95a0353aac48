"""The figures of the access, DSR and PIPL audit reports equal what the seed did, as the
seed counted it from the API's answers (tests/reports/conftest.py), on both backends."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import math
import tomllib
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from tests.helpers import assert_problem, bearer, run_sql
from tests.reports.conftest import PERIOD, PURPOSE, Seeded

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def _report(s: Seeded, name: str, who: str = "dpo", **params: str) -> Any:
    response = s.gw.client.get(
        f"/v1/reports/{name}", params={**PERIOD, **params}, headers=bearer(s.tokens[who])
    )
    assert response.status_code == 200, response.text
    return response


def test_access_report_counts_each_principal_as_the_seed_did(seeded: Seeded) -> None:
    body = _report(seeded, "access").json()
    got = {p["principal"]: p for p in body["principals"]}
    roles = {
        "cs-a": "customer_service",
        "cs-b": "customer_service",
        "cs-c": "customer_service",
        "wh-north": "warehouse",
        "fin": "finance",
        "an": "analyst",
    }
    for name, want in seeded.expected["principals"].items():
        row = got[name]
        assert row["role"] == roles[name]
        assert {k: row[k] for k in want} == want, name
    assert set(got) == set(seeded.expected["principals"])  # nobody else read or was refused
    assert got["cs-c"]["reveal_rate"] == round(5 / 6, 4)
    # Reveals with their purpose, and the one principal whose rate stands out.
    assert [(r["principal"], r["purpose"], r["fields"], r["count"]) for r in body["reveals"]] == [
        ("cs-c", PURPOSE, "customer.phone", 5)
    ]
    assert [(o["principal"], o["reveals"], o["peer_median"]) for o in body["outliers"]] == [
        ("cs-c", 5, 0.0)
    ]
    assert [(d["principal"], d["action"], d["count"]) for d in body["denials"]] == [
        ("an", "orders.search", 1),
        ("wh-north", "report.access", 1),
    ]
    # Customer service saw contacts masked on every record, in clear only when revealed,
    # and never an identity number (hidden from the role).
    cs = {
        (r["category"], r["level"]): r["records"]
        for r in body["by_category_and_level"]
        if r["role"] == "customer_service"
    }
    cs_personal = sum(
        seeded.expected["principals"][n]["personal_records"] for n in ("cs-a", "cs-b", "cs-c")
    )
    assert cs[("contact", "clear")] == 5
    assert cs[("contact", "masked")] == cs_personal
    assert not any(category == "government_id" for category, _ in cs)
    wh = {
        (r["category"], r["level"]): r["records"]
        for r in body["by_category_and_level"]
        if r["role"] == "warehouse"
    }
    assert wh[("location_precise", "clear")] == seeded.expected["wh_north_records"]
    assert body["totals"]["reveals"] == 5
    assert body["totals"]["denials"] == 2


def test_a_period_before_anything_happened_is_empty(seeded: Seeded) -> None:
    body = _report(
        seeded, "access", since="2026-01-01T00:00:00Z", until="2026-11-01T00:00:00Z"
    ).json()
    assert body["principals"] == []
    assert body["totals"]["records"] == 0
    assert body["period"] == {"since": "2026-01-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"}
    dsr = _report(
        seeded, "dsr-register", since="2026-01-01T00:00:00Z", until="2026-11-01T00:00:00Z"
    ).json()
    assert dsr["requests"] == []
    assert dsr["totals"]["sla_rate"] is None


def test_dsr_register_has_every_request_and_the_sla_figures(seeded: Seeded) -> None:
    body = _report(seeded, "dsr-register").json()
    ids = seeded.expected["requests"]
    rows = {r["request_id"]: r for r in body["requests"]}
    assert set(rows) == set(ids.values())
    want = {
        "WEB-20001": ("erasure", "completed", "met"),
        "WEB-20002": ("access", "completed", "met"),
        "WEB-20003": ("erasure", "on_hold", "missed"),
        "WEB-20004": ("erasure", "rejected", "met"),
        "WEB-20005": ("erasure", "expired", "not_applicable"),
    }
    for key, (kind, state, outcome) in want.items():
        row = rows[ids[key]]
        assert (row["kind"], row["state"], row["outcome"]) == (kind, state, outcome), key
    [open_hold] = rows[ids["WEB-20003"]]["holds"]
    assert (open_hold["hold_reason"], open_hold["held_by"]) == ("tax audit under way", "dpo")
    assert open_hold["ended_at"] is None
    [lifted] = rows[ids["WEB-20001"]]["holds"]  # lifted, and still in the register
    assert (lifted["hold_reason"], lifted["ended_as"]) == ("chargeback under review", "lifted")
    assert (lifted["end_reason"], lifted["ended_by"]) == ("the chargeback was settled", "dpo")
    assert rows[ids["WEB-20004"]]["reject_reason"] == "order placed by a company"
    hours = sorted(seeded.expected["completion_hours"])
    totals = body["totals"]
    assert totals["by_kind"] == {"access": 1, "erasure": 4}
    assert totals["by_state"] == {"completed": 2, "expired": 1, "on_hold": 1, "rejected": 1}
    assert (totals["met"], totals["missed"], totals["open"]) == (3, 1, 0)
    assert totals["not_applicable"] == 1  # expired unverified
    assert totals["sla_rate"] == round(3 / 4, 4)
    assert totals["median_completion_hours"] == round(seeded.expected["median_hours"], 2)
    assert totals["p95_completion_hours"] == round(hours[math.ceil(0.95 * len(hours)) - 1], 2)
    assert (totals["legal_holds"], totals["legal_holds_lifted"], totals["rejections"]) == (2, 1, 1)


def test_csv_is_the_same_table_with_headers_in_the_language_asked(seeded: Seeded) -> None:
    body = _report(seeded, "dsr-register").json()
    text = _report(seeded, "dsr-register", format="csv", lang="zh").content.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:3] == ["请求", "类型", "状态"]
    assert [r[0] for r in rows] == [r["request_id"] for r in body["requests"]]
    assert [r[2] for r in rows] == [r["state"] for r in body["requests"]]  # codes stay codes
    assert {r[7] for r in rows} == {"false"}  # `extended`: booleans as codes too
    access = _report(seeded, "access", format="csv").content.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(access)))
    assert header[:2] == ["Principal", "Role"]
    json_rows = _report(seeded, "access").json()["principals"]
    assert [(r[0], int(r[3]), int(r[5])) for r in rows] == [
        (p["principal"], p["records"], p["reveals"]) for p in json_rows
    ]


def test_pipl_audit_draws_on_the_same_figures_and_names_findings(seeded: Seeded) -> None:
    audit = _report(seeded, "pipl-audit").json()
    dsr = _report(seeded, "dsr-register").json()["totals"]
    assert audit["requests"] == dsr
    assert audit["reveals"]["total"] == 5
    assert audit["reveals"]["by_role"]["customer_service"] == 5
    assert audit["retention"]["erasures_completed"] == 1
    assert audit["retention"]["access_requests_completed"] == 1
    assert audit["retention"]["records_erased_by_step"]["data_key"] == 1
    assert "export" not in audit["retention"]["records_erased_by_step"]  # copies erase nothing
    assert audit["integrity"]["ok"] is True
    findings = {(f["code"], f["subject"]) for f in audit["findings"]}
    assert ("dsr_deadline_missed", "1") in findings
    assert ("reveal_rate_outlier", "cs-c (customer_service)") in findings
    assert not any(code.startswith("record_") for code, _ in findings)
    classification = tomllib.loads((POLICIES / "classification.toml").read_text("utf-8"))
    sensitive = sorted(n for n, c in classification["categories"].items() if c["sensitive"])
    assert [c["category"] for c in audit["sensitive_personal_information"]] == sensitive
    assert audit["access_control"]["customer_service"]["government_id"] == "hidden"
    assert audit["access_control"]["dpo"]["government_id"] == "clear_after_2fa"


def test_pipl_pia_keeps_each_assessment_three_years(seeded: Seeded) -> None:
    pia = _report(seeded, "pipl-pia", lang="zh").json()
    record = tomllib.loads((POLICIES / "processing.toml").read_text("utf-8"))
    by_id = {a["activity"]: a for a in pia["activities"]}
    assert list(by_id) == [a["id"] for a in record["activities"]]
    for activity in record["activities"]:
        assessed: date | None = activity.get("impact_assessment", {}).get("assessed_on")
        entry = by_id[activity["id"]]
        if assessed is None:
            assert entry["assessment"] is None
            continue
        assert entry["assessment"]["assessed_on"] == assessed.isoformat()
        assert (
            entry["assessment"]["keep_until"]
            == assessed.replace(year=assessed.year + 3).isoformat()
        )
    customs = by_id["cross_border_customs"]
    assert customs["art55_triggers"] == ["art55_1_sensitive"]
    assert customs["assessment"]["assessor"] == "数据保护官会同关务合规经理"
    assert by_id["order_fulfilment"]["art55_triggers"] == [
        "art55_3_entrust_or_provide",
        "art55_4_cross_border",
    ]


def test_pipl_reports_are_kept_three_years_and_cannot_be_changed(seeded: Seeded) -> None:
    html = _report(seeded, "pipl-pia", format="html", lang="zh")
    listing = seeded.gw.client.get(
        "/v1/reports/kept", params={"report": "pipl-pia"}, headers=bearer(seeded.tokens["aud"])
    )
    assert listing.status_code == 200, listing.text
    newest = listing.json()["items"][0]
    generated = datetime.fromisoformat(newest["generated_at"])
    assert newest["keep_until"] == generated.replace(year=generated.year + 3).isoformat().replace(
        "+00:00", "Z"
    )
    assert (newest["report"], newest["lang"], newest["generated_by"]) == ("pipl-pia", "zh", "dpo")
    kept = seeded.gw.client.get(
        f"/v1/reports/kept/{newest['id']}", headers=bearer(seeded.tokens["dpo"])
    )
    assert hashlib.sha256(kept.content).hexdigest() == newest["sha256"]
    document = kept.json()
    assert document["generated_at"] == newest["generated_at"]
    assert f"#{document['chain_head']['seq']} " in html.text
    assert document["activities"][0]["name"] == "订单履行与配送"
    events = seeded.gw.client.get(
        "/v1/audit/events",
        params={"action": "report.pipl-pia", "limit": 1},
        headers=bearer(seeded.tokens["dpo"]),
    ).json()["items"]
    assert events[0]["details"]["kept_id"] == newest["id"]
    assert events[0]["details"]["sha256"] == hashlib.sha256(html.content).hexdigest()
    url = seeded.gw.settings.database_url
    replace = (
        "INSERT OR REPLACE INTO report_archive SELECT * FROM report_archive"
        if url.startswith("sqlite")
        else "INSERT INTO report_archive SELECT * FROM report_archive "
        "ON CONFLICT (id) DO UPDATE SET generated_by = 'someone-else'"
    )
    # keep_until comes from the test's clock (2026 + 3 years); the database compares it
    # with its own clock, so the DELETE is refused until then.
    for statement in (
        "UPDATE report_archive SET generated_by = 'someone-else'",
        "DELETE FROM report_archive",
        replace,
    ):
        with pytest.raises(DBAPIError, match="kept reports"):
            asyncio.run(run_sql(url, statement))
    assert (
        seeded.gw.client.get(
            f"/v1/reports/kept/{newest['id']}", headers=bearer(seeded.tokens["dpo"])
        ).content
        == kept.content
    )


def test_generating_a_report_is_logged_with_what_was_produced(seeded: Seeded) -> None:
    response = _report(seeded, "dsr-register", who="aud", format="html", lang="zh")
    assert response.headers["content-type"].startswith("text/html")
    events = seeded.gw.client.get(
        "/v1/audit/events",
        params={"action": "report.dsr-register", "limit": 1},
        headers=bearer(seeded.tokens["dpo"]),
    ).json()
    [entry] = events["items"]
    assert entry["actor"] == "aud"
    assert entry["details"]["sha256"] == hashlib.sha256(response.content).hexdigest()
    assert (entry["details"]["format"], entry["details"]["lang"]) == ("html", "zh")
    assert entry["details"]["since"] == PERIOD["since"]
    # The report names the head it was built on: the entry before its own.
    assert f"#{entry['seq'] - 1} " in response.text
    assert "个人信息主体请求登记簿" in response.text


def test_who_may_ask_and_what_is_refused(seeded: Seeded) -> None:
    gw, t = seeded.gw, seeded.tokens
    # After the reports' period: these refusals must not change the other tests' figures.
    gw.clock.advance(days=60)

    def get(path: str, who: str = "dpo", **params: str) -> Any:
        return gw.client.get(path, params=params, headers=bearer(t[who]))

    problem = assert_problem(get("/v1/reports/access", who="cs-a"), 403, "forbidden")
    assert "customer_service" in problem["detail"]
    assert_problem(get("/v1/reports/nonsense"), 404, "not-found")
    bad = assert_problem(get("/v1/reports/pipl-audit", format="csv"), 400, "invalid-parameter")
    assert bad["errors"][0]["field"] == "format"
    bad = assert_problem(
        get("/v1/reports/access", lang="fr", format="xml"), 400, "invalid-parameter"
    )
    assert sorted(e["field"] for e in bad["errors"]) == ["format", "lang"]
    bad = assert_problem(
        get("/v1/reports/access", since="2026-12-01T00:00:00Z", until="2026-11-01T00:00:00Z"),
        400,
        "invalid-parameter",
    )
    assert bad["errors"][0]["field"] == "since"
    bad = assert_problem(
        get("/v1/reports/access", since="2026-11-01T00:00:00"), 400, "invalid-parameter"
    )
    assert "time zone" in bad["errors"][0]["message"]
    assert_problem(get("/v1/reports/kept", who="cs-a"), 403, "forbidden")
    assert_problem(get("/v1/reports", who="cs-a"), 403, "forbidden")
    assert_problem(get("/v1/reports/kept/not-a-uuid"), 400, "invalid-parameter")
    assert_problem(get(f"/v1/reports/kept/{uuid.uuid4()}"), 404, "not-found")
    listing = get("/v1/reports").json()["reports"]
    assert [r["name"] for r in listing] == [
        "gdpr-ropa",
        "dsr-register",
        "access",
        "audit-integrity",
        "pipl-audit",
        "pipl-pia",
    ]
