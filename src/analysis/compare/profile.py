"""The corpus at a glance: documents by year and level, structure depth, repairs made."""

from __future__ import annotations

import pandas as pd

from analysis.compare.labels import _year_text, admin_level_label


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
