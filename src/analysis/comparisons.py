"""Comparisons between plans: pure functions over the processed tables.

Every function takes the processed tables (DataFrames with the columns of
``reference/data_dictionary.csv``) and returns a DataFrame; the notebooks plot
them and :func:`export_comparison_tables` writes them for papers.  Only
``kind == "task"`` rows of ``tasks`` count (framing units are not tasks).

Conventions

* Documents keep the order of the ``documents`` table (manifest order), and
  every document appears in every per-document result, also one with no task,
  unit or target (with zeros, NaN shares, or "not assigned").
* Display labels of a document are ``jurisdiction + issued_year`` in Chinese
  (``doc_label_zh``) and English (``doc_label_en``), made unique with the
  ``doc_id`` when two plans share them (:func:`document_labels`).
* Tasks without a theme code are counted under :data:`UNCODED`, never dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from analysis import config
from analysis.errors import ReferenceDataError
from analysis.models import KIND_TASK
from analysis.store import read_table
from analysis.themes import LEVEL1_CODES, Codebook

log = logging.getLogger(__name__)

TABLE_NAMES = ("documents", "sections", "tasks", "measures", "units", "targets", "repairs", "problems")

UNCODED = "uncoded"
"""Theme key for tasks the classifier left without a code."""
NOT_ASSIGNED = "not_assigned"
"""Category key for tasks naming no responsible unit at all."""
GENERIC_ONLY = "generic_only"
"""Category key for tasks naming only generic units (各有关部门 …)."""
NO_COUNTERPART = "none"
"""纲要 section key for codes with no counterpart in that edition."""
GANGYAO_EDITIONS = (2015, 2021)

SPECIAL_LABELS: dict[str, dict[str, str]] = {
    UNCODED: {"zh": "未编码", "en": "Uncoded"},
    NOT_ASSIGNED: {"zh": "未明确责任单位", "en": "Not assigned"},
    GENERIC_ONLY: {"zh": "仅泛指单位", "en": "Generic units only"},
    NO_COUNTERPART: {"zh": "无对应章节", "en": "No counterpart"},
}
"""Display labels of the keys above (both languages)."""

ADMIN_LEVEL_LABELS: dict[str, dict[str, str]] = {
    "national": {"zh": "国家", "en": "National"},
    "province": {"zh": "省级", "en": "Province"},
    "prefecture": {"zh": "地市级", "en": "Prefecture"},
    "county": {"zh": "县级", "en": "County"},
    "district": {"zh": "市辖区", "en": "District"},
    "township": {"zh": "乡镇", "en": "Township"},
    "department": {"zh": "部门", "en": "Department"},
}
"""Display labels of the manifest's ``admin_level`` values."""

HEADING_LEVEL_LABELS: dict[int, dict[str, str]] = {
    0: {"zh": "第…部分", "en": "Part"},
    1: {"zh": "一、", "en": "Level 1 (一、)"},
    2: {"zh": "(一)", "en": "Level 2 ((一))"},
    3: {"zh": "1.", "en": "Level 3 (1.)"},
    4: {"zh": "(1)", "en": "Level 4 ((1))"},
    5: {"zh": "①", "en": "Level 5 (①)"},
}
"""Display labels of ``sections.level`` (see the data dictionary)."""

TARGET_TYPE_LABELS: dict[str, dict[str, str]] = {
    "rate": {"zh": "比率", "en": "Rate"},
    "threshold": {"zh": "阈值", "en": "Threshold"},
    "count": {"zh": "数量", "en": "Count"},
    "frequency": {"zh": "频次", "en": "Frequency"},
    "deadline": {"zh": "时限", "en": "Deadline"},
    "duration": {"zh": "时长", "en": "Duration"},
    "share": {"zh": "占比", "en": "Share"},
}
"""Display labels of ``targets.type``."""

ASSIGNMENT_LABELS: dict[str, dict[str, str]] = {
    "named": {"zh": "明确到具体部门", "en": "Named agency"},
    GENERIC_ONLY: SPECIAL_LABELS[GENERIC_ONLY],
    NOT_ASSIGNED: SPECIAL_LABELS[NOT_ASSIGNED],
}
"""Display labels of :func:`assignment_status` values."""

