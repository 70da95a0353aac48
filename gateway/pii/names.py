"""Person names: after the cue words order text uses, and the order's own customer.

Names have no checksum, so each rule here is a cue a person would read the same
way: "收件人何丽", "联系人:Anna Smith", "Dear …", "Thanks, …", "王先生", a known
first name with a surname, a name right before a phone number, and (per order)
the customer's own name wherever it occurs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import regex

from gateway.pii import lexicon, spans
from gateway.pii.base import Found, Recognizer
from gateway.pii.context import words

_HAN = regex.compile(r"\p{Han}")
_LATIN_WORD = r"\p{Lu}[\p{L}\p{M}'’\-]*\p{Ll}[\p{L}\p{M}]*"
_PARTICLE = r"(?:van|von|de|da|di|del|der|den|le|la|du|dos|das|ter|ten|y|al|bin)"
_LATIN_NAME = regex.compile(
    rf"(?<![\p{{L}}\p{{M}}]){_LATIN_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)*{_LATIN_WORD}){{0,2}}"
)
_ONE_WORD = regex.compile(_LATIN_WORD)
_SEPARATORS = frozenset(" \t\n:：,，.")
_FIRST_NAMES = lexicon.FIRST_NAMES - {"Mark", "Max", "Will", "Eve", "Rosa", "Grace", "Lily"}


def han_name_end(text: str, start: int) -> int | None:
    """Where a Chinese name starting at `start` ends, or None if none starts there.

    A surname, then one given-name character, then a second one unless it starts
    the next word ("王芳来电" is 王芳). Honorifics ("王先生") are left to their rule.
    """
    if text[start : start + 2] in lexicon.SURNAMES_2:
        given = start + 2
    elif text[start : start + 1] in lexicon.SURNAMES_1:
        given = start + 1
    else:
        return None
    if given >= len(text) or not _HAN.match(text, given):
        return None
    if text.startswith(lexicon.HONORIFICS_ZH, given) or text[start : start + 2] in (
        lexicon.NOT_NAMES_ZH
    ):
        return None
    end = given + 1
    if end < len(text) and _HAN.match(text, end) and text[end] not in lexicon.AFTER_NAME_ZH:
        end += 1
    return end


def latin_name_end(text: str, start: int, *, single: bool) -> int | None:
    """Where a Latin-script name starting at `start` ends (None: no name there).

    Trailing words that are not names ("Anna Please") are dropped; one word is a
    name only if `single` allows it or it is a known first name.
    """
    match = _LATIN_NAME.match(text, start)
    if match is None:
        return None
    parts = list(_ONE_WORD.finditer(match.group()))
    while parts and parts[-1].group() in lexicon.NOT_NAMES_EN:
        parts.pop()
    if not parts or parts[0].group() in lexicon.NOT_NAMES_EN:
        return None
    if len(parts) == 1 and not single and parts[0].group() not in _FIRST_NAMES:
        return None
    return int(start + parts[-1].end())


class CuedName(Recognizer):
    """A name right after a cue word, in Han or Latin script, whatever the text's language."""

    entity = spans.PERSON
    _ZH = words(lexicon.CUES_ZH)
    _STRONG = words(lexicon.CUES_EN_STRONG)
    _WEAK = words(lexicon.CUES_EN_WEAK)

    def find(self, text: str) -> Iterator[Found]:
        for pattern, single, score in ((self._ZH, True, 0.85), (self._STRONG, True, 0.85)):
            for cue in pattern.finditer(text):
                found = self._name_after(text, cue.end(), single=single)
                if found is not None:
                    yield Found(*found, score)
        for cue in self._WEAK.finditer(text):
            found = self._name_after(text, cue.end(), single=False)
            if found is not None:
                yield Found(*found, 0.7)

    @staticmethod
    def _name_after(text: str, position: int, *, single: bool) -> tuple[int, int] | None:
        start = position
        while start < len(text) and text[start] in _SEPARATORS:
            start += 1
        end = han_name_end(text, start)
        if end is None:
            end = latin_name_end(text, start, single=single)
        return None if end is None else (start, end)


