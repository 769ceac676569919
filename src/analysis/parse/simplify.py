"""The simplify stage: a document's traditional characters converted to simplified, one for one.

The origin map to the capture stays exact (the original text is kept).  The
converter itself lives in :mod:`analysis.core.hanzi`, shared with the unit
normaliser.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from analysis.core.hanzi import T2SConverter, convertible_characters, t2s_converter
from analysis.core.text import AlignedText, CharacterMap, CharacterSet, is_plain_bmp, utf16_units

_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_CJK_RUN = re.compile(_CJK_CHAR.pattern + "+")


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


class _CharacterMaps(NamedTuple):
    convertible: CharacterSet  # every character OpenCC's t2s can change
    narrow: CharacterMap  # the one-for-one table's BMP-to-BMP entries
    wide: CharacterSet  # the sources of its other entries (a text holding one is translated with the dict)


@lru_cache(maxsize=1)
def _character_maps() -> _CharacterMaps:
    """The one-for-one table split for :class:`~analysis.core.text.CharacterMap` (BMP to BMP) and the rest."""
    table = _one_for_one_table()
    narrow = {code: target for code, target in table.items() if is_plain_bmp(code) and is_plain_bmp(ord(target))}
    return _CharacterMaps(
        CharacterSet(convertible_characters()),
        CharacterMap(narrow),
        CharacterSet(chr(code) for code in table if code not in narrow),
    )


def to_simplified(aligned: AlignedText) -> tuple[AlignedText, int]:
    """Convert traditional characters to simplified, one character for one.

    Each run of hanzi is converted as a phrase (so context-dependent
    characters come out right); where the phrase conversion would change the
    run's length, the run is converted character by character instead.
    Returns the new text and the number of characters changed.

    A run holding no phrase-dictionary entry converts character by character,
    so the whole text is translated once with the one-for-one table and only
    the runs in which a phrase begins are converted again, as phrases.

    Every change replaces one character by one, so the origin map of the
    text is carried over unchanged.
    """
    text = aligned.text
    maps = _character_maps()
    units = utf16_units(text)  # encoded once for the tests and the translation below (None: each falls back)
    if maps.convertible.isdisjoint(text, units):
        return aligned, 0
    converter = t2s_converter()
    if maps.wide.isdisjoint(text, units):
        simplified, changed = maps.narrow.translate_counted(text, units)
    else:
        simplified = text.translate(_one_for_one_table())
        changed = _n_changed(text, simplified)
    pieces: list[str] = []
    cursor = 0
    for position in converter.phrase_starts(text, units):
        if position < cursor:
            continue  # inside a run already converted
        start = position
        while start > 0 and _CJK_CHAR.match(text, start - 1):
            start -= 1
        run_match = _CJK_RUN.match(text, start)
        if run_match is None or run_match.end() <= position:
            continue  # the phrase begins outside any run of hanzi: no run holds it
        run = run_match.group()
        converted = converter.convert(run)
        if len(converted) != len(run):
            converted = "".join(_convert_char(converter, ch) for ch in run)
        changed += _n_changed(run, converted) - _n_changed(run, simplified[start : run_match.end()])
        pieces.append(simplified[cursor:start])
        pieces.append(converted)
        cursor = run_match.end()
    if not changed:
        return aligned, 0
    if pieces:
        pieces.append(simplified[cursor:])
        simplified = "".join(pieces)
    return aligned.substituted(simplified), changed


def _n_changed(old: str, new: str) -> int:
    return sum(1 for a, b in zip(old, new, strict=True) if a != b)


def _convert_char(converter: T2SConverter, ch: str) -> str:
    converted = converter.convert(ch)
    return converted if len(converted) == 1 else ch