METHOD_LABELS: dict[str, dict[str, str]] = {
    "model": {"zh": "分类模型", "en": "Classifier"},
    "model_no_rules": {"zh": "分类模型(无规则)", "en": "Classifier without rules"},
    "majority": {"zh": "多数类基线", "en": "Majority baseline"},
    "keywords": {"zh": "关键词基线", "en": "Keyword baseline"},
    "headings": {"zh": "标题基线", "en": "Heading baseline"},
}
"""Display labels of the theme evaluation methods (:data:`analysis.themes.METHODS`)."""

SCORE_LABELS: dict[str, dict[str, str]] = {
    "accuracy": {"zh": "准确率", "en": "Accuracy"},
    "macro_f1": {"zh": "宏平均F1", "en": "Macro F1"},
    "accuracy_lenient": {"zh": "宽松准确率(含次要主题)", "en": "Lenient accuracy (secondary theme counts)"},
}

_SECTION_NUMERAL = re.compile(r"^([一二三四五六七八九十百]+)")
_REFERENCE_SEPARATOR = re.compile(r"[;；]")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


# ---------------------------------------------------------------------------
# Loading and labels


def load_tables(
    processed_dir: Path | str | None = None, names: tuple[str, ...] = TABLE_NAMES
) -> dict[str, pd.DataFrame]:
    """The processed tables (``build`` output) by name, read with :func:`analysis.store.read_table`."""
    folder = Path(processed_dir) if processed_dir is not None else config.PROCESSED_DIR
    return {name: read_table(name, folder) for name in names}


def task_rows(tasks: pd.DataFrame) -> pd.DataFrame:
    """The tasks proper (``kind == "task"``), framing units left out."""
    return tasks[tasks["kind"] == KIND_TASK]


def doc_slug(doc_id: str) -> str:
    """``doc_id`` as a file-name slug for figure names (``Gansu.MIIT-2017`` -> ``gansu_miit_2017``)."""
    slug = _SLUG_JUNK.sub("_", str(doc_id).lower()).strip("_")
    if not slug:
        raise ValueError(f"doc_id {doc_id!r} has no ASCII letters or digits to name files with")
    return slug


def _year_text(value: Any) -> str:
    return "" if pd.isna(value) else str(int(value))


def document_labels(documents: pd.DataFrame) -> pd.DataFrame:
    """``doc_id, jurisdiction, issued_year, doc_label_zh, doc_label_en`` for every document.

    A label is the jurisdiction and the year (``天门市 2017`` / ``Tianmen 2017``);
    without a jurisdiction the doc_id stands in; labels shared by several
    documents get `` · doc_id`` appended so every row stays distinguishable.
    """
    frame = documents[["doc_id", "jurisdiction", "jurisdiction_en", "issued_year"]].copy()
    labels = pd.DataFrame({"doc_id": frame["doc_id"].astype(str)})
    for lang, column in (("zh", "jurisdiction"), ("en", "jurisdiction_en")):
        names = (
            frame[column]
            .where(frame[column].notna() & (frame[column].astype(str).str.strip() != ""), frame["doc_id"])
            .astype(str)
        )
        years = frame["issued_year"].map(_year_text)
        label = (names + " " + years).str.strip()
        shared = label.duplicated(keep=False)
        labels[f"doc_label_{lang}"] = label.where(~shared, label + " · " + frame["doc_id"].astype(str))
    labels.insert(1, "jurisdiction", frame["jurisdiction"].to_numpy())
    labels.insert(2, "issued_year", frame["issued_year"].to_numpy())
    return labels.reset_index(drop=True)


def doc_label_map(documents: pd.DataFrame) -> dict[Hashable, dict[str, str]]:
    """``{doc_id: {"zh": label, "en": label}}`` for :mod:`analysis.plots` (``row_labels=``)."""
    labels = document_labels(documents)
    return {row.doc_id: {"zh": row.doc_label_zh, "en": row.doc_label_en} for row in labels.itertuples()}


