"""Field validators: what they accept, how they normalise, and that errors carry no values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from gateway.core import validators as v


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+4915112345678", "+4915112345678"),
        ("+1 (415) 555-0100", "+14155550100"),
    ],
)
def test_phones_are_normalised(raw: str, normalised: str) -> None:
    assert v.normalise_phone(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    ["12812345678", "1381234567", "138123456789", "+1234567", "+1234567890123456", "tel:555", ""],
)
def test_bad_phones_are_refused_without_echoing_them(raw: str) -> None:
    with pytest.raises(ValueError, match="mainland mobile") as info:
        v.normalise_phone(raw)
    assert raw not in str(info.value) or raw == ""


@given(st.from_regex(r"\A1[3-9][0-9]{9}\Z"))
def test_every_mainland_mobile_is_accepted_as_is(phone: str) -> None:
    assert v.normalise_phone(phone) == phone
    assert v.normalise_phone("+86" + phone) == phone


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("  ZhangSan@Example.COM ", "zhangsan@example.com"), ("a.b+c@example.cn", "a.b+c@example.cn")],
)
def test_emails_are_trimmed_and_lower_cased(raw: str, normalised: str) -> None:
    assert v.normalise_email(raw) == normalised


@pytest.mark.parametrize("raw", ["no-at-sign", "a@", "@example.com", "a b@example.com"])
def test_bad_emails_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a valid e-mail") as info:
        v.normalise_email(raw)
    assert raw not in str(info.value)


def test_resident_ids_need_a_valid_check_digit_and_date() -> None:
    assert v.normalise_resident_id("11010519491231002x") == "11010519491231002X"
    for bad in (
        "110105194912310021",
        "11010519491331002X",
        "1101051949123100",
        "ABCDEFGHIJKLMNOPQR",
    ):
        with pytest.raises(ValueError, match="resident identity number"):
            v.normalise_resident_id(bad)


@given(
    st.dates(min_value=__import__("datetime").date(1920, 1, 1)),
    st.integers(0, 999),
)
def test_any_well_formed_resident_id_is_accepted(birth: object, serial: int) -> None:
    body = f"110105{birth:%Y%m%d}{serial:03d}"
    number = body + ric.calc_check_digit(body + "0")
    assert v.normalise_resident_id(number) == number
    wrong = "0" if number[-1] != "0" else "1"
    with pytest.raises(ValueError, match="check digit"):
        v.normalise_resident_id(number[:-1] + wrong)


@pytest.mark.parametrize("good", ["0", "299.00", "0.5", "123456789012.1234"])
def test_money_accepts_decimal_text(good: str) -> None:
    assert v.check_money(good) == good


@pytest.mark.parametrize("bad", ["-1", "01", "1.", ".5", "1e3", "1.23456", "1,00", "1234567890123"])
def test_money_refuses_anything_else(bad: str) -> None:
    with pytest.raises(ValueError, match="decimal text"):
        v.check_money(bad)


def test_text_refuses_control_characters() -> None:
    assert v.check_text("请在下午6点后送达") == "请在下午6点后送达"
    for bad in ("line\nbreak", "abc\u202edcba", "a\u2028b", "\u2066x\u2069"):
        with pytest.raises(ValueError, match="control, line-separator"):
            v.check_text(bad)
    assert v.check_text("a\u200db") == "a\u200db"  # zero-width joiner is part of real text
