"""The detector on texts written for each rule: what it must find, and the look-alikes
it must leave alone (tracking, order, member and reference numbers, amounts, dates)."""

from __future__ import annotations

import itertools

import pytest

from gateway.pii.analyzer import Detector, shared_detector
from gateway.pii.spans import Span
from tests.pii.values import iban, luhn, resident_id, wrong_check

PHONE, EMAIL, ID, CARD, IBAN, PERSON = (
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "CN_RESIDENT_ID",
    "BANK_CARD",
    "IBAN_CODE",
    "PERSON",
)
VALID_ID = resident_id("44030519811215239")
UNIONPAY_16 = luhn("622202100012345")
UNIONPAY_19 = luhn("621700123456789012")
VISA = luhn("411111111111111")
DE_IBAN = iban("DE", "370400440532013000")
NL_IBAN = iban("NL", "ABNA0417164300")


@pytest.fixture(scope="module")
def detector() -> Detector:
    return shared_detector()


def found(detector: Detector, text: str, *names: str) -> list[tuple[str, str]]:
    """(type, text) of each span found, in order."""
    return [(s.type, text[s.start : s.end]) for s in detector.detect(text, known_names=names)]


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("请在下午6点后送达,联系电话13987654321", "13987654321"),
        ("电话:139 8765 4321,谢谢", "139 8765 4321"),
        ("收货电话139-8765-4321", "139-8765-4321"),
        ("Call +86 139 8765 4321 first", "+86 139 8765 4321"),
        ("Please call +33612345678 before delivery", "+33612345678"),
        ("Tel. +49 30 12345678, ask for the office", "+49 30 12345678"),
        ("phone +44 7700 900123", "+44 7700 900123"),
        ("Tel. 06 12 34 56 78 (evenings)", "06 12 34 56 78"),
        ("Telefon 030 1234567", "030 1234567"),
        ("如有问题请联系13557853352", "13557853352"),
        ("Recipient below\nMobil: 06-82808161\nNote: fragile", "06-82808161"),
        ("Please call me, 933 712 669 is my Tel.", "933 712 669"),
        ("tél 07.87.12.31.00, code porte 4521B", "07.87.12.31.00"),
    ],
)
def test_phone_numbers_in_their_usual_formats(detector: Detector, text: str, phone: str) -> None:
    assert found(detector, text) == [(PHONE, phone)]


@pytest.mark.parametrize(
    "text",
    [
        "快递单号SF13812345678,已发出",  # a waybill: letters and digits are one token
        "订单编号13812345678请勿泄露",  # a label before it: an order number
        "Reference number 13812345678 for the warehouse",
        "Tracking No. 13812345678",
        "金额1419.59元已于2026-01-07退回",
        "Delivered on 2026-11-25 at 14:30, total 299.00 EUR",
        "Order +2026112512345",  # "+" and digits, but no country's number length
        "SKU-88231-BLK, model 2026-A1, room 1203",
        "Hi, still no update on ORD-2026-513711, phone me",
        "Tel: call after 2026/05/15 21:00",
    ],
)
def test_numbers_that_only_look_like_personal_data_are_left_alone(
    detector: Detector, text: str
) -> None:
    assert found(detector, text) == []


def test_resident_ids_need_a_real_date_and_check_digit(detector: Detector) -> None:
    assert found(detector, f"身份证号:{VALID_ID},清关用") == [(ID, VALID_ID)]
    ends_in_x = resident_id("31010419790724742")
    assert ends_in_x.endswith("X")
    assert found(detector, f"ID {ends_in_x.lower()}") == [(ID, ends_in_x.lower())]
    # A wrong check digit, or a 13th month, and it is not an id (nor anything else).
    assert found(detector, f"会员编号{wrong_check(VALID_ID)},不是身份证") == []
    assert found(detector, f"号码{resident_id('44030519811315239')}") == []


