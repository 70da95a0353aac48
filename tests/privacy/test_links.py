"""Identity resolution through the API: a contact not proven to belong to a record starts
a record of its own and a candidate link; only a DPO's confirmation widens a request."""

from __future__ import annotations

from typing import Any

from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem, bearer, sample_order

NEW_EMAIL = "zhang.new@example.com"


def _export(gw: Gateway, contact: str, order_ref: str) -> dict[str, Any]:
    request_id, token = gw.submit_privacy(kind="access", contact=contact, order_id=order_ref)
    assert gw.verify_privacy(request_id, token, gw.code_for(request_id)).is_success
    assert gw.run_privacy_worker() == 1
    response = gw.client.get(
        f"/v1/privacy/requests/{request_id}/export", headers={"X-Status-Token": token}
    )
    body: dict[str, Any] = response.json()
    return body


def test_a_confirmed_link_widens_later_requests_and_nothing_else_does(gateway: Gateway) -> None:
    gw = gateway
    writer = gw.principal("channel")
    first = gw.create_order(writer, SAMPLE_ORDER)
    # Same phone, a new e-mail: not proven to be the same person.
    second = gw.create_order(
        writer, sample_order(external_id="WEB-2", **{"customer.email": NEW_EMAIL})
    )
    assert [o["order_id"] for o in _export(gw, NEW_EMAIL, "WEB-2")["orders"]] == [second]

    dpo, auditor = gw.principal("dpo"), gw.principal("auditor")
    assert_problem(
        gw.client.get("/v1/subject-links", headers=bearer(gw.principal("customer_service"))),
        403,
        "forbidden",
    )
    [link] = gw.client.get("/v1/subject-links", headers=bearer(auditor)).json()["items"]
    assert link["state"] == "candidate"
    assert link["shared"] == ["phone"]
    assert sorted(o for r in link["records"] for o in r["order_ids"]) == sorted([first, second])
    url = f"/v1/subject-links/{link['link_id']}/confirm"
    reason = {"reason": "customer confirmed both e-mails by phone"}
    assert_problem(gw.client.post(url, json=reason, headers=bearer(auditor)), 403, "forbidden")
    confirmed = gw.client.post(url, json=reason, headers=bearer(dpo))
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["state"], confirmed.json()["decided_by"]) == ("confirmed", "dpo-all")
    assert_problem(gw.client.post(url, json=reason, headers=bearer(dpo)), 409, "invalid-transition")
    assert gw.client.get("/v1/subject-links", headers=bearer(dpo)).json()["items"] == []

    widened = _export(gw, NEW_EMAIL, "WEB-2")
    assert sorted(o["order_id"] for o in widened["orders"]) == sorted([first, second])
    events = gw.client.get(
        "/v1/audit/events?action=subject_links.confirm", headers=bearer(dpo)
    ).json()["items"]
    assert [e["details"]["reason"] for e in events] == [reason["reason"]]


def test_a_rejected_link_stays_apart_and_bad_parameters_are_refused(gateway: Gateway) -> None:
    gw = gateway
    writer = gw.principal("channel")
    gw.create_order(writer, SAMPLE_ORDER)
    second = gw.create_order(
        writer, sample_order(external_id="WEB-2", **{"customer.email": NEW_EMAIL})
    )
    dpo = gw.principal("dpo")
    [link] = gw.client.get("/v1/subject-links", headers=bearer(dpo)).json()["items"]
    rejected = gw.client.post(
        f"/v1/subject-links/{link['link_id']}/reject",
        json={"reason": "two people share a family phone"},
        headers=bearer(dpo),
    )
    assert rejected.json()["state"] == "rejected"
    assert [o["order_id"] for o in _export(gw, NEW_EMAIL, "WEB-2")["orders"]] == [second]
    listed = gw.client.get("/v1/subject-links?state=rejected", headers=bearer(dpo)).json()
    assert [i["link_id"] for i in listed["items"]] == [link["link_id"]]
    for query, field in (("state=merged", "state"), ("limit=0", "limit"), ("cursor=%%%", "cursor")):
        problem = assert_problem(
            gw.client.get(f"/v1/subject-links?{query}", headers=bearer(dpo)),
            400,
            "invalid-parameter",
        )
        assert [e["field"] for e in problem["errors"]] == [field]
    assert_problem(
        gw.client.post(
            "/v1/subject-links/not-an-id/confirm", json={"reason": "x y z"}, headers=bearer(dpo)
        ),
        404,
        "not-found",
    )


def test_the_same_contacts_again_join_their_record_without_a_link(gateway: Gateway) -> None:
    gw = gateway
    writer = gw.principal("channel")
    gw.create_order(writer, SAMPLE_ORDER)
    gw.create_order(writer, sample_order(external_id="WEB-3"))
    assert gw.count_rows("data_subjects") == 1
    assert gw.count_rows("subject_links") == 0