def with_doc_labels(frame: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the document's jurisdiction, year and labels right after ``doc_id``."""
    labels = document_labels(documents)
    base = frame.drop(columns=[c for c in labels.columns if c != "doc_id" and c in frame.columns])
    merged = base.merge(labels, on="doc_id", how="left", validate="many_to_one")
    first = ["doc_id", "jurisdiction", "issued_year", "doc_label_zh", "doc_label_en"]
    return merged[first + [c for c in merged.columns if c not in first]]


def add_labels(
    frame: pd.DataFrame, key: str, labels: Mapping[Hashable, Mapping[str, str]], base: str | None = None
) -> pd.DataFrame:
    """``frame`` with ``{base}_zh`` / ``{base}_en`` display columns for ``frame[key]``.

    ``base`` defaults to ``{key}_label``.  A key without a label is shown as
    written (and logged), never dropped.
    """
    base = base or f"{key}_label"
    missing = sorted({str(v) for v in frame[key] if v not in labels})
    if missing:
        log.warning("no display label for %s value(s) %s; shown as written", key, missing)
    frame = frame.copy()
    for lang in ("zh", "en"):
        frame[f"{base}_{lang}"] = [labels[v][lang] if v in labels else str(v) for v in frame[key]]
    return frame


def describe_extreme(
    frame: pd.DataFrame, column: str, label: str = "doc_label_zh", *, largest: bool = True, value_format: str = "{:g}"
) -> str:
    """``"天门市 2017 (36)"``: the row(s) with the largest (or smallest) ``column``, ties all named.

    Rows with a missing value are ignored; ``"none"`` when no row has one.
    Used by the notebooks' written readings so that statements follow the data.
    """
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.notna().sum() == 0:
        return "none"
    best = values.max() if largest else values.min()
    names = frame.loc[values == best, label].astype(str).tolist()
    return f"{', '.join(names)} ({value_format.format(best)})"


def admin_level_label(level: Any, lang: str) -> str:
    """Display name of an ``admin_level`` value (the value itself if unknown, logged)."""
    if pd.isna(level) or str(level) == "":
        return "未知" if lang == "zh" else "Unknown"
    if level not in ADMIN_LEVEL_LABELS:
        log.warning("admin_level %r has no display label; shown as written", level)
        return str(level)
    return ADMIN_LEVEL_LABELS[level][lang]


def theme_labels(codebook: Codebook, level: int = 1) -> dict[Hashable, dict[str, str]]:
    """``{code: {"zh": ..., "en": ...}}`` for the codes of ``level`` plus :data:`UNCODED`."""
    rows = codebook.level1 if level == 1 else codebook.level2
    labels: dict[Hashable, dict[str, str]] = {
        row.code: {"zh": row.label_zh, "en": row.label_en} for row in rows.itertuples()
    }
    labels[UNCODED] = dict(SPECIAL_LABELS[UNCODED])
    return labels


def _theme_keys(tasks: pd.DataFrame, column: str, codes: list[str]) -> pd.Series:
    """Theme (or subtheme) of each task, :data:`UNCODED` when empty; unknown codes raise."""
    values = tasks[column].astype("string").fillna("").str.strip()
    unknown = sorted(set(values) - set(codes) - {""})
    if unknown:
        raise ValueError(f"tasks.{column} holds code(s) not in the codebook: {unknown}")
    n_uncoded = int((values == "").sum())
    if n_uncoded:
        log.info("%d task(s) without a %s code counted as %r", n_uncoded, column, UNCODED)
    return values.mask(values == "", UNCODED)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} table lacks column(s): {', '.join(missing)}")


# ---------------------------------------------------------------------------
# Corpus overview


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
# Theme coverage


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
    rows = task_rows(tasks)
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
    from analysis.targets import chinese_number

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
    rows = task_rows(tasks)
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
        totals = task_rows(tasks).groupby("doc_id").size().reindex(weights.index, fill_value=0)
        for doc_id, row in weights.iterrows():
            for section, n in row.items():
                special = SPECIAL_LABELS.get(section)
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
    """``{section: {"zh": "五 健全…", "en": "Section 五"}}`` for :func:`gangyao_matrix` columns."""
    rows = alignment[alignment["edition"] == edition].drop_duplicates("section")
    labels: dict[Hashable, dict[str, str]] = {}
    for section, title in zip(rows["section"], rows["section_title"], strict=False):
        if section in SPECIAL_LABELS:
            labels[section] = dict(SPECIAL_LABELS[section])
        else:
            labels[section] = {"zh": f"{section} {title}".strip(), "en": f"Section {int(_section_order(section))}"}
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


# ---------------------------------------------------------------------------
# Duty assignment


def category_labels(reference_dir: Path | None = None) -> dict[Hashable, dict[str, str]]:
    """``{category code: {"zh": ..., "en": ...}}`` from ``agency_categories.csv``, plus the special rows."""
    from analysis.reference import TableSchema, read_csv_strict
    from analysis.units import CATEGORIES_FILE

    folder = Path(reference_dir) if reference_dir else config.REFERENCE_DIR
    table = read_csv_strict(
        folder / CATEGORIES_FILE,
        TableSchema(required=("code", "label_zh", "label_en"), optional=("note",), unique=(("code",),)),
    )
    labels: dict[Hashable, dict[str, str]] = {
        row.code: {"zh": row.label_zh, "en": row.label_en} for row in table.itertuples()
    }
    for key in (GENERIC_ONLY, NOT_ASSIGNED, UNCODED):
        labels[key] = dict(SPECIAL_LABELS[key])
    return labels


