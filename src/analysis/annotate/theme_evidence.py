"""Evidence for a task's theme beyond its own words, and calibration of the resulting confidence.

Five seed documents cannot teach a bag of words the genre; what every plan of the family
shares can be written down instead:

* the **heading path** — section headings mirror the chapters and measures of the national
  法治政府建设实施纲要 (2015 and 2021 editions); ``reference/gangyao_headings.csv`` maps their
  phrasings to level-1 codes, and the innermost heading that contains one is evidence;
* the **document's genre** — neighbouring families (政务公开, 营商环境/放管服, 数字政府,
  决策目录, 行政复议 reports …) are recognisable from the title or, when the title was not
  captured, from most of the document's headings and item titles
  (``reference/document_genres.csv``); their tasks usually share one theme;
* **siblings** under one heading usually share a theme, so their scores are pooled in part.

:func:`combine_evidence` adds these as fixed log-score bonuses to the classifier's
log-probabilities; :func:`fit_temperature` then calibrates the result on out-of-fold
predictions, and :func:`reliability_table` / :func:`expected_calibration_error` measure it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.core.errors import ReferenceDataError
from analysis.core.reference import TableSchema, read_rows_strict, reference_path

if TYPE_CHECKING:
    import pandas as pd
from analysis.core.segment import normalise

GANGYAO_HEADINGS_PATH = reference_path("gangyao_headings.csv")
DOCUMENT_GENRES_PATH = reference_path("document_genres.csv")

_NOT_LETTER_OR_NUMBER = re.compile(r"[\W_]+")


def compact(text: str) -> str:
    """Normalised text with only letters and numbers (punctuation and spaces differ between captures)."""
    return _NOT_LETTER_OR_NUMBER.sub("", normalise(text or ""))


def _check_regex(row: Mapping[str, str]) -> str | None:
    try:
        re.compile(row["pattern"])
    except re.error as error:
        return f"pattern {row['pattern']!r} does not compile: {error}"
    return None


def _schemas(level1_codes: Sequence[str]) -> tuple[TableSchema, TableSchema]:
    themes = frozenset(level1_codes)
    headings = TableSchema(
        required=("phrase", "theme", "edition", "kind"),
        optional=("note",),
        unique=(("phrase",),),
        allowed={
            "theme": themes,
            "edition": frozenset({"2015", "2021", "both"}),
            "kind": frozenset({"chapter", "measure"}),
        },
    )
    genres = TableSchema(
        required=("genre", "pattern", "theme"),
        optional=("note",),
        unique=(("genre",),),
        allowed={"theme": themes},
        checks=(_check_regex,),
    )
    return headings, genres


@dataclass(frozen=True)
class Genre:
    """A neighbouring document family recognisable from its title or headings."""

    name: str
    pattern: re.Pattern[str]
    theme: str


class StructuralEvidence:
    """The 纲要 heading phrasings and the genre patterns, validated on load."""

    def __init__(self, headings: list[dict[str, str]], genres: list[dict[str, str]]) -> None:
        phrases = [(compact(row["phrase"]), row["theme"]) for row in headings]
        # Longest phrase first: 健全行政权力制约和监督体系 before 制约和监督.
        self.phrases = sorted((p for p in phrases if p[0]), key=lambda p: (-len(p[0]), p[0]))
        self.genres = [Genre(row["genre"], re.compile(row["pattern"]), row["theme"]) for row in genres]

    @classmethod
    def load(
        cls,
        level1_codes: Sequence[str],
        headings_path: str | Path | None = None,
        genres_path: str | Path | None = None,
    ) -> StructuralEvidence:
        """Read both tables (raises :class:`ReferenceDataError` naming file and row)."""
        heading_schema, genre_schema = _schemas(level1_codes)
        headings = read_rows_strict(headings_path or GANGYAO_HEADINGS_PATH, heading_schema)
        genres = read_rows_strict(genres_path or DOCUMENT_GENRES_PATH, genre_schema)
        if any(compact(row["phrase"]) == "" for row in headings):
            raise ReferenceDataError(headings_path or GANGYAO_HEADINGS_PATH, "a phrase has no letters")
        return cls(headings, genres)

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the memo of answers per string."""
        return {k: v for k, v in self.__dict__.items() if k != "_memo"}

    @property
    def _answers(self) -> dict[tuple[str, str], Any]:
        """Answers per (question, string) worked out so far: headings and titles repeat across documents.

        Bounded: emptied when large (an answer is worked out again the same way).
        """
        memo: dict[tuple[str, str], Any] | None = self.__dict__.get("_memo")
        if memo is None or len(memo) > _MEMO_LIMIT:
            memo = self.__dict__["_memo"] = {}
        return memo

    def heading_theme(self, headings: Sequence[str]) -> tuple[str, str] | None:
        """(theme, phrase) of the innermost heading that contains a 纲要 phrasing, else None."""
        answers = self._answers
        for heading in reversed(list(headings)):
            key = ("phrase", heading)
            if key not in answers:
                answers[key] = self._phrase_in(heading)
            found: tuple[str, str] | None = answers[key]
            if found:
                return found
        return None

    def _phrase_in(self, heading: str) -> tuple[str, str] | None:
        """(theme, phrase) of the longest 纲要 phrasing ``heading`` contains, else None."""
        text = compact(heading)
        if not text:
            return None
        for phrase, theme in self.phrases:
            if phrase in text:
                return theme, phrase
        return None

    def genre(self, title: str, strings: Sequence[str], min_share: float = 0.5) -> Genre | None:
        """The document's genre: from its title, else from most of its headings and item titles.

        Without a title, one genre must match at least two of the distinct ``strings``
        and at least ``min_share`` of them: a 法治政府建设 plan with one 放管服 section
        is not a 放管服 plan.
        """
        title = normalise(title or "")
        if title:
            for genre in self.genres:
                if genre.pattern.search(title):
                    return genre
        distinct = list(dict.fromkeys(s for s in strings if s))
        if not distinct:
            return None
        answers = self._answers
        totals = [0] * len(self.genres)
        for string in distinct:
            key = ("genres", string)
            if key not in answers:
                normalised = normalise(string)
                answers[key] = [i for i, genre in enumerate(self.genres) if genre.pattern.search(normalised)]
            for i in answers[key]:
                totals[i] += 1
        counts = {genre.name: total for genre, total in zip(self.genres, totals, strict=True)}
        best = max(self.genres, key=lambda g: counts[g.name])
        n = counts[best.name]
        if n >= 2 and n >= min_share * len(distinct):
            return best
        return None


