"""Person names: after the cue words order text uses, and the order's own customer.

Names have no checksum, so each rule here is a cue a person would read the same
way: "收件人何丽", "联系人:Anna Smith", "Dear …", "Thanks, …", "王先生", a known
first name with a surname, a name right before a phone number, and (per order)
the customer's own name wherever it occurs.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

import regex

from gateway.pii import lexicon, spans
from gateway.pii.base import Found, Recognizer
from gateway.pii.context import words

_HAN = regex.compile(r"\p{Han}")
# A capitalised word ("Anna", "O'Brien", "Müller"), or an all-capitals surname
# followed by a capitalised given name ("CHEN Hao"), as passports write it.
_LATIN_WORD = r"(?:\p{Lu}[\p{L}\p{M}'’\-]*\p{Ll}[\p{L}\p{M}]*|\p{Lu}{2,}(?=[ \t]+\p{Lu}\p{Ll}))"
# Han characters are letters too: "收件人Anna" must still start a name at "A".
_NOT_AFTER_LATIN = r"(?<![\p{Latin}\p{M}'’\-])"
_PARTICLE = r"(?:van|von|de|da|di|del|der|den|le|la|du|dos|das|ter|ten|y|al|bin|Ó|Ní|Nic|Ua|Mac)"
# An initial may stand for the first name: "C. Fournier", "E. van Dijk".
_LATIN_NAME = regex.compile(
    rf"{_NOT_AFTER_LATIN}(?:\p{{Lu}}\.[ \t]*(?=(?:{_PARTICLE}[ \t]+)*\p{{Lu}}\p{{Ll}}))?"
    rf"(?:{_PARTICLE}[ \t]+)*{_LATIN_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)*{_LATIN_WORD}){{0,2}}"
)
_ONE_WORD = regex.compile(_LATIN_WORD)
_CAPS_NAME = regex.compile(
    r"\p{Lu}{2,}(?:[ \t]+(?:(?:VAN|VON|DE|DA|DI|DEL|DER|DEN|LE|LA|DU)[ \t]+)*\p{Lu}{2,}){1,2}"
    r"(?![\p{L}])"
)
_COMPANY_FORM = regex.compile(
    r"[ \t]*(?:&[ \t]*Co\b|(?:S\.?L|S\.?A|S\.?p\.?A|S\.?r\.?l|B\.?V|N\.?V|Ltd|Inc|GmbH|AG|LLC|Plc)"
    r"(?![\p{L}]))"
)
_STREET_BEFORE = regex.compile(
    r"(?:^|(?<![\p{L}]))(?:"
    + "|".join(regex.escape(w) for w in lexicon.STREET_WORDS)
    + r")[ \t]*$",
    regex.IGNORECASE,
)
_SEPARATORS = frozenset(" \t\n:：,，.-–“”\"「」『』'")
_CONNECT_ZH = regex.compile("|".join(lexicon.CONNECTORS_ZH))
_CONNECT_EN = regex.compile(
    r"[ \t]+(?:" + "|".join(regex.escape(c) for c in lexicon.CONNECTORS_EN) + r")(?![\p{L}])",
    regex.IGNORECASE,
)
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
    if given >= len(text) or not _HAN.match(text, given) or text[given] in lexicon.NOT_GIVEN_ZH:
        return None
    if text.startswith(lexicon.HONORIFICS_ZH, given) or text[start : start + 2] in (
        lexicon.NOT_NAMES_ZH
    ):
        return None
    end = given + 1
    if end < len(text) and _HAN.match(text, end) and text[end] not in lexicon.AFTER_NAME_ZH:
        end += 1
    return end


def _not_a_name(word: str) -> bool:
    """A word that is not a name in any case: "Name", "NAME", "Consignee"."""
    titled = word.capitalize()
    return word in lexicon.NOT_NAMES_EN or titled in lexicon.NOT_NAMES_EN


def latin_name_end(text: str, start: int, *, single: bool) -> int | None:
    """Where a Latin-script name starting at `start` ends (None: no name there).

    Trailing words that are not names ("Anna Please") are dropped; one word is a
    name only if `single` allows it or it is a known first name.
    """
    match = _LATIN_NAME.match(text, start)
    if match is None or _STREET_BEFORE.search(text, max(0, start - 12), start):
        return None  # no name, or a street's ("rue Victor Hugo")
    parts = list(_ONE_WORD.finditer(match.group()))
    if any(p.group() in lexicon.NOT_IN_NAMES for p in parts):
        return None
    while parts and _not_a_name(parts[-1].group()):
        parts.pop()
    if not parts or _not_a_name(parts[0].group()):
        return None
    last = parts[-1].group()
    possessive = 2 if last.endswith(("'s", "’s")) and len(last) > 3 else 0  # noqa: PLR2004
    if _COMPANY_FORM.match(text, start + parts[-1].end()):
        return None  # "Costa Verde S.L.", "Weber & Co."
    initial = match.group()[1:2] == "."
    first = parts[0].group()[: -possessive or None] if len(parts) == 1 else parts[0].group()
    if len(parts) == 1 and not single and not initial and first not in _FIRST_NAMES:
        return None
    return int(start + parts[-1].end() - possessive)  # "for my partner Léa's birthday"


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _SEPARATORS:
        position += 1
    return position


class CuedName(Recognizer):
    """A name right after a cue word, in Han or Latin script, whatever the text's language."""

    entity = spans.PERSON
    _ZH = regex.compile(
        words(lexicon.CUES_ZH).pattern + "|" + "|".join(lexicon.CUE_PATTERNS_ZH), regex.IGNORECASE
    )
    _STRONG = words(lexicon.CUES_EN_STRONG)
    _WEAK = words(lexicon.CUES_EN_WEAK)

    def find(self, text: str) -> Iterator[Found]:
        for pattern, single, score in (
            (self._ZH, True, 0.85),
            (self._STRONG, True, 0.85),
            (self._WEAK, False, 0.7),
        ):
            # Overlapping: "我妈妈王芳" is cued by 我妈 and by 妈妈.
            for cue in pattern.finditer(text, overlapped=True):
                found = self._name_after(text, cue.end(), single=single)
                if found is not None:
                    yield Found(*found, score)
                    # "祝袁娜和武娜", "名字:郭凤 & 陆豪逸": the names joined to it too.
                    for start, end in _names_from(text, found[1], joined_only=True):
                        yield Found(start, end, score)

    @staticmethod
    def _name_after(text: str, position: int, *, single: bool) -> tuple[int, int] | None:
        start = _skip(text, position)
        if text.startswith("祝", start) and han_name_end(text, start + 1) is not None:
            start += 1  # "卡片写:祝严晖六一快乐": a wish, then the name
        # "收货人改为王芳", "Thanks a lot, Anna": a connector may stand between.
        for connector in (_CONNECT_ZH, _CONNECT_EN):
            match = connector.match(text, start) or connector.match(text, position)
            if match is not None and han_name_end(text, start) is None:
                start = _skip(text, match.end())
                break
        end = han_name_end(text, start)
        if end is None:
            end = latin_name_end(text, start, single=single)
        if end is None and single:
            # "Consignee: HARRIET HOFFMANN", "name on card JAN DE VRIES"
            caps = _CAPS_NAME.match(text, start)
            if caps is not None and not any(_not_a_name(w) for w in caps.group().split()):
                end = caps.end()
        return None if end is None else (start, end)


