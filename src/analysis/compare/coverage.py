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
from analysis.core.reference import TableSchema, read_csv_strict, reference_path

_SECTION_NUMERAL = re.compile(r"^([一二三四五六七八九十百]+)")


_REFERENCE_SEPARATOR = re.compile(r"[;；]")


def _level_codes(codebook: Codebook, level: int) -> tuple[str, list[str]]:
    if level == 1:
        return "theme", list(LEVEL1_CODES)
    if level == 2:
        return "subtheme", codebook.level2_codes
    raise ValueError(f"level must be 1 or 2, not {level!r}")


# ---------------------------------------------------------------------------
# The framework in force: which 纲要 edition a plan answers to


GANGYAO_EDITIONS_PATH = reference_path("gangyao_editions.csv")
_EDITIONS_SCHEMA = TableSchema(
    required=("edition", "title", "in_force_from"), optional=("note",), unique=(("edition",),)
)


def load_editions(path: str | Path | None = None) -> pd.DataFrame:
    """The 纲要 editions (``edition`` int, ``in_force_from`` date), oldest first; validated on load."""
    path = Path(path) if path is not None else GANGYAO_EDITIONS_PATH
    table = read_csv_strict(path, _EDITIONS_SCHEMA)
    try:
        table["edition"] = table["edition"].astype(int)
        table["in_force_from"] = pd.to_datetime(table["in_force_from"], format="%Y-%m-%d")
    except ValueError as error:
        raise ReferenceDataError(path, f"edition must be a year and in_force_from a YYYY-MM-DD date: {error}") from None
    unknown = sorted(set(table["edition"]) - set(GANGYAO_EDITIONS))
    if unknown:
        raise ReferenceDataError(path, f"edition(s) {unknown} have no gangyao_<edition> column in the codebook")
    return table.sort_values("in_force_from").reset_index(drop=True)


def framework_edition(issued: object = None, issued_year: object = None, editions: pd.DataFrame | None = None) -> int:
    """The 纲要 edition in force when a plan was issued.

    With a full date (``issued``, ``YYYY-MM-DD``): the latest edition in force
    on that day.  With the year only: the edition in force on 1 January of
    that year (a 2021 plan of unknown month answers to the 2015 edition: the
    themes added in August 2021 are then "not applicable", never "omitted").
    With neither, or a plan older than every edition: the oldest edition.
    """
    editions = editions if editions is not None else load_editions()
    day = pd.to_datetime(str(issued)[:10], format="%Y-%m-%d", errors="coerce") if _present(issued) else pd.NaT
    if pd.isna(day) and _present(issued_year):
        day = pd.to_datetime(f"{int(float(str(issued_year)))}-01-01", errors="coerce")
    in_force = editions[editions["in_force_from"] <= day] if not pd.isna(day) else editions.iloc[:0]
    return int(in_force["edition"].iloc[-1] if len(in_force) else editions["edition"].iloc[0])


def _present(value: object) -> bool:
    return (
        value is not None
        and not (isinstance(value, float) and value != value)
        and str(value).strip() not in ("", "<NA>")
    )


def applicable_codes(codebook: Codebook, edition: int, level: int = 1) -> list[str]:
    """Codes of ``level`` that the ``edition`` of the 纲要 contains (a non-empty ``gangyao_{edition}`` crosswalk)."""
    if edition not in GANGYAO_EDITIONS:
        raise ValueError(f"edition must be one of {GANGYAO_EDITIONS}, not {edition!r}")
    _, codes = _level_codes(codebook, level)
    table = codebook.to_table().set_index("code")
    return [code for code in codes if str(table.at[code, f"gangyao_{edition}"]).strip()]


def document_frameworks(documents: pd.DataFrame) -> pd.DataFrame:
    """``doc_id, framework_edition``: the 纲要 edition each plan is compared with (:func:`framework_edition`)."""
    editions = load_editions()
    issued = documents["issued"] if "issued" in documents.columns else pd.Series([None] * len(documents))
    years = documents["issued_year"] if "issued_year" in documents.columns else pd.Series([None] * len(documents))
    return pd.DataFrame(
        {
            "doc_id": documents["doc_id"].to_numpy(),
            "framework_edition": [
                framework_edition(i, y, editions) for i, y in zip(issued.to_numpy(), years.to_numpy(), strict=True)
            ],
        }
    )


def applicability(documents: pd.DataFrame, codebook: Codebook | None = None, level: int = 1) -> pd.DataFrame:
    """Boolean matrix (index doc_id, one column per code of ``level``): does the plan's framework contain the code?"""
    codebook = codebook or Codebook.load()
    _, codes = _level_codes(codebook, level)
    frameworks = document_frameworks(documents)
    by_edition = {edition: set(applicable_codes(codebook, edition, level)) for edition in GANGYAO_EDITIONS}
    matrix = pd.DataFrame(
        [[code in by_edition[e] for code in codes] for e in frameworks["framework_edition"]],
        index=pd.Index(frameworks["doc_id"], name="doc_id"),
        columns=codes,
    )
    return matrix


# ---------------------------------------------------------------------------
# Coverage