_MEMO_LIMIT = 100_000  # strings whose answers StructuralEvidence keeps


# --------------------------------------------------------------------------- combining


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise log of the softmax (numerically stable)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def pool_siblings(log_probabilities: np.ndarray, groups: Sequence[str], share: float) -> np.ndarray:
    """Each row moved ``share`` of the way toward the mean log-probability of its group.

    ``groups`` names the sibling group of every row ("" = no group: the row is kept);
    a group of one is kept too.
    """
    if share <= 0:
        return log_probabilities
    pooled = log_probabilities.copy()
    numbers: dict[str, int] = {"": -1}  # each group numbered by its first row; "" = no group
    codes = np.fromiter(
        (numbers.setdefault(g, len(numbers) - 1) for g in groups), dtype=np.int64, count=len(log_probabilities)
    )
    sizes = np.bincount(codes[codes >= 0], minlength=max(len(numbers) - 1, 1))
    pooled_rows = np.flatnonzero((codes >= 0) & (sizes[np.maximum(codes, 0)] > 1))
    if not len(pooled_rows):
        return pooled
    # The rows of each group in row order (a stable sort); a group's sum adds its rows one after the
    # other, as ``log_probabilities[rows].mean(axis=0)`` does, then divides by their number.
    rows = pooled_rows[np.argsort(codes[pooled_rows], kind="stable")]
    group = codes[rows]
    first = np.concatenate(([True], group[1:] != group[:-1]))
    starts = np.flatnonzero(first)
    place = np.arange(len(rows)) - np.repeat(starts, np.diff(np.append(starts, len(rows))))
    sums = log_probabilities[rows[starts]].copy()
    slot = np.cumsum(first) - 1  # the group's row in ``sums``
    by_place = np.argsort(place, kind="stable")
    ends = np.cumsum(np.bincount(place))
    for k in range(1, len(ends)):  # the k-th row of every group that has one, added at once
        at = by_place[ends[k - 1] : ends[k]]
        sums[slot[at]] += log_probabilities[rows[at]]
    means = sums / sizes[group[starts]][:, np.newaxis]
    pooled[rows] = (1 - share) * log_probabilities[rows] + share * means[slot]
    return pooled


