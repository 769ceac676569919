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
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import rjieba

from analysis.annotate.target_vocabulary import CLAUSE_BREAK, CN_DIGITS, NUMBER, TargetVocabulary, load_vocabulary
from analysis.core.models import Task
from analysis.core.numerals import FULLWIDTH_TO_ASCII, chinese_number
from analysis.core.text import anchored_finditer, may_match

log = logging.getLogger(__name__)


_SCALE = {"万": 10_000, "亿": 100_000_000}  # 11.34万件


_METRIC_WINDOW = 40  # a metric name or a share cue stands within this many characters before its number


_MAX_SHARED_METRICS = 20  # A率、B率、C率均达到100%: at most this many listed metrics


_LOOKBACK = 15  # how far back a detached comparator may stand (不少于本单位执法人员总数5%)


_METRIC_MIN_CHARS = 4  # a metric name grows token by token until it has this many characters


_CACHE_SIZE = 8192  # distinct numerals and metric segments remembered (both recur across tasks)


_number = functools.lru_cache(maxsize=_CACHE_SIZE)(chinese_number)  # pure; failures are not remembered


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _words(segment: str) -> tuple[str, ...]:
    """jieba's tokens of a short segment (rjieba's dictionary is fixed: a pure function)."""
    return tuple(rjieba.cut(segment))


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
        """The fields as a dict (all are plain values: no deep copy needed, unlike ``asdict``)."""
        return {name: getattr(self, name) for name in _TARGET_FIELDS}


_YEAR_NUMBER = re.compile(r"(?:19|20)\d{2}")


_FULLWIDTH = re.compile(f"[{re.escape(''.join(map(chr, FULLWIDTH_TO_ASCII)))}]")  # a character to fold


_TARGET_FIELDS = tuple(f.name for f in fields(Target))


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _protected_zones(text: str, vocab: TargetVocabulary, until: int | None = None) -> list[tuple[int, int]]:
    """Spans where numbers are names, not commitments (quotes, titles, slogans, …).

    With ``until``, only the zones starting at or before it (the others cannot cover a span starting
    there): each search stops at its first match starting after it.
    """
    last = len(text) if until is None else until
    zones: list[tuple[int, int]] = []
    for opening, closing in vocab.protected_pairs:
        if opening not in text:
            continue
        if opening == closing:
            positions = _positions(text, opening)
            zones += [(a, b + 1) for a, b in zip(positions[::2], positions[1::2], strict=False) if b - a <= 60]
            continue
        for m in vocab.regex[f"pair:{opening}{closing}"].finditer(text):
            if m.start() > last:
                break
            zones.append(m.span())
    # A lookahead finds every start, so overlapping terms are all covered (longest first at a start).
    for m in vocab.finditer("non_target_terms", text):
        if m.start() > last:
            break
        zones.append((m.start(), m.start() + len(m.group(1))))
    for (pattern, required), anchor in zip(vocab.non_target_screens, vocab.non_target_anchors, strict=True):
        if not may_match(required, text):
            continue  # a string every match holds is missing: no match
        found = pattern.finditer(text) if anchor is None else anchored_finditer(pattern, text, anchor, 0, window=True)
        for m in found:
            if m.start() > last:
                break
            zones.append(m.span())
    return [zone for zone in zones if zone[0] <= last]


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


def _positions(text: str, character: str) -> list[int]:
    """Every index of ``character`` in ``text``, in order."""
    positions, at = [], text.find(character)
    while at >= 0:
        positions.append(at)
        at = text.find(character, at + 1)
    return positions


@functools.lru_cache(maxsize=8)
def _break_pattern(breaks: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(''.join(sorted(set(breaks))))}]")


class _ClauseStarts:
    """The start of the clause holding a position (just after the last break before it)."""

    def __init__(self, text: str, breaks: str) -> None:
        self.breaks = [m.start() for m in _break_pattern(breaks).finditer(text)]  # located once, in C

    def __getitem__(self, position: int) -> int:
        i = bisect.bisect_left(self.breaks, position)  # breaks strictly before the position
        return self.breaks[i - 1] + 1 if i else 0


