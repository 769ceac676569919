"""Repair stage: restore characters the captures lost, and record every repair.

Captured pages often drop the dash in year ranges, the closing bracket and
号 of document numbers, and 年/月/日 in dates.  Only what can be inferred
unambiguously is restored:

* ``year_range``: an 8-digit run before 年 that splits into two plausible,
  ascending years (span at most :data:`MAX_PERIOD_YEARS`) gets its dash back
  (20162020年 -> 2016—2020年); an unmatched ``)`` right after it gets its
  ``(`` back.
* ``doc_number``: issuer abbreviation + 〔 + 4-digit year + serial with 〕
  and/or 号 missing (天办发〔201711 -> 天办发〔2017〕11号).  The year is
  always four digits, so the split is unique.
  A number alone on its line that lost both brackets (株县发20174) gets them
  back when the abbreviation ends like an issuer's (…发, …办, …函, …字).
* ``date``: a 5-8 digit run alone on a signature/date line (optionally after
  the issuing office, optionally followed by 印发) whose tail splits into a
  valid month/day in exactly one way (201769 -> 2017年6月9日); a date missing
  only 年, 月 or 日 (2017年6月9印发 -> 2017年6月9日印发).

* ``pinyin``: pinyin in parentheses after a character, left by pages that
  annotate pronunciation (执(zhí)法, 建设(shè)), is removed; the
  parenthesis must hold one toned syllable, so (app) or (试行) stay.
* ``lost_indent``: ``?`` marks at a line start that stand for indentation
  spaces lost in transcoding (``??一、…``) are removed.
* ``mojibake``: a heading number garbled by a wrong decoding - GBK text read
  one byte off (``?。ㄒ唬`` for ``　(一)``) or UTF-8 read as GBK (``锛堜竴锛``)
  - at a line start is restored; the rest of a garbled heading cannot be
  recovered and is kept as captured.
* ``line_wrap_space``: in a long line of flattened PDF text that shows
  several spaces between two Chinese characters (习 近平, 市司法 局), those
  wrap spaces are removed (not before a heading number such as 二、, nor
  the space that ends a heading title run into its text: 一、总体要求 坚持…).

Ambiguous cases are left alone; :func:`find_unrepaired` lists them so the
pipeline can report them.  Ordinary numbers (100项, 227天, PM2.5) never
match: every rule needs a year-shaped digit run in a date/number context.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from analysis.core.models import Repair
from analysis.core.text import AlignedText, Edit, anchored_finditer, apply_edits, line_matches

MIN_YEAR = 1949
MAX_YEAR = 2100
MAX_PERIOD_YEARS = 20
RANGE_DASH = "—"

KIND_YEAR_RANGE = "year_range"
KIND_DOC_NUMBER = "doc_number"
KIND_DATE = "date"
KIND_PINYIN = "pinyin"
KIND_LOST_INDENT = "lost_indent"
KIND_MOJIBAKE = "mojibake"
KIND_WRAP_SPACE = "line_wrap_space"

_CJK = r"\u4e00-\u9fff"
_OPEN_TO_CLOSE = {"〔": "〕", "[": "]", "﹝": "﹞"}
# Suffixes that end the name of an issuing body on a signature line.
_ORG_SUFFIX = re.compile(
    r"(办公室|办公厅|人民政府|政府|委员会|党组|委|局|厅|部|院|办|中心|小组|组|会|处|室|所|站|队|公司)$"
)

_YEAR_RANGE = re.compile(r"(?<![\d.])(\d{4})([—–\-~至]?)(\d{4})年")
_DOC_NUMBER = re.compile(
    rf"[{_CJK}]{{1,12}}(?P<open>[〔\[﹝])(?P<year>\d{{4}})(?P<close>[〕\]﹞]?)(?P<serial>\d{{1,4}})(?P<hao>号?)(?!\d)"
)
# Characters after a serial that make a missing 号 safe to add (not a list like 11、12号).
_AFTER_SERIAL_OK = re.compile(rf"$|[\s),.;:》\]】」'\"”{_CJK}]")
_SIGNATURE_DATE = re.compile(
    r"^(?P<lead>[ \t]*[(\[]?[ \t]*(?:(?P<org>[^\d\n]{2,80}?)[ \t]+)?)"
    r"(?P<digits>\d{5,8})"
    r"(?P<tail>[ \t]*(?:印发|发布|签发)?[ \t]*[)\]]?[ \t]*)$",
    re.MULTILINE,
)
_DATE_NO_DAY_MARK = re.compile(
    r"(?<!\d)(\d{4})年(\d{1,2})月(\d{1,2})(?![\d日号])(?=[ \t]*(?:印发|发布|签发|[)\]]|$))", re.MULTILINE
)
_DATE_NO_YEAR_MARK = re.compile(r"(?<![\d.])(\d{4})(\d{1,2})月(\d{1,2})日")
_DATE_NO_MONTH_MARK = re.compile(r"(?<![\d.])(\d{4})年(\d{2,4})日")
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹ"
_PINYIN_LETTERS = "a-zü" + _TONED
_PINYIN = re.compile(rf"(?<=[{_CJK}])\((?=[{_PINYIN_LETTERS}]*[{_TONED}])[{_PINYIN_LETTERS}]{{1,7}}\)")
# The same matches with the bracket first (the character before it checked behind it): a search skips to each "(".
_PINYIN_FAST = re.compile(rf"\((?<=[{_CJK}]\()(?=[{_PINYIN_LETTERS}]*[{_TONED}])[{_PINYIN_LETTERS}]{{1,7}}\)")
_LOST_INDENT = re.compile(r"^([ \t]*)(\?{1,4})(?=[^\s?。])", re.MULTILINE)
WRAP_LINE_MIN = 200  # a line at least this long ...
WRAP_SPACES_MIN = 3  # ... with at least this many spaces between two Chinese characters is flattened PDF text
WRAP_HEADING_LOOKBACK = 30
_HEADING_BEFORE = re.compile(r"(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、])[^。;;,,: ]*$")
_WRAP_SPACE = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])(?![一二三四五六七八九十]+、|第[一二三四五六七八九十]+[部章条])")
_DOC_NUMBER_BARE_LINE = re.compile(
    rf"^[ \t]*(?P<abbr>[{_CJK}]{{1,10}}[发办函字])(?P<year>(?:19|20)\d{{2}})(?P<serial>\d{{1,4}})(?P<hao>号?)[ \t]*$",
    re.MULTILINE,
)
# What every bare document number holds (line_matches tries only the lines holding it).
_BARE_DOC_NUMBER_ANCHOR = re.compile(r"[发办函字](?:19|20)\d\d")
_DOC_NUMBER_NO_SERIAL = re.compile(rf"[{_CJK}]{{1,12}}[〔\[﹝]\d{{4}}(?:[〕\]﹞])?(?![\d〕\]﹞])")
_DOC_NUMBER_LONG = re.compile(rf"[{_CJK}]{{1,12}}[〔\[﹝]\d{{9,}}")
# Every document-number match has its opening bracket within 12 characters of its start
# (anchored_finditer tries only the starts there); every signature-date line holds a run of 5+ digits.
_DOC_NUMBER_OPEN, _DOC_NUMBER_REACH = re.compile(r"[〔\[﹝]"), 12
_DIGIT_RUN = re.compile(r"\d{5}")
# A year range or a date lacking one mark has its 年 (or 月) at most this far after its start:
# 2016—2020年 (9), 2017年6月9 (4), 20176月9日 (6); only the starts before each 年/月 are tried.
_YEAR_MARK, _MONTH_MARK = re.compile("年"), re.compile("月")
_YEAR_RANGE_REACH, _DATE_YEAR_REACH, _DATE_MONTH_REACH = 9, 4, 6
# Exactly: the first 年 of a year range stands 8 or 9 characters after its start (the 4 digits, maybe a dash,
# 4 digits), of a date lacking 日 or 月 4 after it; the first 月 of a date lacking 年 5 or 6 after it.
_YEAR_RANGE_OFFSETS, _DATE_YEAR_OFFSETS, _DATE_MONTH_OFFSETS = (8, 9), (4,), (5, 6)


@dataclass(frozen=True)
class _Found:
    """One repair: where it applies, the edits, and the record."""

    start: int
    end: int
    edits: tuple[Edit, ...]
    kind: str
    after: str
    reason: str


# --------------------------------------------------------------------------- entry points


def repair(aligned: AlignedText) -> tuple[AlignedText, list[Repair]]:
    """Remove damage, then restore lost characters; each repair is an Edit plus a Repair record.

    Two passes: removals and replacements (pinyin, lost indentation, garbled
    heading numbers, wrap spaces) first, so that the insertions (year ranges,
    document numbers, dates) see the text without them.
    """
    text = aligned.text
    first = _pinyin(text) + _lost_indents(text) + _mojibake_numbers(text) + _wrap_spaces(text)
    aligned, first_repairs = _apply(aligned, first)
    text = aligned.text
    second = (
        _year_ranges(text)
        + _doc_numbers(text)
        + _bare_doc_numbers(text)
        + _signature_dates(text)
        + _partial_dates(text)
    )
    aligned, second_repairs = _apply(aligned, second)
    return aligned, first_repairs + second_repairs


def _apply(aligned: AlignedText, found: list[_Found]) -> tuple[AlignedText, list[Repair]]:
    """Apply non-overlapping repairs (the earliest wins a conflict) and make their records."""
    text = aligned.text
    chosen: list[_Found] = []
    reach_before = -1  # furthest end of chosen repairs starting before the current start
    reach_here, here = -1, -1  # furthest end of chosen repairs starting at ``here``
    for item in sorted(found, key=lambda f: (f.start, f.end)):
        if item.start != here:
            reach_before, reach_here, here = max(reach_before, reach_here), -1, item.start
        # Two rules claiming the same characters: keep the first.
        if item.start < reach_before or (item.end > item.start and item.start < reach_here):
            continue
        chosen.append(item)
        reach_here = max(reach_here, item.end)
    edits = [edit for item in chosen for edit in item.edits]
    repairs = [
        Repair(
            item.kind, text[item.start : item.end], item.after, aligned.original_span(item.start, item.end), item.reason
        )
        for item in chosen
    ]
    if not edits:
        return aligned, []
    return apply_edits(aligned, edits), repairs


def find_unrepaired(text: str) -> list[dict]:
    """Damage that looks like a lost character but cannot be repaired unambiguously.

    Meant for the repaired text; returns ``{"kind", "text", "span": [a, b], "reason"}``
    with spans into ``text``.
    """
    suspects: list[dict] = []

    def add(kind: str, start: int, end: int, reason: str) -> None:
        suspects.append({"kind": kind, "text": text[start:end], "span": [start, end], "reason": reason})

    for match in _signature_date_matches(text):
        if not _is_signature_lead(match.group("org")):
            continue
        digits = match.group("digits")
        if not plausible_year(int(digits[:4])):
            continue  # a plain number on its own line, not a damaged date
        splits = month_day_splits(digits)
        start, end = match.span("digits")
        if len(splits) > 1:
            readings = ", ".join(f"{y}-{m:02d}-{d:02d}" for y, m, d in splits)
            add(KIND_DATE, start, end, f"digit run on a date line reads as several dates ({readings})")
        elif not splits:
            add(KIND_DATE, start, end, "digit run on a date line is not a valid year+month+day")
    for match in _year_range_matches(text):
        first, second = int(match.group(1)), int(match.group(3))
        if not match.group(2) and not _plausible_range(first, second):
            add(KIND_YEAR_RANGE, *match.span(), "8 digits before 年 but not two plausible ascending years")
    for match in anchored_finditer(_DOC_NUMBER_NO_SERIAL, text, _DOC_NUMBER_OPEN, _DOC_NUMBER_REACH, window=True):
        add(KIND_DOC_NUMBER, *match.span(), "document number with year but no serial number")
    for match in anchored_finditer(_DOC_NUMBER_LONG, text, _DOC_NUMBER_OPEN, _DOC_NUMBER_REACH, window=True):
        add(KIND_DOC_NUMBER, *match.span(), "document number digits too long to split into year and serial")
    return sorted(suspects, key=lambda s: s["span"])


# --------------------------------------------------------------------------- helpers


# repair's second pass and find_unrepaired (on the repaired text) scan for the same two patterns: when the
# pass repaired nothing, the text is the same and the matches found for it are reused.
@functools.lru_cache(maxsize=2)
def _signature_date_matches(text: str) -> tuple[re.Match[str], ...]:
    """The lines of ``text`` that are a signature date line (``_SIGNATURE_DATE``), in order."""
    return tuple(line_matches(_SIGNATURE_DATE, text, _DIGIT_RUN))


@functools.lru_cache(maxsize=2)
def _year_range_matches(text: str) -> tuple[re.Match[str], ...]:
    """``_YEAR_RANGE.finditer(text)``, scanned near each 年 only."""
    return tuple(
        anchored_finditer(_YEAR_RANGE, text, _YEAR_MARK, _YEAR_RANGE_REACH, window=True, offsets=_YEAR_RANGE_OFFSETS)
    )


def plausible_year(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


def _plausible_range(first: int, second: int) -> bool:
    return plausible_year(first) and plausible_year(second) and 0 < second - first <= MAX_PERIOD_YEARS


def month_day_splits(digits: str) -> list[tuple[int, int, int]]:
    """All ways a year+month+day digit run (no separators) reads as a valid date."""
    return [(year, month, day) for _, year, month, day in _date_readings(digits)]


def _date_readings(digits: str) -> list[tuple[int, int, int, int]]:
    """Valid readings of a year+month+day digit run as (month digit count, year, month, day)."""
    if len(digits) < 6 or not plausible_year(int(digits[:4])):
        return []
    year, rest = int(digits[:4]), digits[4:]
    readings: list[tuple[int, int, int, int]] = []
    for cut in range(1, len(rest)):
        month_part, day_part = rest[:cut], rest[cut:]
        if len(month_part) <= 2 and len(day_part) <= 2 and valid_date(year, int(month_part), int(day_part)):
            readings.append((cut, year, int(month_part), int(day_part)))
    return readings


def valid_date(year: int, month: int, day: int) -> bool:
    """True for an existing calendar date."""
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def is_org_name(name: str) -> bool:
    """Whether ``name`` ends like the name of an issuing body (…办公室, …人民政府, …局)."""
    return bool(_ORG_SUFFIX.search(name))


def _is_signature_lead(org: str | None) -> bool:
    """A date line may start with the issuing office(s); anything else is body text."""
    if org is None:
        return True
    names = org.strip().split()
    return bool(names) and all(is_org_name(name) for name in names)


def _line_open_parens(text: str, position: int) -> int:
    """Unclosed '(' between the start of the line and ``position``."""
    line_start = text.rfind("\n", 0, position) + 1
    prefix = text[line_start:position]
    return prefix.count("(") - prefix.count(")")


def _insertions(inserts: list[tuple[int, str]], kind: str, reason: str) -> tuple[Edit, ...]:
    return tuple(Edit(pos, pos, chars, kind, reason) for pos, chars in inserts)


def _render(text: str, start: int, end: int, inserts: list[tuple[int, str]]) -> str:
    """``text[start:end]`` with the insertions applied."""
    pieces, cursor = [], start
    for pos, chars in sorted(inserts):
        pieces += [text[cursor:pos], chars]
        cursor = pos
    pieces.append(text[cursor:end])
    return "".join(pieces)


def _make(text: str, start: int, end: int, inserts: list[tuple[int, str]], kind: str, reason: str) -> _Found:
    return _Found(start, end, _insertions(inserts, kind, reason), kind, _render(text, start, end, inserts), reason)


# --------------------------------------------------------------------------- rules


def _year_ranges(text: str) -> list[_Found]:
    found: list[_Found] = []
    for match in _year_range_matches(text):
        first, second = int(match.group(1)), int(match.group(3))
        if not _plausible_range(first, second):
            continue
        inserts: list[tuple[int, str]] = []
        end = match.end()
        if not match.group(2):
            inserts.append((match.end(1), RANGE_DASH))
        closes = end < len(text) and text[end] == ")"
        if closes and _line_open_parens(text, match.start()) <= 0:
            inserts.append((match.start(), "("))
            end += 1
        if inserts:
            reason = "year range lost its " + " and ".join(
                "dash" if chars == RANGE_DASH else "opening parenthesis" for _, chars in inserts
            )
            found.append(_make(text, match.start(), end, inserts, KIND_YEAR_RANGE, reason))
    return found


def _doc_numbers(text: str) -> list[_Found]:
    found: list[_Found] = []
    for match in anchored_finditer(_DOC_NUMBER, text, _DOC_NUMBER_OPEN, _DOC_NUMBER_REACH, window=True):
        if not plausible_year(int(match.group("year"))):
            continue
        has_close, has_hao = bool(match.group("close")), bool(match.group("hao"))
        if has_close and has_hao:
            continue
        if not has_hao and not _AFTER_SERIAL_OK.match(text, match.end()):
            continue
        inserts: list[tuple[int, str]] = []
        if not has_close:
            inserts.append((match.end("year"), _OPEN_TO_CLOSE[match.group("open")]))
        if not has_hao:
            inserts.append((match.end("serial"), "号"))
        lost = " and ".join(("closing bracket",) * (not has_close) + ("号",) * (not has_hao))
        reason = f"document number (issuer〔4-digit year〕serial号) lost its {lost}"
        found.append(_make(text, match.start(), match.end(), inserts, KIND_DOC_NUMBER, reason))
    return found


def _bare_doc_numbers(text: str) -> list[_Found]:
    """A document number alone on its line that lost both brackets: 株县发20174 -> 株县发〔2017〕4号."""
    found: list[_Found] = []
    for match in line_matches(_DOC_NUMBER_BARE_LINE, text, _BARE_DOC_NUMBER_ANCHOR):
        if not plausible_year(int(match.group("year"))):
            continue
        inserts = [(match.start("year"), "〔"), (match.end("year"), "〕")]
        if not match.group("hao"):
            inserts.append((match.end("serial"), "号"))
        reason = "document number alone on its line (issuer + 4-digit year + serial) lost its brackets"
        found.append(_make(text, match.start("abbr"), match.end("hao"), inserts, KIND_DOC_NUMBER, reason))
    return found


def _signature_dates(text: str) -> list[_Found]:
    found: list[_Found] = []
    for match in _signature_date_matches(text):
        if not _is_signature_lead(match.group("org")):
            continue
        readings = _date_readings(match.group("digits"))
        if len(readings) != 1:
            continue
        month_len = readings[0][0]
        start = match.start("digits")
        inserts = [(start + 4, "年"), (start + 4 + month_len, "月"), (match.end("digits"), "日")]
        reason = "digits on a date line split into a valid month and day in exactly one way"
        found.append(_make(text, start, match.end("digits"), inserts, KIND_DATE, reason))
    return found


def _partial_dates(text: str) -> list[_Found]:
    """Dates missing exactly one of 年/月/日."""
    found: list[_Found] = []
    for match in anchored_finditer(
        _DATE_NO_DAY_MARK, text, _YEAR_MARK, _DATE_YEAR_REACH, window=True, offsets=_DATE_YEAR_OFFSETS
    ):
        year, month, day = (int(g) for g in match.groups())
        if plausible_year(year) and valid_date(year, month, day):
            inserts = [(match.end(3), "日")]
            found.append(_make(text, match.start(), match.end(), inserts, KIND_DATE, "date lost its 日"))
    for match in anchored_finditer(
        _DATE_NO_YEAR_MARK, text, _MONTH_MARK, _DATE_MONTH_REACH, window=True, offsets=_DATE_MONTH_OFFSETS
    ):
        year, month, day = (int(g) for g in match.groups())
        if plausible_year(year) and valid_date(year, month, day):
            inserts = [(match.end(1), "年")]
            found.append(_make(text, match.start(), match.end(), inserts, KIND_DATE, "date lost its 年"))
    for match in anchored_finditer(
        _DATE_NO_MONTH_MARK, text, _YEAR_MARK, _DATE_YEAR_REACH, window=True, offsets=_DATE_YEAR_OFFSETS
    ):
        readings = _date_readings(match.group(1) + match.group(2))
        if len(readings) == 1:
            month_len = readings[0][0]
            inserts = [(match.start(2) + month_len, "月")]
            found.append(_make(text, match.start(), match.end(), inserts, KIND_DATE, "date lost its 月"))
    return found


def _pinyin(text: str) -> list[_Found]:
    """Pinyin in parentheses after a character (执(zhí)法) removed."""
    reason = "pinyin pronunciation in parentheses after a character, not part of the text"
    return [
        _Found(m.start(), m.end(), (Edit(m.start(), m.end(), "", KIND_PINYIN, reason),), KIND_PINYIN, "", reason)
        for m in _PINYIN_FAST.finditer(text)
    ]


def _lost_indents(text: str) -> list[_Found]:
    """'?' marks at a line start that replaced indentation spaces."""
    reason = "'?' at a line start stands for an indentation space lost in transcoding"
    found: list[_Found] = []
    if "?" not in text:
        return found  # every match holds a '?'
    for match in _LOST_INDENT.finditer(text):
        start, end = match.span(2)
        found.append(
            _Found(start, end, (Edit(start, end, "", KIND_LOST_INDENT, reason),), KIND_LOST_INDENT, "", reason)
        )
    return found


def _wrap_spaces(text: str) -> list[_Found]:
    """Line-wrap spaces between two Chinese characters in long lines of flattened PDF text."""
    reason = "space between two characters of a flattened PDF line where the original line wrapped"
    found: list[_Found] = []
    for line_start, line_end in _long_lines(text, WRAP_LINE_MIN):
        spaces = list(_WRAP_SPACE.finditer(text, line_start, line_end))
        if len(spaces) < WRAP_SPACES_MIN:
            continue
        for space in spaces:
            start, end = space.span()
            if _HEADING_BEFORE.search(text, max(line_start, start - WRAP_HEADING_LOOKBACK), start):
                continue  # the space ends a run-in heading title (一、总体要求 坚持…): a real break
            context = text[start - 1 : end + 1]
            found.append(
                _Found(
                    start,
                    end,
                    (Edit(start, end, "", KIND_WRAP_SPACE, reason),),
                    KIND_WRAP_SPACE,
                    context.replace(" ", ""),
                    reason,
                )
            )
    return found


def _long_lines(text: str, minimum: int) -> list[tuple[int, int]]:
    """Spans of the lines of ``text`` at least ``minimum`` (> 0) characters long (line breaks excluded)."""
    lines = text.split("\n")
    if max(map(len, lines)) < minimum:
        return []  # the usual text: no line to look at
    spans, start = [], 0
    for line in lines:
        if len(line) >= minimum:
            spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _pairwise_gbk(data: bytes) -> str:
    """Bytes read as GBK two at a time, as a misaligned decoder does: unreadable pairs vanish."""
    chars = []
    for index in range(0, len(data) - 1, 2):
        try:
            char = data[index : index + 2].decode("gbk")
        except UnicodeDecodeError:
            continue
        if len(char) == 1 and not 0xE000 <= ord(char) <= 0xF8FF:
            chars.append(char)
    return "".join(chars)


@functools.lru_cache(maxsize=1)
def _garbled_numbers() -> tuple[re.Pattern[str], dict[str, str]]:
    """Regex of heading numbers as two wrong decodings show them, and the number each stands for.

    GBK read one byte off: the indentation space and the number lose their
    alignment, '　(一)' shows as '?。ㄒ唬' ('?' is the orphaned byte).  UTF-8
    read as GBK: '(一)' shows as '锛堜竴锛'.  Numbers 一 to 三十, as (N) and N、.
    """
    readings: dict[str, str] = {}

    def add(garbled: str, written: str) -> None:
        # Unreadable byte pairs vanish, so (二十) may look like (二): the smaller number, met first, wins.
        readings.setdefault(garbled, written)

    for value in range(1, 31):
        numeral = _chinese_numeral(value)
        for shown, written in ((f"（{numeral}）", f"({numeral})"), (f"{numeral}、", f"{numeral}、")):
            # The last byte of the number pairs with the next character: only whole pairs are the number's.
            shifted = _pairwise_gbk(("\u3000" + shown).encode("gbk")[1:])
            if len(shifted) >= 2:
                add("?" + shifted, written)
            utf8 = _pairwise_gbk(shown.encode("utf-8"))
            if len(utf8) >= 3:
                add(utf8, written)
    alternatives = "|".join(re.escape(k) for k in sorted(readings, key=len, reverse=True))
    return re.compile(rf"^[ \t]*(?P<garbled>{alternatives})", re.MULTILINE), readings


def _chinese_numeral(value: int) -> str:
    digits = "零一二三四五六七八九"
    if value < 10:
        return digits[value]
    tens, units = divmod(value, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[units] if units else "")


def _mojibake_numbers(text: str) -> list[_Found]:
    """Heading numbers garbled by a wrong decoding, at line starts, restored."""
    if "?" not in text and "锛" not in text and "涓" not in text:
        return []
    pattern, readings = _garbled_numbers()
    found = []
    for match in pattern.finditer(text):
        start, end = match.span("garbled")
        number = readings[match.group("garbled")]
        reason = f"heading number garbled by a wrong decoding (GBK/UTF-8), read as {number}"
        found.append(
            _Found(start, end, (Edit(start, end, number, KIND_MOJIBAKE, reason),), KIND_MOJIBAKE, number, reason)
        )
    return found
