"""The theme classifier: codes each task with a level-1 theme and a level-2 subtheme.

* :class:`ThemeClassifier` — fit/predict model coding each *task* (framing
  units are not coded) with a level-1 theme and a level-2 subtheme, a
  probability and the evidence behind the choice.  It is trained at build time
  from the gold annotations plus pseudo-examples made from the codebook's
  scope notes and keywords, so codes without gold examples can be predicted.
  Evidence beyond the task's words (纲要 headings, document genre, siblings)
  and the calibration live in :mod:`analysis.annotate.theme_evidence`; the
  codebook (:class:`~analysis.core.codebook.Codebook`) in ``core``.
* :func:`apply_gold` keeps the hand code of a gold task (the model's code stays
  in ``theme_model``); :func:`apply_overrides` lets a coder's review win over
  both; :func:`review_order` puts the codes most likely wrong first.
* Prediction (everything above that needs no scikit-learn, named from here
  too) lives in :mod:`analysis.annotate.theme_inference`: a ThemeClassifier is
  a :class:`~analysis.annotate.theme_inference.ThemePredictor`, and
  ``ThemePredictor.of(classifier)`` is its light prediction half.
* Baselines and evaluation: :mod:`analysis.annotate.theme_evaluation`.

Input tasks are a DataFrame with columns ``doc_id, task_id, kind, path,
headings (list of titles, outermost first), title, text`` and optionally
``doc_title``.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from threadpoolctl import threadpool_limits

from analysis.annotate.theme_evidence import StructuralEvidence, fit_temperature
from analysis.annotate.theme_features import TfidfVocabulary
from analysis.annotate.theme_inference import (  # noqa: F401 - the prediction half, also named from here
    _BLOCKS,
    BLOCK_ROWS,
    LAYERS,
    MAX_KEYWORDS_COUNTED,
    PROBABILITY_FLOOR,
    SOURCE_GOLD,
    SOURCE_MODEL,
    SOURCE_OVERRIDE,
    SOURCE_RULE,
    TOKEN_CACHE_SIZE,
    LinearModel,
    ThemePredictor,
    _block_inputs,
    _identity,
    _Probabilities,
    apply_gold,
    apply_overrides,
    prediction_frame,
    review_order,
    tasks_frame,
)
from analysis.annotate.theme_keywords import KeywordMatcher
from analysis.core.codebook import (
    GOLD_COLUMNS,
    HIERARCHIES,
    LEVEL1_CODES,
    TASK_COLUMNS,
    Codebook,
    check_gold_frame,
    join_gold,
)

log = logging.getLogger(__name__)


def _make_vectorizer(block: str, char_ngrams: tuple[int, int]) -> TfidfVectorizer:
    if block == "chars":
        return TfidfVectorizer(analyzer="char", ngram_range=char_ngrams, sublinear_tf=True, min_df=1, dtype=np.float64)
    return TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1, dtype=np.float64)


def _light_vocabulary(vectorizer: TfidfVectorizer) -> TfidfVocabulary:
    vocabulary = TfidfVocabulary.of(vectorizer)
    if vocabulary is None:
        raise ValueError(f"a {vectorizer!r} cannot be applied without scikit-learn")
    return vocabulary


def _pseudo_examples(codebook: Codebook) -> pd.DataFrame:
    """Two training examples per code made from the codebook itself.

    (1) title = label, text = scope note, heading = the level-1 label;
    (2) text = the keywords.  Level-1 codes with subthemes get no level-2 target.
    """
    rows = []
    for theme in LEVEL1_CODES:
        for code in [theme, *codebook.children(theme)]:
            is_level1 = code == theme
            leaf = code if not is_level1 else (theme if not codebook.children(theme) else "")
            scope = codebook.scope(code)
            keywords = "；".join(codebook.keywords(code))
            heading = [codebook.label(theme)]
            rows.append(
                {
                    "doc_id": "",
                    "path": "",
                    "task_id": f"codebook:{code}:scope",
                    "headings": heading,
                    "title": codebook.label(code),
                    "text": scope,
                    "gold_theme": theme,
                    "leaf": leaf,
                }
            )
            if keywords:
                rows.append(
                    {
                        "doc_id": "",
                        "path": "",
                        "task_id": f"codebook:{code}:keywords",
                        "headings": [],
                        "title": "",
                        "text": keywords,
                        "gold_theme": theme,
                        "leaf": leaf,
                    }
                )
    return pd.DataFrame(rows)


FittedModels = dict[str, dict[str, Any]]
"""Vectorizers and models by a key of the rows and settings they were fitted with (:meth:`ThemeClassifier._models_key`).

