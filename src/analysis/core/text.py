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

import importlib
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

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
            if not (len(target) == 1 and is_plain_bmp(code) and is_plain_bmp(ord(target))):
                raise ValueError(f"not a one-for-one BMP mapping: U+{code:04X} -> {target!r}")
            units[code] = ord(target)
        self._units = units

    def translate(self, text: str) -> str:
        """``text.translate(self.table)``."""
        units = utf16_units(text)
        if units is None:
            return text.translate(self.table)
        return self._units[units].tobytes().decode("utf-16-le")

    def translate_counted(self, text: str, units: np.ndarray | None = None) -> tuple[str, int]:
        """``text.translate(self.table)`` and the number of characters it changed.

        ``units``, when given, are ``utf16_units(text)`` (a caller testing one text several times encodes it once).
        """
        if units is None:
            units = utf16_units(text)
        if units is None:
            translated = text.translate(self.table)
            return translated, sum(1 for old, new in zip(text, translated, strict=True) if old != new)
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
        bmp = [ord(ch) for ch in self.characters if is_plain_bmp(ord(ch))]
        flags[bmp] = True
        self._flags = flags
        self._others = len(bmp) < len(self.characters)  # characters outside the BMP (or surrogates)

    def isdisjoint(self, text: str, units: np.ndarray | None = None) -> bool:
        """``self.characters.isdisjoint(text)``.

        ``units``, when given, are ``utf16_units(text)`` (a caller testing one text several times encodes it once).
        """
        if units is None:
            units = utf16_units(text)
        if units is None:
            return self.characters.isdisjoint(text)
        if self._flags[units].any():
            return False
        if self._others and ((units >= 0xD800) & (units <= 0xDFFF)).any():
            return self.characters.isdisjoint(text)
        return True


def utf16_units(text: str) -> np.ndarray | None:
    """The UTF-16 code units of ``text`` (a read-only array), or None when it cannot be encoded (a lone surrogate)."""
    try:
        return np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)
    except UnicodeEncodeError:
        return None


_NOT_SPACE = re.compile(r"\S")  # \S and str.strip() agree on what a space is (str.isspace)


def is_blank(text: str, start: int, end: int) -> bool:
    """``not text[start:end].strip()``, without copying the span: stops at its first non-space."""
    return _NOT_SPACE.search(text, start, end) is None


