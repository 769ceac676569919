"""The corpus at a glance (documents by year and level, structure depth, repairs made) and what it can compare:
the framework in force, years with several plans, a plain note when the corpus is too small."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from analysis.compare.coverage import framework_edition, load_editions
from analysis.compare.labels import _year_text, admin_level_label, select_tasks
from analysis.core import labels as reference_labels


def count_by(documents: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Number of documents per combination of ``columns`` (``n_documents``), sorted by them."""
    counts = documents.groupby(columns, dropna=False).size().rename("n_documents").reset_index()
    return counts.sort_values(columns, kind="stable").reset_index(drop=True)


def documents_by_year_level(documents: pd.DataFrame) -> pd.DataFrame:
    """Documents per issue year and administrative level: ``year`` (text, for a category
    axis), ``admin_level``, ``level_zh``/``level_en`` labels, ``n_documents``."""
    counts = count_by(documents.assign(admin_level=documents["admin_level"].fillna("")), ["issued_year", "admin_level"])
    counts.insert(0, "year", counts["issued_year"].map(lambda v: _year_text(v) or "?"))
    for lang in ("zh", "en"):
        counts[f"level_{lang}"] = counts["admin_level"].map(lambda v, lang=lang: admin_level_label(v, lang))
    return counts


def structure_profile(sections: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Headings per level (rows = doc_id, columns = heading level), inferred ones included."""
    levels = sorted(int(v) for v in sections["level"].dropna().unique())
    matrix = pd.crosstab(sections["doc_id"], sections["level"].astype("Int64"))
    matrix = matrix.reindex(index=list(documents["doc_id"]), columns=levels, fill_value=0)
    matrix.index.name, matrix.columns.name = "doc_id", "level"
    return matrix.astype(int)


def repairs_by_kind(repairs: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Repairs made per document and kind (rows = doc_id, columns = repair kind)."""
    matrix = pd.crosstab(repairs["doc_id"], repairs["kind"]) if len(repairs) else pd.DataFrame()
    matrix = matrix.reindex(index=list(documents["doc_id"]), fill_value=0)
    matrix.index.name, matrix.columns.name = "doc_id", "kind"
    return matrix.fillna(0).astype(int)


# ---------------------------------------------------------------------------
# Comparability: what a view compares, with how many plans, and whether it can


MIN_PLANS_PER_YEAR_FOR_TREND = 2
"""A year enters a trend only with at least this many plans (one plan a year describes that plan)."""
MIN_PLANS_FOR_COMPARISON = 3
"""Below this many plans with tasks a comparison across plans is reported as too small."""


def framework_in_force(documents: pd.DataFrame) -> pd.Series:
    """The 纲要 edition in force when each plan was issued (:func:`analysis.compare.coverage.framework_edition`,
    from ``reference/gangyao_editions.csv``), indexed by doc_id; NA when neither the date nor the year is known."""
    issued = documents["issued"] if "issued" in documents.columns else pd.Series([None] * len(documents))
    years = documents["issued_year"]
    editions = load_editions()
    edition = [
        framework_edition(date, year, editions) if _known(date) or _known(year) else pd.NA
        for date, year in zip(issued.to_numpy(), years.to_numpy(), strict=True)
    ]
    return pd.Series(edition, index=pd.Index(documents["doc_id"], name="doc_id"), name="framework", dtype="Int64")


def _known(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip()) and not pd.isna(value)


def years_with_several_plans(documents: pd.DataFrame, minimum: int = MIN_PLANS_PER_YEAR_FOR_TREND) -> list[int]:
    """Issue years with at least ``minimum`` plans (the only years a trend may show), ascending."""
    counts = pd.to_numeric(documents["issued_year"], errors="coerce").dropna().astype(int).value_counts()
    return sorted(int(y) for y, n in counts.items() if n >= minimum)


def _counted(values: pd.Series, labels_of: Callable[[str], str]) -> str:
    counts = values.fillna("").astype(str).replace("", "?").value_counts()
    return ", ".join(f"{labels_of(k) if k != '?' else 'unknown'} {n}" for k, n in counts.items())


def corpus_summary(documents: pd.DataFrame, tasks: pd.DataFrame | None = None) -> str:
    """One sentence a reading starts with: how many plans of which levels, types and years, the framework in force."""
    n_docs = len(documents)
    levels = _counted(documents["admin_level"], lambda k: reference_labels.label("admin_level", k, "en").lower())
    types = _counted(documents["doc_type"], lambda k: reference_labels.label("doc_type", k, "en").lower())
    years = pd.to_numeric(documents["issued_year"], errors="coerce").dropna().astype(int)
    span = f"{years.min()}–{years.max()}" if len(years) else "unknown years"
    frameworks = framework_in_force(documents).value_counts().sort_index()
    framework = "; ".join(f"{n} under the {edition} 纲要" for edition, n in frameworks.items())
    n_tasks = f", {len(select_tasks(tasks))} tasks" if tasks is not None else ""
    return (
        f"The corpus holds {n_docs} plan(s){n_tasks}, issued {span} (by level: {levels}; by type: {types}); "
        f"{framework or 'framework in force unknown'}."
    )


def comparability_note(documents: pd.DataFrame, tasks: pd.DataFrame | None = None, *, trend: bool = False) -> str:
    """What a comparison across these plans can and cannot say, in plain words (for notebook readings)."""
    notes = [corpus_summary(documents, tasks)]
    with_tasks = documents["doc_id"].isin(select_tasks(tasks)["doc_id"]).sum() if tasks is not None else len(documents)
    if with_tasks < MIN_PLANS_FOR_COMPARISON:
        notes.append(
            f"Only {with_tasks} plan(s) have tasks: too few to compare plans; the figures describe these plans only."
        )
    if documents["doc_type"].fillna("").nunique() > 1 or documents["admin_level"].fillna("").nunique() > 1:
        notes.append(
            "The plans differ in document type and level (a work-points list and a multi-year plan set tasks "
            "differently): compare like with like, and read differences between types as differences of genre."
        )
    if trend:
        several = years_with_several_plans(documents)
        if several:
            notes.append(f"A trend is shown only for years with several plans: {', '.join(map(str, several))}.")
        else:
            notes.append("No year has more than one plan: the corpus is too small for a trend over years.")
    return " ".join(notes)