class Signature(Recognizer):
    r"""A name signed at the end of a message ("… — Anna", "…。—— 王芳", "… see you!
    François"), or standing alone on a line ("Inês Gonçalves\n+43…")."""

    entity = spans.PERSON
    _DASH = regex.compile(r"(?:(?:^|(?<=\s))-+|[–—]+)[ \t]*(?=\S)")
    _SENTENCE_END = regex.compile(r"(?<=[.!?。！？\n])[ \t]*(?=\S)")
    _LINE = regex.compile(r"(?m)^[ \t]*(?=\S)")

    def find(self, text: str) -> Iterator[Found]:
        for dash in self._DASH.finditer(text):
            signed = _names_from(text, dash.end())
            if signed and not text[signed[-1][1] :].strip(" \t.!~"):
                yield from (Found(start, end, 0.7) for start, end in signed)
        last = list(self._SENTENCE_END.finditer(text))
        if last:
            start = last[-1].end()
            end = _name_at(text, start)
            if end is not None and not text[end:].strip(" \t.!~"):
                yield Found(start, end, 0.6)
        for line in self._LINE.finditer(text):
            start = line.end()
            end = han_name_end(text, start) or latin_name_end(text, start, single=False)
            rest = text[end : _line_end(text, end)].strip() if end is not None else None
            if end is not None and end > start and rest in ("", "收", "签收", "代收"):
                yield Found(start, end, 0.6)


