"""Target metrics compared across plans: how often tasks carry a quantified target, of which type, how strict.

Pure functions over the processed ``targets``, ``tasks`` and ``documents`` tables.
"""

from __future__ import annotations

import pandas as pd

from analysis.compare.labels import (
    UNCODED,
    _theme_keys,
    add_labels,
    select_tasks,
    theme_labels,
    with_doc_labels,
)
from analysis.core.codebook import LEVEL1_CODES, Codebook
from analysis.core.models import KIND_TASK, TARGET_TYPES
from analysis.core.schema import require_columns


def target_metrics(targets: pd.DataFrame, tasks: pd.DataFrame, group_by: list[str] | None = None) -> pd.DataFrame:
    """Per group (doc_id by default; may include theme): how much tasks commit to numbers.

    Columns: group keys, n_tasks, n_tasks_with_target, target_task_share (0-1),
    n_targets, targets_per_task, n_<type> for every target type,
    share_100_pct (percent, 0-100 as every ``*_pct`` column: how many of the
    rate/share targets are set at 100%; NaN when the group has none),
    n_deadline_resolved (deadlines with a date or recurring).
    Only commitments count: figures with ``stance == "reported"`` (past work
    in a report) are left out when the column is present.
    """
    group_by = list(group_by or ["doc_id"])
    require_columns(tasks, ["doc_id", "task_id", "kind", *group_by], "tasks")
    require_columns(targets, ["doc_id", "task_id", "type", "value"], "targets")
    if "stance" in targets.columns:
        targets = targets[targets["stance"] != "reported"]
    task_rows = tasks[tasks["kind"] == "task"]
    known = set(zip(tasks["doc_id"], tasks["task_id"], strict=False))
    orphans = [key for key in zip(targets["doc_id"], targets["task_id"], strict=False) if key not in known]
    if orphans:
        raise ValueError(f"{len(orphans)} target row(s) name tasks not in the tasks table, e.g. {orphans[0]}")
    unknown_types = sorted(set(targets["type"]) - set(TARGET_TYPES))
    if unknown_types:
        raise ValueError(f"targets table has unknown type(s): {unknown_types}")
    keys = ["doc_id", "task_id"]
    extra = [c for c in group_by if c not in keys]
    joined = targets.drop(columns=[c for c in extra if c in targets.columns]).merge(
        task_rows[keys + extra], on=keys, how="inner"
    )
    grouped_tasks = task_rows.groupby(group_by, dropna=False)
    result = grouped_tasks.size().rename("n_tasks").to_frame()
    result["n_tasks_with_target"] = (
        joined.drop_duplicates(keys).groupby(group_by, dropna=False).size().reindex(result.index, fill_value=0)
    )
    result["n_targets"] = joined.groupby(group_by, dropna=False).size().reindex(result.index, fill_value=0)
    result["target_task_share"] = result["n_tasks_with_target"] / result["n_tasks"]
    result["targets_per_task"] = result["n_targets"] / result["n_tasks"]
    for kind in TARGET_TYPES:
        counts = joined[joined["type"] == kind].groupby(group_by, dropna=False).size()
        result[f"n_{kind}"] = counts.reindex(result.index, fill_value=0)
    pct = joined[joined["type"].isin(["rate", "share"])].copy()
    pct["at_100"] = pd.to_numeric(pct["value"], errors="coerce") == 100
    result["share_100_pct"] = 100 * pct.groupby(group_by, dropna=False)["at_100"].mean().reindex(result.index)
    if "deadline_date" in joined.columns:
        deadlines = joined[joined["type"] == "deadline"]
        resolved = deadlines["deadline_date"].notna()
        if "deadline_recurring" in deadlines.columns:
            resolved |= deadlines["deadline_recurring"].fillna(False).astype(bool)
        result["n_deadline_resolved"] = (
            deadlines[resolved].groupby(group_by, dropna=False).size().reindex(result.index, fill_value=0)
        )
    return result.reset_index()


