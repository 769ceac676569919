"""Traditional and simplified Chinese characters: the one OpenCC converter of the process.

Used by the simplify stage (a document, character for character) and by the
unit normaliser (a name, as a phrase).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import opencc
from opencc import OpenCC


@lru_cache(maxsize=1)
def t2s_converter() -> OpenCC:
    """The one OpenCC traditional -> simplified converter of this process."""
    return OpenCC("t2s")


@lru_cache(maxsize=1)
def convertible_characters() -> frozenset[str]:
    """Every character OpenCC's t2s dictionaries can change (from its own dictionary files).

    A run of hanzi containing none of them converts to itself, so the costly
    phrase segmentation is skipped for the (usual) simplified text.
    """
    folder = Path(opencc.__file__).parent / "dictionary"
    characters: set[str] = set()
    for name in ("TSCharacters.txt", "TSPhrases.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            source, _, targets = line.partition("\t")
            for target in targets.split():
                characters.update(a for a, b in zip(source, target, strict=False) if a != b)
                if len(source) != len(target):
                    characters.update(source)
    return frozenset(characters)


def simplify_text(text: str) -> str:
    """``text`` in simplified characters (phrase conversion; the length may change)."""
    return str(t2s_converter().convert(text))