_AND = regex.compile(r"[ \t]*(?:&|(?:and|und|et|y|e)(?=[ \t])|和|与|、)[ \t]*")


def _names_from(text: str, start: int, *, joined_only: bool = False) -> list[tuple[int, int]]:
    """Names from `start` on, joined by "&", "and", "和": "— Gonçalo & Sofía".

    `joined_only`: `start` is the end of a name already found; only those joined to it.
    """
    found: list[tuple[int, int]] = []
    if joined_only:
        joined = _AND.match(text, start)
        if joined is None or joined.end() == start:
            return found
        start = joined.end()
    while (end := _name_at(text, start)) is not None:
        found.append((start, end))
        joined = _AND.match(text, end)
        if joined is None or joined.end() == end:
            break
        start = joined.end()
    return found


def _name_at(text: str, start: int) -> int | None:
    return han_name_end(text, start) or latin_name_end(text, start, single=True)


def _line_end(text: str, position: int) -> int:
    newline = text.find("\n", position)
    return len(text) if newline < 0 else newline


class Addressed(Recognizer):
    """A Latin-script name addressed after a comma ("Welcome to the team, Tiago Ferreira!",
    "Merry Christmas, Åsa!"), or a name alone in parentheses."""

    entity = spans.PERSON
    _COMMA = regex.compile(r"[,，][ \t]*(?=\p{Lu})")
    _PARENTHESES = regex.compile(r"[(（][ \t]*(?P<inside>[^()（）]{2,40}?)[ \t]*[)）]")

    def find(self, text: str) -> Iterator[Found]:
        # "(Lotte de Jong)", "(王芳)": a name alone in parentheses, as after an account.
        for group in self._PARENTHESES.finditer(text):
            start = group.start("inside")
            end = han_name_end(text, start) or latin_name_end(text, start, single=False)
            inside = group["inside"]
            short = end is not None and end - start <= 4  # noqa: PLR2004 - a Chinese name
            if end == group.end("inside") and (" " in inside or short or inside in _FIRST_NAMES):
                yield Found(start, end, 0.6)
        for comma in self._COMMA.finditer(text):
            start = comma.end()
            end = latin_name_end(text, start, single=True)
            if end is None:
                continue
            after = text[end : end + 1]
            several = " " in text[start:end]
            if after == "!" or (several and after in ("", ".", ",", "!", "\n")):
                yield Found(start, end, 0.6)


class Speaker(Recognizer):
    """Who speaks in a pasted chat or a tagged line: "叶志强 下午3点", "[买家] 吕晓明 我…",
    "【售后】慕容晓燕反馈…", "何欣怡:哥,…", "François wrote: …"."""

    entity = spans.PERSON
    _LINE_START = regex.compile(
        r"(?m)(?:^|(?<=[\]】“\"]))[ \t]*(?P<tag>[\[【][^\]】\n]{1,8}[\]】][ \t]*)?"
    )
    _WHEN = regex.compile(r"[ \t]+(?:\d|上午|下午|晚上|中午|凌晨|早上|昨天|今天)")
    _VERB = regex.compile(
        r"[ \t]+(?:" + "|".join(lexicon.VERBS_AFTER_NAME_EN) + r")(?![\p{L}])", regex.IGNORECASE
    )

    def find(self, text: str) -> Iterator[Found]:
        for line in self._LINE_START.finditer(text):
            start = line.end()
            end = han_name_end(text, start)
            if end is not None:
                if self._speaks_zh(text, end, tagged=line.group("tag") is not None):
                    yield Found(start, end, 0.6)
                continue
            end = latin_name_end(text, start, single=True)
            if end is None:
                continue
            several = " " in text[start:end] or text[start:end] in _FIRST_NAMES
            if (several and text[end : end + 1] in (":", "：")) or self._VERB.match(text, end):
                yield Found(start, end, 0.6)

    def _speaks_zh(self, text: str, end: int, *, tagged: bool) -> bool:
        after = text[end : end + 1]
        if after in (":", "：") or text.startswith(_REPORTING_ZH, end):
            return True
        return after in (" ", "\t") and (tagged or self._WHEN.match(text, end) is not None)


