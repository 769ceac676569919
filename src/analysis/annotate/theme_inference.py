"""The prediction half of the theme classifier, light enough for ``extract``: numpy (SciPy and pandas only for many rows and for tables).

:class:`ThemePredictor` codes tasks from what fitting left — vocabularies, idf
weights, logistic-regression coefficients, the hierarchy strategy and the
temperature — with the operations scikit-learn's ``transform`` and
``predict_proba`` use, in the same order, so its codes and confidences are
bit-identical to the fitted model's (tested) without importing scikit-learn,
whose import took most of the start-up of ``extract``.
:class:`~analysis.annotate.themes.ThemeClassifier` (fitting, scikit-learn) is
a ThemePredictor; :meth:`ThemePredictor.of` keeps just the prediction half,
which is what the build caches on disk.

Also here, shared by both halves and by the review: the feature blocks' inputs, and the prediction frame with gold codes and coders'
overrides applied.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np

from analysis.annotate.theme_evidence import StructuralEvidence, log_softmax, pool_siblings
from analysis.annotate.theme_features import SMALL_PRODUCT_ROWS, SparseRows, TfidfVocabulary, hstack_rows
from analysis.annotate.theme_keywords import KeywordMatcher
from analysis.core.codebook import (
    LEVEL1_CODES,
    OPTIONAL_TASK_COLUMNS,
    OVERRIDE_COLUMNS,
    PREDICTION_COLUMNS,
    TASK_COLUMNS,
    Codebook,
    CodebookCodeError,
    TaskColumns,
    check_gold_frame,
    check_task_rows,
    check_tasks_frame,
)
from analysis.core.errors import InputError
from analysis.core.segment import content_words, is_content_token, normalise, normalise_each

if TYPE_CHECKING:
    import pandas as pd
    from scipy import sparse

_Tasks = TypeVar("_Tasks")

log = logging.getLogger(__name__)


SOURCE_MODEL, SOURCE_RULE, SOURCE_GOLD, SOURCE_OVERRIDE = "model", "rule", "gold", "override"


# Bounded: the cache only serves texts seen again (training folds, baselines);
# an unbounded one grew with the corpus (≈1 GB per process at 10,000 documents).
TOKEN_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=TOKEN_CACHE_SIZE)
def _word_tokens(text: str) -> tuple[str, ...]:
    """Content words for features: no stopwords, no bare numbers."""
    return tuple(content_words(text))


def _heading_tokens(headings: Sequence[str]) -> list[str]:
    """Words of the enclosing headings plus each whole heading (``§`` + title)."""
    return list(_heading_path_tokens(tuple(headings)))


@functools.lru_cache(maxsize=TOKEN_CACHE_SIZE)
def _heading_path_tokens(headings: tuple[str, ...]) -> tuple[str, ...]:
    # Sibling tasks share their heading path: worked out once per path.
    tokens: list[str] = []
    for heading in headings:
        tokens.extend(_word_tokens(heading))
        whole = "".join(ch for ch in normalise(heading) if is_content_token(ch))
        if whole:
            tokens.append("§" + whole)
    return tuple(tokens)


def _char_text(title: Any, text: Any) -> str:
    return normalise(f"{title} {text}")


@dataclass(frozen=True)
class _Block:
    """One feature block: how to turn a task row into the block's input."""

    name: str
    prefix: str  # for evidence strings


_BLOCKS = (_Block("text", ""), _Block("title", "title:"), _Block("headings", "heading:"), _Block("chars", "char:"))


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _column(rows: pd.DataFrame | TaskColumns, name: str) -> list[Any]:
    """A column of the task rows as a list."""
    values = rows[name]
    return values if isinstance(values, list) else values.tolist()


def _block_inputs(block: str, rows: pd.DataFrame | TaskColumns) -> list[Any]:
    """The block's input per row: token lists (words, headings) or the normalised title + text (characters)."""
    if block == "text":  # task texts rarely repeat: no cache (its upkeep cost more than it saved)
        return [content_words(t) for t in _column(rows, "text")]
    if block == "title":
        return [list(_word_tokens(t)) for t in _column(rows, "title")]
    if block == "headings":
        return [_heading_tokens(h) for h in _column(rows, "headings")]
    return [_char_text(title, text) for title, text in zip(_column(rows, "title"), _column(rows, "text"), strict=True)]


@dataclass(frozen=True)
class _RowTexts:
    """The rows' titles and texts, each normalised (:func:`normalise`) once for every use in prediction.

    Normalising a text joined with a space or a newline gives the two parts
    normalised and joined the same way (neither character combines with a
    neighbour under NFKC, nor counts as cased or case-ignorable for lower
    casing; tested), so the joined forms are built from these.
    """

    titles: list[str]
    texts: list[str]

    @classmethod
    def of(cls, rows: pd.DataFrame | TaskColumns) -> _RowTexts:
        return cls(normalise_each(_column(rows, "title")), normalise_each(_column(rows, "text")))

    def joined(self, separator: str) -> list[str]:
        """``normalise(f"{title}{separator}{text}")`` per row (``separator``: a space or a newline)."""
        return [title + separator + text for title, text in zip(self.titles, self.texts, strict=True)]