@dataclass
class _Candidate:
    target: Target
    anchor: tuple[int, int]  # where the number itself stands (checked against zones)
    priority: int  # lower wins when candidates overlap


class _Finder:
    """Runs the grammar over one text; holds the text, its normalised copy and the vocabulary."""

    def __init__(self, text: str, document_year: int | None, vocab: TargetVocabulary) -> None:
        self.raw = text
        self.text = text.translate(FULLWIDTH_TO_ASCII) if _FULLWIDTH.search(text) else text  # translate is slow
        self.year = document_year
        self.vocab = vocab
        self.rx = vocab.regex
        self._clause_starts: dict[str, _ClauseStarts] = {}
        self.entries: frozenset[str] = frozenset()  # the candidate entries whose prefilter matches (see run)

    def finditer(self, name: str) -> Iterator[re.Match[str]]:
        """``vocab.finditer(name, text)`` for a candidate entry, its prefilter searched once in :meth:`run`."""
        if name not in self.entries:
            return iter(())
        return self.vocab.finditer(name, self.text, screened=True)

    def clause_start(self, position: int, extra: str = "") -> int:
        """Start of the clause holding ``position`` (breaks located once per break set)."""
        if extra not in self._clause_starts:
            self._clause_starts[extra] = _ClauseStarts(self.text, CLAUSE_BREAK + extra)
        return self._clause_starts[extra][position]

    # -- building ----------------------------------------------------------
    def make(self, start: int, end: int, kind: str, **fields: Any) -> Target:
        """``Target(text=…, start=start, end=end, type=kind, value=None, …, **fields)``, its instance dict
        built in field order and set at once (a frozen dataclass's ``__init__`` sets each of its 15
        fields through ``object.__setattr__``: slow for ~10 candidates per task with targets)."""
        values: dict[str, Any] = {
            "text": self.raw[start:end],
            "start": start,
            "end": end,
            "type": kind,
            "value": None,
            "value_max": None,
            "unit": None,
            "comparator": None,
            "period": None,
            "period_years": None,
            "deadline_date": None,
            "deadline_recurring": False,
            "metric": None,
            "deadline_month": None,
            "deadline_day": None,
        }
        values.update(fields)
        if len(values) != len(_TARGET_FIELDS):
            raise TypeError(f"unknown target field(s): {sorted(set(values) - set(_TARGET_FIELDS))}")
        target = object.__new__(Target)
        object.__setattr__(target, "__dict__", values)
        return target

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
            d = int(_number(day))
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
        for m in self.finditer("recurring"):
            if not (m["part"] or m["before"] or m["d"]):
                continue
            month: int | None = int(_number(m["m"]))
            if month is None or not 1 <= month <= 12:
                continue
            day = int(_number(m["d"])) if m["d"] else self._month_part_day(m["part"])
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
        for m in self.finditer("recurring_part"):
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
        for m in self.finditer("stage_range"):
            first, last = int(m["y"]), int(m["y2"])
            if last < first:
                continue
            target = self.make(
                m.start("range"), m.end("range"), "deadline", comparator="range", deadline_date=f"{last}-12-31"
            )
            found.append(_Candidate(target, m.span("range"), 1))
        for m in self.finditer("date_range"):
            y1 = int(m["y"]) if m["y"] else self.year
            y2 = int(m["y2"]) if m["y2"] else y1
            m1, m2 = int(_number(m["m"])), int(_number(m["m_end"]))
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
        for m in self.finditer("dated"):
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
            month = int(_number(m["m"])) if has_month else None
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
        for m in self.finditer("yearless"):
            start = m.start("m2") if not m["cue"] else m.start()
            if start > 0 and (self.text[start - 1].isdigit() or self.text[start - 1] in "年每度"):
                continue
            parenthesised = self._parenthesised(m.start(), m.end())
            if not (m["part"] or m["before"] or parenthesised or (self._strong_cue(m) and m["d2"])):
                continue
            if self._excluded_after(m.end()):
                continue
            month = int(_number(m["m2"]))
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
        for m in self.finditer("year_part"):
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
        for m in self.finditer("frequency"):
            if self._number_blocked(m.start("num"), m["num"], allow_one=True):
                continue
            base_name, base_years = self.vocab.periods[m["per"]]
            multiple = _number(m["mult"]) if m["mult"] else 1.0
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
                value=_number(m["num"]),
                unit=m["unit"],
                comparator=comparator,
                period=period,
                period_years=round(base_years * multiple, 6),
            )
            found.append(_Candidate(target, m.span("num"), 0))
        for m in self.finditer("recurrence"):
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
        if token and token[0] in CN_DIGITS:
            if token == "一" and not (allow_one or has_cmp):
                return True
            if not allow_one and not has_cmp and self.clause_start(start) == start:
                return True  # clause-initial Chinese numerals name or enumerate (六家子, 三是)
            if prev and prev in CN_DIGITS:
                return True
        return False

    def _metric_before(self, end: int, floor: int) -> tuple[str | None, int, str | None]:
        """A metric named just before ``end``: (name, start, suffix type)."""
        start = max(self.clause_start(end, extra="、%"), floor, end - _METRIC_WINDOW)
        segment = self.text[start:end]
        cut = next((i + 1 for i in range(len(segment) - 1, -1, -1) if segment[i].isdigit()), 0)  # after the last digit
        segment = segment[cut:]
        start += cut
        trimmed = segment.endswith(self.vocab.fillers)  # no filler at the end: nothing to trim
        while trimmed:
            trimmed = False
            for filler in self.vocab.fillers:
                if segment.endswith(filler) and len(segment) > len(filler):
                    segment = segment[: -len(filler)]
                    trimmed = True
                    break
        if not segment.endswith(self.vocab.metric_suffixes):
            return None, end, None  # no suffix at all: the search below would find none
        suffix = next(s for s in self.vocab.metric_suffixes if segment.endswith(s))
        tokens = list(_words(segment))
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
        for m in self.finditer("quantity"):
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
        if unit == "年" and _YEAR_NUMBER.fullmatch(token):
            return None  # a year, not a duration
        if unit == "年" and self.text[m.end("unit") : m.end("unit") + 1] in ("度", "底", "末"):
            return None
        if unit in ("日", "号") and num_start > 0 and self.text[num_start - 1] == "月":
            return None  # a date
        cmp_word = m["cmp"]
        if cmp_word and self._comparator_blocked(m.end("cmp")):
            cmp_word = None
        cmp_start = m.start() if cmp_word else number_start
        if (not cmp_word or len(cmp_word) > 1) and self._number_blocked(num_start, token, has_cmp=bool(cmp_word)):
            return None  # blocked whatever the metric (only a lone 为/达 depends on it): spare the search
        metric, metric_start, suffix_type = self._metric_before(cmp_start, floor=self.clause_start(cmp_start))
        if cmp_word and len(cmp_word) == 1 and not metric:
            cmp_word, cmp_start = None, number_start  # 为18家企业: a lone 为/达 is a comparator only after a metric
        if self._number_blocked(num_start, token, has_cmp=bool(cmp_word)):
            return None
        try:
            value = _number(token) * _SCALE.get(m["scale"] or "", 1)
            value_max = _number(m["num2"]) * _SCALE.get(m["scale2"] or "", 1) if m["num2"] else None
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
        return self.text.endswith(self.vocab.comparator_blocked, 0, cmp_end)  # text[:cmp_end] ends with one

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
        for m in self.finditer("distributive"):
            numbers = list(re.finditer(NUMBER, m["nums"]))
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
                    value=_number(number.group()),
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
        tokens = [t for t in _words(item) if t not in self.vocab.metric_stops]
        return tokens[-1] if tokens else item

    # -- all ---------------------------------------------------------------
    def run(self) -> list[Target]:
        self.entries = self.vocab.entries_present(self.text)
        if not self.entries:
            return []  # no entry can match: no target
        candidates = self.distributive() + self.deadlines() + self.frequencies() + self.quantities()
        if not candidates:
            return []  # the protected zones matter only to candidates
        zones = _Zones(_protected_zones(self.text, self.vocab, until=max(c.anchor[0] for c in candidates)))
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


