# ruff: noqa: S608 - the tests write SQL on the OMS as its own system would
"""Attacks on the vault (issue 17, mode 2), through its real interfaces: the token API,
the OMS's own tables written as its order system (or a shop's form) would write them,
`vault follow`, reads through `GET /v1/orders...`, and privacy requests on the public
API. Each test asserts the property the vault promises. Each docstring tells the
attack as an independent security review found it working, before the fix this test
now holds the vault to."""

from __future__ import annotations

import asyncio
import copy
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.vault import is_token
from gateway.vault.sealing import normal
from tests.fronted.front import fronting
from tests.fronted.oms import (
    STRANGER_CUSTOMER_ID,
    SUBJECT_CUSTOMER_ID,
    SUBJECT_EMAIL,
    SUBJECT_ID_CARD_NO,
    SUBJECT_MOBILE,
    OmsData,
    create_oms,
    oms_rows,
)
from tests.fronted.vaulting import VAULT_MAP, run_walk
from tests.helpers import Gateway, bearer, own_store_policies, scalar_sql
from tests.systems.chain import connect, fetch, new_database, run_on

ROWS = 60
ORDER_CELLS = (
    "receiver_name",
    "receiver_mobile",
    "receiver_address",
    "buyer_memo",
    "gift_note",
    "seller_memo",
    "pay_trade_no",
)


@pytest.fixture(params=["postgresql", "mariadb"])
def oms(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, OmsData]]:
    data = oms_rows(ROWS)
    with new_database(request.param, tmp_path / "oms") as url:
        asyncio.run(create_oms(url, data))
        yield url, data


@pytest.fixture
def vaulted(oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path) -> Iterator[Gateway]:
    url, _ = oms
    with fronting(url, tmp_path, clean_sqlite_url, VAULT_MAP) as gw:
        assert run_walk(gw, "backfill").clear_remaining == 0
        yield gw


# --- helpers ----------------------------------------------------------------------------


def _tokens(gw: Gateway, principal: str, key: str, fields: dict[str, str]) -> dict[str, str]:
    """Tokens from `POST /v1/vault/tokens`, as the tmall OMS asks for them."""
    asked = gw.client.post(
        "/v1/vault/tokens",
        json={"channel": "tmall", "request_key": key, "fields": fields},
        headers=bearer(principal),
    )
    assert asked.status_code == 201, asked.text
    tokens: dict[str, str] = asked.json()["tokens"]
    return tokens


def _insert(url: str, table: str, row: dict[str, Any]) -> None:
    names = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    run_on(url, f"INSERT INTO {table} ({names}) VALUES ({marks})", params=row)


def _new_order(
    data: OmsData, order_id: int, order_no: str, customer_id: int, **cells: Any
) -> dict[str, Any]:
    """An orders row as the OMS writes it for `customer_id` (a tmall order), with
    `cells` in its personal columns."""
    template = next(o for o in data.orders if not o["is_deleted"] and o["shop_channel"] == "tmall")
    order = copy.deepcopy(template) | {
        "order_id": order_id,
        "order_no": order_no,
        "customer_id": customer_id,
        "gift_note": None,
        "seller_memo": None,
        "pay_trade_no": None,
    }
    return order | cells


def _read(gw: Gateway, reader: str, order_no: str) -> dict[str, Any]:
    shown = gw.client.get(f"/v1/orders/by-number/tmall/{order_no}", headers=bearer(reader))
    assert shown.status_code == 200, shown.text
    body: dict[str, Any] = shown.json()
    return body


def _erase(gw: Gateway, contact: str, order_no: str) -> str:
    """An erasure through the public API, verified with the code sent, run to the end."""
    request_id, token = gw.submit_privacy(contact=contact, order_id=order_no)
    verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert verified.status_code == 200, verified.text
    gw.run_privacy_worker()
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    return request_id


def _gateway_scalar(gw: Gateway, query: str) -> Any:
    return asyncio.run(scalar_sql(gw.settings.database_url, query))


