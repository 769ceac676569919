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
* ``date``: a 5-8 digit run alone on a signature/date line (optionally after
  the issuing office, optionally followed by 印发) whose tail splits into a
  valid month/day in exactly one way (201769 -> 2017年6月9日); a date missing
  only 年, 月 or 日 (2017年6月9印发 -> 2017年6月9日印发).

Ambiguous cases are left alone; :func:`find_unrepaired` lists them so the
pipeline can report them.  Ordinary numbers (100项, 227天, PM2.5) never
match: every rule needs a year-shaped digit run in a date/number context.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from analysis.core.models import Repair
from analysis.core.text import AlignedText, Edit, apply_edits

MIN_YEAR = 1949
MAX_YEAR = 2100
MAX_PERIOD_YEARS = 20
RANGE_DASH = "—"

KIND_YEAR_RANGE = "year_range"
KIND_DOC_NUMBER = "doc_number"
KIND_DATE = "date"

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
_DOC_NUMBER_NO_SERIAL = re.compile(rf"[{_CJK}]{{1,12}}[〔\[﹝]\d{{4}}(?:[〕\]﹞])?(?![\d〕\]﹞])")
_DOC_NUMBER_LONG = re.compile(rf"[{_CJK}]{{1,12}}[〔\[﹝]\d{{9,}}")


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
    """Restore lost characters; each repair is an insertion Edit plus a Repair record."""
    text = aligned.text
    found = _year_ranges(text) + _doc_numbers(text) + _signature_dates(text) + _partial_dates(text)
    chosen: list[_Found] = []
    taken: list[tuple[int, int]] = []
    for item in sorted(found, key=lambda f: (f.start, f.end)):
        if any(item.start < end and start < item.end for start, end in taken):
            continue  # two rules claiming the same characters: keep the first
        chosen.append(item)
        taken.append((item.start, item.end))
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

    for match in _SIGNATURE_DATE.finditer(text):
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
    for match in _YEAR_RANGE.finditer(text):
        first, second = int(match.group(1)), int(match.group(3))
        if not match.group(2) and not _plausible_range(first, second):
            add(KIND_YEAR_RANGE, *match.span(), "8 digits before 年 but not two plausible ascending years")
    for match in _DOC_NUMBER_NO_SERIAL.finditer(text):
        add(KIND_DOC_NUMBER, *match.span(), "document number with year but no serial number")
    for match in _DOC_NUMBER_LONG.finditer(text):
        add(KIND_DOC_NUMBER, *match.span(), "document number digits too long to split into year and serial")
    return sorted(suspects, key=lambda s: s["span"])


# --------------------------------------------------------------------------- helpers


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
    for match in _YEAR_RANGE.finditer(text):
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
    for match in _DOC_NUMBER.finditer(text):
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


def _signature_dates(text: str) -> list[_Found]:
    found: list[_Found] = []
    for match in _SIGNATURE_DATE.finditer(text):
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
    for match in _DATE_NO_DAY_MARK.finditer(text):
        year, month, day = (int(g) for g in match.groups())
        if plausible_year(year) and valid_date(year, month, day):
            inserts = [(match.end(3), "日")]
            found.append(_make(text, match.start(), match.end(), inserts, KIND_DATE, "date lost its 日"))
    for match in _DATE_NO_YEAR_MARK.finditer(text):
        year, month, day = (int(g) for g in match.groups())
        if plausible_year(year) and valid_date(year, month, day):
            inserts = [(match.end(1), "年")]
            found.append(_make(text, match.start(), match.end(), inserts, KIND_DATE, "date lost its 年"))
    for match in _DATE_NO_MONTH_MARK.finditer(text):
        readings = _date_readings(match.group(1) + match.group(2))
        if len(readings) == 1:
            month_len = readings[0][0]
            inserts = [(match.start(2) + month_len, "月")]
            found.append(_make(text, match.start(), match.end(), inserts, KIND_DATE, "date lost its 月"))
    return found
