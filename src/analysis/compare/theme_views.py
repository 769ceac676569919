"""Theme coverage shaped for honest figures: plans and themes ordered by similarity, margins, a reference row
for the national 纲要, and each plan set against the other plans (never against a mean that includes itself).

Pure functions over the processed ``tasks`` and ``documents`` tables and the codebook.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import leaves_list, linkage

from analysis.compare.coverage import coverage_matrix
from analysis.compare.labels import UNCODED, add_labels, theme_labels, with_doc_labels
from analysis.core.codebook import LEVEL1_CODES, Codebook

_MEASURE = re.compile(r"^\s*([一二三四五六七八九十百]+(?:\([一二三四五六七八九十百]+\))?)")


def cluster_order(matrix: pd.DataFrame, axis: int = 0) -> list:
    """Labels of ``matrix``'s rows (``axis=0``) or columns (``axis=1``) in hierarchical-clustering leaf order.

    Average linkage on Euclidean distances of the profiles (missing values as
    0), optimal leaf ordering, so similar plans (or themes) sit side by side.
    Fewer than three items keep their order.
    """
    frame = matrix if axis == 0 else matrix.T
    if len(frame) < 3:
        return list(frame.index)
    values = np.nan_to_num(frame.to_numpy(dtype=float))
    tree = linkage(values, method="average", metric="euclidean", optimal_ordering=True)
    return [frame.index[i] for i in leaves_list(tree)]


def gangyao_reference_shares(codebook: Codebook, edition: int) -> pd.Series:
    """Share of the ``edition`` 纲要's measures under each level-1 theme (the reference row of a coverage figure).

    Each measure (``五(十五)``; a bare section counts as one measure) the
    codebook's level-2 codes map to is shared equally among the themes whose
    subthemes map to it; shares add up to 1.  A theme the edition does not
    contain gets 0.
    """
    column = f"gangyao_{edition}"
    table = codebook.to_table()
    owners: dict[str, set[str]] = {}
    for row in table[table["level"].astype(str) == "2"].itertuples():
        for part in re.split(r"[;；]", str(getattr(row, column) or "")):
            match = _MEASURE.match(part)
            if match:
                owners.setdefault(match.group(1), set()).add(str(row.theme))
    weights = pd.Series(0.0, index=list(LEVEL1_CODES))
    for themes in owners.values():
        for theme in themes:
            weights[theme] += 1 / len(themes)
    total = weights.sum()
    return (weights / total if total else weights).rename(f"gangyao_{edition}")


def plans_per_theme(counts: pd.DataFrame) -> pd.Series:
    """Number of plans with at least one task on each theme (bottom margin of the coverage figure)."""
    return (counts.fillna(0) > 0).sum(axis=0).rename("n_documents")


def theme_against_others(
    tasks: pd.DataFrame, documents: pd.DataFrame, codebook: Codebook | None = None
) -> pd.DataFrame:
    """Each plan's level-1 theme shares next to the mean share of the *other* plans (leave-one-out).

    One row per plan and theme: ``task_share`` (the plan's), ``others_share``
    (mean over the other plans with tasks; NaN when there is none),
    ``n_tasks`` (the plan's tasks), ``n_others`` (plans in the mean), theme
    labels, the document type (``doc_type_label_zh/en``) and document labels.
    Plans of one document type come together; plans without tasks are left out.
    """
    codebook = codebook or Codebook.load()
    shares = coverage_matrix(tasks, documents, 1, "share", lang=None, codebook=codebook)
    counts = coverage_matrix(tasks, documents, 1, "count", lang=None, codebook=codebook)
    shares = shares.dropna(how="all")
    labels = theme_labels(codebook)
    rows = []
    for doc_id in shares.index:
        others = shares.drop(index=doc_id)
        mean = others.mean() if len(others) else pd.Series(np.nan, index=shares.columns)
        for theme in shares.columns:
            rows.append(
                {
                    "doc_id": doc_id,
                    "theme": theme,
                    "theme_label_zh": labels[theme]["zh"],
                    "theme_label_en": labels[theme]["en"],
                    "task_share": float(shares.at[doc_id, theme]),
                    "others_share": float(mean[theme]),
                    "n_tasks": int(counts.loc[doc_id].sum()),
                    "n_others": len(others),
                }
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    # Plans of one document type side by side: a work-points list and a multi-year plan differ by genre.
    doc_types = documents.set_index("doc_id")["doc_type"].fillna("其他").astype(str)
    frame["doc_type"] = frame["doc_id"].map(doc_types)
    frame = add_labels(frame, "doc_type", "doc_type")
    type_order = {
        t: i for i, t in enumerate(dict.fromkeys(doc_types.loc[list(shares.index)].sort_values(kind="stable")))
    }
    frame = (
        frame.assign(_type=frame["doc_type"].map(type_order)).sort_values("_type", kind="stable").drop(columns="_type")
    )
    return with_doc_labels(frame.reset_index(drop=True), documents)


def coverage_view(
    tasks: pd.DataFrame, documents: pd.DataFrame, codebook: Codebook | None = None, *, edition: int | None = None
) -> dict[str, pd.DataFrame | pd.Series]:
    """Everything the clustered plan × theme figure draws, by doc_id and theme code.

    ``shares`` (plans with tasks × themes, rows and columns in clustering
    order), ``tasks_per_plan``, ``plans_per_theme`` and ``reference`` (the
    ``edition`` 纲要's measure shares; default: the edition most plans fall
    under is chosen by the caller, 2021 if None).
    """
    codebook = codebook or Codebook.load()
    counts = coverage_matrix(tasks, documents, 1, "count", lang=None, codebook=codebook)
    counts = counts[counts.sum(axis=1) > 0]
    if UNCODED in counts.columns and counts[UNCODED].sum() == 0:
        counts = counts.drop(columns=UNCODED)
    shares = counts.div(counts.sum(axis=1), axis=0)
    if len(shares):
        shares = shares.loc[cluster_order(shares, 0), cluster_order(shares, 1)]
    reference = gangyao_reference_shares(codebook, edition or 2021).reindex(shares.columns).fillna(0.0)
    return {
        "shares": shares,
        "tasks_per_plan": counts.sum(axis=1).reindex(shares.index),
        "plans_per_theme": plans_per_theme(counts).reindex(shares.columns),
        "reference": reference,
    }
