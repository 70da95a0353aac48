"""Masking free text from stored spans: each type by its field mask, in place;
anything without a usable detection hidden whole."""

from __future__ import annotations

from gateway.disclosure.masks import MASKS, mask_detected
from gateway.orders.sealing import decode_spans
from gateway.pii.spans import DetectedText, Span, decode, encode


def test_each_type_is_masked_where_it_stands_keeping_separators() -> None:
    text = "电话 138 1234 5678, mail jo@example.com, card 6222 0212 3456 7897, 王芳"
    spans = (
        Span(3, 16, "PHONE_NUMBER"),
        Span(23, 37, "EMAIL_ADDRESS"),
        Span(44, 63, "BANK_CARD"),
        Span(65, 67, "PERSON"),
    )
    masked = mask_detected(DetectedText(text, spans))
    assert masked == "电话 138 **** 5678, mail ***@example.com, card **** **** **** 7897, 王*"


def test_a_type_the_gateway_does_not_know_is_hidden_whole() -> None:
    assert mask_detected(DetectedText("code ABC123 ok", (Span(5, 11, "LICENSE_PLATE"),))) == (
        "code ****** ok"
    )


def test_text_without_detection_is_hidden_whole() -> None:
    assert mask_detected(DetectedText("王芳 13987654321", None)) == "****"
    assert mask_detected("王芳 13987654321") == "****"
    assert mask_detected(DetectedText("放门卫处即可", ())) == "放门卫处即可"
    assert MASKS["detected"].needs_spans


def test_stored_spans_round_trip_and_bad_ones_are_refused() -> None:
    spans = (Span(0, 2, "PERSON"), Span(3, 14, "PHONE_NUMBER"))
    assert decode(encode(spans), 14) == spans
    assert decode_spans(encode(spans), "王芳 13987654321") == spans
    for raw in ('[["PERSON",0,99]]', '[["PERSON",3,2]]', '{"a":1}', '[["PERSON",true,2]]', "x"):
        assert decode_spans(raw, "王芳 13987654321") is None, raw
    assert decode_spans(None, "text") is None
