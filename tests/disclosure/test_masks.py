"""Masks: the examples of the issue, and properties over any input (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.core.errors import ConfigurationError
from gateway.disclosure.masks import (
    MASKS,
    get_mask,
    mask_email,
    mask_last4,
    mask_name,
    mask_phone,
    mask_redact,
    mask_resident_id,
)


@pytest.mark.parametrize(
    ("mask", "value", "expected"),
    [
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "+4915112345678", "+49*******5678"),
        (mask_phone, "+12345678", "+12**5678"),
        (mask_email, "jane@example.com", "j***@example.com"),
        (mask_email, "zhangsan@example.cn", "z***@example.cn"),
        (mask_email, "not-an-address", "***"),
        (mask_email, "a@example.com", "***@example.com"),
        (mask_email, "ab@example.com", "***@example.com"),
        (mask_email, "abc@example.com", "a***@example.com"),
        (mask_name, "张三丰", "张**"),
        (mask_name, "张三", "张*"),
        (mask_name, "John Smith", "J*** S****"),
        (mask_name, "李", "*"),
        (mask_name, "张 三", "***"),
        (mask_name, "Li A", "L* A"),
        (mask_resident_id, "11010519491231002X", "110105********002X"),
        (mask_redact, "建国路88号", "****"),
        (mask_redact, "x", "****"),
        (mask_last4, "2026112022001", "*********2001"),
        (mask_last4, "123456", "**3456"),
        (mask_last4, "12345", "*****"),
        (mask_last4, "1234", "****"),
        (mask_phone, "12345678", "********"),
        (mask_resident_id, "12345", "*****"),
    ],
)
def test_examples(mask: object, value: str, expected: str) -> None:
    assert mask(value) == expected  # type: ignore[operator]


phones = st.one_of(
    st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
    st.from_regex(r"\A\+[0-9]{8,15}\Z"),
)


@given(phones)
def test_phone_mask_keeps_edges_and_length(phone: str) -> None:
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    assert masked[:3] == phone[:3]
    assert masked[-4:] == phone[-4:]
    assert set(masked[3:-4]) == {"*"}
    assert len(masked[3:-4]) >= 2


@given(st.text(min_size=2, max_size=20).filter(lambda s: " " not in s))
def test_name_mask_shows_only_the_first_character(word: str) -> None:
    masked = mask_name(word)
    assert masked == word[0] + "*" * (len(word) - 1)


@given(st.emails())
def test_email_mask_shows_at_most_the_first_character_and_the_domain(email: str) -> None:
    local, _, domain = email.rpartition("@")
    shown = local[0] if len(local) >= 3 else ""
    assert mask_email(email) == f"{shown}***@{domain}"


@given(st.text(max_size=40))
@example("0*")  # already masked where the mask hides: unchanged, and nothing shown
def test_every_mask_is_total_and_never_returns_the_value_unchanged(value: str) -> None:
    for mask in MASKS.values():
        out = mask.apply(value)
        assert isinstance(out, str)
        # A name made of one-letter words is shown as the spec says (first letters kept).
        one_letter_words = all(len(w) <= 1 for w in value.split(" "))
        if (
            len(value) >= 2
            and mask.name != "email"
            and not (mask.name == "name" and one_letter_words)
        ):
            # Unchanged only where every character the mask hides was an asterisk already:
            # the same value with other characters there comes out changed.
            variant = value.replace("*", "x")
            assert out != value or mask.apply(variant) != variant


@given(st.text(min_size=1, max_size=40))
def test_edge_keeping_masks_hide_at_least_two_characters(value: str) -> None:
    for name in ("phone", "resident_id", "last4"):
        out = MASKS[name].apply(value)
        assert len(out) == len(value)
        assert out.count("*") >= min(2, len(value))
        kept = [a for a, b in zip(value, out, strict=True) if b != "*"]
        assert len(kept) <= max(0, len(value) - 2)


def test_unknown_mask_names_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="unknown mask 'rot13'"):
        get_mask("rot13")
    assert get_mask("phone").apply("13812345678") == "138****5678"