# --- the token API's input --------------------------------------------------------------


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_token_api_problem_never_echoes_a_field_name_that_is_a_personal_value(
    vaulted: Gateway,
) -> None:
    """A caller's key may be a value (`{"13812345678": ...}`): the name check says so
    without echoing it, but a bad *value* under such a key is reported at
    `fields.<key>`, and the key (a phone, an e-mail) is echoed in the problem."""
    gw = vaulted
    tmall = gw.principal("channel", channel="tmall", name="oms-tmall-echo")
    for value in ("", "x" * 2001):
        answer = gw.client.post(
            "/v1/vault/tokens",
            json={
                "channel": "tmall",
                "request_key": "echo-1",
                "fields": {SUBJECT_MOBILE: value, SUBJECT_EMAIL: value},
            },
            headers=bearer(tmall),
        )
        assert answer.status_code == 422, answer.text
        assert SUBJECT_MOBILE not in answer.text
        assert SUBJECT_EMAIL not in answer.text


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_token_api_two_names_of_one_cell_is_refused_as_invalid_input_not_an_internal_error(
    vaulted: Gateway,
) -> None:
    """`customer.phone` and `customers.mobile` name the same cell: the request makes
    two records for one (channel, request key, column) and the unique constraint
    fails twice (the retry for a race repeats the same insert): a 500."""
    gw = vaulted
    tmall = gw.principal("channel", channel="tmall", name="oms-tmall-dup")
    answer = gw.client.post(
        "/v1/vault/tokens",
        json={
            "channel": "tmall",
            "request_key": "dup-1",
            "fields": {"customer.phone": SUBJECT_MOBILE, "customers.mobile": SUBJECT_MOBILE},
        },
        headers=bearer(tmall),
    )
    assert answer.status_code in {200, 201, 422}, answer.text


# --- the follower -----------------------------------------------------------------------


