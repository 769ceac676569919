"""Targets stage: find, type and normalise the quantified commitments in a task.

A *target* is a number the text commits to: a rate (出庭应诉率达到100%), a
threshold with a unit (PM2.5控制在52微克/立方米以下), a count (100项事项), a
frequency (每年至少举办一期), a deadline (2017年底前, 每年3月底前), a duration
or validity (有效期一般不超过5年) or a share (不少于执法人员总数5%).

All vocabulary (comparator words, periods, units, metric suffixes, deadline
words, slogans and other non-targets) lives in
``reference/target_patterns.csv`` and is validated on load; this module only
holds the grammar that combines them.  Everything works on one text at a time:
spans are relative to the text passed in (``text[start:end] == target.text``).

Decisions worth knowing (also in ``reference/README.md``):

* Numbers inside quotes, 《》 titles, document numbers, plan periods
  (2016—2020年), meeting names and listed slogans are never targets.
* A year alone is context (落实2020年…目录); it is a deadline only with a part
  (年底, 上半年), a 前/以前 or a cue before it (到/力争到/截至).
* ``每年`` with no number (每年组织培训) and 定期 are not targets.
* A bare Chinese 一 is a count only after a comparator or cue (只设一个,
  至少一名); 一 is everywhere in ordinary words (统一, 一批, 一起).
* ``N小时``/``N天``/``N年`` (not a four-digit year) are durations; a count of
  days named by a metric (优良天数227天) is a threshold.
* ``A、B、C分别…x、y、z单位`` gives one target per metric (span = its number);
  ``A率、B率、C率均达到100%`` gives one target per metric (span = the metric
  name, the last one carrying the shared value).
"""

from __future__ import annotations

import bisect
import calendar
import functools
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import rjieba

from analysis.core.models import TARGET_TYPES, Task
from analysis.core.numerals import FULLWIDTH_TO_ASCII, chinese_number
from analysis.core.reference import TableSchema, read_csv_strict, reference_path
from analysis.core.schema import require_columns
from analysis.core.text import alternation

log = logging.getLogger(__name__)


COMPARATORS = ("at_least", "at_most", "exactly", "range")


UNIT_CLASSES = ("count", "frequency", "duration", "measure", "percent")


PATTERNS_FILE = "target_patterns.csv"


CATEGORIES = (
    "comparator_before",
    "comparator_after",
    "comparator_blocked",
    "period",
    "period_multiple",
    "unit",
    "metric_suffix",
    "share_cue",
    "filler",
    "metric_stop",
    "deadline_year_part",
    "deadline_month_part",
    "deadline_before",
    "deadline_cue",
    "deadline_exclude_after",
    "protected_pair",
    "non_target_term",
    "non_target_regex",
    "reported_heading",
    "commitment_heading",
    "reported_cue",
    "stage_cue",
)


STANCES = ("commitment", "reported")


# Full-width forms mapped 1:1 to ASCII so spans stay valid in the input text.


_CN_DIGITS = "零〇一二两三四五六七八九十百千万"


# Numbers start at a digit boundary and have a bounded length, so a long run of digits or
# numerals is read in one pass instead of being retried at every position (linear time).
_ARABIC_BOUNDED = r"(?<![\d.])\d{1,15}(?:\.\d{1,8})?"


_CN = f"(?<![{_CN_DIGITS}])[{_CN_DIGITS}]{{1,12}}"


_NUM = f"(?:{_ARABIC_BOUNDED}|{_CN})"


_SCALE = {"万": 10_000, "亿": 100_000_000}  # 11.34万件


_METRIC_WINDOW = 40  # a metric name or a share cue stands within this many characters before its number


_MAX_SHARED_METRICS = 20  # A率、B率、C率均达到100%: at most this many listed metrics


_CLAUSE_BREAK = ",;。:!?\n()"  # characters a target expression never spans


_RANGE_SEP = r"[ \t]*(?:-|~|—|–|至|到)[ \t]*"


_MAX_GAP = 25  # characters allowed between 每年 and its count (每年至少组织全委…测试一次)


_LOOKBACK = 15  # how far back a detached comparator may stand (不少于本单位执法人员总数5%)


_METRIC_MIN_CHARS = 4  # a metric name grows token by token until it has this many characters


@dataclass(frozen=True)
class Target:
    """One quantified commitment; ``text == source[start:end]``."""

    text: str
    start: int
    end: int
    type: str
    value: float | None
    value_max: float | None
    unit: str | None
    comparator: str | None
    period: str | None
    period_years: float | None
    deadline_date: str | None
    deadline_recurring: bool
    metric: str | None
    deadline_month: int | None = None  # recurring deadlines (每年2月底前 -> 2)
    deadline_day: int | None = None  # None with a month = end of the month

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_row(row: pd.Series) -> str | None:
    """Per-category checks of target_patterns.csv rows."""
    category, term, value, number = row["category"], row["term"], row["value"], row["number"]
    if category not in CATEGORIES:
        return None  # reported by the `allowed` check
    if category in ("comparator_before", "comparator_after", "deadline_before", "deadline_cue"):
        if value not in COMPARATORS:
            return f"{category} {term!r}: value {value!r} not one of {COMPARATORS}"
    if category == "comparator_blocked" and (not value or value not in term):
        return f"comparator_blocked {term!r}: value {value!r} must be the comparator inside the word"
    if category == "period":
        if not value:
            return f"period {term!r}: empty value (period name)"
        try:
            if float(number) <= 0:
                raise ValueError
        except ValueError:
            return f"period {term!r}: number {number!r} is not a positive number of years"
    if category == "period_multiple":
        if not term.isdigit() or not value:
            return f"period_multiple {term!r}: term must be an integer and value a name"
    if category == "unit" and value not in UNIT_CLASSES:
        return f"unit {term!r}: value {value!r} not one of {UNIT_CLASSES}"
    if category == "metric_suffix" and value not in TARGET_TYPES:
        return f"metric_suffix {term!r}: value {value!r} not one of {TARGET_TYPES}"
    if category == "deadline_year_part" and not re.fullmatch(r"\d{2}-\d{2}", value):
        return f"deadline_year_part {term!r}: value {value!r} is not MM-DD"
    if category == "deadline_month_part" and not (value == "end" or value.isdigit()):
        return f"deadline_month_part {term!r}: value {value!r} is neither 'end' nor a day"
    if category == "protected_pair" and not value:
        return f"protected_pair {term!r}: empty closing character (value)"
    if category == "non_target_regex":
        try:
            re.compile(term)
        except re.error as exc:
            return f"non_target_regex {term!r} does not compile: {exc}"
    return None