Classifiers fitted together (a coder's and its cross-fitted ones) pass one such dict: their
leave-one-document-out folds repeat (the fold without documents A and B is a fold of both the
classifier without A and the one without B), and a fit on the same rows gives the same model.
"""
_MODEL_ATTRIBUTES = (
    "vectorizers_",
    "feature_names_",
    "level1_model_",
    "level2_model_",
    "single_leaf_",
    "leaf_codes_",
    "leaf_parent_",
    "blocks_",
    "level1_",
    "level2_",
)


class ThemeClassifier(ThemePredictor, BaseEstimator):
    """Codes tasks with a level-1 theme and a level-2 subtheme.

    Features (each block L2-normalised TF-IDF, then multiplied by its weight):
    jieba words of the task text, words of its title, words + whole titles of
    the enclosing headings, and character n-grams of title + text.  Two
    multinomial logistic regressions (level 1, level-2 "leaves") are trained on
    the gold tasks plus codebook pseudo-examples (weight ``codebook_weight``).
    Evidence layers (:mod:`analysis.annotate.theme_evidence`) then add fixed
    bonuses to the level-1 log-probabilities, each switchable for evaluation
    (``layers`` of :meth:`predict`, names in :data:`LAYERS`): ``keywords`` —
    ``keyword_bonus`` per distinct codebook keyword of a theme in title + text
    (at most :data:`MAX_KEYWORDS_COUNTED`); ``headings`` — ``gangyao_bonus`` for
    the theme of the innermost heading that uses a 纲要 phrasing; ``genre`` —
    ``genre_bonus`` for the theme of the document's genre (title column
    ``doc_title`` when the input has it, else most of its headings); ``siblings``
    — tasks under the same heading pool ``sibling_share`` of their
    log-probabilities.  The bonuses are written down, not fitted: the five seed
    plans share one genre and could not fit them.

    Confidence: softmax of the layered scores divided by a temperature fitted
    on out-of-fold predictions inside the training data (``calibrate``; one
    parameter, so it holds on few tasks; ``temperature_``).

    ``hierarchy`` keeps level 2 consistent with level 1:
    ``"restrict"`` level 1 from its own model, level 2 = best child of it;
    ``"derive"`` level 1 = the parent whose children's level-2 probabilities sum highest;
    ``"combine"`` level 1 from the mean of both distributions, level 2 restricted;
    ``"auto"`` chooses among them by leave-one-document-out cross-validation
    *inside the training data* (``hierarchy_`` and ``hierarchy_scores_``).

    Rule (``rules=True``, off by default since the keyword layer replaced it;
    kept for the evaluation that compares both): when the model's confidence is below ``rule_below``
    and the codebook keywords found in title + text point to one level-1 theme
    with at least ``rule_min_keywords`` distinct keywords and at least twice as
    many distinct keywords as any other theme, that theme wins
    (``theme_source = "rule"``; the confidence stays the model's probability
    of that theme, so such tasks still go to review).
    """

    def __init__(
        self,
        codebook: Codebook | None = None,
        *,
        text_weight: float = 1.0,
        title_weight: float = 0.7,
        heading_weight: float = 0.7,
        char_weight: float = 0.5,
        char_ngrams: tuple[int, int] = (2, 3),
        C: float = 10.0,
        class_weight: str | None = "balanced",
        codebook_weight: float = 1.0,
        hierarchy: str = "auto",
        keyword_bonus: float = 0.5,
        gangyao_bonus: float = 1.0,
        genre_bonus: float = 2.0,
        sibling_share: float = 0.5,
        calibrate: bool = True,
        rules: bool = False,
        rule_below: float = 0.5,
        rule_min_keywords: int = 2,
        n_evidence: int = 4,
        random_state: int = 0,
    ) -> None:
        self.codebook = codebook
        self.text_weight = text_weight
        self.title_weight = title_weight
        self.heading_weight = heading_weight
        self.char_weight = char_weight
        self.char_ngrams = char_ngrams
        self.C = C
        self.class_weight = class_weight
        self.codebook_weight = codebook_weight
        self.hierarchy = hierarchy
        self.keyword_bonus = keyword_bonus
        self.gangyao_bonus = gangyao_bonus
        self.genre_bonus = genre_bonus
        self.sibling_share = sibling_share
        self.calibrate = calibrate
        self.rules = rules
        self.rule_below = rule_below
        self.rule_min_keywords = rule_min_keywords
        self.n_evidence = n_evidence
        self.random_state = random_state

    # -- fitting

    def fit(
        self, tasks: pd.DataFrame, gold: pd.DataFrame | None = None, *, shared: FittedModels | None = None
    ) -> ThemeClassifier:
        """Learn from the gold codes of ``tasks`` (joined on doc_id + path) and the codebook.

        BLAS runs single-threaded here: the problems are small (threads only
        add contention, measured 8x slower on 2 cores) and a fixed summation
        order keeps results bit-identical between runs and machines' thread counts.
        ``shared``: models already fitted by classifiers fitted alongside (see :data:`FittedModels`).
        """
        with threadpool_limits(limits=1):
            return self._fit(tasks, gold, shared)

    def _fit(self, tasks: pd.DataFrame, gold: pd.DataFrame | None, shared: FittedModels | None) -> ThemeClassifier:
        if self.hierarchy not in (*HIERARCHIES, "auto"):
            raise ValueError(f"hierarchy must be one of {(*HIERARCHIES, 'auto')}, not {self.hierarchy!r}")
        self.codebook_ = self.codebook or Codebook.load()
        if gold is not None and len(gold):
            labelled, self.unmatched_gold_ = join_gold(tasks, check_gold_frame(gold, self.codebook_))
        else:
            labelled, self.unmatched_gold_ = self._empty_labelled(), pd.DataFrame(columns=list(GOLD_COLUMNS))
        self.n_gold_ = len(labelled)
        self.keyword_matcher_ = KeywordMatcher(self.codebook_)
        self.evidence_ = StructuralEvidence.load(LEVEL1_CODES)
        self.temperature_ = 1.0
        out_of_fold = self._out_of_fold(labelled, shared)
        self.hierarchy_, self.hierarchy_scores_ = self._choose_hierarchy(out_of_fold)
        if self.calibrate and out_of_fold:
            self.temperature_ = self._fit_temperature(out_of_fold)
        self._fit_models(labelled, shared)
        self.codebook_version_ = self.codebook_.version
        return self

    @staticmethod
    def _empty_labelled() -> pd.DataFrame:
        return pd.DataFrame(
            columns=[*list(TASK_COLUMNS), "gold_theme", "gold_subtheme", "gold_secondary_theme", "hard"]
        )

    def _training_frame(self, labelled: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        codebook = self.codebook_
        gold_rows = labelled[["doc_id", "path", "task_id", "headings", "title", "text", "gold_theme"]].copy()
        gold_rows["leaf"] = [
            sub or (theme if not codebook.children(theme) else "")
            for theme, sub in zip(labelled["gold_theme"], labelled["gold_subtheme"], strict=False)
        ]
        frames = [gold_rows]
        weights = [np.ones(len(gold_rows))]
        if self.codebook_weight > 0:
            pseudo = _pseudo_examples(codebook)
            frames.append(pseudo)
            weights.append(np.full(len(pseudo), float(self.codebook_weight)))
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True), np.concatenate(weights)

    def _fit_models(self, labelled: pd.DataFrame, shared: FittedModels | None = None) -> None:
        """Fit the vectorizers and both models on ``labelled`` + the codebook (or take them from ``shared``)."""
        key = self._models_key(labelled) if shared is not None else ""
        if shared is not None and key in shared:
            self.__dict__.update(shared[key])
            return
        self._fit_new_models(labelled)
        if shared is not None:
            shared[key] = {name: self.__dict__[name] for name in _MODEL_ATTRIBUTES if name in self.__dict__}

    def _models_key(self, labelled: pd.DataFrame) -> str:
        """sha256 of what :meth:`_fit_new_models` reads: the settings, the codebook and the labelled rows."""
        settings = {k: v for k, v in self.get_params().items() if k not in ("codebook", "hierarchy")}
        columns = ("doc_id", "path", "task_id", "headings", "title", "text", "gold_theme", "gold_subtheme")
        rows = [[tuple(v) if isinstance(v, list) else v for v in labelled[c].tolist()] for c in columns]
        content = (sorted(settings.items()), self.codebook_.sha256, rows)
        return hashlib.sha256(pickle.dumps(content, protocol=5)).hexdigest()

    def _fit_new_models(self, labelled: pd.DataFrame) -> None:
        training, sample_weight = self._training_frame(labelled)
        self.vectorizers_: dict[str, TfidfVectorizer] = {}
        blocks = []
        for block, weight in self._weights().items():
            if weight <= 0:
                continue
            vectorizer = _make_vectorizer(block, self.char_ngrams)
            try:
                matrix = vectorizer.fit_transform(_block_inputs(block, training))
            except ValueError:  # empty vocabulary (e.g. no headings anywhere)
                continue
            self.vectorizers_[block] = vectorizer
            blocks.append(matrix * weight)
        if not blocks:
            raise ValueError("no features: every feature block is empty or has weight 0")
        features = sparse.hstack(blocks, format="csr")
        self.feature_names_ = self._feature_names()
        self.level1_model_ = self._logistic().fit(features, training["gold_theme"], sample_weight=sample_weight)
        has_leaf = (training["leaf"] != "").to_numpy()
        leaves = training.loc[has_leaf, "leaf"]
        self.level2_model_ = None
        if leaves.nunique() >= 2:
            self.level2_model_ = self._logistic().fit(features[has_leaf], leaves, sample_weight=sample_weight[has_leaf])
        elif leaves.nunique() == 1:
            self.single_leaf_ = leaves.iloc[0]
        self.leaf_codes_ = list(self.codebook_.level2_codes + list(LEVEL1_CODES))
        self.leaf_parent_ = np.array([self.codebook_.parent(c) or c for c in self.leaf_codes_])
        # The light parts prediction reads (ThemePredictor): same numbers, no scikit-learn objects.
        self.blocks_ = {block: _light_vocabulary(v) for block, v in self.vectorizers_.items()}
        self.level1_ = LinearModel.of(self.level1_model_)
        self.level2_ = LinearModel.of(self.level2_model_) if self.level2_model_ is not None else None

    def _logistic(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=5000, random_state=self.random_state
        )

    def _feature_names(self) -> list[str]:
        names: list[str] = []
        prefixes = {b.name: b.prefix for b in _BLOCKS}
        for block, vectorizer in self.vectorizers_.items():
            for name in vectorizer.get_feature_names_out():
                if block == "headings" and name.startswith("§"):
                    name = name[1:]
                names.append(prefixes[block] + name)
        return names

    def _out_of_fold(
        self, labelled: pd.DataFrame, shared: FittedModels | None = None
    ) -> list[tuple[pd.DataFrame, ThemeClassifier, _Probabilities]]:
        """Leave-one-document-out fits inside ``labelled``: (held-out rows, inner model, its probabilities).

        Empty when there are fewer than two documents, or when neither the
        hierarchy choice nor the calibration needs them.
        """
        documents = sorted(set(labelled["doc_id"]))
        if len(documents) < 2 or (self.hierarchy != "auto" and not self.calibrate):
            return []
        parts = []
        for held_out in documents:
            inner = clone(self).set_params(hierarchy=HIERARCHIES[0], codebook=self.codebook_)
            inner.codebook_ = self.codebook_
            inner.keyword_matcher_, inner.evidence_, inner.temperature_ = self.keyword_matcher_, self.evidence_, 1.0
            inner._fit_models(labelled[labelled["doc_id"] != held_out], shared)
            test = labelled[labelled["doc_id"] == held_out].reset_index(drop=True)
            parts.append((test, inner, inner._probabilities(test)))
        return parts

    def _fit_temperature(self, parts: list[tuple[pd.DataFrame, ThemeClassifier, _Probabilities]]) -> float:
        """Temperature of the layered scores, fitted on the out-of-fold predictions."""
        scores, labels = [], []
        for test, inner, probabilities in parts:
            _, distribution = inner._distribution(probabilities, self.hierarchy_)
            scores.append(inner._layered_scores(test, distribution, LAYERS)[0])
            labels += [LEVEL1_CODES.index(t) for t in test["gold_theme"]]
        temperature = fit_temperature(np.vstack(scores), np.asarray(labels))
        log.debug("calibration temperature %.3f on %d out-of-fold tasks", temperature, len(labels))
        return temperature

    def _choose_hierarchy(
        self, parts: list[tuple[pd.DataFrame, ThemeClassifier, _Probabilities]]
    ) -> tuple[str, dict[str, float]]:
        """Pick the hierarchy strategy by leave-one-document-out CV within the training data."""
        if self.hierarchy != "auto":
            return self.hierarchy, {}
        if not parts:
            return HIERARCHIES[0], {}
        scores: dict[str, float] = {}
        for strategy in HIERARCHIES:
            themes, subthemes = [], []
            for _, inner, probabilities in parts:
                theme_idx, _, leaf = inner._decide(probabilities, strategy)
                themes += [LEVEL1_CODES[i] for i in theme_idx]
                subthemes += leaf
            gold_themes = pd.concat([t["gold_theme"] for t, _, _ in parts]).tolist()
            gold_subs = pd.concat([t["gold_subtheme"] for t, _, _ in parts]).tolist()
            level2 = [(g, p) for g, p in zip(gold_subs, subthemes, strict=False) if g]
            score = f1_score(gold_themes, themes, average="macro", zero_division=0)
            if level2:
                score += accuracy_score([g for g, _ in level2], [p for _, p in level2])
            scores[strategy] = round(float(score), 6)
        best = max(HIERARCHIES, key=lambda s: (scores[s], -HIERARCHIES.index(s)))
        log.debug("hierarchy scores %s -> %s", scores, best)
        return best, scores

    # -- predicting: ThemePredictor's methods, on the light parts fitting sets (no BLAS: threads need no limit)
