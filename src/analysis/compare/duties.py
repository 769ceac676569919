"""Duty assignment compared across plans: who is made responsible, how concentrated, which agencies share tasks.

Pure functions over the processed ``units``, ``tasks`` and ``documents`` tables.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Mapping
from itertools import combinations
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from analysis.compare.labels import (
    GENERIC_ONLY,
    NOT_ASSIGNED,
    UNCODED,
    _theme_keys,
    add_labels,
    select_tasks,
    special_labels,
    with_doc_labels,
)
from analysis.core.codebook import LEVEL1_CODES, Codebook
from analysis.core.labels import label_keys
from analysis.core.models import KIND_TASK
from analysis.core.reference import load_agency_categories
from analysis.core.schema import require_columns

log = logging.getLogger(__name__)


UNIT_COLUMNS = (
    "doc_id",
    "task_id",
    "measure_index",
    "unit_order",
    "raw",
    "name",
    "canonical",
    "successor",
    "category",
    "role",
    "generic",
    "match",
)


DUTY_COLUMNS = (
    "doc_id",
    "n_tasks",
    "n_tasks_assigned",
    "assigned_task_share",
    "assignment_status",
    "n_agencies",
    "tasks_per_agency",
    "lead_agency",
    "lead_agency_share",
    "hhi",
    "n_generic_mentions",
    "n_unmatched",
)


PAIR_COLUMNS = ("doc_id", "agency_a", "agency_b", "n_shared_tasks")


def _task_units_frame(units: pd.DataFrame, tasks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Unit rows (on tasks only, when ``tasks`` is given) with a clean boolean ``generic``."""
    missing = [c for c in ("doc_id", "task_id", "canonical", "role", "generic", "match") if c not in units.columns]
    if missing and len(units):
        raise ValueError(f"units table lacks column(s): {', '.join(missing)}")
    if not len(units):
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in UNIT_COLUMNS})
        empty["generic"] = empty["generic"].astype(bool)
        return empty
    frame = units.copy()
    frame["generic"] = frame["generic"].map(lambda v: str(v).strip().lower() in {"true", "1", "yes"}).astype(bool)
    if tasks is not None:
        task_ids = tasks.loc[tasks["kind"] == KIND_TASK, "task_id"]
        frame = frame[frame["task_id"].isin(task_ids)]
    return frame


def _agency_task_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (doc, agency): distinct tasks and distinct tasks led."""
    agencies = frame[~frame["generic"]]
    grouped = agencies.groupby(["doc_id", "canonical"])
    counts = grouped["task_id"].nunique().rename("n_tasks").to_frame()
    led = agencies[agencies["role"] == "lead"].groupby(["doc_id", "canonical"])["task_id"].nunique()
    counts["n_lead"] = led.reindex(counts.index).fillna(0).astype(int)
    return counts.reset_index()


def duty_metrics(units: pd.DataFrame, tasks: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Per document: how tasks are assigned and how concentrated the duties are.

    Only tasks (``kind == "task"``) count.  ``n_agencies``: distinct canonical
    non-generic units (unmatched names count under their own name);
    ``tasks_per_agency``: mean number of tasks per agency; ``lead_agency``: the
    agency named on most tasks (ties: more tasks led, then name), with
    ``lead_agency_share`` = its tasks / assigned tasks; ``hhi``: Herfindahl index
    of the agencies' task counts (sum of squared shares, 0-1).  Documents with
    no unit on any task are ``"not assigned"``.
    """
    frame = _task_units_frame(units, tasks)
    task_rows = tasks[tasks["kind"] == KIND_TASK]
    n_tasks = task_rows.groupby("doc_id")["task_id"].nunique()
    assigned = frame.groupby("doc_id")["task_id"].nunique()
    counts = _agency_task_counts(frame)
    rows = []
    for doc_id in documents["doc_id"]:
        total = int(n_tasks.get(doc_id, 0))
        n_assigned = int(assigned.get(doc_id, 0))
        doc_units = frame[frame["doc_id"] == doc_id]
        agencies = counts[counts["doc_id"] == doc_id].sort_values(
            ["n_tasks", "n_lead", "canonical"], ascending=[False, False, True]
        )
        row: dict[str, Any] = {
            "doc_id": doc_id,
            "n_tasks": total,
            "n_tasks_assigned": n_assigned,
            "assigned_task_share": n_assigned / total if total else float("nan"),
            "assignment_status": "assigned" if n_assigned else "not assigned",
            "n_agencies": len(agencies),
            "tasks_per_agency": float(agencies["n_tasks"].mean()) if len(agencies) else float("nan"),
            "lead_agency": agencies["canonical"].iloc[0] if len(agencies) else None,
            "lead_agency_share": int(agencies["n_tasks"].iloc[0]) / n_assigned if len(agencies) else float("nan"),
            "hhi": float(((agencies["n_tasks"] / agencies["n_tasks"].sum()) ** 2).sum())
            if len(agencies)
            else float("nan"),
            "n_generic_mentions": int(doc_units["generic"].sum()),
            "n_unmatched": int((doc_units["match"] == "unmatched").sum()),
        }
        rows.append(row)
    result = pd.DataFrame(rows, columns=list(DUTY_COLUMNS))
    for column in ("n_tasks", "n_tasks_assigned", "n_agencies", "n_generic_mentions", "n_unmatched"):
        result[column] = result[column].astype("Int64")
    return result