_SENTENCE_MARK = re.compile("[。!?！？;\n]")


class _StanceFinder:
    """:func:`target_stance` for many targets of one text: sentences and cues located once."""

    def __init__(self, text: str, headings: Sequence[str], vocab: TargetVocabulary) -> None:
        self.by_heading: str | None = None
        commitment, reported = vocab.heading_patterns  # a term in the heading: a search for any of them
        for heading in reversed(list(headings)):
            if commitment.search(heading):
                self.by_heading = "commitment"
                break
            if reported.search(heading):
                self.by_heading = "reported"
                break
        self.text, self.vocab = text, vocab
        self.marks: list[int] | None = None  # located at the first question a heading does not answer
        self.cue_starts: list[int] = []
        self.first_end_from: list[int] = []

    def _locate(self) -> list[int]:
        """Sentence marks and reported-work cues of the text (once)."""
        self.marks = [m.start() for m in _SENTENCE_MARK.finditer(self.text)]
        # Every cue occurrence (shortest cue at each start), with the smallest end from there on.
        found = [(m.start(), m.start() + len(m.group(1))) for m in self._cues()]
        self.cue_starts = [a for a, _ in found]
        self.first_end_from = [0] * len(found)
        smallest = len(self.text) + 1
        for i in range(len(found) - 1, -1, -1):
            smallest = min(smallest, found[i][1])
            self.first_end_from[i] = smallest
        return self.marks

    def _cues(self) -> Iterator[re.Match[str]]:
        """``regex["reported_cues"].finditer(text)``: the shortest cue at every start of one, each start
        found by a search for any cue (the lookahead alone would be tried at every position)."""
        every, starts = self.vocab.regex["reported_cues"], self.vocab.reported_cue_starts
        if starts is None:
            yield from every.finditer(self.text)
            return
        hit = starts.search(self.text)
        while hit is not None:
            at = hit.start()
            match = every.match(self.text, at)
            if match is not None:  # always: a cue starts here
                yield match
            hit = starts.search(self.text, at + 1)

    def stance(self, start: int) -> str:
        if self.by_heading:
            return self.by_heading
        marks = self.marks if self.marks is not None else self._locate()
        mark = bisect.bisect_left(marks, start) - 1
        sentence_start = marks[mark] + 1 if mark >= 0 else 0
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
    targets = find_targets(task.text, document_year=document_year)
    if not targets:
        log.debug("%s: %d target(s)", task.task_id, 0)
        return rows
    offset = task.span[0]
    stances = _StanceFinder(task.text, [*task.headings, task.title], load_vocabulary())
    measures = sorted(task.measures, key=lambda m: m.span)
    measure_starts = [m.span[0] for m in measures]
    for index, target in enumerate(targets):
        start, end = offset + target.start, offset + target.end
        holder = bisect.bisect_right(measure_starts, start) - 1
        measure_index = measures[holder].index if holder >= 0 and start < measures[holder].span[1] else None
        row = {
            "doc_id": task.doc_id,
            "task_id": task.task_id,
            "path": task.path,
            "measure_index": measure_index,
            "target_index": index,
            "span_start": start,
            "span_end": end,
            **vars(target),  # Target.to_dict() without its copy: the fields in their order
            "stance": stances.stance(target.start),
        }
        del row["start"], row["end"]
        rows.append(row)
    log.debug("%s: %d target(s)", task.task_id, len(rows))
    return rows
