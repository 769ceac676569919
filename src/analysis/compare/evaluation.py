"""Classifier evaluation results shaped for display (scores by method, per document)."""

from __future__ import annotations

import pandas as pd

from analysis.compare.labels import add_labels, with_doc_labels


def evaluation_scores(
    scores: pd.DataFrame, level: int = 1, metrics: tuple[str, ...] = ("accuracy", "macro_f1")
) -> pd.DataFrame:
    """``EvaluationReport.scores`` of one level, long: method, metric, value, with labels."""
    rows = scores[scores["level"] == level]
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