PATTERNS_SCHEMA = TableSchema(
    required=("category", "term"),
    optional=("value", "number", "note"),
    unique=(("category", "term"),),
    allowed={"category": frozenset(CATEGORIES)},
    checks=(_check_row,),
)


@dataclass(frozen=True)
class TargetVocabulary:
    """The validated contents of target_patterns.csv, ready for matching."""

    path: str
    comparator_before: dict[str, str]
    comparator_after: dict[str, str]
    comparator_blocked: tuple[str, ...]
    periods: dict[str, tuple[str, float]]
    period_multiples: dict[int, str]
    unit_class: dict[str, str]
    metric_suffix: dict[str, str]
    share_cues: tuple[str, ...]
    fillers: tuple[str, ...]
    metric_stops: frozenset[str]
    deadline_year_part: dict[str, str]
    deadline_month_part: dict[str, str]
    deadline_before: dict[str, str]
    deadline_cue: dict[str, str]
    deadline_exclude_after: tuple[str, ...]
    protected_pairs: tuple[tuple[str, str], ...]
    non_target_terms: tuple[str, ...]
    non_target_regexes: tuple[re.Pattern[str], ...]
    reported_headings: tuple[str, ...]
    commitment_headings: tuple[str, ...]
    reported_cues: tuple[str, ...]
    stage_cues: tuple[str, ...] = ()
    regex: dict[str, re.Pattern[str]] = field(default_factory=dict, compare=False)

    @classmethod
    def from_frame(cls, table: pd.DataFrame, path: str) -> TargetVocabulary:
        def rows(category: str) -> pd.DataFrame:
            return table[table["category"] == category]

        def mapping(category: str) -> dict[str, str]:
            sub = rows(category)
            return dict(zip(sub["term"], sub["value"], strict=False))

        periods = {t: (v, float(n)) for t, v, n in rows("period")[["term", "value", "number"]].itertuples(index=False)}
        vocab = cls(
            path=path,
            comparator_before=mapping("comparator_before"),
            comparator_after=mapping("comparator_after"),
            comparator_blocked=tuple(rows("comparator_blocked")["term"]),
            periods=periods,
            period_multiples={int(t): v for t, v in mapping("period_multiple").items()},
            unit_class=mapping("unit"),
            metric_suffix=mapping("metric_suffix"),
            share_cues=tuple(rows("share_cue")["term"]),
            fillers=tuple(sorted(rows("filler")["term"], key=len, reverse=True)),
            metric_stops=frozenset(rows("metric_stop")["term"]),
            deadline_year_part=mapping("deadline_year_part"),
            deadline_month_part=mapping("deadline_month_part"),
            deadline_before=mapping("deadline_before"),
            deadline_cue=mapping("deadline_cue"),
            deadline_exclude_after=tuple(rows("deadline_exclude_after")["term"]),
            protected_pairs=tuple(mapping("protected_pair").items()),
            non_target_terms=tuple(rows("non_target_term")["term"]),
            non_target_regexes=tuple(re.compile(t) for t in rows("non_target_regex")["term"]),
            reported_headings=tuple(rows("reported_heading")["term"]),
            commitment_headings=tuple(rows("commitment_heading")["term"]),
            reported_cues=tuple(rows("reported_cue")["term"]),
            stage_cues=tuple(rows("stage_cue")["term"]),
        )
        vocab.regex.update(vocab._compile())
        return vocab

    def _compile(self) -> dict[str, re.Pattern[str]]:
        """The grammar: vocabulary slotted into a few fixed expression shapes."""
        cmp_before = alternation(self.comparator_before)
        cmp_after = alternation(self.comparator_after)
        units = alternation(self.unit_class)
        freq_units = alternation(u for u, c in self.unit_class.items() if c == "frequency")
        periods = alternation(self.periods)
        year_parts = alternation(self.deadline_year_part)
        month_parts = alternation(self.deadline_month_part)
        before = alternation(self.deadline_before)
        cues = alternation(self.deadline_cue)
        cn_small = "[一二三四五六七八九十]{1,3}"
        md = rf"(?P<m>\d{{1,2}}|{cn_small})月(?:(?P<d>\d{{1,2}}|{cn_small})[日号])?"
        md2 = rf"(?P<m2>\d{{1,2}}|{cn_small})月(?:(?P<d2>\d{{1,2}}|{cn_small})[日号])?"
        md_end = rf"(?P<m_end>\d{{1,2}}|{cn_small})月(?:(?P<d_end>\d{{1,2}}|{cn_small})[日号])?"
        year = r"(?P<y>(?:19|20)\d{2})\s*年"
        year2 = r"(?:(?P<y2>(?:19|20)\d{2})\s*年)?"
        return {
            "frequency": re.compile(
                rf"每(?P<mult>\d{{1,3}}|[两二三四五六七八九十]{{1,3}})?(?P<per>{periods})"
                rf"(?P<gap>[^{_CLAUSE_BREAK}]{{0,{_MAX_GAP}}}?)"
                rf"(?P<num>{_NUM})(?P<unit>{freq_units})(?P<after>{cmp_after})?"
            ),
            "recurring": re.compile(rf"每年度?{md}(?P<part>{month_parts})?(?P<before>{before})?"),
            "recurring_part": re.compile(rf"每年度?(?P<part>{year_parts})(?P<before>{before})?"),
            # 每年 / 每季度 with no number: the activity recurs once per period (每年组织一次培训 is "frequency").
            "recurrence": re.compile(
                rf"每(?P<per>{alternation(p for p, (_, years) in self.periods.items() if p != '半')})"
            ),
            # A timetable stage: 全面实施阶段(2016-2018年).
            "stage_range": re.compile(
                rf"(?:{alternation(self.stage_cues)})[ \t]{{0,2}}[(:]?[ \t]{{0,2}}"
                rf"(?P<range>(?P<y>(?:19|20)\d{{2}})[ \t]{{0,2}}年?{_RANGE_SEP}(?P<y2>(?:19|20)\d{{2}})[ \t]{{0,2}}年)"
            ),
            "dated": re.compile(
                rf"(?P<cue>{cues})?{year}(?:{md})?(?P<part>{year_parts}|{month_parts})?(?P<before>{before})?"
            ),
            "yearless": re.compile(rf"(?P<cue>{cues})?{md2}(?P<part>{month_parts})?(?P<before>{before})?"),
            "year_part": re.compile(rf"(?P<cue>{cues})?(?P<part>{year_parts})(?P<before>{before})"),
            "date_range": re.compile(rf"(?:(?P<y>(?:19|20)\d{{2}})\s*年)?{md}{_RANGE_SEP}{year2}{md_end}"),
            "distributive": re.compile(
                rf"分别(?P<cmp>{cmp_before})?(?P<nums>{_NUM}(?:[ \t]*[、,][ \t]*{_NUM})+)[ \t]?"
                rf"(?P<unit>{units})?(?P<after>{cmp_after})?"
            ),
            "quantity": re.compile(
                rf"(?P<cmp>{cmp_before})?(?:百分之(?P<pct>{_NUM})|(?P<num>{_NUM})(?P<scale>(?<=\d)[万亿])?(?P<unit1>%)?"
                rf"(?:{_RANGE_SEP}(?P<num2>{_NUM})(?P<scale2>(?<=\d)[万亿])?)?[ \t]?(?P<unit>{units}))(?P<after>{cmp_after})?"
            ),
            "non_target_terms": re.compile(rf"(?=({alternation(self.non_target_terms)}))"),
            **{
                f"pair:{opening}{closing}": re.compile(
                    rf"{re.escape(opening)}[^{re.escape(opening + closing)}\n]{{0,80}}{re.escape(closing)}"
                )
                for opening, closing in self.protected_pairs
                if opening != closing
            },
            "cmp_before": re.compile(cmp_before),
            "cmp_after_start": re.compile(rf"(?:\)|\([^()]{{0,20}}\))?(?P<after>{cmp_after})"),
        }