def target_metrics_by_doc(targets: pd.DataFrame, tasks: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.targets.target_metrics` per document, every document kept (zeros when no task)."""

    metrics = target_metrics(targets, tasks, ["doc_id"])
    frame = documents[["doc_id"]].merge(metrics, on="doc_id", how="left")
    counts = [c for c in frame.columns if c.startswith("n_")]
    frame[counts] = frame[counts].fillna(0).astype("Int64")
    return with_doc_labels(frame, documents)


def target_metrics_by_theme(
    targets: pd.DataFrame, tasks: pd.DataFrame, codebook: Codebook | None = None
) -> pd.DataFrame:
    """:func:`analysis.targets.target_metrics` per level-1 theme (codebook order, labels added)."""

    codebook = codebook or Codebook.load()
    coded = tasks.assign(theme=tasks["theme"].astype("string"))
    coded.loc[coded["kind"] == KIND_TASK, "theme"] = _theme_keys(select_tasks(coded), "theme", list(LEVEL1_CODES))
    metrics = target_metrics(targets, coded, ["theme"]).set_index("theme")
    order = [c for c in [*list(LEVEL1_CODES), UNCODED] if c in metrics.index]
    metrics = metrics.loc[order].reset_index()
    labels = theme_labels(codebook)
    metrics.insert(1, "theme_label_zh", metrics["theme"].map(lambda c: labels[c]["zh"]))
    metrics.insert(2, "theme_label_en", metrics["theme"].map(lambda c: labels[c]["en"]))
    return metrics


def target_type_mix(targets: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Targets per document and type (every type of :data:`analysis.core.models.TARGET_TYPES`, zeros kept).

    ``type_share``: share of the document's targets (NaN when it has none).
    """

    unknown = sorted(set(targets["type"].dropna()) - set(TARGET_TYPES))
    if unknown:
        raise ValueError(f"targets table has unknown type(s): {unknown}")
    counts = pd.crosstab(targets["doc_id"], targets["type"]) if len(targets) else pd.DataFrame()
    counts = counts.reindex(index=list(documents["doc_id"]), columns=list(TARGET_TYPES), fill_value=0).fillna(0)
    totals = counts.sum(axis=1)
    long = counts.stack().rename("n_targets").reset_index()
    long.columns = ["doc_id", "type", "n_targets"]
    long["n_targets"] = long["n_targets"].astype(int)
    long["type_share"] = long["n_targets"] / long["doc_id"].map(totals.where(totals > 0))
    long = add_labels(long, "type", "target_type")
    return with_doc_labels(long, documents)


def share_100pct(targets: pd.DataFrame, tasks: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Per document: rate/share targets and how many are set at 100 (as counted by ``target_metrics``).

    ``n_pct_targets`` (rate + share targets), ``n_at_100``, ``at_100_share``
    (0-1; NaN when the plan has no rate/share target).
    """
    metrics = target_metrics_by_doc(targets, tasks, documents)
    n_pct = (metrics["n_rate"] + metrics["n_share"]).astype("Int64")
    share = metrics["share_100_pct"].astype(float) / 100  # *_pct columns are 0-100
    result = metrics[["doc_id", "jurisdiction", "issued_year", "doc_label_zh", "doc_label_en"]].copy()
    result["n_pct_targets"] = n_pct
    result["n_at_100"] = (share.fillna(0) * n_pct.astype(float)).round().astype("Int64")
    result["at_100_share"] = share
    return result


def deadline_timeline(targets: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Deadline targets with their document, dated ones first in date order.

    ``dated`` tells whether ``deadline_date`` parses as a date (undated
    deadlines stay in the table so they can be counted, not plotted).
    """
    require_columns(targets, ("doc_id", "task_id", "path", "text", "type", "deadline_date"), "targets")
    rows = targets[targets["type"] == "deadline"].copy()
    rows["deadline"] = pd.to_datetime(rows["deadline_date"], errors="coerce", format="%Y-%m-%d")
    rows["dated"] = rows["deadline"].notna()
    recurring = (
        rows["deadline_recurring"] if "deadline_recurring" in rows.columns else pd.Series(False, index=rows.index)
    )
    rows["deadline_recurring"] = recurring.fillna(False).astype(bool)
    keep = ["doc_id", "task_id", "path", "text", "deadline_date", "deadline", "deadline_recurring", "dated"]
    rows = rows[keep].sort_values(
        ["dated", "deadline", "doc_id", "task_id"], ascending=[False, True, True, True], kind="stable"
    )
    return with_doc_labels(rows.reset_index(drop=True), documents)