def test_bank_cards_pass_luhn_and_a_valid_id_is_never_also_a_card(detector: Detector) -> None:
    grouped = " ".join(UNIONPAY_16[i : i + 4] for i in range(0, 16, 4))
    assert found(detector, f"退款请打到我的银行卡{UNIONPAY_16},谢谢") == [(CARD, UNIONPAY_16)]
    assert found(detector, f"卡号 {grouped} 户名") == [(CARD, grouped)]
    assert found(detector, f"Paid with card {UNIONPAY_19} on 2026-04-08") == [(CARD, UNIONPAY_19)]
    assert found(detector, f"visa {VISA}") == [(CARD, VISA)]
    assert found(detector, f"card {wrong_check(VISA)}") == []
    # An 18-digit member number that happens to pass Luhn is not a card...
    member = luhn("35578834656480445")
    assert found(detector, f"会员编号{member}") == []
    # ... and an id that passes Luhn too is an id, once.
    ids = (resident_id(f"44030519811215{n:03d}") for n in range(1000))
    both = next(i for i in ids if not i.endswith("X") and luhn(i[:17]) == i)
    assert found(detector, f"银行卡还是身份证?{both}") == [(ID, both)]


def test_ibans_need_mod_97_and_their_country_length(detector: Detector) -> None:
    grouped = " ".join(DE_IBAN[i : i + 4] for i in range(0, len(DE_IBAN), 4))
    assert found(detector, f"refund to IBAN {DE_IBAN}") == [(IBAN, DE_IBAN)]
    assert found(detector, f"IBAN: {grouped}\nBIC: COBADEFFXXX") == [(IBAN, grouped)]
    assert found(detector, f"退款到{NL_IBAN}谢谢") == [(IBAN, NL_IBAN)]
    assert found(detector, f"IBAN {DE_IBAN[:2]}00{DE_IBAN[4:]}") == []
    assert found(detector, "order SO95183944758979, total 3634.18 EUR") == []


def test_emails_touching_chinese_text(detector: Detector) -> None:
    assert found(detector, "邮箱ugldrwc73@example.com,订单号SO1") == [
        (EMAIL, "ugldrwc73@example.com")
    ]
    assert found(detector, "Send to anna.k+gifts@mail.example.de.") == [
        (EMAIL, "anna.k+gifts@mail.example.de")
    ]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("收件人何丽,电话放门口", ["何丽"]),
        ("客服备注:客户何秀兰来电要求改地址", ["何秀兰"]),
        ("收货人改为欧阳娜娜,谢谢", ["欧阳娜娜"]),
        ("联系人:Anna Smith,邮箱见上", ["Anna Smith"]),
        ("生日快乐!爱你的周敏", ["周敏"]),
        ("Dear Jonas, happy birthday!", ["Jonas"]),
        ("Please leave it at the door. Thanks, Clara García", ["Clara García"]),
        ("Gift for Lukas Novak - happy birthday!", ["Lukas Novak"]),
        ("Merry Christmas!\n— Maarten van den Heuvel", ["Maarten van den Heuvel"]),
        ("新年快乐!—— 长孙晖梓", ["长孙晖梓"]),
        ("Recipient in China: Liu Yang, ask at the gate", ["Liu Yang"]),
        ("王芳 13987654321", ["王芳"]),
        ("送给严晖小朋友的,卡片写:祝严晖六一快乐!", ["严晖", "严晖"]),
        ("新婚快乐!祝袁娜和武娜宏百年好合", ["袁娜", "武娜宏"]),
        ("感谢您一年的付出!\n——老同学夏俊彤", ["夏俊彤"]),
        ("以上问题请尽快回复。\n此致\n韩磊毅\n2025-05-10", ["韩磊毅"]),
        ("Refund should go to the new account (C. Fournier), not the card", ["C. Fournier"]),
        ("Best regards\nAoife Ó Súilleabháin", ["Aoife Ó Súilleabháin"]),
        ("Consignee: HARRIET HOFFMANN\nPostcode: 80331", ["HARRIET HOFFMANN"]),
        ("please ship before 06.08.2025, it's for my partner Léa's birthday", ["Léa"]),
        ("付静女士的订单请加急", ["付静"]),
        ("中秋礼盒寄给何思远阿姨,贺卡写:祝您中秋快乐", ["何思远"]),
    ],
)
def test_names_after_the_cue_words_order_text_uses(
    detector: Detector, text: str, names: list[str]
) -> None:
    assert [v for t, v in found(detector, text) if t == PERSON] == names
    assert all(t in (PERSON, PHONE) for t, _ in found(detector, text))