@functools.lru_cache(maxsize=8)
def load_vocabulary(path: str | None = None) -> TargetVocabulary:
    """Read and validate target_patterns.csv (cached per path)."""
    resolved = str(path or reference_path(PATTERNS_FILE))
    table = read_csv_strict(resolved, PATTERNS_SCHEMA)
    return TargetVocabulary.from_frame(table, resolved)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _protected_zones(text: str, vocab: TargetVocabulary) -> list[tuple[int, int]]:
    """Spans where numbers are names, not commitments (quotes, titles, slogans, …)."""
    zones: list[tuple[int, int]] = []
    for opening, closing in vocab.protected_pairs:
        if opening == closing:
            positions = [i for i, ch in enumerate(text) if ch == opening]
            zones += [(a, b + 1) for a, b in zip(positions[::2], positions[1::2], strict=False) if b - a <= 60]
            continue
        zones += [m.span() for m in vocab.regex[f"pair:{opening}{closing}"].finditer(text)]
    # A lookahead finds every start, so overlapping terms are all covered (longest first at a start).
    zones += [(m.start(), m.start() + len(m.group(1))) for m in vocab.regex["non_target_terms"].finditer(text)]
    for pattern in vocab.non_target_regexes:
        zones += [m.span() for m in pattern.finditer(text)]
    return zones


class _Zones:
    """Protected zones, sorted, answering "is this span inside one?" in logarithmic time."""

    def __init__(self, zones: Sequence[tuple[int, int]]) -> None:
        ordered = sorted(zones)
        self.starts = [a for a, _ in ordered]
        self.reach: list[int] = []  # furthest end of any zone starting at or before starts[i]
        furthest = -1
        for _, b in ordered:
            furthest = max(furthest, b)
            self.reach.append(furthest)

    def cover(self, span: tuple[int, int]) -> bool:
        i = bisect.bisect_right(self.starts, span[0]) - 1
        return i >= 0 and self.reach[i] >= span[1]