def agency_pairs(units: pd.DataFrame, *, reformed: bool = True) -> pd.DataFrame:
    """Per document, pairs of agencies (non-generic units) named on the same tasks.

    Agencies are named by :func:`agency_names` (post-2018 successors when
    ``reformed``), so a predecessor and its successor are one agency.
    ``agency_a`` < ``agency_b``; ``n_shared_tasks`` = tasks naming both.
    """
    frame = _task_units_frame(units)
    if len(frame):
        frame = frame.assign(canonical=agency_names(frame, reformed=reformed))
    agencies = frame[~frame["generic"]][["doc_id", "task_id", "canonical"]].drop_duplicates()
    shared: Counter[tuple[str, str, str]] = Counter()
    for (doc_id, _), group in agencies.groupby(["doc_id", "task_id"], sort=False):
        for a, b in combinations(sorted(set(group["canonical"])), 2):
            shared[(doc_id, a, b)] += 1
    rows = [(doc, a, b, n) for (doc, a, b), n in shared.items()]
    result = pd.DataFrame(rows, columns=list(PAIR_COLUMNS))
    result["n_shared_tasks"] = result["n_shared_tasks"].astype("Int64")
    return result.sort_values(
        ["doc_id", "n_shared_tasks", "agency_a", "agency_b"], ascending=[True, False, True, True]
    ).reset_index(drop=True)


def category_labels(reference_dir: Path | None = None) -> dict[Hashable, dict[str, str]]:
    """``{category code: {"zh": ..., "en": ...}}`` from ``agency_categories.csv``, plus the special rows."""

    labels: dict[Hashable, dict[str, str]] = {
        row["code"]: {"zh": row["label_zh"], "en": row["label_en"]} for row in load_agency_categories(reference_dir)
    }
    for key in (GENERIC_ONLY, NOT_ASSIGNED, UNCODED):
        labels[key] = special_labels()[key]
    return labels


def _generic_flags(units: pd.DataFrame) -> pd.Series:
    return units["generic"].map(lambda v: str(v).strip().lower() in {"true", "1", "yes"}).astype(bool)


NOT_APPLICABLE_WITHOUT_UNITS = ("n_agencies", "n_generic_mentions", "n_unmatched")
"""Unit counts that do not apply (n/a, not 0) to a plan naming no unit at all."""


