"""Looking around a candidate: which words stand before it in its clause.

A number is read the way a person reads it: "会员编号 …" or "Tracking …" before it
makes it a label's number, "电话 …" or "call …" makes it a phone. Only the clause
the candidate is in counts, so "单号SF…,如有问题请联系138…" judges the phone by
"如有问题请联系" alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from gateway.pii import lexicon

# "." is no break: "Tel. 06 12 34 56 78" and "No. 12" keep their word.
_BREAK = regex.compile(r"[,，;；。!！?？\n、|()（）\[\]【】]")
WINDOW = 16


def words(cues: Iterable[str]) -> regex.Pattern[str]:
    """One case-insensitive pattern for `cues`; Latin cues must stand as whole words."""
    parts = []
    for cue in sorted(cues, key=len, reverse=True):
        escaped = regex.escape(cue)
        if cue[:1].isascii() and cue[:1].isalpha():
            escaped = rf"(?<![A-Za-z]){escaped}"
        if cue[-1:].isascii() and cue[-1:].isalpha():
            escaped = rf"{escaped}(?![A-Za-z])"
        parts.append(escaped)
    return regex.compile("|".join(parts), regex.IGNORECASE)


_TAIL = "|".join(regex.escape(t) for t in sorted(lexicon.LABEL_TAILS, key=len, reverse=True))


def _labels(labels: Iterable[str]) -> tuple[regex.Pattern[str], regex.Pattern[str]]:
    """The label words, and a label (perhaps with "number", "No.", "号") ending a text."""
    found = words(labels)
    ending = regex.compile(
        rf"(?:{found.pattern})(?:[\s:：.]*(?:{_TAIL}))*[\s:：#.]*$", regex.IGNORECASE
    )
    return found, ending


# issued_only -> (label words, a label ending a text)
_LABELS = {
    False: _labels(lexicon.NUMBER_LABELS),
    True: _labels(label for label in lexicon.NUMBER_LABELS if label not in lexicon.MEMBER_LABELS),
}
PHONE_CUES = words(lexicon.PHONE_CUES)
CARD_CUES = words(lexicon.CARD_CUES)


def clause_before(text: str, start: int, width: int = WINDOW) -> str:
    """Up to `width` characters before `start`, cut at the last clause break."""
    window = text[max(0, start - width) : start]
    cut = 0
    for match in _BREAK.finditer(window):
        cut = match.end()
    return window[cut:]


def clause_after(text: str, end: int, width: int = WINDOW) -> str:
    """Up to `width` characters after `end`, cut at the first clause break."""
    window = text[end : end + width]
    match = _BREAK.search(window)
    return window if match is None else window[: match.start()]


def has(pattern: regex.Pattern[str], text: str) -> bool:
    return pattern.search(text) is not None


def is_labelled_number(
    text: str, start: int, cues: regex.Pattern[str], *, issued_only: bool = False
) -> bool:
    """A label ("订单号", "Tracking") stands before the number and no `cues` word does.

    `issued_only`: labels of numbers a system issues (orders, parcels, tickets), not
    member numbers, which are often the member's own phone.
    """
    label_words, ending = _LABELS[issued_only]
    before = clause_before(text, start, width=32)
    # A cue inside a label ("积分卡" holds 卡) does not count.
    return has(ending, before) and not has(cues, label_words.sub(" ", before))
