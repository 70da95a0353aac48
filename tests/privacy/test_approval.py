"""A DPO review window (GATEWAY_PRIVACY_APPROVAL): verified requests wait for a DPO's
approval before the worker runs them, and the customer's page says they are waiting."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, bearer

REASON = "identity checked against the account"


def _verified(gw: Gateway, kind: str = "erasure") -> tuple[str, str]:
    gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    request_id, token = gw.submit_privacy(kind=kind)
    verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert verified.status_code == 200, verified.text
    return request_id, token


def _approve(gw: Gateway, request_id: str, token: str) -> object:
    return gw.client.post(
        f"/v1/privacy/register/{request_id}/approve", json={"reason": REASON}, headers=bearer(token)
    )


def test_a_verified_erasure_waits_for_the_dpo(database_url: str, tmp_path: Path) -> None:
    with Gateway.start(database_url, tmp_path, privacy_approval="erasure") as gw:
        request_id, token = _verified(gw)
        assert gw.run_privacy_worker() == 0  # nothing runs before the DPO approved
        status = gw.privacy_status(request_id, token)
        assert status["state"] == "verified"
        assert status["awaiting_review"] is True
        gw.client.cookies.set("opg_request", f"{request_id}:{token}")
        page = gw.client.get("/privacy/status", headers={"Accept-Language": "en"}).text
        assert "Our data protection officer reviews every confirmed request" in page
        dpo = gw.principal("dpo")
        entry = gw.client.get(f"/v1/privacy/register/{request_id}", headers=bearer(dpo)).json()
        assert entry["approval"] == {"approved": False, "by": None, "at": None, "reason": None}

        # Not the DPO: refused, and nothing changes.
        refused = _approve(gw, request_id, gw.principal("customer_service"))
        assert_problem(refused, 403, "forbidden")
        assert gw.run_privacy_worker() == 0

        approved = _approve(gw, request_id, dpo)
        assert approved.status_code == 200, approved.text
        assert approved.json()["approval"] == {
            "approved": True,
            "by": "dpo-all",
            "at": "2026-11-20T10:00:00Z",
            "reason": REASON,
        }
        again = _approve(gw, request_id, dpo)
        assert_problem(again, 409, "invalid-transition")
        assert "approved already" in again.json()["detail"]
        assert gw.run_privacy_worker() == 1
        assert gw.privacy_status(request_id, token)["state"] == "completed"
        events = gw.client.get(
            "/v1/audit/events", params={"action": "privacy.approve"}, headers=bearer(dpo)
        ).json()["items"]
        assert [(e["actor"], e["details"]["reason"]) for e in events] == [("dpo-all", REASON)]


@pytest.mark.parametrize(("approval", "waits"), [("erasure", False), ("all", True)])
def test_access_requests_wait_only_when_all_do(
    database_url: str, tmp_path: Path, approval: str, waits: bool
) -> None:
    with Gateway.start(database_url, tmp_path, privacy_approval=approval) as gw:
        request_id, token = _verified(gw, kind="access")
        assert gw.run_privacy_worker() == (0 if waits else 1)
        assert gw.privacy_status(request_id, token)["awaiting_review"] is waits


def test_without_a_review_window_there_is_nothing_to_approve(gateway: Gateway) -> None:
    request_id, token = _verified(gateway)
    dpo = gateway.principal("dpo")
    refused = _approve(gateway, request_id, dpo)
    assert_problem(refused, 409, "invalid-transition")
    assert refused.json()["detail"] == "this request does not wait for approval"
    entry = gateway.client.get(f"/v1/privacy/register/{request_id}", headers=bearer(dpo)).json()
    assert entry["approval"] is None
    assert gateway.privacy_status(request_id, token)["awaiting_review"] is False


def test_a_request_whose_subject_was_erased_meanwhile_still_waits(
    database_url: str, tmp_path: Path
) -> None:
    """The early way out of verification (the record was erased between the code and
    the confirmation) still marks the request as waiting: nothing runs unapproved."""
    with Gateway.start(database_url, tmp_path, privacy_approval="all") as gw:
        gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
        first, first_token = gw.submit_privacy(kind="erasure")
        later, later_token = gw.submit_privacy(kind="access")
        later_code = gw.code_for(later)
        gw.verify_privacy(first, first_token, gw.code_for(first))
        approved = _approve(gw, first, gw.principal("dpo"))
        assert approved.status_code == 200, approved.text
        assert gw.run_privacy_worker() == 1  # the erasure: the record is gone
        verified = gw.verify_privacy(later, later_token, later_code)
        assert verified.status_code == 200, verified.text
        assert gw.privacy_status(later, later_token)["awaiting_review"] is True
        assert gw.run_privacy_worker() == 0
