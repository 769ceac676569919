"""Theme coverage compared across plans: which themes each plan covers, and how it maps onto the national 纲要.

Pure functions over the processed ``tasks`` and ``documents`` tables.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path

import pandas as pd

from analysis.compare.labels import (
    GANGYAO_EDITIONS,
    NO_COUNTERPART,
    UNCODED,
    _theme_keys,
    document_labels,
    select_tasks,
    special_labels,
    theme_labels,
    with_doc_labels,
)
from analysis.core import labels as reference_labels
from analysis.core.codebook import LEVEL1_CODES, Codebook
from analysis.core.errors import ReferenceDataError
from analysis.core.numerals import chinese_number

_SECTION_NUMERAL = re.compile(r"^([一二三四五六七八九十百]+)")


_REFERENCE_SEPARATOR = re.compile(r"[;；]")


def _level_codes(codebook: Codebook, level: int) -> tuple[str, list[str]]:
    if level == 1:
        return "theme", list(LEVEL1_CODES)
    if level == 2:
        return "subtheme", codebook.level2_codes
    raise ValueError(f"level must be 1 or 2, not {level!r}")


def coverage_matrix(
    tasks: pd.DataFrame,
    documents: pd.DataFrame,
    level: int = 1,
    value: str = "count",
    lang: str | None = "zh",
    *,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Tasks per document and theme: counts, or shares of the document's tasks (0-1).

    Rows: every document, labelled ``doc_label_{lang}`` (``lang=None``: the
    doc_id).  Columns: every code of ``level`` in codebook order (zeros kept:
    an omitted theme is information), then :data:`UNCODED` if any task has no
    code.  A document with no task has NaN shares.  Labels for the columns:
    :func:`theme_labels`.
    """
    if value not in ("count", "share"):
        raise ValueError(f"value must be 'count' or 'share', not {value!r}")
    codebook = codebook or Codebook.load()
    column, codes = _level_codes(codebook, level)
    rows = select_tasks(tasks)
    keys = _theme_keys(rows, column, codes)
    columns = codes + ([UNCODED] if (keys == UNCODED).any() else [])
    matrix = (
        pd.crosstab(rows["doc_id"], keys)
        .reindex(index=list(documents["doc_id"]), columns=columns, fill_value=0)
        .fillna(0)
        .astype(int)
    )
    if value == "share":
        totals = matrix.sum(axis=1)
        matrix = matrix.div(totals.where(totals > 0), axis=0)
    if lang is None:
        matrix.index.name = "doc_id"
    else:
        labels = document_labels(documents).set_index("doc_id")[f"doc_label_{lang}"]
        matrix.index = pd.Index(labels.loc[matrix.index].to_list(), name="doc_label")
    matrix.columns.name = column
    return matrix