def _prediction_inputs(
    block: str, rows: pd.DataFrame | TaskColumns, texts: _RowTexts, vocabulary: TfidfVocabulary
) -> Any:
    """:func:`_block_inputs` for prediction: the same tokens and strings, the task texts' words as ``vocabulary``'s
    columns (:meth:`~analysis.annotate.theme_features.TfidfVocabulary.content_word_columns`)."""
    if block == "text":
        return vocabulary.content_word_columns(texts.texts)
    if block == "chars":
        return texts.joined(" ")
    return _block_inputs(block, rows)


@dataclass
class _Probabilities:
    """Aligned probability matrices over all level-1 codes and all leaves."""

    level1: np.ndarray | None  # n x len(LEVEL1_CODES); model's level-1 probabilities (None: not worked out yet)
    leaves: np.ndarray  # n x len(leaf_codes); model's leaf probabilities
    features: list[SparseRows]  # the rows' features in consecutive blocks of BLOCK_ROWS rows


@dataclass(frozen=True, eq=False)
class LinearModel:
    """A fitted logistic regression's classes, coefficients and intercepts; probabilities as scikit-learn computes them."""

    classes: np.ndarray
    coef: np.ndarray  # n_classes x n_features (one row for two classes)
    intercept: np.ndarray

    @classmethod
    def of(cls, model: Any) -> LinearModel:
        """The parts of a fitted ``LogisticRegression`` that prediction needs."""
        return cls(model.classes_, model.coef_, model.intercept_)

    def predict_proba(self, features: sparse.csr_matrix | SparseRows) -> np.ndarray:
        """``LogisticRegression.predict_proba``: the same sparse product and softmax, step by step."""
        scores = self._product(features) + self.intercept
        if len(self.classes) <= 2:  # one column of scores: the logistic function, as scikit-learn's binary case
            from scipy.special import expit  # only for a two-class model (start-up time)

            positive = expit(scores.reshape(-1), out=scores.reshape(-1))
            return np.stack([1 - positive, positive], axis=1)
        scores -= np.max(scores, axis=1).reshape((-1, 1))
        np.exp(scores, out=scores)
        scores /= np.sum(scores, axis=1).reshape((-1, 1))
        return scores

    def _product(self, features: sparse.csr_matrix | SparseRows) -> np.ndarray:
        """``features @ coef.T``; for a large block of rows, with the coefficient rows of frequent features together.

        SciPy's loop adds, row by row, each entry's ``value * coef.T[column]`` in the order of the entries;
        reading those coefficient rows from a copy ordered by how often the features occur (the first large
        block's counts) keeps the frequent ones in cache.  The same products, added in the same order:
        the same scores, bit for bit, in any order of the copy (tested).
        """
        if not isinstance(features, SparseRows) or features.shape[0] <= SMALL_PRODUCT_ROWS:
            return features @ self.coef.T
        ordered = self.__dict__.get("_ordered_coef")
        if ordered is None or ordered[0].shape[0] != self.coef.shape[1]:
            frequent_first = np.argsort(-np.bincount(features.indices, minlength=self.coef.shape[1]), kind="stable")
            place = np.empty(len(frequent_first), dtype=features.indices.dtype)
            place[frequent_first] = np.arange(len(frequent_first))
            ordered = (np.ascontiguousarray(self.coef.T[frequent_first]), place)
            object.__setattr__(self, "_ordered_coef", ordered)  # a cache of the frozen model's own coefficients
        coef_rows, place = ordered
        return np.asarray(
            SparseRows(features.data, place[features.indices], features.indptr, features.shape).to_csr() @ coef_rows
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the ordered copy of the coefficients (made again on first use)."""
        return {k: v for k, v in self.__dict__.items() if k != "_ordered_coef"}


PREDICTOR_ATTRIBUTES: tuple[str, ...] = (
    # settings
    "text_weight",
    "title_weight",
    "heading_weight",
    "char_weight",
    "keyword_bonus",
    "gangyao_bonus",
    "genre_bonus",
    "sibling_share",
    "rules",
    "rule_below",
    "rule_min_keywords",
    "n_evidence",
    # fitted
    "codebook_",
    "codebook_version_",
    "n_gold_",
    "keyword_matcher_",
    "evidence_",
    "hierarchy_",
    "hierarchy_scores_",
    "temperature_",
    "blocks_",
    "level1_",
    "level2_",
    "single_leaf_",
    "feature_names_",
    "leaf_codes_",
    "leaf_parent_",
)
"""What :class:`ThemePredictor` reads (a fitted classifier has more)."""


class ThemePredictor:
    """Codes tasks with a level-1 theme and a level-2 subtheme from a fitted classifier's parts.

    See :class:`~analysis.annotate.themes.ThemeClassifier` for the model, its
    evidence layers and calibration; this class holds only what prediction
    reads (:data:`PREDICTOR_ATTRIBUTES`) and imports no scikit-learn.
    """

    codebook_: Codebook
    keyword_matcher_: KeywordMatcher
    evidence_: StructuralEvidence
    hierarchy_: str
    temperature_: float
    blocks_: dict[str, TfidfVocabulary]
    level1_: LinearModel
    level2_: LinearModel | None
    feature_names_: list[str]
    leaf_codes_: list[str]
    leaf_parent_: np.ndarray
    text_weight: float
    title_weight: float
    heading_weight: float
    char_weight: float
    keyword_bonus: float
    gangyao_bonus: float
    genre_bonus: float
    sibling_share: float
    rules: bool
    rule_below: float
    rule_min_keywords: int
    n_evidence: int

    @classmethod
    def of(cls, model: ThemePredictor) -> ThemePredictor:
        """The prediction half of a fitted classifier (same codes; no scikit-learn objects, so it loads light)."""
        if not hasattr(model, "level1_"):
            raise RuntimeError(f"{type(model).__name__} is not fitted: call fit() first")
        predictor = cls.__new__(cls)
        predictor.__dict__.update({k: model.__dict__[k] for k in PREDICTOR_ATTRIBUTES if k in model.__dict__})
        return predictor

    def _weights(self) -> dict[str, float]:
        return {
            "text": self.text_weight,
            "title": self.title_weight,
            "headings": self.heading_weight,
            "chars": self.char_weight,
        }

    def _features(self, inputs: dict[str, list[Any]], first: int, last: int) -> SparseRows:
        """Features of rows ``first:last`` from their block inputs (each block weighted, blocks side by side)."""
        weights = self._weights()
        blocks = []
        for block, vocabulary in self.blocks_.items():
            matrix = vocabulary.transform_rows(inputs[block][first:last])
            matrix.data *= weights[block]  # as ``matrix * weight``, without a copy
            blocks.append(matrix)
        return hstack_rows(blocks)

    def _probabilities(
        self, rows: pd.DataFrame | TaskColumns, texts: _RowTexts | None = None, *, level1: bool = True
    ) -> _Probabilities:
        """Both models' probabilities, computed BLOCK_ROWS rows at a time (each row's are its own alone).

        Small blocks keep the temporary arrays small: fresh large arrays cost more than the arithmetic.
        ``texts``: the rows' normalised texts, if already at hand; ``level1``: False leaves the level-1
        probabilities to :meth:`_level1` (worked out only if a strategy needs them).
        """
        if texts is None:
            texts = _RowTexts.of(rows)
        inputs = {
            block: _prediction_inputs(block, rows, texts, vocabulary) for block, vocabulary in self.blocks_.items()
        }
        leaves = np.zeros((len(rows), len(self.leaf_codes_)))
        leaf_column = {code: i for i, code in enumerate(self.leaf_codes_)}
        blocks = []
        for first in range(0, len(rows), BLOCK_ROWS):
            last = min(first + BLOCK_ROWS, len(rows))
            features = self._features(inputs, first, last)
            blocks.append(features)
            if self.level2_ is not None:
                proba2 = self.level2_.predict_proba(features)
                leaves[first:last, [leaf_column[code] for code in self.level2_.classes]] = proba2
        if self.level2_ is None and hasattr(self, "single_leaf_"):
            leaves[:, leaf_column[self.single_leaf_]] = 1.0
        probabilities = _Probabilities(None, leaves, blocks)
        if level1:
            self._level1(probabilities)
        return probabilities

    def _level1(self, probabilities: _Probabilities) -> np.ndarray:
        """The level-1 model's probabilities (kept in ``probabilities``), block by block of its features."""
        if probabilities.level1 is None:
            level1 = np.zeros((len(probabilities.leaves), len(LEVEL1_CODES)))
            column = [LEVEL1_CODES.index(code) for code in self.level1_.classes]
            first = 0
            for features in probabilities.features:
                last = first + features.shape[0]
                level1[first:last, column] = self.level1_.predict_proba(features)
                first = last
            probabilities.level1 = level1
        return probabilities.level1

    def _decide(self, probabilities: _Probabilities, strategy: str) -> tuple[list[int], np.ndarray, list[str]]:
        """Theme index, level-1 distribution used, and subtheme for each row."""
        theme_idx, distribution = self._distribution(probabilities, strategy)
        return theme_idx, distribution, self._best_children(probabilities.leaves, theme_idx)

    def _distribution(self, probabilities: _Probabilities, strategy: str) -> tuple[list[int], np.ndarray]:
        """Theme index and the level-1 distribution ``strategy`` gives for each row."""
        derived = np.stack(
            [probabilities.leaves[:, self.leaf_parent_ == code].sum(axis=1) for code in LEVEL1_CODES], axis=1
        )
        if strategy == "restrict" or not derived.any():
            distribution = self._level1(probabilities)
        elif strategy == "derive":
            distribution = derived
        else:
            distribution = (self._level1(probabilities) + derived) / 2
        return [int(i) for i in np.argmax(distribution, axis=1)], distribution

    def _best_child(self, leaf_row: np.ndarray, theme: str) -> str:
        return self._best_children(leaf_row[np.newaxis, :], [LEVEL1_CODES.index(theme)])[0]

    def _best_children(self, leaves: np.ndarray, theme_idx: Sequence[int]) -> list[str]:
        """Per row, the subtheme of its theme with the highest leaf probability ("" if none is above 0)."""
        if not len(theme_idx):
            return []
        codes = np.asarray(self.leaf_codes_, dtype=object)
        children = np.stack([(self.leaf_parent_ == theme) & (codes != theme) for theme in LEVEL1_CODES])
        masked = np.where(children[np.asarray(theme_idx)], leaves, -np.inf)
        best = masked.argmax(axis=1)  # the first of equal maxima, as before
        top = masked[np.arange(len(best)), best]
        return [self.leaf_codes_[b] if t > 0 else "" for b, t in zip(best.tolist(), top.tolist(), strict=True)]

    def _evidence(self, features: list[SparseRows], themes: Sequence[str]) -> list[str]:
        """Per row, the features that speak most for its theme: ``name(+weight)``, largest first, ties by name.

        ``features``: the rows' features in consecutive blocks (as :meth:`_probabilities` gives them).
        """
        classes = list(self.level1_.classes)
        coef = self.level1_.coef
        weights = coef if coef.shape[0] > 1 else np.vstack([-coef[0], coef[0]])  # binary: class 1 is +coef
        # A theme the model does not know gets weights 0: no feature speaks for it.
        weights = np.vstack([weights, np.zeros((1, weights.shape[1]))])
        position = {code: i for i, code in enumerate(classes)}
        class_of_row = np.array([position.get(t, len(classes)) for t in themes], dtype=np.int64)
        names, ranks = self.feature_names_, self._feature_name_rank()
        flat_weights, n_features = weights.ravel(), weights.shape[1]  # weights[c, j] = flat_weights[c * n_features + j]
        evidence = [""] * len(themes)
        first = 0
        for block in features:
            at = np.repeat(class_of_row[first : first + block.shape[0]] * n_features, np.diff(block.indptr))
            values = block.data * flat_weights[at + block.indices]
            near = np.flatnonzero((values > 0) & _near_top(block.indptr, values, self.n_evidence))
            rows = np.searchsorted(block.indptr, near, side="right") - 1 + first
            first += block.shape[0]
            columns, values = block.indices[near], values[near]
            keep = _top_tiers(rows, values, self.n_evidence)
            rows, columns, values = rows[keep], columns[keep], values[keep]
            # By row, then largest value, then name; equal names keep their column order (a stable sort).
            order = np.lexsort((ranks[columns], -values, rows))
            rows, columns, values = rows[order], columns[order], values[order]
            chosen = np.flatnonzero(np.arange(len(rows)) - np.searchsorted(rows, rows) < self.n_evidence)
            rows = rows[chosen]
            if not len(rows):
                continue
            # f"{name}({value:+.2f})" of each: the same string by %-formatting, a quarter faster (tested).
            named = [
                _NAMED % pair
                for pair in zip(map(names.__getitem__, columns[chosen].tolist()), values[chosen].tolist(), strict=True)
            ]
            # Each row's entries are consecutive (sorted by row): joined slice by slice.
            starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
            ends = np.append(starts[1:], len(rows)).tolist()
            for row, start, end in zip(rows[starts].tolist(), starts.tolist(), ends, strict=True):
                evidence[row] = "; ".join(named[start:end])
        return evidence

    def _feature_name_rank(self) -> np.ndarray:
        """Each feature's place in the sorted feature names (equal names, equal places); built once per vocabulary."""
        cached: np.ndarray | None = getattr(self, "_feature_rank_cache", None)
        if cached is None or len(cached) != len(self.feature_names_):
            _, cached = np.unique(self._feature_name_array(), return_inverse=True)
            self._feature_rank_cache = cached
        return cached

    def _feature_name_array(self) -> np.ndarray:
        """The feature names as an array (built once per fitted vocabulary; not a setting, not pickled state)."""
        cached: np.ndarray | None = getattr(self, "_feature_name_cache", None)
        if cached is None or len(cached) != len(self.feature_names_):
            cached = np.asarray(self.feature_names_, dtype=object)
            self._feature_name_cache = cached
        return cached

    def _rule_theme(self, title: str, text: str) -> tuple[str, list[str]] | None:
        _, distinct = self.keyword_matcher_.theme_scores(f"{title}\n{text}")
        ranked = sorted(LEVEL1_CODES, key=lambda c: (-len(distinct[c]), LEVEL1_CODES.index(c)))
        best, second = ranked[0], ranked[1]
        n_best, n_second = len(distinct[best]), len(distinct[second])
        if n_best >= self.rule_min_keywords and n_best >= 2 * n_second:
            return best, sorted(distinct[best])
        return None

    def _layered_scores(
        self,
        rows: pd.DataFrame | TaskColumns,
        distribution: np.ndarray,
        layers: Sequence[str],
        texts: _RowTexts | None = None,
    ) -> tuple[np.ndarray, list[list[str]]]:
        """Level-1 log-probabilities with the evidence ``layers`` added, and a note per row on what fired.

        ``texts``: the rows' normalised texts, if already at hand.
        """
        scores = np.log(np.clip(distribution, PROBABILITY_FLOOR, 1.0))
        notes: list[list[str]] = [[] for _ in range(len(rows))]
        doc_ids, headings, titles = _column(rows, "doc_id"), _column(rows, "headings"), _column(rows, "title")
        if "headings" in layers and self.gangyao_bonus:
            # Siblings share their headings: (column, note) worked out once per heading path.
            heading_themes: dict[tuple[str, ...], tuple[int, str] | None] = {}
            hit_rows, hit_columns = [], []
            for r, path in enumerate(headings):
                key = tuple(path)
                if key not in heading_themes:
                    found = self.evidence_.heading_theme(path)
                    heading_themes[key] = (_COLUMN[found[0]], f"纲要 heading {found[1]}→{found[0]}") if found else None
                hit = heading_themes[key]
                if hit:
                    hit_rows.append(r)
                    hit_columns.append(hit[0])
                    notes[r].append(hit[1])
            scores[hit_rows, hit_columns] += self.gangyao_bonus  # one cell per row at most
        if "genre" in layers and self.genre_bonus:
            doc_titles = _column(rows, "doc_title")
            in_doc: dict[str, list[int]] = {}
            for r, doc_id in enumerate(doc_ids):
                in_doc.setdefault(doc_id, []).append(r)
            for index in in_doc.values():
                strings = [h for r in index for h in headings[r]] + [titles[r] for r in index]
                genre = self.evidence_.genre(str(doc_titles[index[0]]), strings)
                if genre:
                    scores[index, _COLUMN[genre.theme]] += self.genre_bonus
                    for r in index:
                        notes[r].append(f"genre {genre.name}→{genre.theme}")
        scores = log_softmax(scores)
        if "siblings" in layers and self.sibling_share:
            groups = [f"{d}\x1f{' > '.join(h)}" if h else "" for d, h in zip(doc_ids, headings, strict=True)]
            scores = pool_siblings(scores, groups, self.sibling_share)
        if "keywords" in layers and self.keyword_bonus:
            # After pooling: a task's own words may overrule its siblings (substance over heading).
            # distinct_counts(f"{title}\n{text}") of each row
            counts = self.keyword_matcher_.distinct_counts_of((texts or _RowTexts.of(rows)).joined("\n"))
            scores = log_softmax(scores + self.keyword_bonus * np.minimum(counts, MAX_KEYWORDS_COUNTED))
        return scores, notes

    def predict(
        self, tasks: pd.DataFrame, *, use_rules: bool | None = None, layers: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """One row per task (kind == "task", input order) with :data:`PREDICTION_COLUMNS`.

        ``layers``: the evidence layers to apply (default :data:`LAYERS`, all);
        ``use_rules``: the keyword rule (default ``rules``).
        """
        with _collection_paused():
            codes = self._predict(tasks, check_tasks_frame, use_rules, LAYERS if layers is None else tuple(layers))
        return prediction_frame(*codes, self.codebook_)

    def predict_rows(
        self, tasks: Sequence[Mapping[str, Any]], *, use_rules: bool | None = None, layers: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """:meth:`predict` for rows as mappings, without pandas: one dict per task, the same values."""
        with _collection_paused():
            codes = self._predict(tasks, check_task_rows, use_rules, LAYERS if layers is None else tuple(layers))
        return prediction_records(codes, self.codebook_)

    def predict_columns(self, columns: TaskColumns) -> Codes:
        """What :meth:`predict` decides for task rows already checked (:func:`check_task_rows`' columns), as lists."""
        with _collection_paused():
            return self._predict(columns, _checked, None, LAYERS)

    def _predict(
        self,
        tasks: _Tasks,
        check: Callable[[_Tasks], pd.DataFrame | TaskColumns],
        use_rules: bool | None,
        layers: tuple[str, ...],
    ) -> Codes:
        """Task ids, themes, subthemes, confidences, sources and evidence of the task rows ``check(tasks)`` gives."""
        if not hasattr(self, "level1_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit() first")
        unknown = set(layers) - set(LAYERS)
        if unknown:
            raise ValueError(f"unknown evidence layer(s) {sorted(unknown)}; known: {LAYERS}")
        rows = check(tasks)
        use_rules = self.rules if use_rules is None else use_rules
        if not len(rows):
            return Codes([], [], [], [], [], [])
        row_texts = _RowTexts.of(rows)
        # "derive" reads the leaves only (the level-1 model's probabilities are worked out if it turns to them)
        probabilities = self._probabilities(rows, row_texts, level1=self.hierarchy_ != "derive")
        _, model_distribution = self._distribution(probabilities, self.hierarchy_)
        scores, notes = self._layered_scores(rows, model_distribution, layers, row_texts)
        distribution = np.exp(log_softmax(scores / self.temperature_))
        theme_idx = np.argmax(distribution, axis=1)
        themes = [LEVEL1_CODES[i] for i in theme_idx.tolist()]
        subthemes = self._best_children(probabilities.leaves, theme_idx.tolist())
        model_confidences = distribution[np.arange(len(rows)), theme_idx].tolist()
        evidence = self._evidence(probabilities.features, themes)
        sources = [SOURCE_MODEL] * len(rows)
        titles, texts = _column(rows, "title"), _column(rows, "text")
        confidences = []
        for r, theme in enumerate(themes):
            confidence = model_confidences[r]
            evidence[r] = "; ".join(filter(None, [evidence[r], *notes[r]]))
            if use_rules and confidence < self.rule_below:
                ruled = self._rule_theme(titles[r], texts[r])
                if ruled and ruled[0] != theme:
                    model_theme, model_confidence = theme, confidence
                    themes[r] = ruled[0]
                    confidence = float(distribution[r, LEVEL1_CODES.index(ruled[0])])
                    subthemes[r] = self._best_child(probabilities.leaves[r], ruled[0])
                    sources[r] = SOURCE_RULE
                    evidence[r] = (
                        f"rule: {len(ruled[1])} keywords {', '.join(ruled[1][:6])}; "
                        f"model said {model_theme} ({model_confidence:.2f})"
                    )
            confidences.append(round(confidence, 6))
        return Codes(_column(rows, "task_id"), themes, subthemes, confidences, sources, evidence)


def _checked(columns: TaskColumns) -> TaskColumns:
    """Columns checked already (:meth:`ThemePredictor.predict_columns`)."""
    return columns


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cycle collector off meanwhile.

    Coding makes millions of small lists and tuples (no cycles), and each full
    collection walks every object of the process, vocabularies included
    (measured: 6% of coding a large table).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _near_top(indptr: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Mask of the entries that may be among the ``n`` largest values of their row (all those are).

    Rows as in a CSR matrix (``indptr``).  A row of ``n`` or more entries is cut
    into ``n`` consecutive pieces: the smallest of the pieces' maxima is ``n``
    entries' lower bound, so no entry below it is among the ``n`` largest.  A
    pass or two leaves :func:`_top_tiers` a few entries per row instead of all.
    """
    lengths = np.diff(indptr)
    bound = np.full(len(lengths), -np.inf)
    full = np.flatnonzero(lengths >= max(n, 1))
    if n > 0 and len(full):
        # Pieces of the full rows, and the other non-empty rows whole, so that the pieces tile the entries.
        kept = np.flatnonzero(lengths > 0)
        pieces = np.where(lengths[kept] >= n, n, 1)
        piece_row = np.repeat(kept, pieces)
        piece = np.arange(len(piece_row)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        maxima = np.maximum.reduceat(values, indptr[piece_row] + piece * lengths[piece_row] // n)
        lowest = np.minimum.reduceat(maxima, np.cumsum(pieces) - pieces)
        bound[kept] = np.where(lengths[kept] >= n, lowest, -np.inf)
    return values >= np.repeat(bound, lengths)


def _top_tiers(rows: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Mask of the entries among the ``n`` largest values of their row, ties at the cut included.

    ``rows`` is sorted; sorting only these entries gives the same first ``n`` per row as sorting all.
    """
    chosen = np.zeros(len(rows), dtype=bool)
    if not len(rows) or n <= 0:
        return chosen
    first = np.concatenate(([True], rows[1:] != rows[:-1]))
    starts, group = np.flatnonzero(first), np.cumsum(first) - 1
    wanted = np.full(len(starts), n)
    left = values.astype(np.float64, copy=True)
    for _ in range(n):
        left[wanted[group] <= 0] = -np.inf
        top = np.maximum.reduceat(left, starts)
        tier = (left == top[group]) & (left > -np.inf)
        if not tier.any():
            break
        chosen |= tier
        wanted -= np.bincount(group[tier], minlength=len(starts))
        left[tier] = -np.inf
    return chosen


_NAMED = "%s(%+.2f)"  # a feature of the evidence: its name and weighted value


LAYERS: tuple[str, ...] = ("keywords", "headings", "genre", "siblings")
"""Evidence layers added to the model's scores (see :class:`ThemeClassifier`)."""
MAX_KEYWORDS_COUNTED = 3  # distinct keywords of one theme that add a bonus: a long list must not swamp the model
PROBABILITY_FLOOR = 1e-6  # a model probability of 0 must not veto strong evidence
_COLUMN = {code: i for i, code in enumerate(LEVEL1_CODES)}
BLOCK_ROWS = 1024  # rows whose features, probabilities and evidence are worked out at once


class Codes(NamedTuple):
    """What the predictor decided for each task, column by column."""

    task_ids: list[str]
    themes: list[str]
    subthemes: list[str]
    confidences: list[float]
    sources: list[str]
    evidence: list[str]


def _prediction_columns(codes: Codes, codebook: Codebook) -> dict[str, list[Any]]:
    """:data:`PREDICTION_COLUMNS` as lists (labels looked up in the codebook)."""
    task_ids, themes, subthemes, confidences, sources, evidence = codes
    labels = {  # each code looked up once
        code: (codebook.label(code, "zh"), codebook.label(code, "en")) if code else ("", "")
        for code in {*themes, *subthemes}
    }
    return {
        "task_id": task_ids,
        "theme": themes,
        "theme_label_zh": [labels[t][0] for t in themes],
        "theme_label_en": [labels[t][1] for t in themes],
        "subtheme": subthemes,
        "subtheme_label_zh": [labels[s][0] for s in subthemes],
        "subtheme_label_en": [labels[s][1] for s in subthemes],
        "theme_confidence": confidences,
        "theme_source": sources,
        "theme_evidence": evidence,
        "theme_model": themes,
        "subtheme_model": subthemes,
        "theme_model_confidence": confidences,
    }


def prediction_frame(
    task_ids: list[str],
    themes: list[str],
    subthemes: list[str],
    confidences: list[float],
    sources: list[str],
    evidence: list[str],
    codebook: Codebook,
) -> pd.DataFrame:
    import pandas as pd  # the build's and the evaluation's tables; extract codes without (start-up time)

    columns = _prediction_columns(Codes(task_ids, themes, subthemes, confidences, sources, evidence), codebook)
    for name in ("theme_confidence", "theme_model_confidence"):
        columns[name] = pd.Series(confidences, dtype="float64")
    frame = pd.DataFrame(columns, columns=list(PREDICTION_COLUMNS))
    frame.attrs["codebook_version"] = codebook.version
    return frame


def prediction_records(codes: Codes, codebook: Codebook) -> list[dict[str, Any]]:
    """The rows :func:`prediction_frame` makes of ``codes``, as dicts (:data:`PREDICTION_COLUMNS`), without pandas."""
    columns = _prediction_columns(codes, codebook)
    return [dict(zip(PREDICTION_COLUMNS, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _set_codes(result: pd.DataFrame, i: Any, theme: str, subtheme: str, codebook: Codebook) -> None:
    """Row ``i`` of ``result`` gets ``theme`` / ``subtheme`` and their labels."""
    result.loc[i, ["theme", "theme_label_zh", "theme_label_en"]] = [
        theme,
        codebook.label(theme, "zh"),
        codebook.label(theme, "en"),
    ]
    result.loc[i, ["subtheme", "subtheme_label_zh", "subtheme_label_en"]] = [
        subtheme,
        codebook.label(subtheme, "zh") if subtheme else "",
        codebook.label(subtheme, "en") if subtheme else "",
    ]


def apply_gold(
    predictions: pd.DataFrame, tasks: pd.DataFrame, gold: pd.DataFrame, codebook: Codebook | None = None
) -> pd.DataFrame:
    """Predictions with the hand codes of gold-coded tasks (matched on ``doc_id`` + ``path``).

    Such a task gets the gold theme/subtheme (+ labels), confidence 1.0,
    source ``"gold"`` and evidence naming the coder; the model's code stays in
    ``theme_model`` / ``subtheme_model`` / ``theme_model_confidence``, so give
    this function predictions from a model that did not train on the task
    (cross-fitted), or the comparison means nothing.  ``tasks`` is the
    classifier input the predictions were made from (``task_id, doc_id, path``).
    """
    codebook = codebook or Codebook.load()
    result = predictions.copy()
    result.attrs = dict(predictions.attrs)
    gold = check_gold_frame(gold, codebook)
    keys = tasks[["task_id", "doc_id", "path"]].astype(str)
    coded = keys.merge(gold[["doc_id", "path", "theme", "subtheme", "coder"]], on=["doc_id", "path"], how="inner")
    position = {task_id: i for i, task_id in enumerate(result["task_id"])}
    for row in coded.itertuples(index=False):
        if row.task_id not in position:
            continue
        i = result.index[position[row.task_id]]
        _set_codes(result, i, row.theme, row.subtheme, codebook)
        result.at[i, "theme_confidence"] = 1.0
        result.at[i, "theme_source"] = SOURCE_GOLD
        result.at[i, "theme_evidence"] = f"gold: hand code by {row.coder or '?'}"
    return result


def apply_gold_rows(
    predictions: list[dict[str, Any]],
    tasks: Sequence[Mapping[str, Any]],
    gold: Sequence[Mapping[str, Any]],
    codebook: Codebook,
) -> list[dict[str, Any]]:
    """:func:`apply_gold` for rows as dicts, without pandas (``gold``: rows of a gold table)."""
    codes = {(gold_text(row, "doc_id"), gold_text(row, "path")): row for row in gold}
    position = {row["task_id"]: i for i, row in enumerate(predictions)}
    result = [dict(row) for row in predictions]
    for task in tasks:
        code = codes.get((str(task["doc_id"]), str(task["path"])))
        if code is None or str(task["task_id"]) not in position:
            continue
        row = result[position[str(task["task_id"])]]
        theme, subtheme = gold_text(code, "theme"), gold_text(code, "subtheme")
        row.update(
            theme=theme,
            theme_label_zh=codebook.label(theme, "zh"),
            theme_label_en=codebook.label(theme, "en"),
            subtheme=subtheme,
            subtheme_label_zh=codebook.label(subtheme, "zh") if subtheme else "",
            subtheme_label_en=codebook.label(subtheme, "en") if subtheme else "",
            theme_confidence=1.0,
            theme_source=SOURCE_GOLD,
            theme_evidence=f"gold: hand code by {gold_text(code, 'coder') or '?'}",
        )
    return result


def gold_text(row: Mapping[str, Any], column: str) -> str:
    """A gold cell as :func:`~analysis.core.codebook.check_gold_frame` reads it: text, stripped, "" if missing."""
    value = row.get(column)
    return "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()


def review_order(predictions: pd.DataFrame) -> pd.DataFrame:
    """Model- and rule-coded rows, most likely wrong first (gold and override rows left out).

    The probability of error is 1 − ``theme_confidence``, the calibrated
    probability that the code is right (column ``error_probability``); ties
    keep the input order.
    """
    import pandas as pd  # the review's table (start-up time: extract codes without pandas)

    coded = predictions[~predictions["theme_source"].isin([SOURCE_GOLD, SOURCE_OVERRIDE])].copy()
    coded["error_probability"] = 1.0 - pd.to_numeric(coded["theme_confidence"], errors="coerce").fillna(0.0)
    return coded.sort_values("error_probability", ascending=False, kind="stable")


def apply_overrides(
    predictions: pd.DataFrame, overrides: pd.DataFrame, codebook: Codebook | None = None
) -> pd.DataFrame:
    """Predictions with the coders' overrides applied (they win everywhere).

    An override sets theme/subtheme (+ labels), confidence 1.0, source
    "override" and evidence naming the coder.  An override without a subtheme
    keeps the predicted subtheme only if it belongs to the override's theme.
    Overrides for task_ids not in ``predictions`` are logged and listed in
    ``result.attrs["unmatched_overrides"]``.
    """
    codebook = codebook or Codebook.load()
    result = predictions.copy()
    result.attrs = dict(predictions.attrs)
    if overrides is None or overrides.empty:
        result.attrs["unmatched_overrides"] = []
        return result
    missing = [c for c in OVERRIDE_COLUMNS if c not in overrides.columns]
    if missing:
        raise InputError(overrides.attrs.get("path"), f"overrides: missing column(s) {', '.join(missing)}")
    position = {task_id: i for i, task_id in enumerate(result["task_id"])}
    unmatched = []
    for override in overrides.fillna("").itertuples(index=False):
        try:
            codebook.validate_codes(override.theme, override.subtheme)
        except CodebookCodeError as error:
            raise InputError(overrides.attrs.get("path"), f"override for {override.task_id}: {error}") from None
        if override.task_id not in position:
            unmatched.append(override.task_id)
            continue
        i = result.index[position[override.task_id]]
        subtheme = override.subtheme
        if not subtheme:
            predicted = result.at[i, "subtheme"]
            subtheme = predicted if predicted and codebook.parent(predicted) == override.theme else ""
        _set_codes(result, i, override.theme, subtheme, codebook)
        result.at[i, "theme_confidence"] = 1.0
        result.at[i, "theme_source"] = SOURCE_OVERRIDE
        note = f": {override.note}" if override.note else ""
        result.at[i, "theme_evidence"] = f"override by {override.coder or '?'} ({override.coded_at}){note}"
    if unmatched:
        log.warning("%d override(s) for unknown task_id(s): %s", len(unmatched), ", ".join(unmatched[:20]))
    result.attrs["unmatched_overrides"] = unmatched
    return result


def tasks_frame(docs: Iterable[Any]) -> pd.DataFrame:
    """Tasks DataFrame (classifier input) from parsed documents."""
    import pandas as pd  # fitting's input table (start-up time: extract codes without pandas)

    rows = [
        {
            "doc_id": u.doc_id,
            "task_id": u.task_id,
            "kind": u.kind,
            "path": u.path,
            "headings": list(u.headings),
            "title": u.title,
            "text": u.text,
            "doc_title": str(doc.metadata.get("title") or ""),
        }
        for doc in docs
        for u in doc.items
    ]
    return pd.DataFrame(rows, columns=[*TASK_COLUMNS, *OPTIONAL_TASK_COLUMNS])
