"""The targets stage's vocabulary as data: comparators, units of measure, periods, deadline words, non-targets.

:class:`TargetVocabulary` is ``reference/target_patterns.csv`` validated on load (one row per term and
category) and compiled once into the regular expressions the finder uses.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from analysis.core.models import TARGET_TYPES
from analysis.core.reference import TableSchema, read_rows_strict, reference_path
from analysis.core.text import alternation, anchored_finditer, body_anchor, first_character_anchor, required_literals

# Numbers as the target regexes read them (bounded quantifiers: long runs stay linear).
CN_DIGITS = "零〇一二两三四五六七八九十百千万"
# Numbers start at a digit boundary and have a bounded length, so a long run of digits or
# numerals is read in one pass instead of being retried at every position (linear time).
ARABIC_NUMBER_BOUNDED = r"(?<![\d.])\d{1,15}(?:\.\d{1,8})?"
CHINESE_NUMBER = f"(?<![{CN_DIGITS}])[{CN_DIGITS}]{{1,12}}"
NUMBER = f"(?:{ARABIC_NUMBER_BOUNDED}|{CHINESE_NUMBER})"
CLAUSE_BREAK = ",;。:!?\n()"  # characters a target expression never spans
RANGE_SEPARATOR = r"[ \t]*(?:-|~|—|–|至|到)[ \t]*"
YEAR = r"(?P<y>(?:19|20)\d{2})\s*年"  # a four-digit year of this or the last century
MAX_GAP = 25  # characters allowed between 每年 and its count (每年至少组织全委…测试一次)


COMPARATORS = ("at_least", "at_most", "exactly", "range")


# The regex entries the finder draws candidate targets from (each has a prefilter).
CANDIDATE_ENTRIES = (
    "distributive",
    "recurring",
    "recurring_part",
    "stage_range",
    "date_range",
    "dated",
    "yearless",
    "year_part",
    "frequency",
    "recurrence",
    "quantity",
)


# Classes of a target's unit of measure (the `unit` column of `targets`; never a responsible unit).
MEASURE_UNIT_CLASSES = ("count", "frequency", "duration", "measure", "percent")


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


def _check_row(row: Mapping[str, str]) -> str | None:
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
    if category == "unit" and value not in MEASURE_UNIT_CLASSES:
        return f"unit {term!r}: value {value!r} not one of {MEASURE_UNIT_CLASSES}"
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
    # For some ``regex`` entries, a pattern that matches whenever the entry matches anywhere
    # (a part every match must contain), quick to search: no match of it, no need to run the entry.
    prefilter: dict[str, re.Pattern[str]] = field(default_factory=dict, compare=False)
    # For entries shaped "optional opening word (at most `reach` characters), then a mandatory
    # core": the core alone, searched first; a match of the entry starts at most `reach` before it.
    cores: dict[str, tuple[re.Pattern[str], int]] = field(default_factory=dict, compare=False)

    @classmethod
    def from_rows(cls, table: list[dict[str, str]], path: str) -> TargetVocabulary:
        def terms(category: str) -> list[str]:
            return [row["term"] for row in table if row["category"] == category]

        def mapping(category: str) -> dict[str, str]:
            return {row["term"]: row["value"] for row in table if row["category"] == category}

        periods = {r["term"]: (r["value"], float(r["number"])) for r in table if r["category"] == "period"}
        vocab = cls(
            path=path,
            comparator_before=mapping("comparator_before"),
            comparator_after=mapping("comparator_after"),
            comparator_blocked=tuple(terms("comparator_blocked")),
            periods=periods,
            period_multiples={int(t): v for t, v in mapping("period_multiple").items()},
            unit_class=mapping("unit"),
            metric_suffix=mapping("metric_suffix"),
            share_cues=tuple(terms("share_cue")),
            fillers=tuple(sorted(terms("filler"), key=len, reverse=True)),
            metric_stops=frozenset(terms("metric_stop")),
            deadline_year_part=mapping("deadline_year_part"),
            deadline_month_part=mapping("deadline_month_part"),
            deadline_before=mapping("deadline_before"),
            deadline_cue=mapping("deadline_cue"),
            deadline_exclude_after=tuple(terms("deadline_exclude_after")),
            protected_pairs=tuple(mapping("protected_pair").items()),
            non_target_terms=tuple(terms("non_target_term")),
            non_target_regexes=tuple(re.compile(t) for t in terms("non_target_regex")),
            reported_headings=tuple(terms("reported_heading")),
            commitment_headings=tuple(terms("commitment_heading")),
            reported_cues=tuple(terms("reported_cue")),
            stage_cues=tuple(terms("stage_cue")),
        )
        vocab.regex.update(vocab._compile())
        vocab.prefilter.update(vocab._compile_prefilters())
        return vocab

    def finditer(self, name: str, text: str, *, screened: bool = False) -> Iterator[re.Match[str]]:
        """The matches of ``regex[name].finditer(text)``, found faster.

        Skipped when the entry's prefilter finds nothing; for an entry with a core, the entry is
        searched only from ``reach`` characters before the next match of its core (no match of the
        entry starts earlier: each holds its core within ``reach`` of its start), instead of being
        tried at every position.  Such entries never match the empty string.  ``screened``: the
        prefilter is known to match (:meth:`entries_present`), not searched again.
        """
        prefilter = None if screened else self.prefilter.get(name)
        if prefilter is not None and prefilter.search(text) is None:
            return iter(())
        if name in self.cores:
            core, reach = self.cores[name]
            return anchored_finditer(self.regex[name], text, core, reach)
        return self.regex[name].finditer(text)

    def _compile(self) -> dict[str, re.Pattern[str]]:
        """The grammar: vocabulary slotted into a few fixed expression shapes (fills ``cores`` too)."""
        cmp_before = alternation(self.comparator_before)
        cmp_after = alternation(self.comparator_after)
        units = alternation(self.unit_class)
        freq_units = alternation(u for u, c in self.unit_class.items() if c == "frequency")
        periods = alternation(self.periods)
        year_parts = alternation(self.deadline_year_part)
        month_parts = alternation(self.deadline_month_part)
        before = alternation(self.deadline_before)
        cn_small = "[一二三四五六七八九十]{1,3}"
        md = rf"(?P<m>\d{{1,2}}|{cn_small})月(?:(?P<d>\d{{1,2}}|{cn_small})[日号])?"
        md2 = rf"(?P<m2>\d{{1,2}}|{cn_small})月(?:(?P<d2>\d{{1,2}}|{cn_small})[日号])?"
        md_end = rf"(?P<m_end>\d{{1,2}}|{cn_small})月(?:(?P<d_end>\d{{1,2}}|{cn_small})[日号])?"
        year2 = r"(?:(?P<y2>(?:19|20)\d{2})\s*年)?"
        # Entries that open with an optional word: (its group, the words, the mandatory core, the rest).
        opened = {
            "dated": (
                "cue",
                self.deadline_cue,
                YEAR,
                rf"(?:{md})?(?P<part>{year_parts}|{month_parts})?(?P<before>{before})?",
            ),
            "yearless": ("cue", self.deadline_cue, md2, rf"(?P<part>{month_parts})?(?P<before>{before})?"),
            "year_part": ("cue", self.deadline_cue, rf"(?P<part>{year_parts})(?P<before>{before})", ""),
            "quantity": (
                "cmp",
                self.comparator_before,
                rf"(?:百分之(?P<pct>{NUMBER})|(?P<num>{NUMBER})(?P<scale>(?<=\d)[万亿])?(?P<unit1>%)?"
                rf"(?:{RANGE_SEPARATOR}(?P<num2>{NUMBER})(?P<scale2>(?<=\d)[万亿])?)?[ \t]?(?P<unit>{units}))",
                rf"(?P<after>{cmp_after})?",
            ),
        }
        for name, (_group, words, core, _rest) in opened.items():
            self.cores[name] = (re.compile(core), max(map(len, words), default=0))
        # The quantity core opens with a number, itself opening with a lookbehind: the engine
        # would try it at every position.  The same core, matching at the same positions, written
        # to open with one character class (the number's first character, or 百 of 百分之):
        # the number's lookbehind moves after that character and looks one character further back.
        after_number = rf"(?:(?<=\d)[万亿])?%?(?:{RANGE_SEPARATOR}{NUMBER}(?:(?<=\d)[万亿])?)?[ \t]?(?:{units})"
        self.cores["quantity"] = (
            re.compile(
                rf"[\d{CN_DIGITS}百](?:(?<=百)分之{NUMBER}"
                rf"|(?<=\d)(?<![\d.].)\d{{0,14}}(?:\.\d{{1,8}})?{after_number}"
                rf"|(?<=[{CN_DIGITS}])(?<![{CN_DIGITS}].)[{CN_DIGITS}]{{0,11}}{after_number})"
            ),
            self.cores["quantity"][1],
        )
        return {
            "frequency": re.compile(
                rf"每(?P<mult>\d{{1,3}}|[两二三四五六七八九十]{{1,3}})?(?P<per>{periods})"
                rf"(?P<gap>[^{CLAUSE_BREAK}]{{0,{MAX_GAP}}}?)"
                rf"(?P<num>{NUMBER})(?P<unit>{freq_units})(?P<after>{cmp_after})?"
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
                rf"(?P<range>(?P<y>(?:19|20)\d{{2}})[ \t]{{0,2}}年?{RANGE_SEPARATOR}(?P<y2>(?:19|20)\d{{2}})[ \t]{{0,2}}年)"
            ),
            **{
                name: re.compile(rf"(?P<{group}>{alternation(words)})?{core}{rest}")
                for name, (group, words, core, rest) in opened.items()
            },
            "date_range": re.compile(rf"(?:(?P<y>(?:19|20)\d{{2}})\s*年)?{md}{RANGE_SEPARATOR}{year2}{md_end}"),
            "distributive": re.compile(
                rf"分别(?P<cmp>{cmp_before})?(?P<nums>{NUMBER}(?:[ \t]*[、,][ \t]*{NUMBER})+)[ \t]?"
                rf"(?P<unit>{units})?(?P<after>{cmp_after})?"
            ),
            "non_target_terms": re.compile(rf"(?=({alternation(self.non_target_terms)}))"),
            # Every reported-work cue occurrence, the shortest cue at each start.
            "reported_cues": re.compile(
                rf"(?=({'|'.join(re.escape(c) for c in sorted(set(self.reported_cues), key=len)) or '(?!)'}))"
            ),
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

    def _compile_prefilters(self) -> dict[str, re.Pattern[str]]:
        """Patterns for what every match of a ``regex`` entry must contain (see ``_compile``).

        The entries that open with an optional part (a comparator or cue before the number) are
        tried at every position of a text; these look for a mandatory part instead, which the
        regex engine finds by scanning for its first characters.  Every entry targets are drawn
        from (``CANDIDATE_ENTRIES``) has one, so a text none of them matches holds no target.
        """
        number_end = f"[\\d{CN_DIGITS}]"  # the last character of a NUMBER
        every = re.compile("每")  # the literal start of these entries
        month = re.compile("月")  # a month (md, md2) is mandatory
        return {
            "distributive": re.compile("分别"),
            "recurring": every,
            "recurring_part": every,
            "frequency": every,
            "recurrence": every,
            "stage_range": re.compile(alternation(self.stage_cues)),
            "date_range": month,
            "yearless": month,
            "dated": re.compile(YEAR),
            "year_part": self.cores["year_part"][0],
            # 百分之, or a number's last character, an optional scale (万, 亿), %, space, then a
            # unit: the shape right before `unit` in every branch.  Written to open with one
            # character class, so that the engine scans for it.
            "quantity": re.compile(
                rf"[\d{CN_DIGITS}百](?:(?<=百)分之|(?<={number_end})[万亿]?%?[ \t]?(?:{alternation(self.unit_class)}))"
            ),
            "non_target_terms": re.compile(alternation(self.non_target_terms)),
        }

    @functools.cached_property
    def non_target_screens(self) -> tuple[tuple[re.Pattern[str], tuple[tuple[str, ...], ...] | None], ...]:
        """Each non-target regex with the strings its matches require (:func:`required_literals`)."""
        return tuple((pattern, required_literals(pattern)) for pattern in self.non_target_regexes)

    @functools.cached_property
    def non_target_anchors(self) -> tuple[re.Pattern[str] | None, ...]:
        """Per non-target regex (in order) that opens with a lookaround, the regex without it (:func:`body_anchor`)
        or else its first character as a class (:func:`first_character_anchor`): the engine then tries the
        whole regex only where that anchor matches."""
        return tuple(body_anchor(pattern) or first_character_anchor(pattern) for pattern in self.non_target_regexes)

    @functools.cached_property
    def reported_cue_starts(self) -> re.Pattern[str] | None:
        """Any reported-work cue (an alternation: the engine skips to their first characters), to locate where
        ``regex["reported_cues"]`` matches; None when a cue is empty (every position is a start)."""
        return re.compile(alternation(self.reported_cues)) if all(self.reported_cues) else None

    @functools.cached_property
    def heading_patterns(self) -> tuple[re.Pattern[str], re.Pattern[str]]:
        """Regexes finding any of ``commitment_headings`` and any of ``reported_headings`` in a heading."""
        return re.compile(alternation(self.commitment_headings)), re.compile(alternation(self.reported_headings))

    @functools.cached_property
    def metric_suffixes(self) -> tuple[str, ...]:
        """The metric suffixes, longest first (in table order among equals)."""
        return tuple(sorted(self.metric_suffix, key=len, reverse=True))

    def may_hold_target(self, text: str) -> bool:
        """False when no entry targets are drawn from can match ``text`` (none of their prefilters does)."""
        return any(pattern.search(text) for pattern, _ in self._candidate_prefilters)

    def entries_present(self, text: str) -> frozenset[str]:
        """The entries targets are drawn from whose prefilter matches ``text`` (each distinct prefilter searched once).

        Empty exactly when :meth:`may_hold_target` is False; an entry not in it has no match in ``text``.
        """
        present: list[str] = []
        for pattern, names in self._candidate_prefilters:
            if pattern.search(text) is not None:
                present += names
        return frozenset(present)

    @functools.cached_property
    def _candidate_prefilters(self) -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
        """Each distinct prefilter of ``CANDIDATE_ENTRIES`` with the entries it screens."""
        distinct: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {}
        for name in CANDIDATE_ENTRIES:
            pattern = self.prefilter[name]
            _, names = distinct.get(pattern.pattern, (pattern, ()))
            distinct[pattern.pattern] = (pattern, (*names, name))
        return tuple(distinct.values())


@functools.lru_cache(maxsize=8)
def load_vocabulary(path: str | None = None) -> TargetVocabulary:
    """Read and validate target_patterns.csv (cached per path)."""
    resolved = str(path or reference_path(PATTERNS_FILE))
    return TargetVocabulary.from_rows(read_rows_strict(resolved, PATTERNS_SCHEMA), resolved)