def test_a_token_api_token_written_over_an_already_vaulted_cell_does_not_stop_the_follower(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    """The customer changes their e-mail in the shop; the OMS does as the token API's
    guide says: it asks for a token for the new value and writes it over the old token.
    The follower binds the record to the row, but the row's cell already has a record
    (the backfill's): `uq_vault_records_cell` fails, the pass dies, and every pass after
    dies on the same row, so nothing later is ever tokenised (here a new order)."""
    gw, (url, data) = vaulted, oms
    tmall = gw.principal("channel", channel="tmall", name="oms-tmall-bind")
    new_email = "zhangsan.new@example.org"
    tokens = _tokens(
        gw,
        tmall,
        "tm-email-change-1",
        {"customer.phone": SUBJECT_MOBILE, "customer.email": new_email},
    )
    run_on(
        url,
        "UPDATE customers SET email = :t, updated_time = :at WHERE customer_id = :c",
        params={
            "t": tokens["customer.email"],
            "at": datetime(2026, 12, 2),
            "c": SUBJECT_CUSTOMER_ID,
        },
    )
    # Meanwhile the OMS takes a new order in clear (as it did before the token API).
    order = _new_order(
        data,
        data.next_order_id(),
        "TM20261202000001",
        STRANGER_CUSTOMER_ID,
        receiver_name="李四",
        receiver_mobile="13900001111",
        receiver_address="人民路1号幸福里2栋3单元401室",
        buyer_memo="到了打电话13900001111",
    )
    _insert(url, "orders", order)

    first = gw.cli("vault", "follow", "--system", "oms", "--once", "--json")
    second = gw.cli("vault", "follow", "--system", "oms", "--once", "--json")
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    [(address,)] = fetch(
        url, f"SELECT receiver_address FROM orders WHERE order_id = {order['order_id']}"
    )
    assert is_token(address)


@pytest.fixture
def small_batches(
    oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path
) -> Iterator[Gateway]:
    """The vaulted OMS with batches of 20 rows (the map's `batch`), so that a change the
    OMS makes to more rows than a batch needs no more than the tests' 60 orders."""
    url, _ = oms
    mapping = VAULT_MAP.replace("batch = 150", "batch = 20")
    assert mapping != VAULT_MAP
    with fronting(url, tmp_path, clean_sqlite_url, mapping) as gw:
        assert run_walk(gw, "backfill").clear_remaining == 0
        yield gw


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_more_changed_rows_than_a_batch_with_one_watermark_are_all_tokenised(
    small_batches: Gateway, oms: tuple[str, OmsData]
) -> None:
    """One UPDATE of the OMS's own (a seller's note on every open order, with the
    courier's phone) gives every row the same `updated_time` (MariaDB's `ON UPDATE
    CURRENT_TIMESTAMP` is the statement's second, PostgreSQL's `now()` the
    transaction's). The follower reads a batch at or after its watermark, sees the
    batch end on the watermark itself (`last == since`) and stops; the next pass starts
    at the same place. The rows beyond the first batch keep the phone in clear, pass
    after pass."""
    gw, (url, _) = small_batches, oms
    run_walk(gw, "follow_once")  # the follower has caught up with the backfill
    memo = "顺丰到付，快递员电话13712340000"
    # One statement, one time (later than any the OMS holds: its rows are dated ahead).
    run_on(
        url,
        "UPDATE orders SET seller_memo = :m, updated_time = :at",
        params={"m": memo, "at": datetime(2026, 12, 20, 10, 0, 0)},
    )
    for _ in range(3):
        passed = run_walk(gw, "follow_once")
    left = [m for (m,) in fetch(url, "SELECT seller_memo FROM orders") if not is_token(m)]
    assert left == [], f"{len(left)} rows still hold the phone in clear"
    assert passed.clear_remaining == 0


@pytest.mark.parametrize("oms", ["mariadb"], indirect=True)
def test_on_mariadb_a_row_changed_after_the_backfill_is_tokenised(
    small_batches: Gateway, oms: tuple[str, OmsData]
) -> None:
    """MariaDB's `updated_time ... ON UPDATE CURRENT_TIMESTAMP` (second precision): the
    backfill's own token writes stamp each batch's rows with one second. The follower's
    first pass walks the watermark from 1970, meets a batch of rows on one second, stops
    there and keeps that second as its watermark: no change after it is ever seen. An
    agent then types a customer's phone into one order's seller memo: never tokenised."""
    gw, (url, data) = small_batches, oms
    for _ in range(2):
        run_walk(gw, "follow_once")
    newest = max(o["order_id"] for o in data.orders)
    run_on(
        url,
        "UPDATE orders SET seller_memo = :m WHERE order_id = :id",
        params={"m": "客户来电改地址，新电话13712349999", "id": newest},
    )
    for _ in range(3):
        passed = run_walk(gw, "follow_once")
    [(memo,)] = fetch(url, f"SELECT seller_memo FROM orders WHERE order_id = {newest}")
    assert is_token(memo), "the changed row kept the phone in clear"
    assert passed.clear_remaining == 0


# --- privacy requests -------------------------------------------------------------------


def _customer_without_email(data: OmsData) -> dict[str, Any]:
    """A customer known by a mobile alone (no e-mail, no id number), with orders."""
    return next(
        c
        for c in data.customers
        if not c["email"]
        and not c["id_card_no"]
        and c["mobile"].isdigit()
        and data.orders_of(c["customer_id"])
        and c["customer_id"] not in {SUBJECT_CUSTOMER_ID, STRANGER_CUSTOMER_ID}
    )


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_an_erasure_also_takes_the_token_apis_records_of_the_customers_new_order(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    """A returning customer orders again. The OMS holds their contacts as tokens only,
    so it asks the token API for the new order's values alone (receiver, address,
    note): the records get a subject of their own (`link` with no contacts founds one),
    and binding them to the row never files them under the row's customer. The
    customer's erasure (verified by their phone, naming an earlier order) shreds their
    subject: the new order's records are not in it, the SQL connector does not find the
    row (its number and tokens are not the subject's), and the address, the receiver's
    phone and the note still open through the gateway, stay in the vault, and
    `vault restore` writes them back into the OMS in clear."""
    gw, (url, data) = vaulted, oms
    customer = _customer_without_email(data)
    earlier = data.orders_of(customer["customer_id"])[0]
    values = {
        "orders.receiver_name": customer["full_name"],
        "orders.receiver_mobile": customer["mobile"],
        "shipping_address.detail": "滨河东路77号翠湖小区8栋1单元602室",
        "note": f"放门卫，电话{customer['mobile']}",
    }
    tmall = gw.principal("channel", channel="tmall", name="oms-tmall-again")
    tokens = _tokens(gw, tmall, "tm-again-1", values)
    order = _new_order(
        data,
        data.next_order_id(),
        "TM20261203888888",
        customer["customer_id"],
        receiver_name=tokens["orders.receiver_name"],
        receiver_mobile=tokens["orders.receiver_mobile"],
        receiver_address=tokens["shipping_address.detail"],
        buyer_memo=tokens["note"],
    )
    _insert(url, "orders", order)
    run_walk(gw, "follow_once")  # binds the records to the row
    # The warehouse of the order's region sees the address in clear (the policy).
    packer = gw.principal("warehouse", region=order["sales_region"], name="wh-again")
    before = _read(gw, packer, order["order_no"])
    assert before["shipping_address"]["detail"] == values["shipping_address.detail"]

    _erase(gw, customer["mobile"], earlier["order_no"])

    after = _read(gw, packer, order["order_no"])
    assert after["shipping_address"]["detail"] != values["shipping_address.detail"]
    still_sealed = _gateway_scalar(
        gw,
        "SELECT count(*) FROM vault_records WHERE request_key = 'tm-again-1' "
        "AND length(sealed) > 0",
    )
    assert still_sealed == 0
    restored = gw.cli("vault", "restore", "--system", "oms", "--json")
    assert restored.exit_code == 0, restored.output
    [(address,)] = fetch(
        url, f"SELECT receiver_address FROM orders WHERE order_id = {order['order_id']}"
    )
    assert address != values["shipping_address.detail"]


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_a_token_copied_into_a_later_row_of_the_same_batch_does_not_bring_an_erasure_there(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    """李四's new order V gets its tokens from the token API (with his own contacts:
    they are his records). Before the follower runs, the OMS copies V's address token
    into 张三's new order A (a "same address as the last order" form, a bug: the copy
    the vault says opens nothing). One follower batch holds both rows, its records are
    read once: V binds the token; for A the stale copy still says "unbound", so the
    failed bind goes on to write A's order number into the record (`_bind` reseals
    `order_ref` whether or not it bound). 李四's erasure then gathers A's number among
    his order numbers, and the SQL connector anonymises 张三's order."""
    gw, (url, data) = vaulted, oms
    li = data.customer(STRANGER_CUSTOMER_ID)
    tmall = gw.principal("channel", channel="tmall", name="oms-tmall-copy")
    contacts = {"customer.phone": li["mobile"]} | (
        {"customer.email": li["email"]} if li["email"] else {}
    )
    tokens = _tokens(
        gw,
        tmall,
        "tm-li-1",
        contacts
        | {
            "orders.receiver_name": "李四",
            "orders.receiver_mobile": li["mobile"],
            "shipping_address.detail": "学府路5号书香门第1栋101室",
        },
    )
    first = data.next_order_id()
    v = _new_order(
        data,
        first,
        "TM20261203700001",
        STRANGER_CUSTOMER_ID,
        receiver_name=tokens["orders.receiver_name"],
        receiver_mobile=tokens["orders.receiver_mobile"],
        receiver_address=tokens["shipping_address.detail"],
        buyer_memo=None,
    )
    a = _new_order(
        data,
        first + 1,
        "TM20261203700002",
        SUBJECT_CUSTOMER_ID,
        receiver_name="张三",
        receiver_mobile=SUBJECT_MOBILE,
        receiver_address=tokens["shipping_address.detail"],  # the copy
        buyer_memo="周六日再送",
    )
    _insert(url, "orders", v)
    _insert(url, "orders", a)
    run_walk(gw, "follow_once")

    _erase(gw, li["mobile"], v["order_no"])

    [(name, memo)] = fetch(
        url,
        f"SELECT receiver_name, buyer_memo FROM orders WHERE order_id = {a['order_id']}",
    )
    assert name != "***", "李四's erasure anonymised 张三's order"
    assert memo is not None


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_an_erasure_leaves_no_blind_index_of_the_subjects_phone_in_the_vault(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    """Another customer sent 张三 a gift: his name, phone (`138-1234-5678`) and address
    are that order's receiver. The map says `receiver_mobile` identifies a phone and is
    masked on erasure: read-through (mode 1) finds that row by 张三's phone and masks
    it. Vaulted, the cell holds the sender's token, sealed under the sender's subject
    with a blind index of 张三's phone; his erasure gives the SQL connector only his own
    subjects' tokens, so the row is not found, and the vault keeps his phone sealed and
    searchable by its blind index after the erasure."""
    gw, (url, data) = vaulted, oms
    gift = next(
        o
        for o in data.orders
        if o["customer_id"] != SUBJECT_CUSTOMER_ID and o["receiver_name"] == "张三"
    )
    digest = gw.services.subjects.index("phone", normal("phone", SUBJECT_MOBILE)).hex().upper()
    query = f"SELECT count(*) FROM vault_records WHERE kind = 'phone' AND hex(digest) = '{digest}'"
    assert _gateway_scalar(gw, query) >= 2  # his own mobile, and the gift's receiver

    mine = data.orders_of(SUBJECT_CUSTOMER_ID)
    _erase(gw, SUBJECT_MOBILE, mine[0]["order_no"])

    left = _gateway_scalar(gw, query)
    [(receiver,)] = fetch(
        url, f"SELECT receiver_mobile FROM orders WHERE order_id = {gift['order_id']}"
    )
    assert left == 0, f"{left} blind index(es) of the erased subject's phone left in the vault"
    assert receiver == "***"


# --- search -----------------------------------------------------------------------------


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_a_contact_the_customers_row_no_longer_holds_finds_nothing(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    """张三 removes his e-mail from his account: the OMS sets `customers.email` to NULL.
    The follower skips an empty cell, so the cell's record stays bound to his row with
    the old value sealed and its blind index: a search by that address (which may be
    somebody else's by now) still answers his orders, though the OMS (and read-through)
    no longer knows it; nothing ever deletes the record (`vault restore` neither)."""
    gw, (url, _) = vaulted, oms
    run_on(
        url,
        "UPDATE customers SET email = NULL, updated_time = :at WHERE customer_id = :c",
        params={"at": datetime(2026, 12, 20), "c": SUBJECT_CUSTOMER_ID},
    )
    run_walk(gw, "follow_once")
    agent = gw.principal("customer_service", name="cs-old-email")
    found = gw.client.post(
        "/v1/orders/search", json={"email": SUBJECT_EMAIL}, headers=bearer(agent)
    )
    assert found.status_code == 200, found.text
    assert found.json()["items"] == []


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_rows_the_oms_deletes_leave_no_sealed_value_in_the_vault(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    """李四 deletes his shop account and the OMS deletes his rows (lines, orders,
    customer). Nothing in the vault notices: every record of those rows keeps its sealed
    value and blind index, bound to rows that no longer exist, until somebody asks for
    an erasure (and a search by his phone, or `vault restore`, never removes them)."""
    gw, (url, data) = vaulted, oms
    orders = [o["order_id"] for o in data.orders_of(STRANGER_CUSTOMER_ID, include_deleted=True)]
    listed = ", ".join(str(o) for o in orders)
    run_on(
        url,
        f"DELETE FROM order_lines WHERE order_id IN ({listed})",
        f"DELETE FROM orders WHERE order_id IN ({listed})",
        f"DELETE FROM customers WHERE customer_id = {STRANGER_CUSTOMER_ID}",
    )
    run_walk(gw, "follow_once")
    keys = ", ".join(f"'{k}'" for k in [STRANGER_CUSTOMER_ID, *orders])
    left = _gateway_scalar(
        gw,
        f"SELECT count(*) FROM vault_records WHERE row_key IN ({keys}) AND length(sealed) > 0",
    )
    assert left == 0, f"{left} sealed values of deleted rows kept"


# --- subjects ---------------------------------------------------------------------------


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_two_customers_without_contacts_in_one_batch_are_not_one_subject(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    """Two walk-in customers the store keeps with no phone ('') and no e-mail, an order
    each. `SubjectKeys.link` founds a new subject for each row without contacts, but
    `seal_rows` caches subjects by the row's contacts within a batch: every row without
    any shares the first one's subject (and so its key, its erasure, its restriction
    and its pseudonym in the audit log)."""
    gw, (url, data) = vaulted, oms
    template = data.customer(STRANGER_CUSTOMER_ID)
    first = max(c["customer_id"] for c in data.customers) + 1
    next_order = data.next_order_id()
    for offset, name in enumerate(("王五", "赵六")):
        customer = copy.deepcopy(template) | {
            "customer_id": first + offset,
            "full_name": name,
            "mobile": "",
            "email": None,
            "id_card_no": None,
        }
        _insert(url, "customers", customer)
        _insert(
            url,
            "orders",
            _new_order(
                data,
                next_order + offset,
                f"TM2026120360000{offset}",
                first + offset,
                receiver_name=name,
                receiver_mobile=f"1370000000{offset}",
                receiver_address=f"胜利街{offset + 1}号",
                buyer_memo=None,
            ),
        )
    run_walk(gw, "follow_once")
    subjects = _gateway_scalar(
        gw,
        "SELECT count(DISTINCT subject_id) FROM vault_records WHERE dataset = 'customers' "
        f"AND row_key IN ('{first}', '{first + 1}')",
    )
    assert subjects == 2


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_the_access_copy_of_a_vaulted_customer_holds_their_data_not_tokens(
    vaulted: Gateway, oms: tuple[str, OmsData]
) -> None:
    """张三 asks for a copy of his data (GDPR Art. 15, PIPL Art. 45). The SQL connector
    exports his OMS rows as they are now: tokens in every personal column. The vault,
    which holds the values, adds nothing, so the copy the request completes with is
    `"full_name": "~...", "mobile": "~..."`: none of his data, and tokens that mean
    nothing to him."""
    gw, (_, data) = vaulted, oms
    mine = data.orders_of(SUBJECT_CUSTOMER_ID)
    request_id, token = gw.submit_privacy(
        kind="access", contact=SUBJECT_MOBILE, order_id=mine[0]["order_no"]
    )
    verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert verified.status_code == 200, verified.text
    gw.run_privacy_worker()
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    export = gw.client.get(
        f"/v1/privacy/requests/{request_id}/export", headers={"X-Status-Token": token}
    )
    assert export.status_code == 200, export.text
    customers = export.json()["systems"]["oms"]["datasets"]["customers"]
    assert not any(is_token(v) for row in customers for v in row.values())
    assert SUBJECT_MOBILE in export.text


# --- restore ----------------------------------------------------------------------------


@pytest.fixture
def cooling(oms: tuple[str, OmsData], clean_sqlite_url: str, tmp_path: Path) -> Iterator[Gateway]:
    """The vaulted OMS behind a gateway whose verified erasures wait 24 hours (the
    cooling-off period an operator may set), backfilled."""
    url, _ = oms
    policies = tmp_path / "policies"
    shutil.copytree(own_store_policies(), policies)
    (policies / "systems.toml").write_text(VAULT_MAP, encoding="utf-8")
    connect(tmp_path / "systems", "oms", url)
    with Gateway.start(
        clean_sqlite_url,
        tmp_path,
        policy_dir=policies,
        systems_dir=tmp_path / "systems",
        order_source="oms",
        privacy_cooling_off_hours=24,
    ) as gw:
        assert run_walk(gw, "backfill").clear_remaining == 0
        yield gw


@pytest.mark.parametrize("oms", ["postgresql"], indirect=True)
def test_restore_does_not_put_back_a_subject_whose_erasure_is_pending(
    cooling: Gateway, oms: tuple[str, OmsData]
) -> None:
    """张三's erasure is verified and waits out its cooling-off (his records are
    restricted). The operator runs `vault restore` (leaving the gateway): his values go
    back into the OMS in clear and his vault records are deleted. When the erasure runs,
    there is no vault record left to shred and no token or order number to find his rows
    by; the map's SQL step treats only `customers.mobile` and `full_name`, so his e-mail
    and id number, which would have stayed tokens opening nothing, stay in clear."""
    gw, (url, data) = cooling, oms
    mine = data.orders_of(SUBJECT_CUSTOMER_ID)
    request_id, token = gw.submit_privacy(contact=SUBJECT_MOBILE, order_id=mine[0]["order_no"])
    verified = gw.verify_privacy(request_id, token, gw.code_for(request_id))
    assert verified.status_code == 200, verified.text

    restored = gw.cli("vault", "restore", "--system", "oms", "--json")
    assert restored.exit_code == 0, restored.output
    gw.clock.advance(hours=25)
    gw.run_privacy_worker()
    assert gw.privacy_status(request_id, token)["state"] == "completed"
    query = f"SELECT email, id_card_no FROM customers WHERE customer_id = {SUBJECT_CUSTOMER_ID}"
    [(email, id_number)] = fetch(url, query)
    assert email != SUBJECT_EMAIL
    assert id_number != SUBJECT_ID_CARD_NO
