"""Someone who knows a customer's phone number (but not their messages) floods requests
and wrong codes for it, hoping the customer's own request, or even their correct code,
answers 429. Only what protects the customer is counted: codes sent to them, wrong
codes per request; a correct code is never refused because of other requests."""

from __future__ import annotations

from tests.helpers import SAMPLE_ORDER, Gateway, assert_problem

PHONE = "13812345678"


def test_bogus_requests_and_wrong_codes_do_not_lock_the_owner_out(gateway: Gateway) -> None:
    gw = gateway
    gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    # The stranger: the customer's phone with made-up order numbers (no code is sent),
    # then wrong codes on each of those requests until they lock.
    for n in range(8):
        bogus, token = gw.submit_privacy(contact=PHONE, order_id=f"WEB-9{n:04d}")
        for _ in range(5):
            refused = gw.verify_privacy(bogus, token, "000000")
            assert refused.status_code in {403, 429}
    assert gw.outbox() == []  # nothing reached the customer
    # The customer: a code still comes, and the right code is accepted.
    request_id, token = gw.submit_privacy(contact=PHONE)
    verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert verified.status_code == 200, verified.text
    assert verified.json()["state"] == "verified"


def test_a_flood_of_matching_requests_only_stops_the_codes(gateway: Gateway) -> None:
    """Even with the right order number, at most 3 codes an hour reach the phone; the
    answers stay 202 and alike, and the owner's first code still works."""
    gw = gateway
    gw.create_order(gw.principal("channel"), SAMPLE_ORDER)
    first, first_token = gw.submit_privacy(contact=PHONE)
    for _ in range(6):
        gw.submit_privacy(contact=PHONE)
    assert len(gw.outbox()) == 3
    assert gw.verify_privacy(first, first_token, gw.code_for(first)).status_code == 200
    late, late_token = gw.submit_privacy(contact=PHONE)
    assert_problem(gw.verify_privacy(late, late_token, "000000"), 403, "verification-code-rejected")
