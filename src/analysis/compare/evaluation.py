"""Classifier evaluation results shaped for display (scores by method, per document, per code, calibration, learning curve)."""

from __future__ import annotations

import pandas as pd

from analysis.compare.labels import add_labels, with_doc_labels


def evaluation_scores(
    scores: pd.DataFrame,
    level: int = 1,
    metrics: tuple[str, ...] = ("accuracy", "macro_f1"),
    methods: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """``EvaluationReport.scores`` of one level, long: method, metric, value, with labels (``methods``: a subset)."""
    rows = scores[scores["level"] == level]
    if methods is not None:
        rows = rows[rows["method"].isin(methods)]
    long = rows.melt(
        id_vars=["method"], value_vars=[m for m in metrics if m in rows.columns], var_name="metric", value_name="value"
    )
    long = add_labels(long, "method", "method")
    return add_labels(long, "metric", "score")


def evaluation_per_document(
    per_document: pd.DataFrame,
    documents: pd.DataFrame,
    level: int = 1,
    methods: tuple[str, ...] = ("model", "keywords", "majority"),
) -> pd.DataFrame:
    """``EvaluationReport.per_document`` of one level and some methods, with document and method labels."""
    rows = per_document[(per_document["level"] == level) & per_document["method"].isin(methods)]
    position = {doc: i for i, doc in enumerate(documents["doc_id"])}
    order = {m: i for i, m in enumerate(methods)}
    rows = rows.assign(_d=rows["doc_id"].map(position), _m=rows["method"].map(order)).sort_values(["_d", "_m"])
    rows = add_labels(rows.drop(columns=["_d", "_m"]), "method", "method")
    return with_doc_labels(rows.reset_index(drop=True), documents)


def per_code_scores(per_code: pd.DataFrame, labels: dict, level: int = 1, method: str = "model") -> pd.DataFrame:
    """Precision and recall of one method per code, long (code, metric, value) with code and metric labels.

    ``labels`` are the code labels (``theme_labels(codebook, level)``); codes
    with no gold task (support 0) are left out: their recall is undefined.
    """
    rows = per_code[(per_code["level"] == level) & (per_code["method"] == method) & (per_code["support"] > 0)]
    long = rows.melt(id_vars=["code", "support"], value_vars=["precision", "recall"], var_name="metric")
    long = add_labels(long, "code", labels)
    return add_labels(long, "metric", "score")


def reliability_long(reliability: pd.DataFrame) -> pd.DataFrame:
    """A reliability table (bins of confidence) as two series to plot against each other.

    Long table: ``bin_label`` (e.g. ``0.8–0.9``), ``n``, ``series`` (confidence / accuracy)
    with labels, ``value``.
    """
    if reliability.empty:
        return pd.DataFrame(columns=["bin_label", "n", "series", "value"])
    table = reliability.assign(
        bin_label=[f"{lo:.1f}–{hi:.1f}" for lo, hi in zip(reliability["lower"], reliability["upper"], strict=True)]
    )
    long = table.melt(id_vars=["bin_label", "n"], value_vars=["mean_confidence", "accuracy"], var_name="series")
    return add_labels(long, "series", "series")


def learning_curve_long(curve: pd.DataFrame) -> pd.DataFrame:
    """A learning curve (``EvaluationReport.learning_curve``) as two series: the model, and the model alone.

    Long table: ``n_train_documents``, ``series`` (model / model_plain) with labels, ``value`` (level-1 accuracy).
    """
    if curve.empty:
        return pd.DataFrame(columns=["n_train_documents", "series", "value"])
    long = curve.rename(columns={"accuracy": "model", "accuracy_plain": "model_plain"}).melt(
        id_vars=["n_train_documents"], value_vars=["model", "model_plain"], var_name="series"
    )
    return add_labels(long, "series", "method")