def _clause_starts(text: str, extra: str = "") -> list[int]:
    """For every position, the start of its clause (just after the last break before it), in one pass."""
    breaks = _CLAUSE_BREAK + extra
    starts, current = [0] * (len(text) + 1), 0
    for i in range(len(text) + 1):
        starts[i] = current
        if i < len(text) and text[i] in breaks:
            current = i + 1
    return starts


@dataclass
class _Candidate:
    target: Target
    anchor: tuple[int, int]  # where the number itself stands (checked against zones)
    priority: int  # lower wins when candidates overlap


class _Finder:
    """Runs the grammar over one text; holds the text, its normalised copy and the vocabulary."""

    def __init__(self, text: str, document_year: int | None, vocab: TargetVocabulary) -> None:
        self.raw = text
        self.text = text.translate(FULLWIDTH_TO_ASCII)
        self.year = document_year
        self.vocab = vocab
        self.rx = vocab.regex
        self._clause_starts: dict[str, list[int]] = {}

    def clause_start(self, position: int, extra: str = "") -> int:
        """Start of the clause holding ``position`` (arrays built once per break set)."""
        if extra not in self._clause_starts:
            self._clause_starts[extra] = _clause_starts(self.text, extra)
        return self._clause_starts[extra][position]

    # -- building ----------------------------------------------------------
    def make(self, start: int, end: int, kind: str, **fields: Any) -> Target:
        values: dict[str, Any] = {
            "value": None,
            "value_max": None,
            "unit": None,
            "comparator": None,
            "period": None,
            "period_years": None,
            "deadline_date": None,
            "deadline_recurring": False,
            "metric": None,
        }
        values.update(fields)
        return Target(text=self.raw[start:end], start=start, end=end, type=kind, **values)

    # -- deadlines ---------------------------------------------------------
    def _date(self, year: int | None, month: int | None, day: str | None, part: str | None) -> str | None:
        """ISO date for a (partial) date; None when the year is unknown."""
        if year is None:
            return None
        if month is None:
            month_day = self.vocab.deadline_year_part.get(part or "", "12-31")
            return f"{year}-{month_day}"
        last = calendar.monthrange(year, month)[1]
        if day is not None:
            d = int(chinese_number(day))
        else:
            mark = self.vocab.deadline_month_part.get(part or "", "end")
            d = last if mark == "end" else int(mark)
        if not 1 <= d <= last:
            return None
        return f"{year}-{month:02d}-{d:02d}"

    def _excluded_after(self, end: int) -> bool:
        rest = self.text[end : end + 6].lstrip()
        return any(rest.startswith(w) for w in self.vocab.deadline_exclude_after)

    def _parenthesised(self, start: int, end: int) -> bool:
        before = self.text[:start].rstrip()
        after = self.text[end:].lstrip()
        return before.endswith("(") and after.startswith(")")

    def _deadline_comparator(self, match: re.Match[str], default: str) -> str:
        if match.groupdict().get("before"):
            return self.vocab.deadline_before[match["before"]]
        if match.groupdict().get("part"):
            return "at_most"  # 年底, 6月底, 上半年: by the end of that time
        if match.groupdict().get("cue"):
            return self.vocab.deadline_cue[match["cue"]]
        return default

    def deadlines(self) -> list[_Candidate]:
        found: list[_Candidate] = []
        for m in self.rx["recurring"].finditer(self.text):
            if not (m["part"] or m["before"] or m["d"]):
                continue
            month: int | None = int(chinese_number(m["m"]))
            if month is None or not 1 <= month <= 12:
                continue
            day = int(chinese_number(m["d"])) if m["d"] else self._month_part_day(m["part"])
            target = self.make(
                m.start(),
                m.end(),
                "deadline",
                comparator=self._deadline_comparator(m, "exactly"),
                deadline_recurring=True,
                deadline_month=month,
                deadline_day=day,
            )
            found.append(_Candidate(target, m.span(), 0))
        for m in self.rx["recurring_part"].finditer(self.text):
            month_day = self.vocab.deadline_year_part[m["part"]]
            target = self.make(
                m.start(),
                m.end(),
                "deadline",
                comparator=self._deadline_comparator(m, "at_most"),
                deadline_recurring=True,
                deadline_month=int(month_day[:2]),
                deadline_day=int(month_day[3:]),
            )
            found.append(_Candidate(target, m.span(), 0))
        for m in self.rx["stage_range"].finditer(self.text):
            first, last = int(m["y"]), int(m["y2"])
            if last < first:
                continue
            target = self.make(
                m.start("range"), m.end("range"), "deadline", comparator="range", deadline_date=f"{last}-12-31"
            )
            found.append(_Candidate(target, m.span("range"), 1))
        for m in self.rx["date_range"].finditer(self.text):
            y1 = int(m["y"]) if m["y"] else self.year
            y2 = int(m["y2"]) if m["y2"] else y1
            m1, m2 = int(chinese_number(m["m"])), int(chinese_number(m["m_end"]))
            if not (1 <= m1 <= 12 and 1 <= m2 <= 12):
                continue
            if y2 is not None and not m["y2"] and m2 < m1:
                y2 += 1  # 11月-2月 runs into the next year
            target = self.make(
                m.start(),
                m.end(),
                "deadline",
                comparator="range",
                deadline_date=self._date(y2, m2, m["d_end"], None),
            )
            found.append(_Candidate(target, m.span(), 1))
        for m in self.rx["dated"].finditer(self.text):
            has_month = m["m"] is not None
            if not (
                self._strong_cue(m)
                or m["part"]
                or m["before"]
                or (has_month and self._parenthesised(m.start(), m.end()))
            ):
                continue
            if self._excluded_after(m.end()) or self.text[m.end("y") : m.end("y") + 2] == "年度":
                continue
            part = m["part"]
            if has_month and part in self.vocab.deadline_year_part and part not in self.vocab.deadline_month_part:
                continue
            if not has_month and part and part not in self.vocab.deadline_year_part:
                continue
            month = int(chinese_number(m["m"])) if has_month else None
            if month is not None and not 1 <= month <= 12:
                continue
            default = "exactly" if has_month and not part else "at_most"
            target = self.make(
                m.start(),
                m.end(),
                "deadline",
                comparator=self._deadline_comparator(m, default),
                deadline_date=self._date(int(m["y"]), month, m["d"], part),
            )
            found.append(_Candidate(target, (m.start("y"), m.end()), 2))
        for m in self.rx["yearless"].finditer(self.text):
            start = m.start("m2") if not m["cue"] else m.start()
            if start > 0 and (self.text[start - 1].isdigit() or self.text[start - 1] in "年每度"):
                continue
            parenthesised = self._parenthesised(m.start(), m.end())
            if not (m["part"] or m["before"] or parenthesised or (self._strong_cue(m) and m["d2"])):
                continue
            if self._excluded_after(m.end()):
                continue
            month = int(chinese_number(m["m2"]))
            if not 1 <= month <= 12:
                continue
            default = "exactly" if not (m["part"] or m["before"]) else "at_most"
            target = self.make(
                m.start(),
                m.end(),
                "deadline",
                comparator=self._deadline_comparator(m, default),
                deadline_date=self._date(self.year, month, m["d2"], m["part"]),
            )
            found.append(_Candidate(target, m.span(), 3))
        for m in self.rx["year_part"].finditer(self.text):
            if m.start("part") > 0 and self.text[m.start("part") - 1].isdigit():
                continue
            target = self.make(
                m.start(),
                m.end(),
                "deadline",
                comparator=self._deadline_comparator(m, "at_most"),
                deadline_date=self._date(self.year, None, None, m["part"]),
            )
            found.append(_Candidate(target, m.span(), 3))
        return found

    def _strong_cue(self, match: re.Match[str]) -> bool:
        """到/截至 + date makes a deadline; 于 + date alone is usually a past event (于…通过)."""
        cue = match["cue"]
        return bool(cue) and self.vocab.deadline_cue[cue] != "exactly"

    def _month_part_day(self, part: str | None) -> int | None:
        mark = self.vocab.deadline_month_part.get(part or "", "end")
        return None if mark == "end" else int(mark)

    # -- frequencies -------------------------------------------------------
    def frequencies(self) -> list[_Candidate]:
        found: list[_Candidate] = []
        for m in self.rx["frequency"].finditer(self.text):
            if self._number_blocked(m.start("num"), m["num"], allow_one=True):
                continue
            base_name, base_years = self.vocab.periods[m["per"]]
            multiple = chinese_number(m["mult"]) if m["mult"] else 1.0
            if multiple == 1:
                period = base_name
            else:
                word = self.vocab.period_multiples.get(int(multiple), f"{multiple:g}")
                period = f"{word}_{base_name}s"
            cmp_in_gap = self.rx["cmp_before"].findall(m["gap"])
            if m["after"]:
                comparator = self.vocab.comparator_after[m["after"]]
            elif cmp_in_gap:
                comparator = self.vocab.comparator_before[cmp_in_gap[-1]]
            else:
                comparator = "exactly"
            target = self.make(
                m.start(),
                m.end(),
                "frequency",
                value=chinese_number(m["num"]),
                unit=m["unit"],
                comparator=comparator,
                period=period,
                period_years=round(base_years * multiple, 6),
            )
            found.append(_Candidate(target, m.span("num"), 0))
        for m in self.rx["recurrence"].finditer(self.text):
            name, years = self.vocab.periods[m["per"]]
            target = self.make(m.start(), m.end(), "frequency", period=name, period_years=years)
            found.append(_Candidate(target, m.span(), 6))  # any other reading of the same words wins
        return found

    # -- quantities --------------------------------------------------------
    def _number_blocked(self, start: int, token: str, *, allow_one: bool = False, has_cmp: bool = False) -> bool:
        """Numbers that are parts of names, ordinals, codes or plain words."""
        prev = self.text[start - 1] if start > 0 else ""
        if prev and (prev.isascii() and (prev.isalnum() or prev in "./")):
            return True  # PM2.5, PM10, codes
        if prev in ("第", "每"):
            return True
        if token and token[0] in _CN_DIGITS:
            if token == "一" and not (allow_one or has_cmp):
                return True
            if not allow_one and not has_cmp and self.clause_start(start) == start:
                return True  # clause-initial Chinese numerals name or enumerate (六家子, 三是)
            if prev and prev in _CN_DIGITS:
                return True
        return False

    def _metric_before(self, end: int, floor: int) -> tuple[str | None, int, str | None]:
        """A metric named just before ``end``: (name, start, suffix type)."""
        start = max(self.clause_start(end, extra="、%"), floor, end - _METRIC_WINDOW)
        segment = self.text[start:end]
        cut = max((i + 1 for i, ch in enumerate(segment) if ch.isdigit()), default=0)
        segment = segment[cut:]
        start += cut
        trimmed = True
        while trimmed:
            trimmed = False
            for filler in self.vocab.fillers:
                if segment.endswith(filler) and len(segment) > len(filler):
                    segment = segment[: -len(filler)]
                    trimmed = True
                    break
        suffix = next((s for s in sorted(self.vocab.metric_suffix, key=len, reverse=True) if segment.endswith(s)), None)
        if suffix is None:
            return None, end, None
        tokens = list(rjieba.cut(segment))
        name = ""
        while tokens and len(name) < _METRIC_MIN_CHARS and not (name == suffix and len(suffix) >= 3):
            token = tokens.pop()
            if token in self.vocab.metric_stops or not all(_is_cjk(ch) or ch.isalnum() for ch in token):
                break
            name = token + name
        if not name.endswith(suffix):
            name = suffix
        return name, start + len(segment) - len(name), self.vocab.metric_suffix[suffix]

    def _after_comparator(self, end: int) -> tuple[str | None, int]:
        """A 以上/以下 after the number, directly or after a parenthetical."""
        m = self.rx["cmp_after_start"].match(self.text, end)
        if not m:
            return None, end
        direct = m.start("after") == end
        return self.vocab.comparator_after[m["after"]], (m.end() if direct else end)

    def _type_for(self, unit: str | None, suffix_type: str | None, share_context: str) -> str:
        unit_class = self.vocab.unit_class.get(unit or "")
        if unit_class == "percent":
            if suffix_type == "share" or any(c in share_context for c in self.vocab.share_cues):
                return "share"
            return "rate"
        if suffix_type in ("threshold", "duration") and unit_class in (None, "duration", "measure", "count"):
            return suffix_type
        return {"count": "count", "frequency": "count", "duration": "duration", "measure": "threshold"}.get(
            unit_class or "", "threshold"
        )

    def quantities(self) -> list[_Candidate]:
        found: list[_Candidate] = []
        for m in self.rx["quantity"].finditer(self.text):
            candidate = self._quantity(m)
            if candidate is not None:
                found.append(candidate)
                if candidate.target.metric:
                    found += self._shared_metrics(candidate.target, candidate.target.start)
        return found

    def _quantity(self, m: re.Match[str]) -> _Candidate | None:
        """A number with a unit (and maybe a comparator and a metric) from one regex match."""
        num_group = "pct" if m["pct"] else "num"
        num_start, token = m.start(num_group), m[num_group]
        number_start = num_start - len("百分之") if m["pct"] else num_start
        unit = "%" if m["pct"] else m["unit"]
        if unit == "年" and re.fullmatch(r"(?:19|20)\d{2}", token):
            return None  # a year, not a duration
        if unit == "年" and self.text[m.end("unit") : m.end("unit") + 1] in ("度", "底", "末"):
            return None
        if unit in ("日", "号") and num_start > 0 and self.text[num_start - 1] == "月":
            return None  # a date
        cmp_word = m["cmp"]
        if cmp_word and self._comparator_blocked(m.end("cmp")):
            cmp_word = None
        cmp_start = m.start() if cmp_word else number_start
        metric, metric_start, suffix_type = self._metric_before(cmp_start, floor=self.clause_start(cmp_start))
        if cmp_word and len(cmp_word) == 1 and not metric:
            cmp_word, cmp_start = None, number_start  # 为18家企业: a lone 为/达 is a comparator only after a metric
        if self._number_blocked(num_start, token, has_cmp=bool(cmp_word)):
            return None
        try:
            value = chinese_number(token) * _SCALE.get(m["scale"] or "", 1)
            value_max = chinese_number(m["num2"]) * _SCALE.get(m["scale2"] or "", 1) if m["num2"] else None
        except ValueError:
            return None
        start, end = (metric_start if metric else cmp_start), m.end()
        comparator = self.vocab.comparator_before.get(cmp_word or "")
        if m["after"]:
            comparator = self.vocab.comparator_after[m["after"]]
        else:
            after, new_end = self._after_comparator(end)
            if after:
                comparator, end = after, new_end
        if comparator is None and not metric:
            comparator, start = self._detached_comparator(start)
        if value_max is not None:
            comparator = "range"
        context = self.text[max(self.clause_start(num_start), num_start - _METRIC_WINDOW) : num_start]
        target = self.make(
            start,
            end,
            self._type_for(unit, suffix_type, context),
            value=value,
            value_max=value_max,
            unit=unit,
            comparator=comparator or "exactly",
            metric=metric,
        )
        return _Candidate(target, (num_start, m.end(num_group)), 4)

    def _comparator_blocked(self, cmp_end: int) -> bool:
        """True when the comparator word is the tail of an ordinary word (作为, 送达)."""
        return any(self.text[max(0, cmp_end - len(w)) : cmp_end] == w for w in self.vocab.comparator_blocked)

    def _detached_comparator(self, start: int) -> tuple[str | None, int]:
        """A multi-character comparator earlier in the clause (不少于本单位…总数5%)."""
        floor = max(self.clause_start(start), start - _LOOKBACK)
        window = self.text[floor:start]
        best = None
        for m in self.rx["cmp_before"].finditer(window):
            if len(m.group()) >= 2 and not any(ch.isdigit() for ch in window[m.start() :]):
                best = m
        if best is None:
            return None, start
        return self.vocab.comparator_before[best.group()], floor + best.start()

    def _shared_metrics(self, target: Target, metric_start: int) -> list[_Candidate]:
        """A率、B率、C率均达到100%: one more target per listed metric."""
        extra: list[_Candidate] = []
        position = metric_start
        while position > 0 and self.text[position - 1] in "、和及与" and len(extra) < _MAX_SHARED_METRICS:
            name, start, _ = self._metric_before(position - 1, floor=0)
            if not name:
                break
            extra.append(
                _Candidate(
                    self.make(
                        start,
                        start + len(name),
                        target.type,
                        value=target.value,
                        value_max=target.value_max,
                        unit=target.unit,
                        comparator=target.comparator,
                        metric=name,
                    ),
                    (start, start + len(name)),
                    4,
                )
            )
            position = start
        return extra

    def distributive(self) -> list[_Candidate]:
        """A、B、C分别控制在x、y、z单位以下: one target per metric."""
        found: list[_Candidate] = []
        for m in self.rx["distributive"].finditer(self.text):
            numbers = list(re.finditer(_NUM, m["nums"]))
            window = _METRIC_WINDOW * (len(numbers) + 1)
            clause = self.text[max(self.clause_start(m.start()), m.start() - window) : m.start()]
            names = [n for n in re.split(r"[、和及与]", clause) if n]
            if len(names) < len(numbers):
                continue
            names = names[-len(numbers) :]
            names[0] = self._list_head(names[0])
            comparator = self.vocab.comparator_before.get(m["cmp"] or "")
            if m["after"]:
                comparator = self.vocab.comparator_after[m["after"]]
            kind = self._type_for(m["unit"], None, "")
            base = m.start("nums")
            for i, (number, name) in enumerate(zip(numbers, names, strict=False)):
                start, end = base + number.start(), base + number.end()
                if i == len(numbers) - 1:
                    end = m.end()
                target = self.make(
                    start,
                    end,
                    kind,
                    value=chinese_number(number.group()),
                    unit=m["unit"],
                    comparator=comparator or "exactly",
                    metric=name,
                )
                found.append(_Candidate(target, (base + number.start(), base + number.end()), -1))
        return found

    def _list_head(self, item: str) -> str:
        """The metric at the end of the first list item (确保2020年全市PM2.5 -> PM2.5)."""
        latin = re.search(r"[A-Za-z][A-Za-z0-9.]*$", item)
        if latin:
            return latin.group()
        tokens = [t for t in rjieba.cut(item) if t not in self.vocab.metric_stops]
        return tokens[-1] if tokens else item

    # -- all ---------------------------------------------------------------
    def run(self) -> list[Target]:
        zones = _Zones(_protected_zones(self.text, self.vocab))
        candidates = self.distributive() + self.deadlines() + self.frequencies() + self.quantities()
        candidates = [c for c in candidates if not zones.cover(c.anchor)]
        candidates.sort(key=lambda c: (c.priority, -(c.target.end - c.target.start), c.target.start))
        taken: list[Target] = []
        occupied = bytearray(len(self.text) + 1)  # characters already inside a taken target
        for candidate in candidates:
            t = candidate.target
            if occupied.find(1, t.start, t.end) >= 0:
                continue
            taken.append(t)
            occupied[t.start : t.end] = b"\x01" * (t.end - t.start)
        return sorted(taken, key=lambda t: (t.start, t.end))