def is_plain_bmp(code: int) -> bool:
    """A code point of the BMP that is not a surrogate: one UTF-16 code unit, standing for itself."""
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
    pattern: re.Pattern[str],
    text: str,
    anchor: re.Pattern[str],
    reach: int,
    *,
    window: bool = False,
    offsets: Sequence[int] | None = None,
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

    With ``offsets`` as well (each at most ``reach``), only the starts that many characters before
    the anchor are tried: valid when the first match of ``anchor`` at or after a match's start
    begins one of ``offsets`` characters after it (``\\d{4}年``: the 年 four characters in).
    """
    if window:
        distances = None if offsets is None else sorted(set(offsets), reverse=True)  # the earliest start first
        yield from _window_matches(pattern, text, anchor, reach, distances)
        return
    position = 0
    while (hit := anchor.search(text, position)) is not None:
        match = pattern.search(text, max(position, hit.start() - reach))
        if match is None:
            return
        yield match
        position = max(match.end(), match.start() + 1)  # never stuck, even on an empty match


def _window_matches(
    pattern: re.Pattern[str], text: str, anchor: re.Pattern[str], reach: int, distances: Sequence[int] | None
) -> Iterator[re.Match[str]]:
    """:func:`anchored_finditer` with ``window``: at each anchor, the first start (from ``reach`` before
    it, or at the ``distances`` before it, earliest first) where ``pattern`` matches; plain loops, no
    generator per anchor."""
    search, match_at = anchor.search, pattern.match
    position = 0
    while (hit := search(text, position)) is not None:
        at = hit.start()
        lowest = max(position, at - reach)
        match = None
        if distances is None:
            for start in range(lowest, at + 1):
                match = match_at(text, start)
                if match is not None:
                    break
        else:
            for distance in distances:
                if at - distance >= lowest:
                    match = match_at(text, at - distance)
                    if match is not None:
                        break
        if match is None:
            position = at + 1
            continue
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


# Python's own regex parser (re._parser since 3.11, sre_parse in 3.10) and its opcodes: private, so any
# surprise in what they return only costs a screen (see required_literals), never a match.
try:
    _sre_parser: Any = importlib.import_module("re._parser")
    _sre: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - Python 3.10
    _sre_parser = importlib.import_module("sre_parse")
    _sre = importlib.import_module("sre_constants")
_REPEATS = tuple(
    op for op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", None)) if op is not None
)
_ATOMIC_GROUP = getattr(_sre, "ATOMIC_GROUP", None)  # 3.11+
_MAX_CLASS = 16  # a character class with more members than this is no useful screen

# Characters Python's re matches to an ASCII letter when ignoring case and that ``str.lower`` does
# not lower to it (the whole of Unicode checked in the tests).  Replacing them, then lower-casing,
# keeps every case-insensitive match of a lower-case ASCII word visible to a plain search, and the
# length of the text (U+0130 is the one character ``lower`` turns into two).
_FOLD_FIRST = {ord("\u0130"): "i", ord("\u0131"): "i", ord("\u017f"): "s"}
_CONTEXTUAL_LOWER = "\u03a3"  # Σ lowers to σ or, ending a word, ς: the one character lowered by its neighbours


def fold(text: str) -> str:
    """``text`` lower-cased after :data:`_FOLD_FIRST`, what ``required_literals(..., fold_case=True)`` screens."""
    if "\u0130" in text or "\u0131" in text or "\u017f" in text:
        text = text.translate(_FOLD_FIRST)
    return text.lower()


def fold_by_position(text: str) -> str | None:
    """:func:`fold` of ``text`` when it folds character by character, else None.

    Then ``fold_by_position(text)[a:b] == fold(text[a:b])`` for every span: a search of the folded
    whole text finds what a search of each folded piece finds, at the same place.  Only Σ lowers by
    its neighbours, and only U+0130 (replaced first) lowers to two characters; the length is
    checked anyway.
    """
    if _CONTEXTUAL_LOWER in text:
        return None
    folded = fold(text)
    return folded if len(folded) == len(text) else None


def required_literals(pattern: re.Pattern[str], *, fold_case: bool = False) -> tuple[tuple[str, ...], ...] | None:
    """Groups of strings such that every match of ``pattern`` holds one string of each group.

    Read from the parsed pattern: a run of literal characters, a small character class, an
    alternation each of whose branches requires some string, a group or a repeat at least once
    of one, and a positive lookaround (a lookbehind for ” needs a ” in the text) count; optional
    parts, negative lookarounds, ranges and categories (``\\d``) do not.  A text lacking every
    string of some group cannot hold a match: the regex need not be run (a screen, as fast as a
    few substring tests; :func:`may_match`).  The groups come most selective first.  None when
    nothing is required.

    The strings are in the text as it is searched; with ``fold_case`` they are in :func:`fold` of
    it instead, and case-insensitive parts count too (an ASCII letter ignoring case is found in
    the folded text; a cased non-ASCII one requires nothing known).  Without ``fold_case``,
    case-insensitive parts require nothing.
    """
    try:
        parsed = _sre_parser.parse(pattern.pattern, pattern.flags)
        ignore_case = bool(parsed.state.flags & re.IGNORECASE)
        groups = _required_in_sequence(list(parsed), ignore_case, fold_case)
    except Exception:  # a Python whose parser differs: no screen, the regex always runs
        return None
    return tuple(sorted(dict.fromkeys(groups), key=_selectivity, reverse=True)) or None  # the likeliest to fail first


def may_match(required: tuple[tuple[str, ...], ...] | None, text: str) -> bool:
    """False when ``text`` lacks every string of some group of ``required`` (see :func:`required_literals`)."""
    for group in required or ():
        for string in group:
            if string in text:
                break
        else:
            return False
    return True


def _required_in_sequence(items: list[tuple[Any, Any]], ignore_case: bool, fold_case: bool) -> list[tuple[str, ...]]:
    """The required groups of a sequence of parsed items (see :func:`required_literals`)."""
    groups: list[tuple[str, ...]] = []
    run: list[str] = []  # consecutive known literal characters: required together, as one string
    for op, av in items:
        if op is _sre.LITERAL and (ch := _literal(av, ignore_case, fold_case)) is not None:
            run.append(ch)
            continue
        if run:
            groups.append(("".join(run),))
            run = []
        if op is _sre.IN:
            members = [_literal(code, ignore_case, fold_case) if kind is _sre.LITERAL else None for kind, code in av]
            if None not in members and len(av) <= _MAX_CLASS:
                groups.append(tuple(dict.fromkeys(members)))  # type: ignore[arg-type]
        elif op in _REPEATS:
            low, _high, sub = av
            if low >= 1:
                groups.extend(_required_in_sequence(list(sub), ignore_case, fold_case))
        elif op is _sre.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            case = (ignore_case or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
            groups.extend(_required_in_sequence(list(sub), case, fold_case))
        elif op is _ATOMIC_GROUP:
            groups.extend(_required_in_sequence(list(av), ignore_case, fold_case))
        elif op is _sre.ASSERT:  # a positive lookahead or lookbehind: its text is in the text too
            groups.extend(_required_in_sequence(list(av[1]), ignore_case, fold_case))
        elif op is _sre.BRANCH:
            branches = [_best_group(_required_in_sequence(list(branch), ignore_case, fold_case)) for branch in av[1]]
            if all(branches):
                groups.append(tuple(dict.fromkeys(s for branch in branches for s in branch)))  # type: ignore[union-attr]
        # anything else (ASSERT_NOT, AT, ANY, CATEGORY, ranges, references, unknown
        # literals ...) requires nothing
    if run:
        groups.append(("".join(run),))
    return groups


def _literal(code: int, ignore_case: bool, fold_case: bool) -> str | None:
    """A literal of the pattern as a required character (folded with ``fold_case``), or None when unknowable."""
    ch = chr(code)
    if not fold_case:
        return None if ignore_case else ch
    if ch == _CONTEXTUAL_LOWER:
        return None
    if ignore_case and not ch.isascii() and not (ch.lower() == ch and ch.upper() == ch):
        return None  # a cased non-ASCII letter ignoring case (Σ, ǅ): other characters may match it
    return fold(ch)


def _selectivity(group: tuple[str, ...]) -> tuple[int, int]:
    """How rarely a text holds a string of ``group``, roughly: its shortest string long, few strings."""
    return min(map(len, group)), -len(group)


def _best_group(groups: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The most selective group (see :func:`_selectivity`)."""
    return max(groups, key=_selectivity, default=None)