def _generic_flags(units: pd.DataFrame) -> pd.Series:
    return units["generic"].map(lambda v: str(v).strip().lower() in {"true", "1", "yes"}).astype(bool)


def duty_table(units: pd.DataFrame, tasks: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.units.duty_metrics` with document labels."""
    from analysis.units import duty_metrics

    return with_doc_labels(duty_metrics(units, tasks, documents), documents)


def assignment_status(units: pd.DataFrame, tasks: pd.DataFrame) -> pd.Series:
    """Per task (index task_id): ``"named"`` (an agency), ``generic_only`` or ``not_assigned``."""
    rows = task_rows(tasks)
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
    counts = status.value_counts().reindex(list(ASSIGNMENT_LABELS), fill_value=0)
    frame = pd.DataFrame({"assignment": counts.index, "n_tasks": counts.to_numpy().astype(int)})
    return add_labels(frame, "assignment", ASSIGNMENT_LABELS)


def top_agencies(units: pd.DataFrame, tasks: pd.DataFrame, doc_id: str | None = None, top: int = 10) -> pd.DataFrame:
    """Agencies (non-generic canonicals) named on most tasks: ``canonical, category, n_tasks, n_lead``."""
    rows = task_rows(tasks if doc_id is None else tasks[tasks["doc_id"] == doc_id])
    frame = units[units["task_id"].isin(rows["task_id"])]
    named = frame[~_generic_flags(frame)]
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
    _require(units, ("task_id", "canonical", "category", "generic"), "units")
    codebook = codebook or Codebook.load()
    rows = task_rows(tasks).assign(theme_key=lambda f: _theme_keys(f, "theme", list(LEVEL1_CODES)))
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
    _require(units, ("doc_id", "task_id", "canonical", "successor", "generic"), "units")
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


# ---------------------------------------------------------------------------
# Targets


def target_metrics_by_doc(targets: pd.DataFrame, tasks: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """:func:`analysis.targets.target_metrics` per document, every document kept (zeros when no task)."""
    from analysis.targets import target_metrics

    metrics = target_metrics(targets, tasks, ["doc_id"])
    frame = documents[["doc_id"]].merge(metrics, on="doc_id", how="left")
    counts = [c for c in frame.columns if c.startswith("n_")]
    frame[counts] = frame[counts].fillna(0).astype("Int64")
    return with_doc_labels(frame, documents)


def target_metrics_by_theme(
    targets: pd.DataFrame, tasks: pd.DataFrame, codebook: Codebook | None = None
) -> pd.DataFrame:
    """:func:`analysis.targets.target_metrics` per level-1 theme (codebook order, labels added)."""
    from analysis.targets import target_metrics

    codebook = codebook or Codebook.load()
    coded = tasks.assign(theme=tasks["theme"].astype("string"))
    coded.loc[coded["kind"] == KIND_TASK, "theme"] = _theme_keys(task_rows(coded), "theme", list(LEVEL1_CODES))
    metrics = target_metrics(targets, coded, ["theme"]).set_index("theme")
    order = [c for c in [*list(LEVEL1_CODES), UNCODED] if c in metrics.index]
    metrics = metrics.loc[order].reset_index()
    labels = theme_labels(codebook)
    metrics.insert(1, "theme_label_zh", metrics["theme"].map(lambda c: labels[c]["zh"]))
    metrics.insert(2, "theme_label_en", metrics["theme"].map(lambda c: labels[c]["en"]))
    return metrics


def target_type_mix(targets: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Targets per document and type (every type of :data:`analysis.targets.TARGET_TYPES`, zeros kept).

    ``type_share``: share of the document's targets (NaN when it has none).
    """
    from analysis.targets import TARGET_TYPES

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
    long = add_labels(long, "type", TARGET_TYPE_LABELS)
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
    _require(targets, ("doc_id", "task_id", "path", "text", "type", "deadline_date"), "targets")
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


# ---------------------------------------------------------------------------
# Classifier evaluation (display forms of analysis.themes.EvaluationReport)


def evaluation_scores(
    scores: pd.DataFrame, level: int = 1, metrics: tuple[str, ...] = ("accuracy", "macro_f1")
) -> pd.DataFrame:
    """``EvaluationReport.scores`` of one level, long: method, metric, value, with labels."""
    rows = scores[scores["level"] == level]
    long = rows.melt(
        id_vars=["method"], value_vars=[m for m in metrics if m in rows.columns], var_name="metric", value_name="value"
    )
    long = add_labels(long, "method", METHOD_LABELS)
    return add_labels(long, "metric", SCORE_LABELS)


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
    rows = add_labels(rows.drop(columns=["_d", "_m"]), "method", METHOD_LABELS)
    return with_doc_labels(rows.reset_index(drop=True), documents)


# ---------------------------------------------------------------------------
# Exported set


COLUMN_HEADERS: dict[str, tuple[str, str]] = {
    # column: (English, Chinese)
    "doc_id": ("Document", "文件编号"),
    "jurisdiction": ("Jurisdiction", "地区或机关"),
    "issued_year": ("Year issued", "印发年份"),
    "doc_label_zh": ("Label (Chinese)", "文件标签"),
    "doc_label_en": ("Label (English)", "文件标签(英文)"),
    "n_tasks": ("Tasks", "任务数"),
    "n_themes_covered": ("Themes covered", "涉及主题数"),
    "n_themes_omitted": ("Themes omitted", "未涉及主题数"),
    "covered": ("Themes covered (codes)", "涉及主题(代码)"),
    "omitted": ("Themes omitted (codes)", "未涉及主题(代码)"),
    "omitted_zh": ("Themes omitted (Chinese)", "未涉及主题"),
    "omitted_en": ("Themes omitted", "未涉及主题(英文)"),
    "n_tasks_assigned": ("Tasks with a unit", "明确责任单位的任务数"),
    "assigned_task_share": ("Share of tasks with a unit", "明确责任单位的任务占比"),
    "assignment_status": ("Assignment", "责任分工情况"),
    "n_agencies": ("Distinct agencies", "责任部门数"),
    "tasks_per_agency": ("Tasks per agency", "每个部门平均任务数"),
    "lead_agency": ("Most-named agency", "承担任务最多的部门"),
    "lead_agency_share": ("Its share of assigned tasks", "其任务占比"),
    "hhi": ("Concentration (HHI)", "集中度(HHI)"),
    "n_generic_mentions": ("Generic unit mentions", "泛指单位次数"),
    "n_unmatched": ("Unmatched unit names", "未匹配单位名称数"),
    "agency_a": ("Agency A", "部门甲"),
    "agency_b": ("Agency B", "部门乙"),
    "n_shared_tasks": ("Shared tasks", "共同承担任务数"),
    "theme": ("Theme", "主题"),
    "theme_label_zh": ("Theme (Chinese)", "主题"),
    "theme_label_en": ("Theme", "主题(英文)"),
    "n_tasks_with_target": ("Tasks with a target", "含量化目标的任务数"),
    "n_targets": ("Targets", "量化目标数"),
    "target_task_share": ("Share of tasks with a target", "含量化目标的任务占比"),
    "targets_per_task": ("Targets per task", "每项任务量化目标数"),
    "n_rate": ("Rate targets", "比率目标数"),
    "n_threshold": ("Threshold targets", "阈值目标数"),
    "n_count": ("Count targets", "数量目标数"),
    "n_frequency": ("Frequency targets", "频次目标数"),
    "n_deadline": ("Deadlines", "时限目标数"),
    "n_duration": ("Duration targets", "时长目标数"),
    "n_share": ("Share targets", "占比目标数"),
    "share_100_pct": ("Rate/share targets set at 100 (%)", "100%目标占比(%)"),
    "n_deadline_resolved": ("Deadlines with a date", "可确定日期的时限数"),
    "doc_id_a": ("Document A", "文件甲"),
    "doc_label_a": ("Plan A", "文件甲标签"),
    "task_id_a": ("Task A", "任务甲编号"),
    "path_a": ("Task A number", "任务甲序号"),
    "text_a": ("Task A text", "任务甲内容"),
    "doc_id_b": ("Document B", "文件乙"),
    "doc_label_b": ("Plan B", "文件乙标签"),
    "task_id_b": ("Task B", "任务乙编号"),
    "path_b": ("Task B number", "任务乙序号"),
    "text_b": ("Task B text", "任务乙内容"),
    "similarity": ("Cosine similarity", "余弦相似度"),
    "level": ("Level", "层级"),
    "code": ("Code", "代码"),
    "label_zh": ("Label (Chinese)", "名称"),
    "label_en": ("Label (English)", "英文名称"),
    "scope_zh": ("Scope (Chinese)", "范围说明"),
    "scope_en": ("Scope (English)", "英文范围说明"),
    "keywords": ("Keywords", "关键词"),
    "n_keywords": ("Number of keywords", "关键词数"),
    "gangyao_2015": ("2015 Outline section", "2015年纲要对应条目"),
    "gangyao_2021": ("2021 Outline section", "2021年纲要对应条目"),
}
"""English and Chinese header of every exported column (theme-code columns come from the codebook)."""


COMPARISON_INPUTS = ("documents", "tasks", "units", "targets")
"""The processed tables :func:`comparison_tables` reads."""


def comparison_tables(tables: Mapping[str, pd.DataFrame], codebook: Codebook | None = None) -> dict[str, pd.DataFrame]:
    """The exported comparison tables, keyed by file slug.

    Coverage (level-1 counts and shares, level-2 counts), theme omissions,
    duty metrics, agency pairs, target metrics by document and by theme,
    near-identical task pairs across jurisdictions, and the codebook.
    """
    from analysis.reuse import task_pairs
    from analysis.units import agency_pairs

    codebook = codebook or Codebook.load()
    documents, tasks = tables["documents"], tables["tasks"]
    units, targets = tables["units"], tables["targets"]
    pairs = agency_pairs(units)
    return {
        "coverage_level1_count": coverage_table(tasks, documents, 1, "count", codebook=codebook),
        "coverage_level1_share": coverage_table(tasks, documents, 1, "share", codebook=codebook),
        "coverage_level2_count": coverage_table(tasks, documents, 2, "count", codebook=codebook),
        "theme_omissions": theme_omissions(tasks, documents, codebook),
        "duty_metrics": duty_table(units, tasks, documents),
        "agency_pairs": with_doc_labels(pairs, documents) if len(pairs) else pairs,
        "target_metrics_by_doc": target_metrics_by_doc(targets, tasks, documents),
        "target_metrics_by_theme": target_metrics_by_theme(targets, tasks, codebook),
        "similarity_pairs": task_pairs(tasks, documents),
        "codebook": codebook.to_table(),
    }


def table_headers(tables: Mapping[str, pd.DataFrame], codebook: Codebook | None = None) -> tuple[dict, dict]:
    """``(headers_en, headers_zh)``: table -> column -> header, for :func:`analysis.exports.export_tables`.

    Theme and subtheme code columns are headed by their codebook labels; a
    column with no known header raises, so no export goes out half-labelled.
    """
    codebook = codebook or Codebook.load()
    known = {code: (codebook.label(code, "en"), codebook.label(code, "zh")) for code in codebook.codes}
    known[UNCODED] = (SPECIAL_LABELS[UNCODED]["en"], SPECIAL_LABELS[UNCODED]["zh"])
    known.update(COLUMN_HEADERS)
    headers_en: dict[str, dict[str, str]] = {}
    headers_zh: dict[str, dict[str, str]] = {}
    for name, frame in tables.items():
        missing = [str(c) for c in frame.columns if str(c) not in known]
        if missing:
            raise KeyError(f"table {name!r}: no header for column(s) {missing}; add them to COLUMN_HEADERS")
        headers_en[name] = {str(c): known[str(c)][0] for c in frame.columns}
        headers_zh[name] = {str(c): known[str(c)][1] for c in frame.columns}
    return headers_en, headers_zh


def export_comparison_tables(out_dir: Path | None = None, processed_dir: Path | None = None) -> list[Path]:
    """Read the processed tables, compute :func:`comparison_tables`, export them (CSV, MD, TeX, XLSX).

    Files go to ``out_dir`` (default ``config.EXPORTS_DIR``); returns every path written.
    """
    from analysis.exports import export_tables

    codebook = Codebook.load()
    tables = comparison_tables(load_tables(processed_dir, COMPARISON_INPUTS), codebook)
    headers_en, headers_zh = table_headers(tables, codebook)
    written = export_tables(
        tables,
        Path(out_dir) if out_dir is not None else config.EXPORTS_DIR,
        headers_en=headers_en,
        headers_zh=headers_zh,
        workbook="comparison_tables",
    )
    return list(dict.fromkeys(path for paths in written.values() for path in paths))