def find_targets(
    text: str, *, document_year: int | None = None, patterns_path: str | Path | None = None
) -> list[Target]:
    """Every quantified commitment in ``text`` (spans relative to ``text``).

    ``document_year`` resolves dates written without a year (3月底前 in a 2020
    plan -> 2020-03-31); without it such deadlines get ``deadline_date=None``.
    """
    vocab = load_vocabulary(str(patterns_path) if patterns_path else None)
    return _Finder(text, document_year, vocab).run()


def target_stance(text: str, start: int, headings: Sequence[str], vocab: TargetVocabulary | None = None) -> str:
    """``commitment`` or ``reported`` (a figure of past work, as in a 情况报告).

    The nearest enclosing heading that names past work (工作成效, 进展情况 …)
    or future work (下一步, 工作安排 …) decides; without one, a past-result cue
    earlier in the same clause (全年共, 累计, 同比 …) marks a reported figure.
    """
    return _StanceFinder(text, headings, vocab or load_vocabulary()).stance(start)


class _StanceFinder:
    """:func:`target_stance` for many targets of one text: sentences and cues located once."""

    _SENTENCE_MARKS = "。!?！？;\n"

    def __init__(self, text: str, headings: Sequence[str], vocab: TargetVocabulary) -> None:
        self.by_heading: str | None = None
        for heading in reversed(list(headings)):
            if any(term in heading for term in vocab.commitment_headings):
                self.by_heading = "commitment"
                break
            if any(term in heading for term in vocab.reported_headings):
                self.by_heading = "reported"
                break
        self.marks = [i for i, ch in enumerate(text) if ch in self._SENTENCE_MARKS]
        # Every cue occurrence (shortest cue at each start), with the smallest end from there on.
        shortest_first = "|".join(re.escape(c) for c in sorted(set(vocab.reported_cues), key=len)) or "(?!)"
        found = [(m.start(), m.start() + len(m.group(1))) for m in re.finditer(rf"(?=({shortest_first}))", text)]
        self.cue_starts = [a for a, _ in found]
        self.first_end_from = [0] * len(found)
        smallest = len(text) + 1
        for i in range(len(found) - 1, -1, -1):
            smallest = min(smallest, found[i][1])
            self.first_end_from[i] = smallest

    def stance(self, start: int) -> str:
        if self.by_heading:
            return self.by_heading
        mark = bisect.bisect_left(self.marks, start) - 1
        sentence_start = self.marks[mark] + 1 if mark >= 0 else 0
        i = bisect.bisect_left(self.cue_starts, sentence_start)
        return "reported" if i < len(self.cue_starts) and self.first_end_from[i] <= start else "commitment"