@pytest.mark.parametrize(
    "text",
    [
        "客户马上来取,请留在前台",
        "For Christmas, please wrap it",
        "Sorry for the trouble. Kind regards, Customer Care",
        "谢谢师傅,放门卫室",
        "紧急联系人与本人关系:母亲",
        "Invoice to Costa Verde S.L., VAT number on file",
        "——深圳市蓝海电子有限公司总经理办公室",
        "订购人信息与支付人一致,申报价值¥4377.92",
        "Happy Valentine's Day from all of us",
    ],
)
def test_words_after_cues_that_are_not_names(detector: Detector, text: str) -> None:
    assert found(detector, text) == []


def test_the_orders_own_customer_name_is_found_without_a_cue(detector: Detector) -> None:
    assert found(detector, "张三,生日快乐!") == []
    assert found(detector, "张三,生日快乐!", "张三") == [(PERSON, "张三")]
    assert found(detector, "Happy birthday Sophie! From all of us", "Sophie Martin") == [
        (PERSON, "Sophie")
    ]
    # A part of a longer word is not the name.
    assert found(detector, "Martinique holidays", "Sophie Martin") == []


def test_overlaps_resolve_to_one_span_per_character(detector: Detector) -> None:
    spans = detector.detect(f"Customer {VISA} call +33612345678 Anna Smith anna@example.com")
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert [s.type for s in spans] == [CARD, PHONE, PERSON, EMAIL]
    assert isinstance(spans[0], Span)


def test_the_detector_is_built_once_per_process() -> None:
    assert shared_detector() is shared_detector()
    assert shared_detector().version == Detector().version


def test_full_width_and_other_digits_are_read_as_digits(detector: Detector) -> None:
    wide = "".join(chr(ord(c) + 0xFEE0) for c in UNIONPAY_16)
    assert found(detector, f"卡号 {wide}") == [(CARD, wide)]
    assert found(detector, "请打１３８１２３４５６７８") == [(PHONE, "１３８１２３４５６７８")]
    mail = "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"
    assert found(detector, f"邮箱{mail}") == [(EMAIL, mail)]


def test_formats_people_also_use(detector: Detector) -> None:
    grouped_id = f"{VALID_ID[:6]} {VALID_ID[6:14]} {VALID_ID[14:]}"
    assert found(detector, f"身份证 {grouped_id}") == [(ID, grouped_id)]
    assert found(detector, "手机138.1234.5678") == [(PHONE, "138.1234.5678")]
    lower = " ".join(DE_IBAN[i : i + 4] for i in range(0, len(DE_IBAN), 4)).lower()
    assert found(detector, f"iban {lower}") == [(IBAN, lower)]
    # A member number is often the member's mobile; an order number is not.
    assert found(detector, "会员号13812345678") == [(PHONE, "13812345678")]
    assert found(detector, "订单号 13812345678") == []


def test_a_name_written_against_an_address_is_not_shown_as_its_domain(
    detector: Detector,
) -> None:
    from gateway.disclosure.masks import mask_detected
    from gateway.pii.spans import DetectedText

    text = "请联系 li@mail.Anna Smith"
    assert found(detector, text) == [(EMAIL, "li@mail"), (PERSON, "Anna Smith")]
    assert mask_detected(DetectedText(text, detector.detect(text))) == "请联系 ***@mail.A*** S****"
