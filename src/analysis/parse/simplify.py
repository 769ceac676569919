"""The simplify stage: a document's traditional characters converted to simplified, one for one.

The origin map to the capture stays exact (the original text is kept).  The
converter itself lives in :mod:`analysis.core.hanzi`, shared with the unit
normaliser.
"""

from __future__ import annotations

import re
from functools import lru_cache

from analysis.core.hanzi import T2SConverter, convertible_characters, t2s_converter
from analysis.core.text import AlignedText

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")


@lru_cache(maxsize=1)
def _one_for_one_table() -> dict[int, str]:
    """The converter's character table limited to hanzi mapped to one other hanzi.

    On a text holding no phrase-dictionary entry, translating with it gives
    what converting run by run gives (a run whose conversion would change its
    length falls back to characters, and a character converting to several
    is kept).
    """
    return {
        code: target
        for code, target in t2s_converter().character_table().items()
        if len(target) == 1 and target != chr(code) and _CJK_RUN.fullmatch(chr(code))
    }


def to_simplified(aligned: AlignedText) -> tuple[AlignedText, int]:
    """Convert traditional characters to simplified, one character for one.

    Each run of hanzi is converted as a phrase (so context-dependent
    characters come out right); where the phrase conversion would change the
    run's length, the run is converted character by character instead.
    Returns the new text and the number of characters changed.

    Every change replaces one character by one, so the origin map of the
    text is carried over unchanged.
    """
    text = aligned.text
    if convertible_characters().isdisjoint(text):
        return aligned, 0
    converter = t2s_converter()
    if not converter.has_phrase(text):
        table = _one_for_one_table()
        changed = sum(text.count(ch) for ch in set(text) if ord(ch) in table)
        if not changed:
            return aligned, 0
        return aligned.substituted(text.translate(table)), changed
    pieces: list[str] = []
    cursor = 0
    for match in _CJK_RUN.finditer(text):
        run = match.group()
        converted = converter.convert(run)
        if len(converted) != len(run):
            converted = "".join(_convert_char(converter, ch) for ch in run)
        if converted != run:
            pieces.append(text[cursor : match.start()])
            pieces.append(converted)
            cursor = match.end()
    if not pieces:
        return aligned, 0
    pieces.append(text[cursor:])
    simplified = "".join(pieces)
    changed = sum(1 for old, new in zip(text, simplified, strict=True) if old != new)
    return aligned.substituted(simplified), changed


def _convert_char(converter: T2SConverter, ch: str) -> str:
    converted = converter.convert(ch)
    return converted if len(converted) == 1 else ch