_REPORTING_ZH = ("反馈", "说", "表示", "称", "来电", "留言", "投诉", "要求")


class Initialled(Recognizer):
    """An initial and a surname, wherever they stand: "M. Nowak", "E. van Dijk"."""

    entity = spans.PERSON
    _PATTERN = regex.compile(
        rf"(?<![\p{{L}}.])\p{{Lu}}\.[ \t]*(?:{_PARTICLE}[ \t]+)*\p{{Lu}}\p{{Ll}}"
    )

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            end = latin_name_end(text, match.start(), single=True)
            if end is not None:
                yield Found(match.start(), end, 0.6)


class PinyinName(Recognizer):
    """A Chinese name in pinyin: a Chinese surname and a capitalised given name ("Liu Yang")."""

    entity = spans.PERSON
    _PATTERN = regex.compile(
        _NOT_AFTER_LATIN
        + r"(?P<surname>\p{Lu}[a-z]{0,8}|\p{Lu}{2,9})[ \t]+\p{Lu}[a-z]{1,11}"
        + r"(?:-\p{L}[a-z]{1,6})?(?![\p{L}\p{M}])"
    )

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text, overlapped=True):
            if match.group("surname").capitalize() not in lexicon.PINYIN_SURNAMES:
                continue
            given = match.group()[match.end("surname") - match.start() :].strip()
            if given in lexicon.NOT_NAMES_EN:
                continue
            yield Found(match.start(), match.end(), 0.6)


_BEFORE_TITLE = frozenset("找给问请叫是和跟与让致联系对向")


class Honorific(Recognizer):
    """A surname or a whole name before an honorific: 王先生, 付静女士 (Mr Smith is a cue)."""

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

    _TITLE = regex.compile("|".join(lexicon.HONORIFICS_ZH))

    def find(self, text: str) -> Iterator[Found]:
        # A whole name before the title: "付静女士的订单", "寄给何思远阿姨".
        for title in self._TITLE.finditer(text):
            for length in (2, 3, 4):
                start = title.start() - length
                if start < 0 or han_name_end(text, start) != title.start():
                    continue
                before = text[start - 1 : start]
                if not _HAN.match(before) or before in _BEFORE_TITLE:
                    yield Found(start, title.start(), 0.6)
                    break
        for match in self._PATTERN.finditer(text):
            start = match.start("surname")
            if start > 0 and text[start - 1] == text[start]:
                continue  # "谢谢师傅" is thanks, not Mr Xie
            before = text[start - 1 : start]
            if text.startswith(("总", "经理"), match.end("surname")) and (
                _HAN.match(before) and before not in _BEFORE_TITLE
            ):
                continue  # "公司总经理" is a company's manager, not Mr Si
            yield Found(start, match.end("surname"), 0.6)