class Signature(Recognizer):
    """A name signed at the end of a message: "… — Anna", "…\\n- Anna Smith"."""

    entity = spans.PERSON
    _PATTERN = regex.compile(r"(?:^|[\n\s])[\-–—~]+[ \t]*(?=\S)")

    def find(self, text: str) -> Iterator[Found]:
        for dash in self._PATTERN.finditer(text):
            start = dash.end()
            end = han_name_end(text, start) or latin_name_end(text, start, single=True)
            if end is not None and not text[end:].strip(" \t.!~"):
                yield Found(start, end, 0.7)


class Honorific(Recognizer):
    """A surname with an honorific: 王先生, 李女士, Mr Smith is handled as a cue."""

    entity = spans.PERSON
    _PATTERN = regex.compile(
        r"(?P<surname>"
        + "|".join(sorted(lexicon.SURNAMES_2))
        + "|["
        + "".join(sorted(lexicon.SURNAMES_1 - {"位", "和", "老", "小", "大"}))
        + "])(?="
        + "|".join(lexicon.HONORIFICS_ZH)
        + ")"
    )

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            yield Found(match.start("surname"), match.end("surname"), 0.6)


class KnownFirstName(Recognizer):
    """A common first name followed by a capitalised surname: "Anna Kowalski"."""

    entity = spans.PERSON
    _START = regex.compile(rf"(?<![\p{{L}}\p{{M}}]){_LATIN_WORD}")

    def find(self, text: str) -> Iterator[Found]:
        for word in self._START.finditer(text):
            if word.group() not in _FIRST_NAMES:
                continue
            end = latin_name_end(text, word.start(), single=False)
            if end is not None and end > word.end():
                yield Found(word.start(), end, 0.7)


class NameBeforePhone(Recognizer):
    """A Chinese name standing alone right before a phone number: "王芳 13800138000"."""

    entity = spans.PERSON
    _PATTERN = regex.compile(
        r"(?:^|(?<=[\s,，;；:：。!！?？(（、/]))(?P<name>\p{Han}{2,4})[\s:：]*(?=(?:\+|00)?\d{7})"
    )

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            start = match.start("name")
            if han_name_end(text, start) == match.end("name"):
                yield Found(start, match.end("name"), 0.6)


class KnownName(Recognizer):
    """The order's own customer name, wherever it occurs in the order's free text.

    Built per order (Presidio's ad-hoc recognizers) from the name given at checkout:
    the whole name, each Latin part of three letters or more, and the given name
    of a three-character Chinese name.
    """

    entity = spans.PERSON

    def __init__(self, language: str, names: Iterable[str]) -> None:
        super().__init__(language)
        variants: set[str] = set()
        for given in names:
            name = " ".join(given.split())
            if not name:
                continue
            variants.add(name)
            if _HAN.match(name) and len(name) == 3:  # noqa: PLR2004
                variants.add(name[1:])
            variants.update(part for part in name.split(" ") if len(part) >= 3)  # noqa: PLR2004
        self._pattern = (
            regex.compile(
                "|".join(
                    rf"(?<![\p{{L}}\p{{M}}]){regex.escape(v)}(?![\p{{L}}\p{{M}}])"
                    if not _HAN.match(v)
                    else regex.escape(v)
                    for v in sorted(variants, key=len, reverse=True)
                ),
                regex.IGNORECASE,
            )
            if variants
            else None
        )

    def find(self, text: str) -> Iterator[Found]:
        if self._pattern is None:
            return
        for match in self._pattern.finditer(text):
            yield Found(match.start(), match.end(), 0.95)


NAME_RECOGNIZERS: tuple[type[Recognizer], ...] = (
    CuedName,
    Signature,
    Honorific,
    KnownFirstName,
    NameBeforePhone,
)
