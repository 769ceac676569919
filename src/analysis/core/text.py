"""Text that remembers where every character came from.

Cleaning, repairing and traditional→simplified conversion all change the
text.  Every later row (task, measure, unit, target) must still point back
into the *original* capture, so each stage expresses its changes as
:class:`Edit` objects and :func:`apply_edits` carries a character-level map
from the new text to the original one.

``AlignedText.origin_start[i]`` / ``origin_end[i]`` give the original range
that character ``i`` of the current text came from.  An inserted character
(a repair that adds a lost ``年``) has an empty range at its insertion point.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``replacement``; ``kind``/``reason`` say why."""

    start: int
    end: int
    replacement: str
    kind: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad edit range {self.start}:{self.end}")


@dataclass(frozen=True)
class AlignedText:
    """A text plus, for each character, the original range it derives from."""

    text: str
    origin_start: array = field(repr=False)
    origin_end: array = field(repr=False)
    original_length: int

    @classmethod
    def identity(cls, text: str) -> AlignedText:
        """The original text itself: character ``i`` comes from ``i:i+1``."""
        n = len(text)
        return cls(text, _int64_range(0, n), _int64_range(1, n + 1), n)

    def __len__(self) -> int:
        return len(self.text)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the span ``[start, end)`` of this text to the original text."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span {start}:{end} outside text of length {len(self.text)}")
        if start == end:
            pos = self.origin_start[start] if start < len(self.text) else self.original_length
            return pos, pos
        return self.origin_start[start], self.origin_end[end - 1]

    def substituted(self, text: str) -> AlignedText:
        """This text with characters replaced one for one by ``text`` (same length): every origin kept.

        What :func:`apply_edits` gives for equal-length replacements, without an
        ``Edit`` per character (t2s conversion, fullwidth -> ASCII).
        """
        if len(text) != len(self.text):
            raise ValueError(f"one-for-one substitution changed the length ({len(self.text)} -> {len(text)})")
        return AlignedText(text, self.origin_start, self.origin_end, self.original_length)

    def original_offset(self, position: int) -> int:
        """Original offset of the character at ``position`` (or of the end)."""
        if position >= len(self.text):
            return self.original_length
        return self.origin_start[position]


def _int64_range(start: int, stop: int) -> array:
    """``array("q", range(start, stop))``, built in C (an identity map per document)."""
    values = array("q")
    values.frombytes(np.arange(start, stop, dtype=np.int64).tobytes())
    return values


class CharacterMap:
    """A ``str.translate`` table of one BMP character for another, applied with numpy.

    ``translate`` looks every character up in a dict (slow on Chinese text);
    here the text's UTF-16 code units index one array of 65,536 entries.
    Characters outside the BMP are two surrogate code units, which the table
    maps to themselves, so they come through unchanged.  A text that cannot
    be encoded (a lone surrogate) is translated with the dict.
    """

    def __init__(self, table: dict[int, str]) -> None:
        self.table = dict(table)
        units = np.arange(0x10000, dtype=np.uint16)
        for code, target in self.table.items():
            if not (len(target) == 1 and _plain_bmp(code) and _plain_bmp(ord(target))):
                raise ValueError(f"not a one-for-one BMP mapping: U+{code:04X} -> {target!r}")
            units[code] = ord(target)
        self._units = units

    def translate(self, text: str) -> str:
        """``text.translate(self.table)``."""
        try:
            data = text.encode("utf-16-le")
        except UnicodeEncodeError:
            return text.translate(self.table)
        return self._units[np.frombuffer(data, dtype=np.uint16)].tobytes().decode("utf-16-le")

    def translate_counted(self, text: str) -> tuple[str, int]:
        """``text.translate(self.table)`` and the number of characters it changed."""
        try:
            data = text.encode("utf-16-le")
        except UnicodeEncodeError:
            translated = text.translate(self.table)
            return translated, sum(1 for old, new in zip(text, translated, strict=True) if old != new)
        units = np.frombuffer(data, dtype=np.uint16)
        mapped = self._units[units]
        # Only BMP characters change, one code unit each: changed units are changed characters.
        return mapped.tobytes().decode("utf-16-le"), int(np.count_nonzero(mapped != units))


class CharacterSet:
    """A fixed set of characters whose absence from a text is tested with numpy.

    ``frozenset.isdisjoint(text)`` hashes every character of the text; here
    the text's UTF-16 code units index one array of flags.  A text holding a
    character outside the BMP (two surrogate code units) when the set has
    such characters, or one that cannot be encoded, is tested with the set.
    """

    def __init__(self, characters: Iterable[str]) -> None:
        self.characters = frozenset(characters)
        if any(len(ch) != 1 for ch in self.characters):
            raise ValueError("a CharacterSet holds single characters")
        flags = np.zeros(0x10000, dtype=bool)
        bmp = [ord(ch) for ch in self.characters if _plain_bmp(ord(ch))]
        flags[bmp] = True
        self._flags = flags
        self._others = len(bmp) < len(self.characters)  # characters outside the BMP (or surrogates)

    def isdisjoint(self, text: str) -> bool:
        """``self.characters.isdisjoint(text)``."""
        try:
            data = text.encode("utf-16-le")
        except UnicodeEncodeError:
            return self.characters.isdisjoint(text)
        units = np.frombuffer(data, dtype=np.uint16)
        if self._flags[units].any():
            return False
        if self._others and ((units >= 0xD800) & (units <= 0xDFFF)).any():
            return self.characters.isdisjoint(text)
        return True