class KnownFirstName(Recognizer):
    """A common first name followed by a capitalised surname: "Anna Kowalski"."""

    entity = spans.PERSON
    _START = regex.compile(_NOT_AFTER_LATIN + _LATIN_WORD)

    _CAPS_FIRST = regex.compile(
        _NOT_AFTER_LATIN + r"\p{Lu}{2,}[ \t]+(?P<first>\p{Lu}[\p{L}\-]+)(?![\p{L}])"
    )

    def find(self, text: str) -> Iterator[Found]:
        for word in self._START.finditer(text):
            if word.group() not in _FIRST_NAMES:
                continue
            end = latin_name_end(text, word.start(), single=False)
            if end is not None and end > word.end():
                yield Found(word.start(), end, 0.7)
        # "HORVATH Charlotte": a surname in capitals before a known first name.
        for match in self._CAPS_FIRST.finditer(text):
            caps = match.group()[: match.start("first") - match.start()].strip()
            if match.group("first") in _FIRST_NAMES and not _not_a_name(caps):
                yield Found(match.start(), match.end(), 0.7)


_RECEIVED = ("", "收", "签收", "代收", "说")


class NameBeforePhone(Recognizer):
    """A Chinese name standing alone before a phone or id number ("王芳 13800138000",
    "实名:王芳,310101…"), or before 收 at the end of an address ("…2号,王芳收")."""

    entity = spans.PERSON
    _PATTERN = regex.compile(
        r"(?:^|(?<=[\s,，;；:：。!！?？(（、/]))(?P<name>\p{Han}{2,4})"
        r"(?:[\s:：,，]*(?=(?:\+|00)\d|1[3-9]\d(?:[\s\-]?\d{4}){2}(?!\d)|[1-9]\d{16}[\dXx](?!\d))"
        r"|(?=(?:签收|代收|收)(?:[\s,，;；。!！]|$)|你好|您好|说|的身份证|的证件))"
    )

    # "实名信息:34010420040718168X 覃美玲": a name right after the number, ending its clause.
    _AFTER = regex.compile(r"(?<=\d[Xx]?)[ \t,，]+(?P<name>\p{Han}{2,4})(?=$|[\s,，。;；!！)）])")

    def find(self, text: str) -> Iterator[Found]:
        for match in self._PATTERN.finditer(text):
            start = match.start("name")
            end = han_name_end(text, start)
            if end is not None and text[end : match.end("name")] in _RECEIVED:
                yield Found(start, end, 0.6)
        for match in self._AFTER.finditer(text):
            start = match.start("name")
            if han_name_end(text, start) == match.end("name"):
                yield Found(start, match.end("name"), 0.6)


@functools.lru_cache(maxsize=1024)
def _known_name_pattern(names: tuple[str, ...]) -> regex.Pattern[str] | None:
    """Compiled once per name: a customer's orders (and a re-detection run) repeat it."""
    variants: set[str] = set()
    for given in names:
        name = " ".join(given.split())
        if not name:
            continue
        variants.add(name)
        if _HAN.match(name) and len(name) == 3:  # noqa: PLR2004
            variants.add(name[1:])
        variants.update(part for part in name.split(" ") if len(part) >= 3)  # noqa: PLR2004
    if not variants:
        return None
    return regex.compile(
        "|".join(
            rf"{_NOT_AFTER_LATIN}{regex.escape(v)}(?![\p{{Latin}}\p{{M}}])"
            if not _HAN.match(v)
            else regex.escape(v)
            for v in sorted(variants, key=len, reverse=True)
        ),
        regex.IGNORECASE,
    )


class KnownName(Recognizer):
    """The order's own customer name, wherever it occurs in the order's free text.

    Built per order (Presidio's ad-hoc recognizers) from the name given at checkout:
    the whole name, each Latin part of three letters or more, and the given name
    of a three-character Chinese name.
    """

    entity = spans.PERSON

    def __init__(self, language: str, names: Iterable[str]) -> None:
        super().__init__(language)
        self._pattern = _known_name_pattern(tuple(names))

    def find(self, text: str) -> Iterator[Found]:
        if self._pattern is None:
            return
        for match in self._pattern.finditer(text):
            yield Found(match.start(), match.end(), 0.95)


NAME_RECOGNIZERS: tuple[type[Recognizer], ...] = (
    CuedName,
    Signature,
    Addressed,
    Speaker,
    Initialled,
    PinyinName,
    Honorific,
    KnownFirstName,
    NameBeforePhone,
)
