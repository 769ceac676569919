"""Measured quality of the theme classifier: baselines, leave-one-document-out, learning curve, calibration.

* Baselines — majority class, codebook keywords, section headings — show what
  the classifier is worth.
* :func:`evaluate_lodo`: for each seed document, every method is fitted on the
  other documents' gold tasks and codes the held-out one.  Besides the model as
  built and the baselines, the model is scored with each evidence layer switched
  off (an ablation: a layer stays only if it earns its place) and with the
  keyword rule switched on.  Macro-F1 averages over the codes present in the
  gold (a code no gold task has cannot be recalled, so it would only add a zero).
* :func:`learning_curve`: accuracy against the number of training documents.
* Calibration: :func:`~analysis.annotate.theme_evidence.reliability_table`
  and the expected calibration error of the pooled out-of-fold confidences.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from analysis.annotate.theme_evidence import expected_calibration_error, reliability_table
from analysis.annotate.theme_keywords import KeywordMatcher
from analysis.annotate.themes import (
    LAYERS,
    SOURCE_MODEL,
    SOURCE_RULE,
    ThemeClassifier,
    prediction_frame,
)
from analysis.core.codebook import LEVEL1_CODES, Codebook, check_gold_frame, check_tasks_frame, join_gold

# --------------------------------------------------------------------------- baselines


class MajorityBaseline:
    """Always the most frequent gold theme (ties: codebook order) and its most frequent subtheme."""

    def __init__(self, codebook: Codebook | None = None) -> None:
        self.codebook = codebook

    def fit(self, tasks: pd.DataFrame, gold: pd.DataFrame) -> MajorityBaseline:
        self.codebook_ = self.codebook or Codebook.load()
        labelled, _ = join_gold(tasks, check_gold_frame(gold, self.codebook_))
        if labelled.empty:
            raise ValueError("majority baseline needs gold examples")
        self.theme_ = _most_frequent(labelled["gold_theme"], LEVEL1_CODES)
        self.subtheme_by_theme_ = {
            theme: _most_frequent(group["gold_subtheme"][group["gold_subtheme"] != ""], self.codebook_.level2_codes)
            for theme, group in labelled.groupby("gold_theme")
        }
        return self

    def predict(self, tasks: pd.DataFrame) -> pd.DataFrame:
        rows = check_tasks_frame(tasks)
        n = len(rows)
        return prediction_frame(
            rows["task_id"].tolist(),
            [self.theme_] * n,
            [self.subtheme_by_theme_.get(self.theme_, "")] * n,
            [np.nan] * n,
            [SOURCE_MODEL] * n,
            ["majority"] * n,
            self.codebook_,
        )


def _most_frequent(values: pd.Series, order: Sequence[str]) -> str:
    """Most frequent value; ties broken by ``order``; "" for no values."""
    counts = values.value_counts()
    if counts.empty:
        return ""
    rank = {code: i for i, code in enumerate(order)}
    return sorted(counts.index, key=lambda c: (-counts[c], rank.get(c, len(rank)), c))[0]


class KeywordBaseline(MajorityBaseline):
    """Counts codebook keyword occurrences in title + text; the theme with most wins.

    Ties go to the earlier code in the codebook; no keyword at all -> the
    training majority.  Level 2: the child of that theme with most keyword
    hits, else the theme's most frequent gold subtheme.
    """

    def fit(self, tasks: pd.DataFrame, gold: pd.DataFrame) -> KeywordBaseline:
        super().fit(tasks, gold)
        self.matcher_ = KeywordMatcher(self.codebook_)
        return self

    def predict(self, tasks: pd.DataFrame) -> pd.DataFrame:
        rows = check_tasks_frame(tasks)
        themes, subthemes, evidence = [], [], []
        for row in rows.itertuples(index=False):
            theme, sub, note = self._code(f"{row.title}\n{row.text}")
            themes.append(theme)
            subthemes.append(sub)
            evidence.append(note)
        n = len(rows)
        return prediction_frame(
            rows["task_id"].tolist(), themes, subthemes, [np.nan] * n, [SOURCE_RULE] * n, evidence, self.codebook_
        )

    def _code(self, text: str) -> tuple[str, str, str]:
        counts, distinct = self.matcher_.theme_scores(text)
        theme = max(LEVEL1_CODES, key=lambda c: (counts[c], -LEVEL1_CODES.index(c)))
        if counts[theme] == 0:
            return self.theme_, self.subtheme_by_theme_.get(self.theme_, ""), "no keyword: majority"
        sub_counts = self.matcher_.subtheme_counts(text, theme)
        children = self.codebook_.children(theme)
        sub = max(children, key=lambda c: (sub_counts[c], -children.index(c))) if children else ""
        if sub and sub_counts[sub] == 0:
            sub = self.subtheme_by_theme_.get(theme, "")
        return theme, sub, ", ".join(sorted(distinct[theme]))


def heading_baseline(codebook: Codebook | None = None) -> ThemeClassifier:
    """The classifier restricted to the enclosing headings (words and whole titles)."""
    return ThemeClassifier(
        codebook,
        text_weight=0.0,
        title_weight=0.0,
        char_weight=0.0,
        heading_weight=1.0,
        hierarchy="restrict",
        keyword_bonus=0.0,
        gangyao_bonus=0.0,
        genre_bonus=0.0,
        sibling_share=0.0,
        calibrate=False,
        rules=False,
    )


# --------------------------------------------------------------------------- leave-one-document-out


MODEL_VARIANTS: dict[str, dict[str, object]] = {
    "model": {},
    "model_rule": {"use_rules": True},
    **{f"model_no_{layer}": {"layers": tuple(x for x in LAYERS if x != layer)} for layer in LAYERS},
    "model_plain": {"layers": ()},
}
"""The model as built and its ablations: predict() options of each evaluated variant."""
METHODS: tuple[str, ...] = (*MODEL_VARIANTS, "majority", "keywords", "headings")


@dataclass
class EvaluationReport:
    """Leave-one-document-out results for the model, its ablations and the baselines."""

    scores: pd.DataFrame  # method, level, n, accuracy, macro_f1 (+ accuracy_lenient for level 1)
    per_code: pd.DataFrame  # method, level, code, precision, recall, f1, support
    confusion_level1: pd.DataFrame  # model: rows gold, columns predicted
    confusion_level2: pd.DataFrame
    per_document: pd.DataFrame  # method, doc_id, level, n, accuracy
    predictions: pd.DataFrame  # pooled out-of-fold predictions of every method
    reliability: pd.DataFrame = field(default_factory=pd.DataFrame)  # model's level-1 confidence vs accuracy
    expected_calibration_error: float = float("nan")
    learning_curve: pd.DataFrame = field(default_factory=pd.DataFrame)  # filled by learning_curve()
    hierarchy_by_fold: dict[str, str] = field(default_factory=dict)
    temperature_by_fold: dict[str, float] = field(default_factory=dict)
    codebook_version: str = ""
    unmatched_gold: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "scores": self.scores,
            "per_code": self.per_code,
            "confusion_level1": self.confusion_level1,
            "confusion_level2": self.confusion_level2,
            "per_document": self.per_document,
            "predictions": self.predictions,
            "reliability": self.reliability,
            "learning_curve": self.learning_curve,
        }

    def to_text(self) -> str:
        n_docs = self.per_document["doc_id"].nunique() if len(self.per_document) else 0
        model_codes = self.per_code[self.per_code["method"] == "model"].drop(columns="method")

        def table(frame: pd.DataFrame) -> str:
            return frame.to_string(index=False, float_format=lambda v: f"{v:.3f}") if len(frame) else "(none)"

        lines = [
            f"Theme classifier, leave-one-document-out ({n_docs} documents, codebook {self.codebook_version})",
            f"hierarchy chosen per fold: {self.hierarchy_by_fold}",
            f"calibration temperature per fold: { {k: round(v, 3) for k, v in self.temperature_by_fold.items()} }",
            f"gold rows matching no task: {len(self.unmatched_gold)}",
            "",
            "Scores (macro-F1 over the codes present in the gold; model_no_X = the model without evidence layer X,",
            "model_rule = with the keyword rule, model_plain = no evidence layer)",
            table(self.scores),
            "",
            "Model per code (precision, recall; support = gold tasks)",
            table(model_codes),
            "",
            "Model accuracy per held-out document",
            table(self.per_document[self.per_document["method"] == "model"].drop(columns="method")),
            "",
            "Confusion, level 1 (rows gold, columns predicted)",
            self.confusion_level1.to_string(),
            "",
            f"Calibration of the model's level-1 confidence (expected calibration error "
            f"{self.expected_calibration_error:.3f}; gap = accuracy - confidence)",
            table(self.reliability),
            "",
            "Learning curve (level 1, held-out documents, model without calibration and with a fixed hierarchy)",
            table(self.learning_curve),
        ]
        return "\n".join(lines)


def _fold_predictions(
    model: ThemeClassifier, baselines: dict[str, object], test: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    fitted = {method: model.predict(test, **options) for method, options in MODEL_VARIANTS.items()}  # type: ignore[arg-type]
    for method, baseline in baselines.items():
        fitted[method] = baseline.predict(test)  # type: ignore[attr-defined]
    return fitted


def evaluate_lodo(
    tasks: pd.DataFrame, gold: pd.DataFrame, codebook: Codebook | None = None, classifier: ThemeClassifier | None = None
) -> EvaluationReport:
    """Leave-one-document-out evaluation of the classifier, its ablations and the baselines.

    For each document, every method is fitted on the gold tasks of the other
    documents only (the classifier's hierarchy choice and calibration included)
    and predicts the held-out document; the out-of-fold predictions are pooled
    and scored.
    """
    codebook = codebook or Codebook.load()
    template = classifier if classifier is not None else ThemeClassifier(codebook)
    gold = check_gold_frame(gold, codebook)
    labelled, unmatched = join_gold(tasks, gold)
    documents = sorted(set(labelled["doc_id"]))
    if len(documents) < 2:
        raise ValueError(f"leave-one-document-out needs gold tasks from 2+ documents, got {len(documents)}")
    predictions, hierarchy_by_fold, temperature_by_fold = [], {}, {}
    for held_out in documents:
        train_gold = gold[gold["doc_id"] != held_out]
        train_tasks = tasks[tasks["doc_id"] != held_out]
        test = labelled[labelled["doc_id"] == held_out]
        model = clone(template).set_params(codebook=codebook).fit(train_tasks, train_gold)
        hierarchy_by_fold[held_out] = model.hierarchy_
        temperature_by_fold[held_out] = model.temperature_
        baselines = {
            "majority": MajorityBaseline(codebook).fit(train_tasks, train_gold),
            "keywords": KeywordBaseline(codebook).fit(train_tasks, train_gold),
            "headings": heading_baseline(codebook).fit(train_tasks, train_gold),
        }
        for method, frame in _fold_predictions(model, baselines, test).items():
            frame = frame[["task_id", "theme", "subtheme", "theme_confidence", "theme_source", "theme_evidence"]]
            frame = frame.merge(
                test[["task_id", "doc_id", "path", "gold_theme", "gold_subtheme", "gold_secondary_theme", "hard"]],
                on="task_id",
                how="left",
            )
            frame.insert(0, "method", method)
            predictions.append(frame)
    pooled = pd.concat(predictions, ignore_index=True)
    scores, per_code, per_document = _score(pooled, codebook)
    model_rows = pooled[pooled["method"] == "model"]
    level2_rows = model_rows[model_rows["gold_subtheme"] != ""]
    confidence, correct = model_rows["theme_confidence"].astype(float), model_rows["theme"] == model_rows["gold_theme"]
    return EvaluationReport(
        scores=scores,
        per_code=per_code,
        confusion_level1=_confusion(model_rows["gold_theme"], model_rows["theme"], list(LEVEL1_CODES)),
        confusion_level2=_confusion(level2_rows["gold_subtheme"], level2_rows["subtheme"], codebook.level2_codes),
        per_document=per_document,
        predictions=pooled,
        reliability=reliability_table(confidence, correct),
        expected_calibration_error=expected_calibration_error(confidence, correct),
        hierarchy_by_fold=hierarchy_by_fold,
        temperature_by_fold=temperature_by_fold,
        codebook_version=codebook.version,
        unmatched_gold=unmatched,
    )


def _level_pairs(rows: pd.DataFrame, level: int) -> tuple[pd.Series, pd.Series]:
    if level == 1:
        return rows["gold_theme"], rows["theme"]
    keep = rows["gold_subtheme"] != ""
    return rows.loc[keep, "gold_subtheme"], rows.loc[keep, "subtheme"]


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the codes present in ``gold`` (what the dev scorer reports too)."""
    return float(f1_score(list(gold), list(predicted), labels=sorted(set(gold)), average="macro", zero_division=0))


def _score(pooled: pd.DataFrame, codebook: Codebook) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    order = {code: i for i, code in enumerate(codebook.codes)}
    scores, per_code, per_document = [], [], []
    for method in METHODS:
        rows = pooled[pooled["method"] == method]
        for level in (1, 2):
            gold, predicted = _level_pairs(rows, level)
            if gold.empty:
                continue
            entry = {
                "method": method,
                "level": level,
                "n": len(gold),
                "accuracy": accuracy_score(gold, predicted),
                "macro_f1": macro_f1(gold, predicted),
            }
            if level == 1:
                lenient = (rows["theme"] == rows["gold_theme"]) | (rows["theme"] == rows["gold_secondary_theme"])
                entry["accuracy_lenient"] = float(lenient.mean())
            scores.append(entry)
            # Per code: every gold code and every predicted one (a code predicted but never gold shows its precision).
            labels = sorted(set(gold) | (set(predicted) - {""}), key=lambda c: order.get(c, len(order)))
            precision, recall, f1, support = precision_recall_fscore_support(
                gold, predicted, labels=labels, zero_division=0
            )
            per_code += [
                {
                    "method": method,
                    "level": level,
                    "code": code,
                    "precision": p,
                    "recall": r,
                    "f1": f,
                    "support": int(s),
                }
                for code, p, r, f, s in zip(labels, precision, recall, f1, support, strict=False)
            ]
            for doc_id in sorted(set(rows["doc_id"])):
                in_doc = rows["doc_id"] == doc_id
                g, p = _level_pairs(rows[in_doc], level)
                if len(g):
                    per_document.append(
                        {
                            "method": method,
                            "doc_id": doc_id,
                            "level": level,
                            "n": len(g),
                            "accuracy": accuracy_score(g, p),
                        }
                    )
    return pd.DataFrame(scores), pd.DataFrame(per_code), pd.DataFrame(per_document)


def _confusion(gold: pd.Series, predicted: pd.Series, order: list[str]) -> pd.DataFrame:
    present = set(gold) | set(predicted)
    labels = [c for c in order if c in present] + sorted(present - set(order))
    table = pd.crosstab(
        pd.Categorical(gold, categories=labels), pd.Categorical(predicted, categories=labels), dropna=False
    )
    table.index.name, table.columns.name = "gold", "predicted"
    return table


# --------------------------------------------------------------------------- learning curve


LEARNING_CURVE_COLUMNS: tuple[str, ...] = (
    "n_train_documents",
    "n_runs",
    "n_predictions",
    "accuracy",
    "macro_f1",
    "accuracy_plain",
    "macro_f1_plain",
)


def learning_curve(
    tasks: pd.DataFrame,
    gold: pd.DataFrame,
    codebook: Codebook | None = None,
    classifier: ThemeClassifier | None = None,
    max_subsets: int = 2,
) -> pd.DataFrame:
    """Level-1 accuracy and macro-F1 on held-out documents against the number of training documents.

    For each document and each size k = 1 … n−1, the model is fitted on up to
    ``max_subsets`` sets of k other documents (the first sets in sorted
    order, so the curve is reproducible) and codes the held-out document; the
    predictions of one k are pooled.  ``*_plain``: the same fits without the
    evidence layers (the statistical model alone), which shows what more
    hand-coded documents would buy.  To keep the cost down the fits skip the
    calibration and the inner hierarchy search (``hierarchy="restrict"``):
    neither changes which code wins under the evidence layers much, and the
    curve is about how the data size moves accuracy.
    """
    codebook = codebook or Codebook.load()
    template = clone(classifier if classifier is not None else ThemeClassifier(codebook)).set_params(
        codebook=codebook, hierarchy="restrict", calibrate=False
    )
    gold = check_gold_frame(gold, codebook)
    labelled, _ = join_gold(tasks, gold)
    documents = sorted(set(labelled["doc_id"]))
    rows = []
    for k in range(1, len(documents)):
        gold_codes: list[str] = []
        predicted: list[str] = []
        predicted_plain: list[str] = []
        runs = 0
        for held_out in documents:
            others = [d for d in documents if d != held_out]
            test = labelled[labelled["doc_id"] == held_out]
            for subset in itertools.islice(itertools.combinations(others, k), max_subsets):
                model = clone(template).fit(tasks[tasks["doc_id"].isin(subset)], gold[gold["doc_id"].isin(subset)])
                coded = model.predict(test).merge(test[["task_id", "gold_theme"]], on="task_id")
                gold_codes += coded["gold_theme"].tolist()
                predicted += coded["theme"].tolist()
                predicted_plain += model.predict(test, layers=())["theme"].tolist()
                runs += 1
        rows.append(
            {
                "n_train_documents": k,
                "n_runs": runs,
                "n_predictions": len(predicted),
                "accuracy": float(np.mean([g == p for g, p in zip(gold_codes, predicted, strict=True)])),
                "macro_f1": macro_f1(gold_codes, predicted),
                "accuracy_plain": float(np.mean([g == p for g, p in zip(gold_codes, predicted_plain, strict=True)])),
                "macro_f1_plain": macro_f1(gold_codes, predicted_plain),
            }
        )
    return pd.DataFrame(rows, columns=list(LEARNING_CURVE_COLUMNS))