_NOT_SPACE = re.compile(r"\S")  # \S and str.strip() agree on what a space is (str.isspace)


def is_blank(text: str, start: int, end: int) -> bool:
    """``not text[start:end].strip()``, without copying the span: stops at its first non-space."""
    return _NOT_SPACE.search(text, start, end) is None


def _plain_bmp(code: int) -> bool:
    return 0 <= code < 0x10000 and not 0xD800 <= code <= 0xDFFF


def apply_edits(aligned: AlignedText, edits: Iterable[Edit]) -> AlignedText:
    """Apply non-overlapping edits (any order) and carry the origin map along.

    A replacement of equal length maps character by character; any other
    replacement maps every new character to the whole replaced range (or, for
    a pure insertion, to the empty range at the insertion point).
    """
    ordered: Sequence[Edit] = sorted(edits, key=lambda e: (e.start, e.end))
    text = aligned.text
    pieces: list[str] = []
    new_start = array("q")
    new_end = array("q")
    cursor = 0
    for edit in ordered:
        if edit.start < cursor:
            raise ValueError(f"overlapping edits at {edit.start} ({edit.kind})")
        if edit.end > len(text):
            raise ValueError(f"edit {edit.start}:{edit.end} beyond text end {len(text)}")
        pieces.append(text[cursor : edit.start])
        new_start.extend(aligned.origin_start[cursor : edit.start])
        new_end.extend(aligned.origin_end[cursor : edit.start])
        replaced = edit.end - edit.start
        if len(edit.replacement) == replaced:
            new_start.extend(aligned.origin_start[edit.start : edit.end])
            new_end.extend(aligned.origin_end[edit.start : edit.end])
        elif edit.replacement:
            lo, hi = aligned.original_span(edit.start, edit.end)
            new_start.extend([lo] * len(edit.replacement))
            new_end.extend([hi] * len(edit.replacement))
        pieces.append(edit.replacement)
        cursor = edit.end
    pieces.append(text[cursor:])
    new_start.extend(aligned.origin_start[cursor:])
    new_end.extend(aligned.origin_end[cursor:])
    return AlignedText("".join(pieces), new_start, new_end, aligned.original_length)


def alternation(terms: Iterable[str]) -> str:
    """A regex alternation of literal ``terms``, longest first (so 不少于 wins over 少于).

    With no terms it is a pattern that matches nothing, never the empty string.
    """
    ordered = sorted(set(terms), key=lambda term: (-len(term), term))
    return "|".join(re.escape(term) for term in ordered) if ordered else "(?!)"


def anchored_finditer(
    pattern: re.Pattern[str], text: str, anchor: re.Pattern[str], reach: int, *, window: bool = False
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, scanning only near the matches of ``anchor``.

    Valid for a pattern that never matches the empty string and each of
    whose matches holds a match of ``anchor`` starting at most ``reach``
    characters after its own start (the bracket of ``X〔2017〕5号`` within 12
    characters of the issuer's first character; a target's number after an
    optional cue word).  The leftmost match at or after ``position`` then
    starts no earlier than ``reach`` before the first anchor at or after
    ``position``, so the search can begin there; texts without an anchor are
    not scanned.  Lookbehinds still see the text before the search start.

    With ``window``, only the starts from ``reach`` before each anchor up to
    the anchor are tried (``pattern.match`` at each): no match starts
    elsewhere, and a search that finds nothing at an anchor would scan on to
    the next match or the end of the text.  Right for rare anchors most of
    which start no match (a bracket that is not a damaged document number).
    """
    position = 0
    while (hit := anchor.search(text, position)) is not None:
        if not window:
            match = pattern.search(text, max(position, hit.start() - reach))
        else:
            match = next(
                (
                    m
                    for start in range(max(position, hit.start() - reach), hit.start() + 1)
                    if (m := pattern.match(text, start)) is not None
                ),
                None,
            )
            if match is None:
                position = hit.start() + 1
                continue
        if match is None:
            return
        yield match
        position = max(match.end(), match.start() + 1)  # never stuck, even on an empty match


def line_matches(pattern: re.Pattern[str], text: str, anchor: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)`` for a pattern that matches whole single lines (``^…$``, MULTILINE).

    Only the lines holding a match of ``anchor`` (which every match must
    contain) are tried, each once, from its start.
    """
    line_end = -1
    for hit in anchor.finditer(text):
        if hit.start() <= line_end:
            continue
        line_start = text.rfind("\n", 0, hit.start()) + 1
        line_end = text.find("\n", hit.start())
        line_end = len(text) if line_end == -1 else line_end
        match = pattern.match(text, line_start)
        if match is not None:
            yield match
