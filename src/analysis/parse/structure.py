"""Structure stage: recover the heading hierarchy of a plan.

Chinese plans number their parts ``一、`` > ``(一)`` > ``1.`` / ``1、`` >
``(1)`` > ``①`` (sometimes under ``第一部分`` and with ``第一条`` items).
Captures indent irregularly, put text on the same line as a heading, run
items together on one line, and lose numbers.  The parser therefore:

1. finds candidate numbers at line starts (after indentation, a Q&A label
   such as ``答:`` or a table-cell bar ``|``) and in mid-line after a sentence
   end, a closing bracket, a cell bar, or - in a long run-together line of
   flattened PDF text - a space;
2. accepts a candidate when its value continues its level's sequence
   (restart at 1, next in the parent, or next in the whole document, since
   many plans number items 1…36 across sections).  A mid-line ``1`` is
   accepted when it opens the first child of the heading just before it on
   the same line (``一、标题 1.…``, ``1.标题。(1)…``) or when it is the
   first number of its kind and a ``2`` follows (a document that lost its
   line breaks);
3. when a level skips a number, looks back for the unnumbered heading-like
   line that lost it and re-creates it as an *inferred* heading;
4. accepts numbering that a partial capture starts with (the first number of
   its kind, when the next value follows it or it opens the capture) and a
   heading line that repeats its predecessor's number (numbering restarts);
5. in a task table (a header row with cells such as 工作任务 / 责任单位 /
   完成时限; see ``reference/table_headers.csv``) reads a number standing
   alone in its cell or line as the row's item number: the row, cells
   included, is the item;
6. cuts the closing block (signature, date, 此件公开发布) off the last item.

Input is the cleaned analysis text; all offsets refer to it.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analysis.core.models import Heading
from analysis.core.reference import TableSchema, read_rows_strict, reference_path
from analysis.core.text import is_blank

CN_DIGITS = "〇零一二三四五六七八九"
CN_NUMERAL = "[一二三四五六七八九十百千零〇]{1,6}"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

LEVEL_PART, LEVEL_SECTION, LEVEL_SUBSECTION, LEVEL_ITEM, LEVEL_SUBITEM, LEVEL_POINT = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True)
class NumberStyle:
    """One numbering habit: its level, the regex of the number, how to read it."""

    name: str
    level: int
    pattern: re.Pattern[str]
    bare: bool = False  # a number alone in a table cell or line (no punctuation of its own)


# The number must be followed by something that is not a digit (so "2.5" or
# "1.5倍" never read as items) — the lookaheads below enforce that.
NUMBER_STYLES: tuple[NumberStyle, ...] = (
    NumberStyle("part", LEVEL_PART, re.compile(rf"第(?P<value>{CN_NUMERAL})(?:部分|章|篇)")),
    NumberStyle("section", LEVEL_SECTION, re.compile(rf"(?P<value>{CN_NUMERAL})\s*(?:、|\.(?![0-9]))")),
    NumberStyle("subsection", LEVEL_SUBSECTION, re.compile(rf"[(（]\s*(?P<value>{CN_NUMERAL})\s*[)）]\s*[、.]?")),
    NumberStyle("article", LEVEL_ITEM, re.compile(rf"第(?P<value>{CN_NUMERAL})条")),
    NumberStyle(
        "item",
        LEVEL_ITEM,
        # "1." must not be a decimal (2.5倍), except before a year: "1.2017年底前…"; numbers of any
        # length (item 1000 follows 999); "2021 年" (a year spaced out by PDF extraction) is no item.
        re.compile(
            r"(?P<value>[0-9]+)\s*(?:、|[.．](?:(?![0-9])|(?=(?:19|20)[0-9]{2}年))|\s(?=[\u4e00-\u9fff])(?![年月日号]))"
        ),
    ),
    NumberStyle("subitem", LEVEL_SUBITEM, re.compile(r"[(（]\s*(?P<value>[0-9]+)\s*[)）]\s*[、.]?")),
    NumberStyle("point", LEVEL_POINT, re.compile(rf"(?P<value>[{CIRCLED}])")),
)

# A row number alone in its table cell or line (only read inside a task table).
TABLE_ROW_NUMBER = NumberStyle(
    "item", LEVEL_ITEM, re.compile(r"(?P<value>[0-9]{1,4})(?:[ \t]*(?=\||\n|$)|\t+)"), bare=True
)

# Where a mid-line item may start: right after a sentence end, a closing
# bracket (an assignment clause such as "(责任单位:…)" often ends an item) or
# a table-cell bar or tab.
MIDLINE_BOUNDARY = re.compile(r"[。;;!?！？)）\]】〕|]\s*|\t+")
# In a long line of flattened PDF text a heading may follow a plain space.
FLATTENED_LINE_MIN = 200
RUN_TOGETHER_LINES_MAX = 3  # a text that lost its breaks keeps at most a title or link line besides its one line
SPACE_BOUNDARY = re.compile(r"(?<=\S)[ \t]+")
# In a text that lost its line breaks a heading follows the previous text directly ("总体要求(一)指导思想",
# "…工作2.加强…"): bracketed numbers, and punctuated numbers that continue the sequence, after any character.
BRACKETED_NUMBER = re.compile(rf"(?<=[\u4e00-\u9fff])[(（](?:{CN_NUMERAL}|[0-9]+)[)）]")
RUN_IN_NUMBER = re.compile(rf"(?<=[^\s0-9A-Za-z.．])(?:{CN_NUMERAL}、|[0-9]+[、.．](?![0-9]))")
# What may stand before the number at a line start: indentation, a Q&A label, a cell bar.
LINE_PREFIX = re.compile(r"[ \t]*(?:(?:Q|A|问|答)[ \t]*[:：][ \t]*)?(?:\|[ \t]*)?")
_LINE_PREFIX_FIRST = " \tQA问答|"  # what a non-empty LINE_PREFIX match starts with
# A mid-line "1" opening the first child of the heading before it on the same line
# (一、标题 1.…): the heading's text up to it is at most this long.
RUN_IN_TITLE_MAX = 45
# A partial capture may start with a number this early (in its first lines) without confirmation.
OPENING_LINES = 3
MID_DOCUMENT_START_MAX = 999
TERMINAL_PUNCTUATION = "。;;!?！？:："
SHORT_TITLE_MAX = 40
HEADING_LINE_MAX = 30

# Closing block after the last item: signature, dates, publication notes.
_DATE = r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日?"
CLOSING_LINE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"^[(（]?\s*{_DATE}\s*(?:印发|发布|制定)?\s*[)）]?$"),
    re.compile(rf"^[\u4e00-\u9fff()（） ]{{2,40}}\s+{_DATE}\s*(?:印发|发布)?$"),
    re.compile(r"^[(（]\s*此件[\u4e00-\u9fff]{2,8}\s*[)）]$"),
    re.compile(r"^(?:抄送|印发|附件|主送)[:：\s]"),
    re.compile(
        r"^[(（]?[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日(?:印发)?[)）]?$"
    ),
    re.compile(r"^特此(?:报告|通知|函告|请示|批复|公告)[。.]?$"),
    re.compile(r"^[\u4e00-\u9fff ]{2,30}(?:办公室|办公厅|人民政府|委员会|政府|局|厅|委|部|院|处|室|中心|办)$"),
)


def chinese_numeral_value(numeral: str) -> int | None:
    """Value of a Chinese numeral up to 9999 (一 → 1, 十二 → 12, 二十 → 20, 一千零一 → 1001)."""
    if not numeral:
        return None
    if all(c in CN_DIGITS for c in numeral):  # 一〇 style
        return int("".join(str(CN_DIGITS.index(c) - 1 if c not in "〇零" else 0) for c in numeral))
    units = {"千": 1000, "百": 100, "十": 10}
    total, current = 0, 0
    for char in numeral:
        if char in units:
            total += (current or 1) * units[char]
            current = 0
        elif char in "〇零":
            current = 0
        elif char in CN_DIGITS:
            current = CN_DIGITS.index(char) - 1
        else:
            return None
    return total + current


def number_value(style: NumberStyle, raw_value: str) -> int | None:
    """Numeric value of a matched number (remembered for numbers of up to four characters)."""
    if raw_value in _NUMBER_VALUES:
        return _NUMBER_VALUES[raw_value]
    value = _number_value(raw_value)
    if len(raw_value) <= 4 and len(_NUMBER_VALUES) < _NUMBER_VALUES_MAX:
        _NUMBER_VALUES[raw_value] = value
    return value


_NUMBER_VALUES: dict[str, int | None] = {}
_NUMBER_VALUES_MAX = 20_000


def _number_value(raw_value: str) -> int | None:
    """:func:`number_value` worked out."""
    if raw_value in CIRCLED:
        return CIRCLED.index(raw_value) + 1
    if raw_value.isascii() and raw_value.isdigit():
        return int(raw_value)
    return chinese_numeral_value(raw_value)


def number_key(style: NumberStyle, value: int) -> str:
    """Normalised number used in task paths: 二, (一), 1, (1), ①, 第一条.

    Remembered per style and value up to :data:`_NUMBER_KEYS_MAX` (documents repeat a few dozen keys).
    """
    key = (style.name, value)
    found = _NUMBER_KEYS.get(key)
    if found is None:
        found = _number_key(style, value)
        if value <= _NUMBER_KEYS_MAX:
            _NUMBER_KEYS[key] = found
    return found


_NUMBER_KEYS: dict[tuple[str, int], str] = {}
_NUMBER_KEYS_MAX = 2000  # a bound on the memo (7 styles x 2000 values at most)


def _number_key(style: NumberStyle, value: int) -> str:
    """:func:`number_key` worked out."""
    cn = to_chinese_numeral(value)
    return {
        "part": f"第{cn}部分",
        "section": cn,
        "subsection": f"({cn})",
        "article": f"第{cn}条",
        "item": str(value),
        "subitem": f"({value})",
        "point": CIRCLED[value - 1] if 0 < value <= len(CIRCLED) else f"({value})",
    }[style.name]


def to_chinese_numeral(value: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十, 105 → 一百零五, 1001 → 一千零一 (for keys of inferred numbers)."""
    digits = "零一二三四五六七八九"
    if value >= 10000:
        return str(value)
    if value >= 1000:
        rest = value % 1000
        head = digits[value // 1000] + "千"
        if rest == 0:
            return head
        return (
            head
            + ("零" if rest < 100 else "")
            + ("一" + to_chinese_numeral(rest) if 10 <= rest < 20 else to_chinese_numeral(rest))
        )
    if value < 10:
        return digits[value]
    if value < 20:
        return "十" + (digits[value % 10] if value % 10 else "")
    if value < 100:
        return digits[value // 10] + "十" + (digits[value % 10] if value % 10 else "")
    rest = value % 100
    tail = "" if rest == 0 else ("零" + to_chinese_numeral(rest) if rest < 10 else to_chinese_numeral(rest))
    return digits[value // 100] + "百" + tail


@dataclass(slots=True)
class _Candidate:
    style: NumberStyle
    value: int
    start: int  # number start
    end: int  # number end (body starts here, after spaces)
    line_start: int
    line_end: int
    midline: bool
    glued: bool = False  # mid-line right after a character, with no boundary (a text that lost its breaks)


# --------------------------------------------------------------------------- task tables

TABLE_HEADERS_FILE = "table_headers.csv"
TABLE_HEADERS_SCHEMA = TableSchema(
    required=("label", "column"),
    optional=("note",),
    unique=(("label",),),
    allowed={"column": frozenset({"number", "task", "requirement", "unit", "deadline", "other"})},
)
# A table is recognised by a header row naming at least this many distinct columns.
TABLE_HEADER_MIN = 2
_CELL_SPLIT = re.compile(r"\s*\|\s*|\t+| {2,}")
_HEADER_NOTE = re.compile(r"\s*[(（][^()（）]{1,10}[)）]$")  # 牵头单位(部门) -> 牵头单位
HEADER_LINE_MAX = 200


@functools.lru_cache(maxsize=4)
def table_header_labels(path: str | None = None) -> frozenset[str]:
    """Column labels of task tables (reference/table_headers.csv): 工作任务, 责任单位, 完成时限 …"""
    table = read_rows_strict(Path(path) if path else reference_path(TABLE_HEADERS_FILE), TABLE_HEADERS_SCHEMA)
    return frozenset(row["label"] for row in table)


def has_task_table(text: str, labels: frozenset[str] | None = None) -> bool:
    """True when the text holds a task table's header: header cells on one line or one per line."""
    labels = table_header_labels() if labels is None else labels
    standalone: set[str] = set()
    for line in text.split("\n"):
        if len(line) > HEADER_LINE_MAX:
            continue
        stripped = line.strip()
        if not ("|" in stripped or "\t" in stripped or "  " in stripped):
            # One cell (most lines): it counts only when it is a label, alone on its line.  Removing a note
            # leaves a start of the cell: a cell starting with no label leaves none.
            if not stripped.startswith(_label_prefixes(labels)):
                continue
            cell = _without_note(stripped) if stripped else None
            if cell is not None and cell in labels:
                standalone.add(cell)
                if len(standalone) >= TABLE_HEADER_MIN:
                    return True
            continue
        cells = {_without_note(cell) for cell in _CELL_SPLIT.split(stripped) if cell}
        if len(cells & labels) >= TABLE_HEADER_MIN:
            return True
        if len(cells) == 1 and cells <= labels:
            standalone |= cells
            if len(standalone) >= TABLE_HEADER_MIN:
                return True
    return False


@functools.lru_cache(maxsize=4)
def _label_prefixes(labels: frozenset[str]) -> tuple[str, ...]:
    """The labels as a tuple (what ``str.startswith`` takes)."""
    return tuple(sorted(labels))


def _without_note(cell: str) -> str:
    """``_HEADER_NOTE.sub("", cell)`` for a cell (no line break): only a cell ending in a bracket has a note."""
    if cell.endswith((")", "）")):
        return _HEADER_NOTE.sub("", cell)
    return cell


def table_cells(text: str) -> list[str]:
    """The cells of a task-table row as the structure stage keeps it in a task's text.

    Cells are separated by ``|`` (on one line or on lines of their own); in
    tables flattened to one cell per line by line breaks; in a row kept on one
    line without bars by spaces (tabs become spaces in the clean stage).
    """
    if "|" in text:
        parts = text.split("|")
    elif "\n" in text.strip():
        parts = text.split("\n")
    else:
        parts = re.split(r"[ \t]+", text)
    return [cell.strip() for cell in parts if cell.strip()]


# --------------------------------------------------------------------------- candidates


@functools.lru_cache(maxsize=4)
def _lines(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each line, end excluding the newline.

    Remembered for the last few texts: the stage and the pipeline ask for the
    lines of one document several times (candidates, lost breaks, closing block).
    """
    spans, start = [], 0
    for line in text.split("\n"):
        end = start + len(line)
        spans.append((start, end))
        start = end + 1
    return tuple(spans)


# Every number pattern above (and the table-row number) starts with one of these characters.
NUMBER_FIRST_CHARACTERS = frozenset("第一二三四五六七八九十百千零〇(（0123456789" + CIRCLED)
# The ends of MIDLINE_BOUNDARY's matches where a number can start (the others start no candidate):
# the same ends as filtering its finditer, as a boundary never ends inside its trailing spaces.
_BOUNDARY_BEFORE_NUMBER = re.compile(
    rf"(?:{MIDLINE_BOUNDARY.pattern})(?=[{re.escape(''.join(sorted(NUMBER_FIRST_CHARACTERS)))}])"
)


# SPACE_BOUNDARY's matches ending before a character a number can start with (the others start no candidate:
# _match_number refuses them, and at the line end no candidate starts).
_SPACE_BEFORE_NUMBER = re.compile(
    rf"(?:{SPACE_BOUNDARY.pattern})(?=[{re.escape(''.join(sorted(NUMBER_FIRST_CHARACTERS)))}])"
)


# MIDLINE_BOUNDARY before a number, over a whole text: its boundary character (or first tab) leads, so the
# scan skips quickly to where a match can start; its spaces stop at a line break, so no match spans two lines.
_BOUNDARY_CHARACTERS = re.escape("。;;!?！？)）]】〕|")
_BOUNDARY_IN_TEXT = re.compile(
    rf"[{_BOUNDARY_CHARACTERS}\t](?:(?<=[{_BOUNDARY_CHARACTERS}])[^\S\n]*|(?<=\t)\t*)"
    rf"(?=[{re.escape(''.join(sorted(NUMBER_FIRST_CHARACTERS)))}])"
)


def _midline_boundaries(text: str, pos: int, line_end: int, in_text: Sequence[tuple[int, int]], first: int) -> set[int]:
    """``{m.end() for m in _BOUNDARY_BEFORE_NUMBER.finditer(text, pos, line_end)}`` from the whole text's matches.

    ``in_text`` holds the spans of ``_BOUNDARY_IN_TEXT`` over the whole text, ``first`` the index of the
    first one starting in this line.  Scanned from ``pos``, the line yields the whole text's matches
    that start there or later, unless one of them runs across ``pos`` (then the line is scanned).
    """
    ends = set()
    for index in range(first, len(in_text)):
        start, end = in_text[index]
        if start >= line_end:
            break
        if start < pos < end:
            return {m.end() for m in _BOUNDARY_BEFORE_NUMBER.finditer(text, pos, line_end)}
        if start >= pos:
            ends.add(end)
    return ends


# The first characters of each style's numbers (the styles' patterns start with these classes or literals).
_STYLE_FIRST_CHARACTERS = {
    "part": "第",
    "section": "一二三四五六七八九十百千零〇",
    "subsection": "(（",
    "article": "第",
    "item": "0123456789",
    "subitem": "(（",
    "point": CIRCLED,
}
# Character -> the styles, in NUMBER_STYLES order, whose numbers can start with it (the others need not be tried).
_STYLES_BY_FIRST_CHARACTER: dict[str, tuple[NumberStyle, ...]] = {
    character: tuple(style for style in NUMBER_STYLES if character in _STYLE_FIRST_CHARACTERS[style.name])
    for character in NUMBER_FIRST_CHARACTERS
}


def _match_number(text: str, pos: int, line_end: int, table: bool = False) -> tuple[NumberStyle, re.Match[str]] | None:
    if pos >= line_end or text[pos] not in NUMBER_FIRST_CHARACTERS:
        return None  # no number can start here (most boundaries are sentence ends before text)
    for style in _STYLES_BY_FIRST_CHARACTER[text[pos]]:
        match = style.pattern.match(text, pos, line_end)
        if match and match.end() < line_end:
            return style, match
    if table:
        match = TABLE_ROW_NUMBER.pattern.match(text, pos, line_end)
        if match:
            return TABLE_ROW_NUMBER, match
    return None


def _body_start(text: str, style: NumberStyle, number_end: int, line_end: int) -> int:
    """First character of an item's text: after spaces and cell bars (for a row number, line breaks too)."""
    body = number_end
    if style.bare:
        while body < len(text) and text[body] in " \t\n|":
            body += 1
        return body
    while body < line_end and text[body] in " \t":
        body += 1
    if body < line_end and text[body] == "|":  # "1. | text": the number has a cell of its own
        while body < line_end and text[body] in " \t|":
            body += 1
    return body


def _candidates(text: str) -> list[_Candidate]:
    """Every place a number could start an item: line starts and mid-line boundaries."""
    table = has_task_table(text)
    run_together = lost_line_breaks(text)
    found: list[_Candidate] = []
    in_text = [match.span() for match in _BOUNDARY_IN_TEXT.finditer(text)]
    first = 0  # first boundary starting in the line
    for line_start, line_end in _lines(text):
        while first < len(in_text) and in_text[first][0] < line_start:
            first += 1
        if line_start < line_end and text[line_start] not in _LINE_PREFIX_FIRST:
            pos = line_start  # LINE_PREFIX matches nothing here (every part of it is optional)
        else:
            prefix = LINE_PREFIX.match(text, line_start, line_end)
            pos = prefix.end() if prefix else line_start
        if pos >= line_end:
            continue
        hit = _match_number(text, pos, line_end, table)
        if hit:
            style, match = hit
            value = number_value(style, match.group("value"))
            if value:
                body = _body_start(text, style, match.end(), line_end)
                found.append(_Candidate(style, value, pos, body, line_start, line_end, False))
        if first < len(in_text) and in_text[first][0] < line_end:
            boundaries = _midline_boundaries(text, pos, line_end, in_text, first)
        else:
            boundaries = set()  # no boundary starts in the line
        flattened = line_end - line_start >= FLATTENED_LINE_MIN
        if not (boundaries or flattened or run_together):
            continue  # no mid-line place where a number could start
        spaced = {m.end() for m in _SPACE_BEFORE_NUMBER.finditer(text, pos, line_end)} if flattened else set()
        # A text that lost its breaks runs headings into the text before them: "总体要求(一)指导思想".
        bracketed = {m.start() for m in BRACKETED_NUMBER.finditer(text, pos, line_end)} if run_together else set()
        run_in = {m.start() for m in RUN_IN_NUMBER.finditer(text, pos, line_end)} if run_together else set()
        for start in sorted(boundaries | spaced | bracketed | run_in):
            if start >= line_end:
                continue
            hit = _match_number(text, start, line_end, table and _after_cell_bar(text, start))
            if not hit:
                continue
            style, match = hit
            if style.level < LEVEL_SECTION:
                continue
            if start in spaced and start not in boundaries and match.group().rstrip() == match.group("value"):
                continue  # after a plain space only a punctuated number ("1." "(一)" "二、") starts an item
            value = number_value(style, match.group("value"))
            if value:
                body = _body_start(text, style, match.end(), line_end)
                glued = start not in boundaries and start not in spaced
                found.append(_Candidate(style, value, start, body, line_start, line_end, True, glued))
    found.sort(key=lambda c: c.start)
    return found


@functools.lru_cache(maxsize=4)
def lost_line_breaks(text: str) -> bool:
    """Whether the text stands on a few long lines (a capture or PDF extraction that lost its breaks)."""
    lines = [(start, end) for start, end in _lines(text) if text[start:end].strip()]
    longest = max((end - start for start, end in lines), default=0)
    return longest >= FLATTENED_LINE_MIN and len(lines) <= RUN_TOGETHER_LINES_MAX


def _after_cell_bar(text: str, position: int) -> bool:
    """Whether ``position`` starts a table cell: after a cell bar (spaces allowed) or a tab."""
    if position > 0 and text[position - 1] == "\t":
        return True
    index = position - 1
    while index >= 0 and text[index] in " \t":
        index -= 1
    return index >= 0 and text[index] == "|"


def _is_heading_like(text: str, line_start: int, line_end: int) -> bool:
    """An unnumbered short line that reads like a heading (lost its number)."""
    line = text[line_start:line_end].strip()
    if not 2 <= len(line) <= HEADING_LINE_MAX:
        return False
    if line[-1] in TERMINAL_PUNCTUATION + ",,、":
        return False
    if _match_number(
        text, line_start + (len(text[line_start:line_end]) - len(text[line_start:line_end].lstrip())), line_end
    ):
        return False
    return re.search(r"[\u4e00-\u9fff]", line) is not None and not any(p.match(line) for p in CLOSING_LINE_PATTERNS)


def _is_heading_line(text: str, candidate: _Candidate) -> bool:
    """The candidate's line holds a short heading and nothing else (二、下一步工作)."""
    rest = text[candidate.end : candidate.line_end].strip()
    return 0 < len(rest) <= HEADING_LINE_MAX and rest[-1] not in TERMINAL_PUNCTUATION + ",,、"


class _Sequencer:
    """Keeps the numbering state while headings are accepted in text order."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str, int]] = []  # (level, style, value), levels increasing upwards
        # _scopes[k]: the parent scope of the stack's first k entries (see _parent_scope), kept as it grows.
        self._scopes: list[tuple[int, ...]] = [()]
        self._last_in_parent: dict[tuple[int, ...], dict[str, int]] = {}
        self._last_global: dict[str, int] = {}

    def expected(self, style: NumberStyle) -> tuple[int, int]:
        """(next number within the current parent, next number in the document)."""
        parent = self._parent_scope(style.level)
        local = self._last_in_parent.get(parent, {}).get(style.name, 0) + 1
        return local, self._last_global.get(style.name, 0) + 1

    def seen(self, style: NumberStyle) -> bool:
        """Whether a number of this style was accepted before."""
        return style.name in self._last_global

    def _parent_scope(self, level: int) -> tuple[int, ...]:
        """(index, value) of every stack entry below ``level``, flattened.

        accept keeps the levels increasing up the stack, so those entries are its first k, whose
        scope is remembered.
        """
        k = len(self._stack)
        while k and self._stack[k - 1][0] >= level:
            k -= 1
        return self._scopes[k]

    def accept(self, style: NumberStyle, value: int) -> None:
        while self._stack and self._stack[-1][0] >= style.level:
            self._stack.pop()
            self._scopes.pop()
        parent = self._scopes[-1]
        self._last_in_parent.setdefault(parent, {})[style.name] = value
        self._last_global[style.name] = value
        self._scopes.append((*parent, len(self._stack), value))
        self._stack.append((style.level, style.name, value))


def parse_structure(text: str) -> list[Heading]:
    """All numbered (and recovered) headings of ``text``, in text order, with spans."""
    sequencer = _Sequencer()
    accepted: list[tuple[_Candidate, bool]] = []  # (candidate, number inferred)
    lines = _lines(text)
    candidates = _candidates(text)
    run_together = lost_line_breaks(text)
    later_values: dict[tuple[str, int], int] = {}  # (style, value) -> last start
    for c in candidates:
        later_values[(c.style.name, c.value)] = c.start
    opening_end = _opening_end(text, lines)
    shallowest: int | None = None  # highest level accepted so far (a capture may start below it)
    last_start: dict[int, int] = {}  # level -> start of the last heading accepted at it
    for position, candidate in enumerate(candidates):
        local, global_ = sequencer.expected(candidate.style)
        value = candidate.value
        confirmed = later_values.get((candidate.style.name, value + 1), -1) > candidate.start
        first_of_style = not sequencer.seen(candidate.style)
        if candidate.midline:
            # In a text that lost its breaks one missed number must not stop the sequence: next-but-one, confirmed.
            skipped_one = run_together and confirmed and value in (local + 1, global_ + 1)
            in_sequence = (value in (local, global_) or skipped_one) and value != 1
            run_in = value == 1 and _runs_in(text, candidate, accepted)
            # Glued to the text before it, a first "一、" must open a short heading ("统一、规范" is no heading);
            # a bracketed "(一)" is distinctive enough.
            opens_heading = (
                not candidate.glued
                or _bracketed(text, candidate)
                or _short_heading_follows(
                    text, candidate, candidates[position + 1] if position + 1 < len(candidates) else None
                )
            )
            first_run_together = value == 1 and first_of_style and confirmed and opens_heading
            if not (in_sequence or run_in or first_run_together):
                continue
        elif value not in (1, local, global_):
            above_all = shallowest is not None and shallowest > candidate.style.level
            partial_start = (
                first_of_style
                and not candidate.style.bare
                and value <= MID_DOCUMENT_START_MAX
                and (confirmed or candidate.start < opening_end or above_all)
            )
            repeated = value == local - 1 and _is_heading_line(text, candidate)
            if value < local or value - local > 2:
                if not (partial_start or repeated):
                    continue
            else:
                # A gap: the skipped numbers may have been lost from heading lines.
                since = max((start for level, start in last_start.items() if level <= candidate.style.level), default=0)
                recovered = _recover_lost(text, lines, candidate, local, since)
                for lost in recovered:
                    sequencer.accept(candidate.style, lost.value)
                    accepted.append((lost, True))
        sequencer.accept(candidate.style, value)
        accepted.append((candidate, False))
        last_start[candidate.style.level] = candidate.start
        shallowest = candidate.style.level if shallowest is None else min(shallowest, candidate.style.level)
    accepted.sort(key=lambda item: item[0].start)
    return _build_headings(text, accepted)


def _opening_end(text: str, lines: Sequence[tuple[int, int]]) -> int:
    """End of the first few non-empty lines: a partial capture's first number stands there."""
    seen = 0
    for line_start, line_end in lines:
        if text[line_start:line_end].strip():
            seen += 1
            if seen >= OPENING_LINES:
                return line_end
    return len(text)


def _bracketed(text: str, candidate: _Candidate) -> bool:
    return text[candidate.start] in "(（"


def _short_heading_follows(text: str, candidate: _Candidate, following: _Candidate | None) -> bool:
    """The next number follows within a heading's length, with no sentence punctuation between."""
    if following is None:
        return False
    between = text[candidate.end : following.start]
    return len(between) <= HEADING_LINE_MAX and not re.search(r"[。;;!?！？,,]", between)


def _runs_in(text: str, candidate: _Candidate, accepted: list[tuple[_Candidate, bool]]) -> bool:
    """A mid-line first child right after its parent's short title on the same line."""
    if not accepted:
        return False
    parent, inferred = accepted[-1]
    if inferred or parent.style.level >= candidate.style.level or parent.line_start != candidate.line_start:
        return False
    between = text[parent.end : candidate.start]
    return len(between.strip(" \t|")) <= RUN_IN_TITLE_MAX and len(re.findall(r"[。!?！？]", between)) <= 1


def _recover_lost(
    text: str, lines: Sequence[tuple[int, int]], candidate: _Candidate, first_missing: int, since: int
) -> list[_Candidate]:
    """Unnumbered heading-like lines between ``since`` and ``candidate`` that lost a number."""
    missing = list(range(first_missing, candidate.value))
    first = bisect.bisect_right(lines, (since, len(text) + 1))
    last = bisect.bisect_left(lines, (candidate.line_start, -1))
    pool = [(start, end) for start, end in lines[first:last] if _is_heading_like(text, start, end)]
    chosen = pool[-len(missing) :] if len(pool) >= len(missing) else []
    recovered = []
    for value, (start, end) in zip(missing, chosen, strict=False):
        offset = start + len(text[start:end]) - len(text[start:end].lstrip())
        recovered.append(_Candidate(candidate.style, value, offset, offset, start, end, False))
    return recovered


def content_end(text: str, after: int) -> int:
    """Start of the closing block (signature, date lines) after position ``after``."""
    end = len(text)
    for line_start, line_end in reversed(_lines(text)):
        if line_start < after:
            break
        line = text[line_start:line_end].strip()
        if not line or any(p.match(line) for p in CLOSING_LINE_PATTERNS):
            end = line_start
            continue
        break
    return max(end, after)


def _build_headings(text: str, accepted: list[tuple[_Candidate, bool]]) -> list[Heading]:
    """Spans and titles: an item runs to the next item of the same or a higher level."""
    if not accepted:
        return []
    last_start = accepted[-1][0].start
    body_limit = content_end(text, last_start)
    # End of each item: the start of the next item of the same or a higher level (one backward pass).
    ends = [body_limit] * len(accepted)
    later: list[tuple[int, int]] = []  # (level, start) of later items, levels increasing towards the top
    for index in range(len(accepted) - 1, -1, -1):
        candidate = accepted[index][0]
        while later and later[-1][0] > candidate.style.level:
            later.pop()
        if later:
            ends[index] = later[-1][1]
        later.append((candidate.style.level, candidate.start))
    headings: list[Heading] = []
    for index, (candidate, inferred) in enumerate(accepted):
        level = candidate.style.level
        end = _rstrip(text, candidate.start, ends[index])
        number = "" if inferred else text[candidate.start : candidate.end].strip(" \t\n|")
        body_start = candidate.end if not inferred else candidate.start
        title = heading_title(text, body_start, end)
        headings.append(
            Heading(
                level=level,
                number=number,
                number_key=number_key(candidate.style, candidate.value),
                title=title,
                span=(candidate.start, end),
                number_span=(candidate.start, candidate.start if inferred else candidate.end),
                body_start=body_start,
                inferred=inferred,
            )
        )
    return headings


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \t\n\r":
        end -= 1
    return end


_SENTENCE_STOP = re.compile(r"[。;;!?！？\n]")
_TITLE_LINE_ENDS = TERMINAL_PUNCTUATION + ",,、"  # a heading line ending so is a sentence
_COMMA = re.compile(r"[,,]")
_SPACED_TITLE = re.compile(rf"([^\s。;;!?！？,,:：]{{2,{HEADING_LINE_MAX}}}) ")


def heading_title(text: str, body_start: int, end: int) -> str:
    """The short title an item opens with ('' if it opens with a full sentence).

    A title is the rest of the heading line when the line holds nothing else,
    or the first sentence when it is short and reads as a title (no commas).
    The closing punctuation is not part of the title.
    """
    line_end = text.find("\n", body_start, end)
    line_end = end if line_end == -1 else line_end
    cell_end = text.find("|", body_start, line_end)
    line_end = line_end if cell_end == -1 else cell_end  # a table cell ends the title too
    line = text[body_start:line_end].strip()
    if not line:
        return ""
    has_more = not is_blank(text, line_end, end)
    if has_more and line[-1] not in _TITLE_LINE_ENDS and len(line) <= HEADING_LINE_MAX:
        return line
    stop = _SENTENCE_STOP.search(line)
    sentence = line[: stop.start()] if stop else line  # _SENTENCE_STOP.split(line, maxsplit=1)[0]
    closes = len(sentence) < len(line) and line[len(sentence)] == "。"
    if closes and 0 < len(sentence.strip()) <= SHORT_TITLE_MAX and not _COMMA.search(sentence):
        return sentence.strip()
    if not has_more and len(line) <= HEADING_LINE_MAX and line[-1] not in TERMINAL_PUNCTUATION:
        return line  # a heading with no body at all
    spaced = _SPACED_TITLE.match(line)
    if spaced and len(line) > HEADING_LINE_MAX:
        return spaced.group(1)  # flattened text: the title ends where its line did, now a space
    return ""


def heading_parents(headings: list[Heading]) -> list[int | None]:
    """Index of each heading's parent (nearest earlier heading of a lower level)."""
    parents: list[int | None] = []
    stack: list[int] = []
    for index, heading in enumerate(headings):
        while stack and headings[stack[-1]].level >= heading.level:
            stack.pop()
        parents.append(stack[-1] if stack else None)
        stack.append(index)
    return parents