def task_targets(task: Task, *, document_year: int | None) -> list[dict[str, Any]]:
    """Targets of one task as dicts with document offsets and the measure holding each.

    Spans are shifted by ``task.span[0]`` (the task text starts there);
    ``measure_index`` is the index of the measure whose span contains the
    target's start, or None when no measure does (a target in the title);
    ``stance`` says whether the figure is a commitment or reported past work.
    """
    rows: list[dict[str, Any]] = []
    offset = task.span[0]
    stances = _StanceFinder(task.text, [*task.headings, task.title], load_vocabulary())
    measures = sorted(task.measures, key=lambda m: m.span)
    measure_starts = [m.span[0] for m in measures]
    for index, target in enumerate(find_targets(task.text, document_year=document_year)):
        start, end = offset + target.start, offset + target.end
        holder = bisect.bisect_right(measure_starts, start) - 1
        measure_index = measures[holder].index if holder >= 0 and start < measures[holder].span[1] else None
        record = target.to_dict()
        record.pop("start")
        record.pop("end")
        rows.append(
            {
                "doc_id": task.doc_id,
                "task_id": task.task_id,
                "path": task.path,
                "measure_index": measure_index,
                "target_index": index,
                "span_start": start,
                "span_end": end,
                **record,
                "stance": stances.stance(target.start),
            }
        )
    log.debug("%s: %d target(s)", task.task_id, len(rows))
    return rows


