"""Clean stage: drop web-page furniture and normalise whitespace.

Three passes, each a list of :class:`~analysis.text.Edit` applied with
:func:`~analysis.text.apply_edits`, so every character keeps its origin:

1. character normalisation: NBSP, U+3000 and other space variants -> ' ',
   fullwidth ASCII U+FF01-U+FF5E -> ASCII (（一） -> (一), ： -> :),
   zero-width characters dropped;
2. furniture: every line is matched against the patterns in
   ``reference/furniture_patterns.csv`` (a line of more than
   ``FURNITURE_LINE_MAX`` characters is body text).  A pattern with position
   ``anywhere`` is specific enough to remove its line wherever it stands
   (e.g. '【打印】【关闭】', an ICP number, '浏览量:253').  A pattern with
   position ``edge`` (e.g. an address line, a '· ...' link item) only removes
   lines inside a furniture block: the run of furniture/blank lines at the top
   or bottom of the document, provided that run contains a line whose pattern
   is ``standalone``, or lines next to a removed line of the same kind.  So a
   body sentence that merely mentions 地址 survives;
3. whitespace: runs of spaces/tabs collapse to one space, spaces at line
   starts and ends go, three or more newlines become one blank line, blank
   lines at the start and end go.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick

from analysis.core.reference import TableSchema, read_rows_strict, reference_path
from analysis.core.text import (
    AlignedText,
    CharacterMap,
    Edit,
    alternation,
    apply_edits,
    fold,
    fold_by_position,
    required_literals,
)

log = logging.getLogger(__name__)

FURNITURE_PATTERNS_FILE = "furniture_patterns.csv"
POSITION_ANYWHERE = "anywhere"
POSITION_EDGE = "edge"
FURNITURE_LINE_MAX = 300  # characters; longer lines are body text (see classify_line)

_SPACE_VARIANTS = frozenset(
    "\u00a0\u3000\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"
)
_LINE_BREAK_VARIANTS = frozenset("\x0b\x0c")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_FULLWIDTH_FIRST, _FULLWIDTH_LAST, _FULLWIDTH_OFFSET = 0xFF01, 0xFF5E, 0xFEE0
_ONE_FOR_ONE = {
    **{ord(ch): " " for ch in _SPACE_VARIANTS},
    **{code: chr(code - _FULLWIDTH_OFFSET) for code in range(_FULLWIDTH_FIRST, _FULLWIDTH_LAST + 1)},
    **{ord(ch): "\n" for ch in _LINE_BREAK_VARIANTS},
}
_ONE_FOR_ONE_MAP = CharacterMap(_ONE_FOR_ONE)
_ZERO_WIDTH_CHARACTER = re.compile("[" + "".join(sorted(_ZERO_WIDTH)) + "]")
_BLANK_RUN = re.compile(r"[ \t]+")
# The runs collapse_spaces edits: whole runs (starting after a character that is no space or tab) of two or
# more, a lone tab, or a lone space at a line start or end.  A lone space inside a line is left alone.
_EDITED_BLANK_RUN = re.compile(r"[ \t](?<![ \t][ \t])(?:[ \t]+|(?<=\t)|(?<![^\n] )|(?![^\n]))")
# \n{3,} written with a literal prefix: the regex engine then searches for the prefix (fast), not at every position.
_NEWLINE_RUN = re.compile(r"\n\n\n+")


def _check_regex(row: Mapping[str, str]) -> str | None:
    try:
        re.compile(row["regex"])
    except re.error as exc:
        return f"regex {row['regex']!r} does not compile: {exc}"
    return None


FURNITURE_SCHEMA = TableSchema(
    required=("pattern_id", "kind", "position", "standalone", "regex"),
    optional=("note",),
    unique=(("pattern_id",),),
    allowed={"position": frozenset({POSITION_ANYWHERE, POSITION_EDGE}), "standalone": frozenset({"yes", "no"})},
    checks=(_check_regex,),
)


@dataclass(frozen=True)
class FurniturePattern:
    """One row of furniture_patterns.csv, compiled."""

    pattern_id: str
    kind: str
    position: str  # "anywhere" | "edge"
    standalone: bool  # may anchor an edge block on its own
    regex: re.Pattern[str]


def load_furniture_patterns(path: str | Path | None = None) -> tuple[FurniturePattern, ...]:
    """Load and validate the furniture patterns (the shipped table by default)."""
    if path is None:
        return _default_patterns()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_patterns() -> tuple[FurniturePattern, ...]:
    return _load(reference_path(FURNITURE_PATTERNS_FILE))


def _load(path: Path) -> tuple[FurniturePattern, ...]:
    return tuple(
        FurniturePattern(r["pattern_id"], r["kind"], r["position"], r["standalone"] == "yes", re.compile(r["regex"]))
        for r in read_rows_strict(path, FURNITURE_SCHEMA)
    )


# --------------------------------------------------------------------------- entry point


def clean(aligned: AlignedText, patterns: tuple[FurniturePattern, ...] | None = None) -> tuple[AlignedText, list[dict]]:
    """Remove furniture and normalise whitespace.

    Returns the cleaned text and one dict per removed furniture block:
    ``{"kind", "text", "raw_span": [a, b]}`` (``raw_span`` into the original text).
    """
    patterns = load_furniture_patterns() if patterns is None else patterns
    normalised = _normalise(aligned)
    furniture_edits, removed = find_furniture(normalised, patterns)
    without_furniture = apply_edits(normalised, furniture_edits)
    spaced = _collapse_spaces_applied(without_furniture)
    cleaned = apply_edits(spaced, collapse_blank_lines(spaced.text))
    if removed:
        log.debug("removed %d furniture block(s): %s", len(removed), ", ".join(b["kind"] for b in removed))
    return cleaned, removed


# --------------------------------------------------------------------------- pass 1: characters


def _normalise(aligned: AlignedText) -> AlignedText:
    """``apply_edits(aligned, normalise_characters(aligned.text))``, fast.

    The one-for-one replacements keep every character's origin, so they are
    one table lookup (:class:`~analysis.core.text.CharacterMap`); only the dropped zero-width characters need edits.
    """
    translated = aligned.substituted(_ONE_FOR_ONE_MAP.translate(aligned.text))
    drops = [
        Edit(m.start(), m.end(), "", "zero_width", f"U+{ord(m.group()):04X} dropped")
        for m in _ZERO_WIDTH_CHARACTER.finditer(translated.text)
    ]
    return apply_edits(translated, drops) if drops else translated


def normalise_characters(text: str) -> list[Edit]:
    """Edits mapping space variants to ' ', fullwidth ASCII to ASCII, dropping zero-width characters."""
    edits: list[Edit] = []
    for position, ch in enumerate(text):
        code = ord(ch)
        if ch in _SPACE_VARIANTS:
            edits.append(Edit(position, position + 1, " ", "space", f"U+{code:04X} -> space"))
        elif _FULLWIDTH_FIRST <= code <= _FULLWIDTH_LAST:
            edits.append(Edit(position, position + 1, chr(code - _FULLWIDTH_OFFSET), "fullwidth", "fullwidth ASCII"))
        elif ch in _LINE_BREAK_VARIANTS:
            edits.append(Edit(position, position + 1, "\n", "space", f"U+{code:04X} -> newline"))
        elif ch in _ZERO_WIDTH:
            edits.append(Edit(position, position + 1, "", "zero_width", f"U+{code:04X} dropped"))
    return edits


# --------------------------------------------------------------------------- pass 2: furniture


def classify_line(content: str, patterns: tuple[FurniturePattern, ...]) -> FurniturePattern | None:
    """The first furniture pattern matching a stripped line, or None.

    A line longer than :data:`FURNITURE_LINE_MAX` is never furniture: page
    chrome comes in short lines, and a text that lost its line breaks (or a
    flattened PDF) holds the whole document on one line, which a footer or a
    view counter inside it must not delete.
    """
    return _classify(content, patterns, furniture_screen(patterns))


def _classify(
    content: str, patterns: tuple[FurniturePattern, ...], screen: FurnitureScreen | None
) -> FurniturePattern | None:
    """:func:`classify_line`, trying only the patterns whose required words the line holds (most lines: none)."""
    if not content or len(content) > FURNITURE_LINE_MAX:
        return None
    candidates = range(len(patterns)) if screen is None else screen.candidates(content)
    for index in candidates:
        if patterns[index].regex.search(content):
            return patterns[index]
    return None


class FurnitureScreen:
    """Which patterns of a table may match a line, from the strings each requires (Aho-Corasick).

    A pattern is looked for by its most selective group of required strings (case folded,
    :func:`~analysis.core.text.required_literals`): a line folded holding none of them cannot match it.
    """

    def __init__(self, patterns: tuple[FurniturePattern, ...]) -> None:
        words: dict[str, set[int]] = {}
        always = []
        anywhere_words: set[str] = set()
        for index, pattern in enumerate(patterns):
            required = required_literals(pattern.regex, fold_case=True)
            if required is None:
                always.append(index)
                continue
            for word in required[0]:
                words.setdefault(word, set()).add(index)
            if pattern.position == POSITION_ANYWHERE:
                anywhere_words.update(required[0])
        self.always: tuple[int, ...] = tuple(always)
        # The words a line needs to match a pattern removed wherever it stands (see lines_anywhere), or None
        # when some such pattern requires no word, or a word spans lines.
        self._anywhere: re.Pattern[str] | None = re.compile(alternation(anywhere_words))
        if any(patterns[index].position == POSITION_ANYWHERE for index in always) or any(
            _LINE_BREAKS.search(word) for word in anywhere_words
        ):
            self._anywhere = None
        self._automaton = ahocorasick.Automaton()
        for word, indices in words.items():
            self._automaton.add_word(word, frozenset(indices))
        self._automaton.make_automaton()
        self._empty = not words

    def candidates(self, line: str) -> Sequence[int]:
        """Indices, in table order, of the patterns that may match ``line`` (the others cannot)."""
        if self._empty:
            return self.always
        hits = [indices for _, indices in self._automaton.iter(fold(line))]
        if not hits:
            return self.always
        return sorted(set(self.always).union(*hits))

    def lines_anywhere(self, text: str, starts: Sequence[int]) -> set[int] | None:
        """Indices of the lines of ``text`` (starting at ``starts``) that may match a pattern removed anywhere.

        A line matching such a pattern holds one of its words (in the folded line): one search of the
        folded text finds the lines holding one, as it folds character by character
        (:func:`~analysis.core.text.fold_by_position`) and no word holds a line break.  None when that
        cannot be known (then any line may).
        """
        if self._anywhere is None:
            return None
        folded = fold_by_position(text)
        if folded is None:
            return None
        return {bisect.bisect_right(starts, match.start()) - 1 for match in self._anywhere.finditer(folded)}


# What str.splitlines cuts lines at.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def furniture_screen(patterns: tuple[FurniturePattern, ...]) -> FurnitureScreen:
    """The screen of a pattern table (built once per table; the table found by identity first, not by hashing
    its patterns at every call)."""
    known = _SCREENS.get(id(patterns))
    if known is not None and known[0] is patterns:
        return known[1]
    return _screen_by_value(patterns)


@lru_cache(maxsize=8)
def _screen_by_value(patterns: tuple[FurniturePattern, ...]) -> FurnitureScreen:
    screen = FurnitureScreen(patterns)
    if len(_SCREENS) < 8:
        _SCREENS[id(patterns)] = (patterns, screen)  # the table is kept alive here, so its id stays its own
    return screen


_SCREENS: dict[int, tuple[tuple[FurniturePattern, ...], FurnitureScreen]] = {}


def find_furniture(aligned: AlignedText, patterns: tuple[FurniturePattern, ...]) -> tuple[list[Edit], list[dict]]:
    """Edits removing furniture lines, and the removed blocks for the report.

    A line is classified (:func:`classify_line`) only when the rule asks for its pattern: the lines
    that may match a pattern removed anywhere (:meth:`FurnitureScreen.lines_anywhere`), the edge runs
    and the neighbours of removed lines; the other lines' patterns change nothing.
    """
    text = aligned.text
    raw_lines = text.splitlines(keepends=True)
    starts = [0, *itertools.accumulate(map(len, raw_lines))]
    contents = [raw.strip() for raw in raw_lines]
    screen = furniture_screen(patterns)
    classified: dict[int, FurniturePattern | None] = {}

    def match(index: int) -> FurniturePattern | None:
        if index not in classified:
            classified[index] = _classify(contents[index], patterns, screen)
        return classified[index]

    candidates = screen.lines_anywhere(text, starts)
    anywhere = [
        index
        for index in (range(len(contents)) if candidates is None else sorted(candidates))
        if (found := match(index)) is not None and found.position == POSITION_ANYWHERE
    ]
    removed = _removed_lines(contents, match, anywhere)
    edits: list[Edit] = []
    blocks: list[dict] = []
    index = 0
    n_lines = len(contents)
    while index < n_lines:
        if index not in removed:
            index += 1
            continue
        kind = match(index).kind  # type: ignore[union-attr]
        last = index
        probe = index + 1
        # A block runs over blank lines while the next removed line has the same kind.
        while probe < n_lines and (not contents[probe] or probe in removed):
            if probe in removed:
                if match(probe).kind != kind:  # type: ignore[union-attr]
                    break
                last = probe
            probe += 1
        start, end = starts[index], starts[last + 1]
        edits.append(Edit(start, end, "", "furniture", kind))
        raw_start, raw_end = aligned.original_span(start, end)
        blocks.append({"kind": kind, "text": aligned.text[start:end].strip(), "raw_span": [raw_start, raw_end]})
        index = last + 1
    return edits, blocks


def _removed_lines(
    lines: list[str], match: Callable[[int], FurniturePattern | None], anywhere: Iterable[int]
) -> set[int]:
    """Indices of furniture lines to remove (see the module docstring for the rule).

    ``lines`` are stripped, ``match`` gives a line's pattern (or None), ``anywhere`` the lines whose
    pattern is one removed anywhere.
    """
    removed = set(anywhere)

    def is_furniture_or_blank(i: int) -> bool:
        return not lines[i] or match(i) is not None

    top: list[int] = []
    for i in range(len(lines)):
        if not is_furniture_or_blank(i):
            break
        top.append(i)
    bottom: list[int] = []
    for i in range(len(lines) - 1, -1, -1):
        if not is_furniture_or_blank(i) or i in top:
            break
        bottom.append(i)
    for run in (top, bottom):
        furniture = [i for i in run if match(i) is not None]
        if any(match(i).standalone or match(i).position == POSITION_ANYWHERE for i in furniture):  # type: ignore[union-attr]
            removed.update(furniture)
    # Edge lines next to a removed line of the same kind (e.g. the '· ...' items under '更多>>').
    pending = sorted(removed)
    while pending:
        i = pending.pop()
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(lines) and not lines[j]:
                j += step
            if 0 <= j < len(lines) and j not in removed and match(j) is not None:
                if match(j).kind == match(i).kind:  # type: ignore[union-attr]
                    removed.add(j)
                    pending.append(j)
    return removed


# --------------------------------------------------------------------------- pass 3: whitespace


def collapse_spaces(text: str) -> list[Edit]:
    """Edits collapsing space/tab runs to one space and dropping them at line starts/ends."""
    edits: list[Edit] = []
    for match in _BLANK_RUN.finditer(text):
        start, end = match.span()
        at_line_start = start == 0 or text[start - 1] == "\n"
        at_line_end = end == len(text) or text[end] == "\n"
        if at_line_start or at_line_end:
            edits.append(Edit(start, end, "", "whitespace", "space at line start/end"))
        elif match.group() != " ":
            # keep the first character (as ' ') so the space maps 1:1 to its source
            edits.append(Edit(start, start + 1, " ", "whitespace", "tab -> space"))
            if end > start + 1:
                edits.append(Edit(start + 1, end, "", "whitespace", "space run collapsed"))
    return edits


def _collapse_spaces_applied(aligned: AlignedText) -> AlignedText:
    """``apply_edits(aligned, collapse_spaces(aligned.text))`` without an Edit per space run.

    The edits delete runs, or keep a run's first character as a space and delete the rest (one for
    one: its origin stays), so the text is the kept pieces and the origins their slices, in order.
    """
    text = aligned.text
    n = len(text)
    origin_start, origin_end = aligned.origin_start, aligned.origin_end
    pieces: list[str] = []
    new_start, new_end = array("q"), array("q")
    cursor = 0
    for match in _EDITED_BLANK_RUN.finditer(text):  # the lone spaces inside lines, which stay, are not visited
        start, end = match.span()
        if start == 0 or text[start - 1] == "\n" or end == n or text[end] == "\n":
            kept_to, piece = start, text[cursor:start]  # the run at a line start or end goes
        elif end - start > 1 or text[start] != " ":
            kept_to, piece = start + 1, text[cursor:start] + " "  # one space, mapped to the run's first character
        else:
            continue
        pieces.append(piece)
        new_start.extend(origin_start[cursor:kept_to])
        new_end.extend(origin_end[cursor:kept_to])
        cursor = end
    if not pieces:
        return aligned
    pieces.append(text[cursor:])
    new_start.extend(origin_start[cursor:])
    new_end.extend(origin_end[cursor:])
    return AlignedText("".join(pieces), new_start, new_end, aligned.original_length)


def collapse_blank_lines(text: str) -> list[Edit]:
    """Edits reducing 3+ newlines to one blank line and trimming blank lines at both ends."""
    edits: list[Edit] = []
    leading = len(text) - len(text.lstrip("\n"))
    trailing = len(text) - len(text.rstrip("\n"))
    if leading == len(text):
        return [Edit(0, len(text), "", "whitespace", "blank text")] if text else []
    if leading:
        edits.append(Edit(0, leading, "", "whitespace", "leading blank lines"))
    for match in _NEWLINE_RUN.finditer(text, leading, len(text) - trailing):
        edits.append(Edit(match.start() + 2, match.end(), "", "whitespace", "blank lines collapsed"))
    if trailing:
        edits.append(Edit(len(text) - trailing, len(text), "", "whitespace", "trailing blank lines"))
    return edits
