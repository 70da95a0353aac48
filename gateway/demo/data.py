"""Deterministic, clearly fake order documents for demos, tests and benchmarks.

Phones are `139 0000 xxxx`, e-mails use `example.cn` / `example.com`, identity
numbers are well-formed but built from a fixed pattern: none belongs to a person.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from stdnum.cn import ric

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟"]
LATIN_NAMES = ["Alex Example", "Maria Muster", "John Sample", "Li Ming"]
REGIONS: dict[str, list[tuple[str, str, str, str]]] = {
    "north": [("北京市", "北京市", "朝阳区", "100022"), ("天津市", "天津市", "和平区", "300041")],
    "east": [("上海市", "上海市", "浦东新区", "200120"), ("浙江省", "杭州市", "西湖区", "310012")],
    "south": [("广东省", "深圳市", "南山区", "518052"), ("广东省", "广州市", "天河区", "510620")],
    "west": [("四川省", "成都市", "武侯区", "610041"), ("重庆市", "重庆市", "渝中区", "400010")],
}
CHANNELS = ["web", "mini_program", "tmall_shop", "jd_shop", "store"]
PRODUCTS = [
    ("SKU-RICE-01", "电饭煲", "299.00"),
    ("SKU-KETTLE-02", "电热水壶", "89.00"),
    ("SKU-TEA-03", "龙井茶 250g", "158.00"),
    ("SKU-MUG-04", "陶瓷杯", "39.90"),
    ("SKU-LAMP-05", "台灯", "129.00"),
]
STATUSES = ["pending", "paid", "paid", "shipped", "delivered", "completed"]
# Free text as customers write it, some with personal data in it ({name}: the
# customer's; {phone}: a second number), so the demo shows masking by detection.
NOTES = [
    None,
    None,
    "请在下午6点后送达",
    "放门卫处即可",
    "请提前电话联系",
    "收件人{name},备用电话{phone},放快递柜",
    "如果不在家请联系{phone}",
]
GIFTS = [None, None, None, "生日快乐", "新年快乐,万事如意", "{name},生日快乐!", "爱你的{name}"]
PAYMENTS = ["alipay", "wechat_pay", "card", "unionpay"]


def fake_resident_id(rng: random.Random) -> str:
    birth = datetime(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 45))
    body = f"110105{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # it drops the last character


def demo_order(index: int, rng: random.Random, start: datetime) -> dict[str, Any]:
    region = rng.choice(list(REGIONS))
    province, city, district, postal = rng.choice(REGIONS[region])
    chosen = rng.sample(PRODUCTS, rng.randint(1, 3))
    quantities = [rng.randint(1, 3) for _ in chosen]
    items = [
        {"sku": sku, "name": name, "quantity": qty, "unit_price": price}
        for (sku, name, price), qty in zip(chosen, quantities, strict=True)
    ]
    total = sum(qty * Decimal(price) for (_, _, price), qty in zip(chosen, quantities, strict=True))
    # Customers come back: many orders reuse an earlier customer (same name and contacts).
    person = rng.randrange(0, max(1, index * 3 // 4) + 1)
    who = random.Random(person)
    name = who.choice(LATIN_NAMES) if person % 17 == 0 else who.choice(SURNAMES) + who.choice(GIVEN)
    customer: dict[str, Any] = {
        "name": name,
        "phone": f"1390000{person:04d}",
        "email": f"customer{person:04d}@example.cn",
    }
    if index % 5 == 0:
        customer["id_number"] = fake_resident_id(rng)
    channel = rng.choice(CHANNELS)
    order: dict[str, Any] = {
        "external_id": f"{channel.upper().replace('_', '')}-{10000 + index}",
        "channel": channel,
        "region": region,
        "status": rng.choice(STATUSES),
        "created_at": (start + timedelta(minutes=37 * index)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "customer": customer,
        "shipping_address": {
            "province": province,
            "city": city,
            "district": district,
            "detail": f"示例路{rng.randint(1, 300)}号{rng.randint(1, 30)}栋",
            "postal_code": postal,
        },
        "items": items,
        "total_amount": f"{total:.2f}",
        "currency": "CNY",
        "payment": {
            "method": rng.choice(PAYMENTS),
            "transaction_id": f"2026{rng.randrange(10**12, 10**13)}",
        },
    }
    other_phone = f"1370000{rng.randrange(10**4):04d}"
    for key, choices in (("note", NOTES), ("gift_message", GIFTS)):
        value = rng.choice(choices)
        if value is not None:
            order[key] = value.format(name=name, phone=other_phone)
    return order


def demo_orders(count: int, seed: int = 2026) -> Iterator[dict[str, Any]]:
    """Fake order documents, the same for the same seed (the demo and the benchmarks)."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    for index in range(count):
        yield demo_order(index, rng, start)


# One principal per role: (name, role, region, channel). Warehouses read one region,
# a channel writes its own channel's orders.
DEMO_PRINCIPALS: list[tuple[str, str, str | None, str | None]] = [
    ("demo-customer-service", "customer_service", None, None),
    ("demo-warehouse-north", "warehouse", "north", None),
    ("demo-warehouse-south", "warehouse", "south", None),
    ("demo-finance", "finance", None, None),
    ("demo-dpo", "dpo", None, None),
    ("demo-analyst", "analyst", None, None),
    ("demo-channel-web", "channel", None, "web"),
    ("demo-admin", "admin", None, None),
]