def _norm(text: Any) -> str:
    return re.sub(r"\s+", "", str(text)).translate(FULLWIDTH_TO_ASCII)


def _same_target(pred: pd.Series, gold: pd.Series, use_spans: bool) -> bool:
    if use_spans:
        return int(pred["span_start"]) < int(gold["span_end"]) and int(gold["span_start"]) < int(pred["span_end"])
    p, g = _norm(pred["text"]), _norm(gold["text"])
    if not p or not g:
        return False
    if p in g or g in p:
        return True
    return _share_number(p, g)


def _share_number(a: str, b: str) -> bool:
    """True when both texts contain the same number with a neighbouring character (明确1名 / 1名联络员)."""
    short, long_ = sorted((a, b), key=len)
    for i, ch in enumerate(short):
        if ch.isdigit() or ch in _CN_DIGITS:
            for lo, hi in ((max(0, i - 1), i + 1), (i, i + 2)):
                piece = short[lo:hi]
                if len(piece) == 2 and piece in long_:
                    return True
    return False


def _match(predicted: pd.DataFrame, gold: pd.DataFrame, use_spans: bool, same_type: bool) -> list[tuple[int, int]]:
    """One-to-one greedy matching within doc_id+path (gold order, then predicted order)."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    by_key = {key: group for key, group in predicted.groupby(["doc_id", "path"], sort=False)}  # noqa: C416 - GroupBy has a .keys attribute that dict() would call
    for gi, g in gold.iterrows():
        pool = by_key.get((g["doc_id"], g["path"]))
        if pool is None:
            continue
        for pi, p in pool.iterrows():
            if pi in used or not _same_target(p, g, use_spans):
                continue
            if same_type and p["type"] != g["type"]:
                continue
            used.add(pi)
            pairs.append((pi, gi))
            break
    return pairs


def _scores(n_match: int, n_pred: int, n_gold: int) -> dict[str, float]:
    precision = n_match / n_pred if n_pred else math.nan
    recall = n_match / n_gold if n_gold else math.nan
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return {"tp": n_match, "n_predicted": n_pred, "n_gold": n_gold, "precision": precision, "recall": recall, "f1": f1}


def evaluate_targets(predicted: pd.DataFrame, gold: pd.DataFrame) -> dict[str, Any]:
    """Precision/recall/F1 of predicted targets against gold.

    Two targets match when they are in the same doc_id+path and their spans
    overlap (when both tables have span_start/span_end) or, otherwise, when one
    text contains the other or both hold the same number with a neighbouring
    character (明确1名 / 1名联络员).  Matching is one-to-one, greedy in gold order.  ``presence`` counts matches; ``type`` counts
    matches that also agree on type.  Unmatched rows are listed for review.
    """
    for name, frame in (("predicted", predicted), ("gold", gold)):
        require_columns(frame, ["doc_id", "path", "text", "type"], name)
    predicted = predicted.reset_index(drop=True)
    gold = gold.reset_index(drop=True)
    span_cols = {"span_start", "span_end"}
    use_spans = (
        span_cols <= set(predicted.columns)
        and span_cols <= set(gold.columns)
        and not gold[list(span_cols)].isna().any().any()
    )
    presence = _match(predicted, gold, use_spans, same_type=False)
    typed = _match(predicted, gold, use_spans, same_type=True)
    matched_pred = {p for p, _ in presence}
    matched_gold = {g for _, g in presence}
    return {
        "presence": _scores(len(presence), len(predicted), len(gold)),
        "type": _scores(len(typed), len(predicted), len(gold)),
        "matched_by": "span" if use_spans else "text",
        "unmatched_predicted": predicted.loc[[i for i in predicted.index if i not in matched_pred]],
        "unmatched_gold": gold.loc[[i for i in gold.index if i not in matched_gold]],
    }