def coverage_matrix(
    tasks: pd.DataFrame,
    documents: pd.DataFrame,
    level: int = 1,
    value: str = "count",
    lang: str | None = "zh",
    *,
    codebook: Codebook | None = None,
    mark_not_applicable: bool = False,
) -> pd.DataFrame:
    """Tasks per document and theme: counts, or shares of the document's tasks (0-1).

    Rows: every document, labelled ``doc_label_{lang}`` (``lang=None``: the
    doc_id).  Columns: every code of ``level`` in codebook order (zeros kept:
    an omitted theme is information), then :data:`UNCODED` if any task has no
    code.  A document with no task has NaN shares.  Labels for the columns:
    :func:`theme_labels`.  ``mark_not_applicable``: a code the plan's 纲要
    edition does not contain (:func:`applicability`) and the plan has no task
    on is NaN ("not applicable"), not 0 (a figure then leaves the cell blank).
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
    if mark_not_applicable:
        applicable = applicability(documents, codebook, level).reindex(index=matrix.index, columns=codes)
        not_applicable = ~applicable & (matrix[codes].fillna(0) == 0)
        matrix = matrix.astype(float)
        matrix[codes] = matrix[codes].mask(not_applicable)
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
    """:func:`coverage_matrix` as a flat table (doc_id, jurisdiction, year, labels, framework, one column per code).

    Cells of codes the plan's 纲要 edition lacks (and the plan has no task on)
    are empty: not applicable, not zero.
    """
    matrix = coverage_matrix(tasks, documents, level, value, lang=None, codebook=codebook, mark_not_applicable=True)
    matrix.columns.name = None
    table = matrix.reset_index().merge(document_frameworks(documents), on="doc_id", how="left")
    table = table[["doc_id", "framework_edition", *matrix.columns]]
    return with_doc_labels(table, documents)


def theme_omissions(tasks: pd.DataFrame, documents: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Which level-1 themes each plan covers (at least one task), omits, or cannot be asked about.

    Each plan is compared with the 纲要 edition in force when it was issued
    (:func:`framework_edition`): a theme that edition lacks is *not applicable*
    (2015 plans and 突发事件应对 or 科技保障), never omitted; a plan that covers
    it anyway lists it under ``covered``.  Columns: document labels,
    ``framework_edition``, ``n_tasks``, ``n_themes_applicable``,
    ``n_themes_covered``, ``n_themes_omitted``, ``covered`` / ``omitted`` /
    ``not_applicable`` (codes joined by ``;``), ``omitted_zh`` / ``omitted_en``
    (labels joined by ``；`` / ``; ``).  A document with no task covers nothing.
    """
    codebook = codebook or Codebook.load()
    counts = coverage_matrix(tasks, documents, 1, "count", lang=None, codebook=codebook)
    applicable = applicability(documents, codebook, 1)
    frameworks = document_frameworks(documents).set_index("doc_id")["framework_edition"]
    themes = list(LEVEL1_CODES)
    rows = []
    for doc_id, row in counts.iterrows():
        in_framework = applicable.loc[doc_id]
        covered = [code for code in themes if row[code] > 0]
        omitted = [code for code in themes if row[code] == 0 and in_framework[code]]
        not_applicable = [code for code in themes if row[code] == 0 and not in_framework[code]]
        rows.append(
            {
                "doc_id": doc_id,
                "framework_edition": int(frameworks.loc[doc_id]),
                "n_tasks": int(row.sum()),
                "n_themes_applicable": int(in_framework.sum()),
                "n_themes_covered": len(covered),
                "n_themes_omitted": len(omitted),
                "covered": ";".join(covered),
                "omitted": ";".join(omitted),
                "not_applicable": ";".join(not_applicable),
                "omitted_zh": "；".join(codebook.label(c, "zh") for c in omitted),
                "omitted_en": "; ".join(codebook.label(c, "en") for c in omitted),
            }
        )
    return with_doc_labels(pd.DataFrame(rows), documents)


def omission_summary(tasks: pd.DataFrame, documents: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """Per level-1 theme, over the plans with tasks: how many cover it, omit it, or answer to a 纲要 without it.

    Columns ``theme, theme_label_zh, theme_label_en, n_plans, n_covered,
    n_omitted, n_not_applicable`` — the numbers a reading of "which theme do
    most plans leave out" must use (a plan cannot omit what its framework lacks).
    """
    codebook = codebook or Codebook.load()
    omissions = theme_omissions(tasks, documents, codebook)
    with_tasks = omissions[omissions["n_tasks"] > 0]
    labels = theme_labels(codebook)

    def count(column: str, code: str) -> int:
        return int(with_tasks[column].map(lambda codes: code in str(codes).split(";")).sum())

    return pd.DataFrame(
        [
            {
                "theme": code,
                "theme_label_zh": labels[code]["zh"],
                "theme_label_en": labels[code]["en"],
                "n_plans": len(with_tasks),
                "n_covered": count("covered", code),
                "n_omitted": count("omitted", code),
                "n_not_applicable": count("not_applicable", code),
            }
            for code in LEVEL1_CODES
        ]
    )


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
