"""Traditional and simplified Chinese characters: the one OpenCC converter of the process.

Used by the simplify stage (a document, character for character) and by the
unit normaliser (a name, as a phrase).

The converter is OpenCC's ``t2s`` (the pure-Python port), made fast without
changing a single output: its phrase dictionary is small (a few hundred
entries), so a text in which no phrase occurs converts character by character
through the character dictionary — one ``str.translate`` — and only a text
holding a phrase goes through OpenCC's own (slow) phrase segmentation.
``tests/test_hanzi.py`` checks the equivalence against OpenCC itself.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import opencc
from opencc import OpenCC

from analysis.core.text import alternation, is_plain_bmp, utf16_units

_DICTIONARY_DIR = Path(opencc.__file__).parent / "dictionary"


def _entries(name: str) -> list[tuple[str, list[str]]]:
    """An OpenCC dictionary file's lines as (source, targets), split as OpenCC splits them."""
    entries = []
    for line in (_DICTIONARY_DIR / name).read_text(encoding="utf-8").splitlines():
        source, _, targets = line.strip().partition("\t")
        if source and targets:
            entries.append((source, targets.split(" ")))
    return entries


def _dictionary(name: str) -> dict[str, str]:
    """An OpenCC dictionary file as {source: first target} (OpenCC takes the first of several)."""
    return {source: targets[0] for source, targets in _entries(name)}


class T2SConverter:
    """OpenCC ``t2s``, fast: ``convert`` returns exactly what ``OpenCC("t2s").convert`` returns.

    OpenCC's port splits the text on separators, then in each piece replaces
    the longest phrase-dictionary entry found anywhere (the leftmost of
    equally long ones), recursing into the text on either side with entries
    no longer than that one; what no phrase covers is converted character by
    character.  Here the phrase occurrences are found with one regex scan and
    the same choice is made over them, instead of testing every substring.
    """

    def __init__(self) -> None:
        reference = OpenCC("t2s")
        self._separators: re.Pattern[str] = reference.split_chars_re
        self._convertible = convertible_characters()
        self._phrases = _dictionary("TSPhrases.txt")
        characters = _dictionary("TSCharacters.txt")
        if any(len(source) != 1 for source in characters):
            raise ValueError("OpenCC's TSCharacters.txt has multi-character entries: the fast path does not apply")
        # Separators are copied, never converted: OpenCC splits the text on them first.
        self._table = {
            ord(source): target for source, target in characters.items() if not self._separators.fullmatch(source)
        }
        self._by_first: dict[str, list[str]] = {}
        for phrase in self._phrases:
            self._by_first.setdefault(phrase[0], []).append(phrase)
        self._max_phrase = max(map(len, self._phrases), default=0)
        # Zero-width: every position where some phrase starts.
        firsts = re.escape("".join(sorted(self._by_first)))
        self._phrase_start = re.compile(f"(?=[{firsts}])(?=(?:{alternation(self._phrases)}))" if firsts else "(?!)")
        # For phrase_starts: flags of the phrases' first and second characters (all phrases hold two or more
        # characters of the BMP, else the flags are not used).
        self._pair_flags: tuple[np.ndarray, np.ndarray] | None = None
        if self._phrases and all(
            len(phrase) >= 2 and is_plain_bmp(ord(phrase[0])) and is_plain_bmp(ord(phrase[1]))
            for phrase in self._phrases
        ):
            first, second = np.zeros(0x10000, dtype=bool), np.zeros(0x10000, dtype=bool)
            first[[ord(phrase[0]) for phrase in self._phrases]] = True
            second[[ord(phrase[1]) for phrase in self._phrases]] = True
            self._pair_flags = (first, second)

    def has_phrase(self, text: str) -> bool:
        """Whether an entry of the phrase dictionary occurs in ``text`` (else conversion is per character)."""
        return self._phrase_start.search(text) is not None

    def phrase_starts(self, text: str, units: np.ndarray | None = None) -> list[int]:
        """Every position of ``text`` where an entry of the phrase dictionary begins (one scan).

        A part of ``text`` holding none of them converts character by character.  Only the
        positions holding a phrase's first character followed by a phrase's second character are
        tried (found for the whole text with numpy); a text with a character outside the BMP is
        scanned everywhere.  ``units``, when given, are ``utf16_units(text)`` (encoded once by the caller).
        """
        if self._pair_flags is not None and len(text) > 1:
            if units is None:
                units = utf16_units(text)
            if units is not None and len(units) == len(text):
                first, second = self._pair_flags
                candidates = np.flatnonzero(first[units[:-1]] & second[units[1:]]).tolist()
                return [position for position in candidates if self._phrase_start.match(text, position)]
        return [match.start() for match in self._phrase_start.finditer(text)]

    def character_table(self) -> dict[int, str]:
        """The character dictionary as a ``str.translate`` table."""
        return dict(self._table)

    def convert(self, text: str) -> str:
        """``text`` converted as OpenCC t2s converts it."""
        if self._convertible.isdisjoint(text):
            return text  # the usual simplified text: nothing OpenCC could change
        if not self.has_phrase(text):
            return text.translate(self._table)
        return "".join(p if i % 2 else self._convert_piece(p) for i, p in enumerate(self._separators.split(text)))

    def _convert_piece(self, piece: str) -> str:
        occurrences = [
            (match.start(), phrase)
            for match in self._phrase_start.finditer(piece)
            for phrase in self._by_first[piece[match.start()]]
            if piece.startswith(phrase, match.start())
        ]
        return self._solve(piece, 0, len(piece), None, occurrences)

    def _solve(self, piece: str, start: int, end: int, hint: int | None, occurrences: list[tuple[int, str]]) -> str:
        limit = min(end - start, self._max_phrase, hint or end - start)
        best: tuple[int, str] | None = None
        for position, phrase in occurrences:
            if start <= position and position + len(phrase) <= end and len(phrase) <= limit:
                if best is None or len(phrase) > len(best[1]) or (len(phrase) == len(best[1]) and position < best[0]):
                    best = (position, phrase)
        if best is None:
            return piece[start:end].translate(self._table)
        position, phrase = best
        after = position + len(phrase)
        left = self._solve(piece, start, position, len(phrase), occurrences) if position > start else ""
        right = self._solve(piece, after, end, len(phrase), occurrences) if after < end else ""
        return left + self._phrases[phrase] + right


@lru_cache(maxsize=1)
def t2s_converter() -> T2SConverter:
    """The one traditional -> simplified converter of this process."""
    return T2SConverter()


@lru_cache(maxsize=1)
def convertible_characters() -> frozenset[str]:
    """Every character OpenCC's t2s dictionaries can change (from its own dictionary files).

    A run of hanzi containing none of them converts to itself, so the costly
    phrase segmentation is skipped for the (usual) simplified text.
    """
    characters: set[str] = set()
    for name in ("TSCharacters.txt", "TSPhrases.txt"):
        for source, targets in _entries(name):
            for target in filter(None, targets):
                characters.update(a for a, b in zip(source, target, strict=False) if a != b)
                if len(source) != len(target):
                    characters.update(source)
    return frozenset(characters)


def simplify_text(text: str) -> str:
    """``text`` in simplified characters (phrase conversion; the length may change)."""
    return t2s_converter().convert(text)