def duty_table(units: pd.DataFrame, tasks: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """:func:`duty_metrics` with document labels, for figures and exports.

    A plan that names no unit on any task has no agencies to count: its unit
    counts are missing (shown as "n/a"), not 0, like its shares and HHI.
    """
    metrics = duty_metrics(units, tasks, documents)
    unassigned = metrics["n_tasks_assigned"].fillna(0) == 0
    for column in NOT_APPLICABLE_WITHOUT_UNITS:
        metrics[column] = metrics[column].mask(unassigned, pd.NA)
    return with_doc_labels(metrics, documents)


def agency_names(units: pd.DataFrame, *, reformed: bool = True) -> pd.Series:
    """The agency each unit row names: its post-2018-reform ``successor`` (when ``reformed``), else ``canonical``.

    Bodies merged by the 2018 institutional reform (法制办 into 司法局 …) then
    count as one agency; a row without a successor keeps its canonical name.
    """
    canonical = units["canonical"].astype("string")
    if not reformed or "successor" not in units.columns:
        return canonical
    successor = units["successor"].astype("string").str.strip()
    return successor.mask(successor.isna() | (successor == ""), canonical)


def assignment_status(units: pd.DataFrame, tasks: pd.DataFrame) -> pd.Series:
    """Per task (index task_id): ``"named"`` (an agency), ``generic_only`` or ``not_assigned``."""
    rows = select_tasks(tasks)
    frame = units[units["task_id"].isin(rows["task_id"])]
    generic = _generic_flags(frame)
    named = set(frame.loc[~generic, "task_id"])
    any_unit = set(frame["task_id"])
    status = [
        "named" if task in named else GENERIC_ONLY if task in any_unit else NOT_ASSIGNED for task in rows["task_id"]
    ]
    return pd.Series(status, index=pd.Index(rows["task_id"], name="task_id"), name="assignment")


def assignment_summary(units: pd.DataFrame, tasks: pd.DataFrame, doc_id: str) -> pd.DataFrame:
    """One plan's tasks by :func:`assignment_status` (all three statuses, zeros kept), with labels."""
    status = assignment_status(units, tasks[tasks["doc_id"] == doc_id])
    counts = status.value_counts().reindex(label_keys("assignment"), fill_value=0)
    frame = pd.DataFrame({"assignment": counts.index, "n_tasks": counts.to_numpy().astype(int)})
    return add_labels(frame, "assignment", "assignment")


def top_agencies(
    units: pd.DataFrame, tasks: pd.DataFrame, doc_id: str | None = None, top: int = 10, *, reformed: bool = True
) -> pd.DataFrame:
    """Agencies (non-generic units) named on most tasks: ``canonical, category, n_tasks, n_lead``.

    ``canonical`` is the agency as :func:`agency_names` gives it (the post-2018
    successor when ``reformed``: 法制办 and 司法局 count together); its
    ``category`` is the one most of its rows carry.
    """
    rows = select_tasks(tasks if doc_id is None else tasks[tasks["doc_id"] == doc_id])
    frame = units[units["task_id"].isin(rows["task_id"])]
    named = frame[~_generic_flags(frame)]
    named = named.assign(canonical=agency_names(named, reformed=reformed)) if len(named) else named
    categories = named.groupby("canonical")["category"].agg(lambda c: c.mode().iloc[0] if len(c.mode()) else "")
    named = named.assign(category=named["canonical"].map(categories)) if len(named) else named
    grouped = named.groupby(["canonical", "category"])
    result = (
        pd.DataFrame(
            {
                "n_tasks": grouped["task_id"].nunique(),
                "n_lead": named[named["role"] == "lead"].groupby(["canonical", "category"])["task_id"].nunique(),
            }
        )
        .fillna(0)
        .astype(int)
        .reset_index()
    )
    return (
        result.sort_values(["n_tasks", "n_lead", "canonical"], ascending=[False, False, True])
        .head(top)
        .reset_index(drop=True)
    )


def category_theme_matrix(
    units: pd.DataFrame,
    tasks: pd.DataFrame,
    codebook: Codebook | None = None,
    categories: Mapping[Hashable, Any] | None = None,
) -> pd.DataFrame:
    """Agency category x level-1 theme: number of task-agency links.

    A link is a distinct (task, canonical agency) pair; generic units are not
    agencies and are left out.  Tasks with no named agency are counted once in
    the rows :data:`GENERIC_ONLY` (only generic units) and :data:`NOT_ASSIGNED`
    (no unit at all).  Rows: categories in ``categories`` order (default
    ``agency_categories.csv``) that occur, then the two special rows; columns:
    themes in codebook order (+ :data:`UNCODED`).
    """
    require_columns(units, ("task_id", "canonical", "category", "generic"), "units")
    codebook = codebook or Codebook.load()
    rows = select_tasks(tasks).assign(theme_key=lambda f: _theme_keys(f, "theme", list(LEVEL1_CODES)))
    frame = units[units["task_id"].isin(rows["task_id"])]
    named = frame[~_generic_flags(frame)].drop_duplicates(["task_id", "canonical"])
    links = named.merge(rows[["task_id", "theme_key"]], on="task_id", how="inner")
    status = assignment_status(units, tasks)
    unassigned = rows.assign(category=rows["task_id"].map(status).to_numpy())
    unassigned = unassigned[unassigned["category"] != "named"]
    stacked = pd.concat([links[["category", "theme_key"]], unassigned[["category", "theme_key"]]], ignore_index=True)
    columns = list(LEVEL1_CODES) + ([UNCODED] if (rows["theme_key"] == UNCODED).any() else [])
    order = list(categories or category_labels())
    present = list(dict.fromkeys(stacked["category"].astype(str)))
    unknown = [c for c in present if c not in order]
    if unknown:
        log.warning("unit categories without a label in agency_categories.csv: %s", unknown)
    index = [c for c in order if c in present and c not in (GENERIC_ONLY, NOT_ASSIGNED)] + unknown
    index += [c for c in (GENERIC_ONLY, NOT_ASSIGNED) if c in present]
    matrix = pd.crosstab(stacked["category"].astype(str), stacked["theme_key"]) if len(stacked) else pd.DataFrame()
    matrix = matrix.reindex(index=index, columns=columns, fill_value=0).fillna(0).astype(int)
    matrix.index.name, matrix.columns.name = "category", "theme"
    return matrix


class ReformComparison(NamedTuple):
    """Agencies as written vs after the reform crosswalk."""

    counts: pd.DataFrame  # per document: n_agencies_written, n_agencies_reformed, n_renamed
    renamed: pd.DataFrame  # doc_id, canonical, successor, n_tasks


def reform_comparison(units: pd.DataFrame, documents: pd.DataFrame) -> ReformComparison:
    """Distinct agencies per plan as written and after mapping to post-reform successors.

    ``n_agencies_written``: distinct canonical (non-generic) agencies;
    ``n_agencies_reformed``: distinct successors (bodies merged by the reform
    collapse); ``n_renamed``: agencies whose successor differs.  ``renamed``
    lists those bodies with the number of tasks naming them.
    """
    require_columns(units, ("doc_id", "task_id", "canonical", "successor", "generic"), "units")
    named = units[~_generic_flags(units)].copy()
    named["successor"] = named["successor"].astype("string").fillna("").str.strip()
    named["successor"] = named["successor"].where(named["successor"] != "", named["canonical"])
    changed = named[named["successor"] != named["canonical"]]
    doc_ids = list(documents["doc_id"])
    counts = pd.DataFrame(
        {
            "doc_id": doc_ids,
            "n_agencies_written": named.groupby("doc_id")["canonical"]
            .nunique()
            .reindex(doc_ids, fill_value=0)
            .to_numpy(),
            "n_agencies_reformed": named.groupby("doc_id")["successor"]
            .nunique()
            .reindex(doc_ids, fill_value=0)
            .to_numpy(),
            "n_renamed": changed.groupby("doc_id")["canonical"].nunique().reindex(doc_ids, fill_value=0).to_numpy(),
        }
    )
    renamed = changed.groupby(["doc_id", "canonical", "successor"])["task_id"].nunique().rename("n_tasks").reset_index()
    position = {doc: i for i, doc in enumerate(doc_ids)}
    renamed = renamed.sort_values(
        ["doc_id", "n_tasks", "canonical"],
        ascending=[True, False, True],
        key=lambda s: s.map(position) if s.name == "doc_id" else s,
    )
    return ReformComparison(
        with_doc_labels(counts, documents), with_doc_labels(renamed.reset_index(drop=True), documents)
    )


def reform_long(counts: pd.DataFrame) -> pd.DataFrame:
    """:attr:`ReformComparison.counts` in long form for a grouped bar chart (``stage_label_zh/en``)."""
    stages = {
        "n_agencies_written": ("按原文", "As written"),
        "n_agencies_reformed": ("按2018年机构改革后", "After 2018 reform"),
    }
    rows = [
        {
            "doc_id": r["doc_id"],
            "doc_label_zh": r["doc_label_zh"],
            "doc_label_en": r["doc_label_en"],
            "stage_label_zh": zh,
            "stage_label_en": en,
            "n_agencies": int(r[column]),
        }
        for r in counts.to_dict("records")
        for column, (zh, en) in stages.items()
    ]
    return pd.DataFrame(rows)


def agency_pair_totals(pairs: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Agency pairs summed over plans, restricted to the ``top`` agencies by shared tasks."""
    totals = pairs.groupby(["agency_a", "agency_b"], as_index=False)["n_shared_tasks"].sum()
    weight = pd.concat(
        [
            totals.rename(columns={"agency_a": "agency"})[["agency", "n_shared_tasks"]],
            totals.rename(columns={"agency_b": "agency"})[["agency", "n_shared_tasks"]],
        ]
    )
    ranked = weight.groupby("agency")["n_shared_tasks"].sum().sort_index().sort_values(ascending=False, kind="stable")
    keep = set(ranked.index[:top])
    chosen = totals[totals["agency_a"].isin(keep) & totals["agency_b"].isin(keep)]
    return chosen.astype({"n_shared_tasks": int}).reset_index(drop=True)