_CATEGORY_CLASS = {
    _sre.CATEGORY_DIGIT: r"\d",
    _sre.CATEGORY_NOT_DIGIT: r"\D",
    _sre.CATEGORY_SPACE: r"\s",
    _sre.CATEGORY_NOT_SPACE: r"\S",
    _sre.CATEGORY_WORD: r"\w",
    _sre.CATEGORY_NOT_WORD: r"\W",
}


def first_character_anchor(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    r"""A one-character class holding the first character of every match of ``pattern``, for a pattern that
    opens with zero-width assertions (lookbehinds, lookaheads, anchors) and then a character, a class, or a
    repeat at least once of one: ``(?<!阶段)\d{4}…`` -> ``[\d]``.  The engine scans for no first character
    of such a pattern (it tries the assertions at every position); a search for the class does, and
    ``anchored_finditer(pattern, text, anchor, 0, window=True)`` is then ``pattern.finditer(text)``: every
    match starts at a character of the class and holds at least that character.

    None for any other pattern (the engine's own scan is as good, or the first character is not known) and
    for a pattern ignoring case.
    """
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        items = list(_sre_parser.parse(pattern.pattern, pattern.flags))
        zero_width = (_sre.ASSERT, _sre.ASSERT_NOT, _sre.AT)
        opening = 0
        while opening < len(items) and items[opening][0] in zero_width:
            opening += 1
        if opening == 0 or opening == len(items):
            return None
        op, av = items[opening]
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            low, _, repeated = av
            repeated = list(repeated)
            if low < 1 or len(repeated) != 1:
                return None
            op, av = repeated[0]
        if op is _sre.LITERAL:
            members = [(_sre.LITERAL, av)]
        elif op is _sre.IN:
            members = list(av)
        else:
            return None
        parts = []
        for kind, value in members:
            if kind is _sre.NEGATE:
                parts.append("^")
            elif kind is _sre.LITERAL:
                parts.append(re.escape(chr(value)))
            elif kind is _sre.RANGE:
                parts.append(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
            elif kind is _sre.CATEGORY and value in _CATEGORY_CLASS:
                parts.append(_CATEGORY_CLASS[value])
            else:
                return None
        if parts[0] == "^" and len(parts) == 1:
            return None
        return re.compile(f"[{''.join(parts)}]")
    except Exception:  # a parser that differs: no anchor, the regex scans as written
        return None


_LOOKAROUND_OPENINGS = ("(?<=", "(?<!", "(?=", "(?!")


def body_anchor(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    r"""``pattern`` without the lookarounds it opens with: ``(?<!阶段)\d{4}…年`` -> ``\d{4}…年``.

    Every match of ``pattern`` starts where this one matches too (the assertions only take starts away), so
    ``anchored_finditer(pattern, text, anchor, 0, window=True)`` is ``pattern.finditer(text)``, and the
    engine scans for candidate starts in C: no Python step at each character of a class that merely opens
    a match (every digit of a text, for a regex opening with ``\d``), as :func:`first_character_anchor` takes.

    None when the pattern opens with no lookaround, is nothing else, or holds a group inside one
    (its numbering would change); the regex is then searched as written or by its first character.
    """
    text, position = pattern.pattern, 0
    while text.startswith(_LOOKAROUND_OPENINGS, position):
        end = _lookaround_end(text, position)
        if end is None:
            return None
        position = end
    if position == 0 or position == len(text):
        return None
    try:
        return re.compile(text[position:], pattern.flags)
    except re.error:
        return None


def _lookaround_end(text: str, start: int) -> int | None:
    """Index just past the lookaround opening at ``start``; None if a group opens inside it."""
    i, in_class = start + 3, False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            i += 1
            if text.startswith("^", i):
                i += 1
            if text.startswith("]", i):  # a ] first in a class is a member
                i += 1
            continue
        elif ch == "(":
            return None
        elif ch == ")":
            return i + 1
        i += 1
    return None
