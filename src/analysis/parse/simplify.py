"""The simplify stage: a document's traditional characters converted to simplified, one for one.

The origin map to the capture stays exact (the original text is kept).  The
converter itself lives in :mod:`analysis.core.hanzi`, shared with the unit
normaliser.
"""

from __future__ import annotations

import re

from opencc import OpenCC

from analysis.core.hanzi import convertible_characters, t2s_converter
from analysis.core.text import AlignedText, Edit, apply_edits

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")


def to_simplified(aligned: AlignedText) -> tuple[AlignedText, int]:
    """Convert traditional characters to simplified, one character for one.

    Each run of hanzi is converted as a phrase (so context-dependent
    characters come out right); where the phrase conversion would change the
    run's length, the run is converted character by character instead.
    Returns the new text and the number of characters changed.
    """
    converter = t2s_converter()
    convertible = convertible_characters()
    edits: list[Edit] = []
    for match in _CJK_RUN.finditer(aligned.text):
        run = match.group()
        if convertible.isdisjoint(run):
            continue  # already simplified: nothing OpenCC could change
        converted = converter.convert(run)
        if len(converted) != len(run):
            converted = "".join(_convert_char(converter, ch) for ch in run)
        for offset, (old, new) in enumerate(zip(run, converted, strict=False)):
            if old != new:
                position = match.start() + offset
                edits.append(Edit(position, position + 1, new, "simplified", f"{old}->{new}"))
    if not edits:
        return aligned, 0
    return apply_edits(aligned, edits), len(edits)


def _convert_char(converter: OpenCC, ch: str) -> str:
    converted = converter.convert(ch)
    return converted if len(converted) == 1 else ch