TEMPERATURE_BOUNDS = (0.25, 4.0)
"""Limits of the fitted temperature: out-of-fold predictions of a few seed plans can be all right, and an
unbounded fit then sharpens without limit (confidence 1.0 for everything), which unseen genres do not bear out."""


def fit_temperature(scores: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T minimising the log loss of softmax(scores / T) (one parameter: robust on few tasks).

    ``labels`` are column indices of the true class; T stays within
    :data:`TEMPERATURE_BOUNDS`.  Returns 1.0 with no rows.
    """
    if len(scores) == 0:
        return 1.0
    from scipy.optimize import minimize_scalar  # only when fitting: coding tasks should not pay for its import

    def loss(log_t: float) -> float:
        return float(-log_softmax(scores / np.exp(log_t))[np.arange(len(labels)), labels].mean())

    low, high = TEMPERATURE_BOUNDS
    result = minimize_scalar(loss, bounds=(float(np.log(low)), float(np.log(high))), method="bounded")
    return float(np.exp(result.x))


# --------------------------------------------------------------------------- calibration measures


RELIABILITY_COLUMNS: tuple[str, ...] = ("bin", "lower", "upper", "n", "mean_confidence", "accuracy", "gap")


def reliability_table(confidence: Sequence[float], correct: Sequence[bool], n_bins: int = 10) -> pd.DataFrame:
    """Confidence in equal-width bins against the share of codes that were right.

    One row per bin that holds predictions: ``bin`` (0-based), ``lower``/``upper``
    edges, ``n``, ``mean_confidence``, ``accuracy`` and ``gap`` (accuracy − confidence;
    negative = over-confident).
    """
    values = np.clip(np.asarray(confidence, dtype=float), 0.0, 1.0)
    right = np.asarray(correct, dtype=bool)
    if len(values) != len(right):
        raise ValueError("confidence and correct must have the same length")
    bins = np.minimum((values * n_bins).astype(int), n_bins - 1)
    rows = []
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            mean_confidence = float(values[inside].mean())
            accuracy = float(right[inside].mean())
            rows.append(
                {
                    "bin": b,
                    "lower": b / n_bins,
                    "upper": (b + 1) / n_bins,
                    "n": int(inside.sum()),
                    "mean_confidence": mean_confidence,
                    "accuracy": accuracy,
                    "gap": accuracy - mean_confidence,
                }
            )
    import pandas as pd  # a table for the evaluation, not needed to code tasks (start-up time)

    return pd.DataFrame(rows, columns=list(RELIABILITY_COLUMNS))


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], n_bins: int = 10) -> float:
    """Mean |accuracy − confidence| over the bins of :func:`reliability_table`, weighted by bin size."""
    table = reliability_table(confidence, correct, n_bins)
    if table.empty:
        return float("nan")
    return float((table["n"] * table["gap"].abs()).sum() / table["n"].sum())
