"""Who sees what: the compiled plans as a matrix, read by an auditor without the CSV."""

from __future__ import annotations

import re

from tests.console.test_sign_in import _get, _sign_in
from tests.helpers import Gateway, totp_code


def _cells(page: str, field: str) -> list[str]:
    row = re.search(rf'<tr data-field="{re.escape(field)}">(.*?)</tr>', page, re.S)
    assert row is not None, field
    return re.findall(r'<td class="level-([a-z_0-9]+)">', row.group(1))


def test_the_matrix_shows_each_roles_level_as_the_policy_compiles_it(gateway: Gateway) -> None:
    token = gateway.principal("auditor", name="auditor-matrix")
    secret = gateway.enrol_totp(token)
    _sign_in(gateway, token, totp_code(secret, gateway.clock))
    page = _get(gateway, "/console/matrix").text
    roles = re.findall(r'<th scope="col">([a-z_]+)</th>', page)
    assert "customer_service" in roles
    assert "warehouse" in roles
    assert "auditor" not in roles  # reads no order: no column
    services = gateway.services.policy
    for field in ("customer.phone", "shipping_address.detail", "shipping_address.city"):
        expected = [str(services.plans[r].levels.get(field, "hidden")) for r in roles]
        assert _cells(page, field) == expected
    # As policies/policy.csv says, read independently of the compiled plans:
    phone = dict(zip(roles, _cells(page, "customer.phone"), strict=True))
    detail = dict(zip(roles, _cells(page, "shipping_address.detail"), strict=True))
    city = dict(zip(roles, _cells(page, "shipping_address.city"), strict=True))
    assert phone["customer_service"] == "clear_after_2fa"
    assert detail["customer_service"] == "masked"
    assert city["customer_service"] == "clear"
    assert services.version in page
