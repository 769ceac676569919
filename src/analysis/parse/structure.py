"""Structure stage: recover the heading hierarchy of a plan.

Chinese plans number their parts ``一、`` > ``(一)`` > ``1.`` / ``1、`` >
``(1)`` > ``①`` (sometimes under ``第一部分`` and with ``第一条`` items).
Captures indent irregularly, put text on the same line as a heading, run
items together on one line, and lose numbers.  The parser therefore:

1. finds candidate numbers at line starts (and, only when they continue the
   sequence exactly, after a sentence end in mid-line);
2. accepts a candidate when its value continues its level's sequence
   (restart at 1, next in the parent, or next in the whole document, since
   many plans number items 1…36 across sections);
3. when a level skips a number, looks back for the unnumbered heading-like
   line that lost it and re-creates it as an *inferred* heading;
4. cuts the closing block (signature, date, 此件公开发布) off the last item.

Input is the cleaned analysis text; all offsets refer to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analysis.core.models import Heading

CN_DIGITS = "〇零一二三四五六七八九"
CN_NUMERAL = "[一二三四五六七八九十百零〇]{1,4}"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"

LEVEL_PART, LEVEL_SECTION, LEVEL_SUBSECTION, LEVEL_ITEM, LEVEL_SUBITEM, LEVEL_POINT = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True)
class NumberStyle:
    """One numbering habit: its level, the regex of the number, how to read it."""

    name: str
    level: int
    pattern: re.Pattern[str]


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
        # "1." must not be a decimal (2.5倍), except before a year: "1.2017年底前…".
        re.compile(r"(?P<value>[0-9]{1,3})\s*(?:、|[.．](?:(?![0-9])|(?=(?:19|20)[0-9]{2}年))|\s(?=[\u4e00-\u9fff]))"),
    ),
    NumberStyle("subitem", LEVEL_SUBITEM, re.compile(r"[(（]\s*(?P<value>[0-9]{1,3})\s*[)）]\s*[、.]?")),
    NumberStyle("point", LEVEL_POINT, re.compile(rf"(?P<value>[{CIRCLED}])")),
)

# Where a mid-line item may start: right after a sentence end or a closing
# bracket (an assignment clause such as "(责任单位:…)" often ends an item).
MIDLINE_BOUNDARY = re.compile(r"[。;;!?！？)）\]】]\s*")
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
    """Value of a Chinese numeral up to 999 (一 → 1, 十二 → 12, 二十 → 20)."""
    if not numeral:
        return None
    if all(c in CN_DIGITS for c in numeral):  # 一〇 style
        return int("".join(str(CN_DIGITS.index(c) - 1 if c not in "〇零" else 0) for c in numeral))
    units = {"百": 100, "十": 10}
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
    """Numeric value of a matched number."""
    if raw_value in CIRCLED:
        return CIRCLED.index(raw_value) + 1
    if raw_value.isascii() and raw_value.isdigit():
        return int(raw_value)
    return chinese_numeral_value(raw_value)


def number_key(style: NumberStyle, value: int) -> str:
    """Normalised number used in task paths: 二, (一), 1, (1), ①, 第一条."""
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
    """1 → 一, 12 → 十二, 20 → 二十, 105 → 一百零五 (for keys of inferred numbers)."""
    digits = "零一二三四五六七八九"
    if value < 10:
        return digits[value]
    if value < 20:
        return "十" + (digits[value % 10] if value % 10 else "")
    if value < 100:
        return digits[value // 10] + "十" + (digits[value % 10] if value % 10 else "")
    rest = value % 100
    tail = "" if rest == 0 else ("零" + to_chinese_numeral(rest) if rest < 10 else to_chinese_numeral(rest))
    return digits[value // 100] + "百" + tail


@dataclass
class _Candidate:
    style: NumberStyle
    value: int
    start: int  # number start
    end: int  # number end (body starts here, after spaces)
    line_start: int
    line_end: int
    midline: bool


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, end excluding the newline."""
    spans, start = [], 0
    for match in re.finditer(r"\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _match_number(text: str, pos: int, line_end: int) -> tuple[NumberStyle, re.Match[str]] | None:
    for style in NUMBER_STYLES:
        match = style.pattern.match(text, pos, line_end)
        if match and match.end() < line_end:
            return style, match
    return None


def _candidates(text: str) -> list[_Candidate]:
    """Every place a number could start an item: line starts and mid-line boundaries."""
    found: list[_Candidate] = []
    for line_start, line_end in _lines(text):
        pos = line_start
        while pos < line_end and text[pos] in " \t":
            pos += 1
        if pos >= line_end:
            continue
        hit = _match_number(text, pos, line_end)
        if hit:
            style, match = hit
            value = number_value(style, match.group("value"))
            if value:
                body = match.end()
                while body < line_end and text[body] in " \t":
                    body += 1
                found.append(_Candidate(style, value, pos, body, line_start, line_end, False))
        for boundary in MIDLINE_BOUNDARY.finditer(text, pos, line_end):
            start = boundary.end()
            if start >= line_end:
                continue
            hit = _match_number(text, start, line_end)
            if not hit:
                continue
            style, match = hit
            if style.level < LEVEL_SUBSECTION:
                continue
            value = number_value(style, match.group("value"))
            if value:
                found.append(_Candidate(style, value, start, match.end(), line_start, line_end, True))
    found.sort(key=lambda c: c.start)
    return found


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


class _Sequencer:
    """Keeps the numbering state while headings are accepted in text order."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str, int]] = []  # (level, style, value)
        self._last_in_parent: dict[tuple[int, ...], dict[str, int]] = {}
        self._last_global: dict[str, int] = {}

    def expected(self, style: NumberStyle) -> tuple[int, int]:
        """(next number within the current parent, next number in the document)."""
        parent = self._parent_scope(style.level)
        local = self._last_in_parent.get(parent, {}).get(style.name, 0) + 1
        return local, self._last_global.get(style.name, 0) + 1

    def _parent_scope(self, level: int) -> tuple[int, ...]:
        scope = []
        for index, (lvl, _, _) in enumerate(self._stack):
            if lvl < level:
                scope.append(index)
                scope.append(self._stack[index][2])
        return tuple(scope)

    def accept(self, style: NumberStyle, value: int) -> None:
        while self._stack and self._stack[-1][0] >= style.level:
            self._stack.pop()
        parent = self._parent_scope(style.level)
        self._last_in_parent.setdefault(parent, {})[style.name] = value
        self._last_global[style.name] = value
        self._stack.append((style.level, style.name, value))


def parse_structure(text: str) -> list[Heading]:
    """All numbered (and recovered) headings of ``text``, in text order, with spans."""
    sequencer = _Sequencer()
    accepted: list[tuple[_Candidate, bool]] = []  # (candidate, number inferred)
    lines = _lines(text)
    for candidate in _candidates(text):
        local, global_ = sequencer.expected(candidate.style)
        value = candidate.value
        if candidate.midline:
            if value not in (local, global_) or value == 1:
                continue
        elif value not in (1, local, global_):
            if value < local or value - local > 2:
                continue
            # A gap: the skipped numbers may have been lost from heading lines.
            siblings = [c.start for c, _ in accepted if c.style.level <= candidate.style.level]
            recovered = _recover_lost(text, lines, candidate, local, siblings[-1] if siblings else 0)
            for lost in recovered:
                sequencer.accept(candidate.style, lost.value)
                accepted.append((lost, True))
        sequencer.accept(candidate.style, value)
        accepted.append((candidate, False))
    accepted.sort(key=lambda item: item[0].start)
    return _build_headings(text, accepted)


def _recover_lost(
    text: str, lines: list[tuple[int, int]], candidate: _Candidate, first_missing: int, since: int
) -> list[_Candidate]:
    """Unnumbered heading-like lines between ``since`` and ``candidate`` that lost a number."""
    missing = list(range(first_missing, candidate.value))
    pool = [
        (start, end)
        for start, end in lines
        if since < start < candidate.line_start and _is_heading_like(text, start, end)
    ]
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
    headings: list[Heading] = []
    for index, (candidate, inferred) in enumerate(accepted):
        level = candidate.style.level
        end = body_limit
        for later, _ in accepted[index + 1 :]:
            if later.style.level <= level:
                end = later.start
                break
        end = _rstrip(text, candidate.start, end)
        number = "" if inferred else text[candidate.start : candidate.end].strip()
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


def heading_title(text: str, body_start: int, end: int) -> str:
    """The short title an item opens with ('' if it opens with a full sentence).

    A title is the rest of the heading line when the line holds nothing else,
    or the first sentence when it is short and reads as a title (no commas).
    The closing punctuation is not part of the title.
    """
    line_end = text.find("\n", body_start, end)
    line_end = end if line_end == -1 else line_end
    line = text[body_start:line_end].strip()
    if not line:
        return ""
    has_more = text[line_end:end].strip() != ""
    if has_more and line[-1] not in TERMINAL_PUNCTUATION + ",,、" and len(line) <= HEADING_LINE_MAX:
        return line
    sentence = re.match(r"[^。;;!?！？\n]*", line).group(0)
    closes = len(sentence) < len(line) and line[len(sentence)] == "。"
    if closes and 0 < len(sentence.strip()) <= SHORT_TITLE_MAX and not re.search(r"[,,]", sentence):
        return sentence.strip()
    if not has_more and len(line) <= HEADING_LINE_MAX and line[-1] not in TERMINAL_PUNCTUATION:
        return line  # a heading with no body at all
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
