"""Folding look-alike characters to the ASCII they stand for: a leaf module.

Full-width forms (`１３８`, `＠`, `Ｘ`) and other scripts' decimal digits (`١٣٨`) read as
the same number or address to a person, but not to a comparison. Identifiers are folded
before they are validated, indexed or compared, so `１３８１２３４５６７８` and
`13812345678` are one phone everywhere (writes, search, requests); free text is folded
one character for one before detection, so offsets still fit the original.
"""

from __future__ import annotations

import unicodedata

# One character for one: full-width ASCII forms, the ideographic space, every decimal
# digit of another script.
FOLD: dict[int, int] = {
    **{code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)},
    0x3000: 0x20,
    **{
        code: ord(str(unicodedata.digit(chr(code))))
        for code in range(0x80, 0x10000)
        if unicodedata.category(chr(code)) == "Nd"
    },
}


# Format characters (Unicode category Cf: zero-width space, joiners, the BOM, soft
# hyphen ...) show nothing to a reader; between digits they would hide a phone number.
INVISIBLE: frozenset[str] = frozenset(
    chr(code) for code in range(0x10000) if unicodedata.category(chr(code)) == "Cf"
)


def fold_identifier(value: str) -> str:
    """NFKC, then every remaining decimal digit as ASCII: what an identifier is compared as."""
    return unicodedata.normalize("NFKC", value).translate(FOLD)