def coverage_table(
    tasks: pd.DataFrame,
    documents: pd.DataFrame,
    level: int = 1,
    value: str = "count",
    *,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """:func:`coverage_matrix` as a flat table (doc_id, jurisdiction, year, labels, one column per code)."""
    matrix = coverage_matrix(tasks, documents, level, value, lang=None, codebook=codebook)
    matrix.columns.name = None
    return with_doc_labels(matrix.reset_index(), documents)


def theme_omissions(tasks: pd.DataFrame, documents: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Which level-1 themes each plan covers (at least one task) and which it omits.

    Columns: document labels, ``n_tasks``, ``n_themes_covered``,
    ``n_themes_omitted``, ``covered`` / ``omitted`` (codes joined by ``;``),
    ``omitted_zh`` / ``omitted_en`` (labels joined by ``；`` / ``; ``).  A
    document with no task covers nothing.
    """
    codebook = codebook or Codebook.load()
    counts = coverage_matrix(tasks, documents, 1, "count", lang=None, codebook=codebook)
    themes = list(LEVEL1_CODES)
    rows = []
    for doc_id, row in counts.iterrows():
        covered = [code for code in themes if row[code] > 0]
        omitted = [code for code in themes if row[code] == 0]
        rows.append(
            {
                "doc_id": doc_id,
                "n_tasks": int(row.sum()),
                "n_themes_covered": len(covered),
                "n_themes_omitted": len(omitted),
                "covered": ";".join(covered),
                "omitted": ";".join(omitted),
                "omitted_zh": "；".join(codebook.label(c, "zh") for c in omitted),
                "omitted_en": "; ".join(codebook.label(c, "en") for c in omitted),
            }
        )
    return with_doc_labels(pd.DataFrame(rows), documents)


def emphasis_by_year(tasks: pd.DataFrame, documents: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Share of tasks per level-1 theme by ``issued_year`` (one row per year x theme).

    ``task_share``: the theme's share of all tasks of the year's plans (large
    plans weigh more); ``mean_doc_share``: the mean over the year's plans of the
    theme's share of each plan (every plan weighs the same).  Only plans with
    tasks count; years keep ascending order, themes codebook order.
    """
    codebook = codebook or Codebook.load()
    counts = coverage_matrix(tasks, documents, 1, "count", lang=None, codebook=codebook)
    counts = counts[counts.sum(axis=1) > 0]
    years = documents.set_index("doc_id")["issued_year"].reindex(counts.index)
    shares = counts.div(counts.sum(axis=1), axis=0)
    labels = theme_labels(codebook)
    rows = []
    for year in sorted(years.dropna().unique()) + ([pd.NA] if years.isna().any() else []):
        in_year = years.isna() if pd.isna(year) else years == year
        year_counts, year_shares = counts[in_year.to_numpy()], shares[in_year.to_numpy()]
        total = year_counts.to_numpy().sum()
        for code in counts.columns:
            rows.append(
                {
                    "issued_year": year,
                    "theme": code,
                    "theme_label_zh": labels[code]["zh"],
                    "theme_label_en": labels[code]["en"],
                    "n_documents": len(year_counts),
                    "n_tasks": int(year_counts[code].sum()),
                    "task_share": year_counts[code].sum() / total,
                    "mean_doc_share": float(year_shares[code].mean()),
                }
            )
    result = pd.DataFrame(rows)
    if len(result):
        result["issued_year"] = result["issued_year"].astype("Int64")
    return result


def gangyao_sections(reference: str, path: str | Path = "codebook") -> list[str]:
    """Sections (chapter numerals) a codebook 纲要 reference names, in order, no repeats.

    ``"五(二);五(三)"`` -> ``["五"]``; ``"二(五) 深入推进放管服改革"`` -> ``["二"]``;
    ``""`` -> ``[]``.  A part that does not start with a Chinese numeral raises.
    """
    sections: dict[str, None] = {}
    for part in _REFERENCE_SEPARATOR.split(reference or ""):
        part = part.strip()
        if not part:
            continue
        match = _SECTION_NUMERAL.match(part)
        if not match:
            raise ReferenceDataError(path, f"纲要 reference {part!r} does not start with a section numeral")
        sections.setdefault(match.group(1), None)
    return list(sections)


def _section_titles(table: pd.DataFrame, column: str) -> dict[str, str]:
    """Section -> title, from references written ``五 健全行政执法工作体系`` or a level-1 theme's bare section."""
    titles: dict[str, str] = {}
    for row in table.itertuples():
        for part in _REFERENCE_SEPARATOR.split(getattr(row, column) or ""):
            part = part.strip()
            match = re.match(r"^([一二三四五六七八九十百]+)\s+(.+?)(?:\(节\))?$", part)
            if match:
                titles.setdefault(match.group(1), match.group(2))
            elif row.level == 1 and _SECTION_NUMERAL.fullmatch(part):
                titles.setdefault(part, row.label_zh)
    return titles


def _section_order(section: str) -> float:

    return chinese_number(section)


def gangyao_alignment(tasks: pd.DataFrame, documents: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Per plan, tasks coded to each section of the 2015 and 2021 national 纲要.

    A task maps through its subtheme's ``gangyao_{edition}`` reference (its
    theme's when it has no subtheme); a task mapped to k sections counts 1/k in
    each, so a plan's ``n_tasks`` add up to its number of tasks.  Codes with no
    counterpart count under :data:`NO_COUNTERPART`, uncoded tasks under
    :data:`UNCODED`.  One row per document x edition x section (zeros kept);
    ``task_share`` = n_tasks / the plan's tasks (NaN for a plan with none).
    """
    codebook = codebook or Codebook.load()
    table = codebook.to_table()
    rows = select_tasks(tasks)
    themes = _theme_keys(rows, "theme", list(LEVEL1_CODES))
    subthemes = _theme_keys(rows, "subtheme", codebook.level2_codes)
    code = subthemes.where(subthemes != UNCODED, themes)
    records = []
    for edition in GANGYAO_EDITIONS:
        column = f"gangyao_{edition}"
        mapping = {r.code: gangyao_sections(getattr(r, column), codebook.path) for r in table.itertuples()}
        titles = _section_titles(table, column)
        sections = sorted({s for found in mapping.values() for s in found}, key=_section_order)
        extra = [NO_COUNTERPART] if any(not found for found in mapping.values()) else []
        extra += [UNCODED] if (code == UNCODED).any() else []
        targets = [[UNCODED] if c == UNCODED else (mapping[c] or [NO_COUNTERPART]) for c in code]
        links = pd.DataFrame(
            {"doc_id": rows["doc_id"].to_numpy(), "section": targets, "weight": [1 / len(t) for t in targets]}
        ).explode("section")
        weights = (
            links.groupby(["doc_id", "section"])["weight"].sum().unstack(fill_value=0.0)
            if len(links)
            else pd.DataFrame()
        )
        weights = weights.reindex(index=list(documents["doc_id"]), columns=sections + extra).fillna(0.0)
        totals = select_tasks(tasks).groupby("doc_id").size().reindex(weights.index, fill_value=0)
        for doc_id, row in weights.iterrows():
            for section, n in row.items():
                special = special_labels().get(section)
                records.append(
                    {
                        "doc_id": doc_id,
                        "edition": edition,
                        "section": section,
                        "section_title": special["zh"] if special else titles.get(section, ""),
                        "n_tasks": float(n),
                        "task_share": float(n) / totals[doc_id] if totals[doc_id] else float("nan"),
                    }
                )
    result = pd.DataFrame(records)
    result["edition"] = result["edition"].astype("Int64")
    return with_doc_labels(result, documents)


def gangyao_matrix(alignment: pd.DataFrame, edition: int, value: str = "task_share", lang: str = "zh") -> pd.DataFrame:
    """One edition of :func:`gangyao_alignment` as a matrix: rows = document labels, columns = section."""
    rows = alignment[alignment["edition"] == edition]
    label = f"doc_label_{lang}"
    matrix = rows.pivot(index=label, columns="section", values=value)
    matrix = matrix.loc[list(dict.fromkeys(rows[label])), list(dict.fromkeys(rows["section"]))]
    matrix.index.name, matrix.columns.name = "doc_label", "section"
    return matrix


def section_labels(alignment: pd.DataFrame, edition: int) -> dict[Hashable, dict[str, str]]:
    """``{section: {"zh": "五 健全…", "en": "5. Administrative law enforcement"}}`` (English names: labels.csv) for :func:`gangyao_matrix` columns."""
    rows = alignment[alignment["edition"] == edition].drop_duplicates("section")
    specials = special_labels()
    english = reference_labels.labels(f"gangyao_{edition}")
    labels: dict[Hashable, dict[str, str]] = {}
    for section, title in zip(rows["section"], rows["section_title"], strict=False):
        if section in specials:
            labels[section] = dict(specials[section])
        else:
            number = int(_section_order(section))
            name = english[section]["en"] if section in english else ""
            labels[section] = {"zh": f"{section} {title}".strip(), "en": f"{number}. {name}".strip(" .")}
    return labels


def theme_profile(
    tasks: pd.DataFrame, documents: pd.DataFrame, doc_id: str, codebook: Codebook | None = None
) -> pd.DataFrame:
    """One plan's level-1 theme shares next to the corpus average (mean share over plans with tasks).

    Long table: ``theme, theme_label_zh, theme_label_en, series
    ("plan"/"corpus_mean"), series_label_zh, series_label_en, task_share``.
    """
    if doc_id not in set(documents["doc_id"]):
        raise KeyError(f"doc_id {doc_id!r} is not in the documents table")
    codebook = codebook or Codebook.load()
    shares = coverage_matrix(tasks, documents, 1, "share", lang=None, codebook=codebook)
    labels = theme_labels(codebook)
    series = {
        "plan": ({"zh": "本文件", "en": "This plan"}, shares.loc[doc_id]),
        "corpus_mean": ({"zh": "全部文件平均", "en": "Corpus mean"}, shares.dropna(how="all").mean()),
    }
    rows = [
        {
            "theme": code,
            "theme_label_zh": labels[code]["zh"],
            "theme_label_en": labels[code]["en"],
            "series": key,
            "series_label_zh": names["zh"],
            "series_label_en": names["en"],
            "task_share": float(values[code]),
        }
        for key, (names, values) in series.items()
        for code in shares.columns
    ]
    return pd.DataFrame(rows)
