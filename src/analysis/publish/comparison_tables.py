"""The comparison tables a paper cites, assembled from the compare functions and written by the exporter."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.compare.coverage import coverage_table, theme_omissions
from analysis.compare.duties import agency_pairs, duty_table
from analysis.compare.labels import UNCODED, load_tables, special_labels, with_doc_labels
from analysis.compare.reuse import task_pairs
from analysis.compare.targets import target_metrics_by_doc, target_metrics_by_theme
from analysis.core.codebook import Codebook
from analysis.core.labels import COMPARISONS_TABLE, column_description, column_header, labels
from analysis.publish.exports import export_tables

COMPARISON_INPUTS = ("documents", "tasks", "units", "targets")
"""The processed tables :func:`comparison_tables` reads."""


def comparison_tables(tables: Mapping[str, pd.DataFrame], codebook: Codebook | None = None) -> dict[str, pd.DataFrame]:
    """The exported comparison tables, keyed by file slug.

    Coverage (level-1 counts and shares, level-2 counts), theme omissions,
    duty metrics, agency pairs, target metrics by document and by theme,
    near-identical task pairs across jurisdictions, and the codebook.
    """

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
    """``(headers_en, headers_zh)``: table -> column -> header, for :func:`analysis.publish.exports.export_tables`.

    Headers come from the data dictionary (``header_en`` / ``header_zh``);
    theme and subtheme code columns are headed by their codebook labels.  A
    column with no header raises, so no export goes out half-labelled.
    """
    codebook = codebook or Codebook.load()
    codes = {code: {lang: codebook.label(code, lang) for lang in ("en", "zh")} for code in codebook.codes}
    codes[UNCODED] = special_labels()[UNCODED]
    headers: dict[str, dict[str, dict[str, str]]] = {"en": {}, "zh": {}}
    for name, frame in tables.items():
        for lang in ("en", "zh"):
            headers[lang][name] = {
                str(c): codes[str(c)][lang] if str(c) in codes else column_header(str(c), lang) for c in frame.columns
            }
    return headers["en"], headers["zh"]


def definitions_table(tables: Mapping[str, pd.DataFrame], codebook: Codebook | None = None) -> pd.DataFrame:
    """One row per exported column: table, column, headers and definition (the workbook's ``definitions`` sheet)."""
    codebook = codebook or Codebook.load()
    headers_en, headers_zh = table_headers(tables, codebook)
    rows = []
    for name, frame in tables.items():
        for column in map(str, frame.columns):
            if column in codebook.codes or column == UNCODED:
                description = f"Tasks (or shares) coded {column!r} in the codebook."
            else:
                description = column_description(column, COMPARISONS_TABLE)
            rows.append(
                {
                    "table": name,
                    "column": column,
                    "header_en": headers_en[name][column],
                    "header_zh": headers_zh[name][column],
                    "description": description,
                }
            )
    return pd.DataFrame(rows)


LABEL_COLUMNS = {"en": "doc_label_en", "zh": "doc_label_zh"}
"""The column naming each row of a per-plan table."""
ID_COLUMNS = ("doc_id", "jurisdiction", "issued_year")
"""Columns the printed (Markdown, LaTeX) tables leave out: the label says the same."""


PRINT_OMIT: dict[str, tuple[str, ...]] = {
    "theme_omissions": ("covered", "omitted"),
    "codebook": ("theme", "keywords", "n_keywords", "parent"),
}
"""Columns the printed versions of a table leave out (codes repeated by labels, long keyword lists)."""


def print_columns(tables: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, list[str]]]:
    """Per table and language, the columns the printed (Markdown, LaTeX) versions show.

    One label column in the language of the print, no id columns the label
    repeats, no column in the other language (``*_zh`` in English), and none
    of :data:`PRINT_OMIT`.  The CSV and the workbook keep every column.
    """
    chosen: dict[str, dict[str, list[str]]] = {}
    for name, frame in tables.items():
        columns = [str(c) for c in frame.columns]
        omit = set(PRINT_OMIT.get(name, ()))
        if "doc_label_en" in columns:
            omit |= set(ID_COLUMNS)
        chosen[name] = {
            lang: [c for c in columns if c not in omit and not c.endswith("_zh" if lang == "en" else "_en")]
            for lang in ("en", "zh")
        }
    return chosen


def table_captions(tables: Mapping[str, pd.DataFrame], n_documents: int) -> dict[str, dict[str, str]]:
    """Caption of each table in both languages, saying how many plans it compares."""
    names = labels("table")
    captions = {}
    for name in tables:
        base = names.get(name, {"zh": name, "en": name})
        if name == "codebook":
            captions[name] = dict(base)
        else:
            captions[name] = {"zh": f"{base['zh']}(共{n_documents}个文件)", "en": f"{base['en']} ({n_documents} plans)"}
    return captions


def export_comparison_tables(out_dir: Path | None = None, processed_dir: Path | None = None) -> list[Path]:
    """Read the processed tables, compute :func:`comparison_tables`, export them (CSV, MD, TeX, XLSX).

    Files go to ``out_dir`` (default ``config.EXPORTS_DIR``); a table with no
    rows is not written.  Returns every path written.
    """

    codebook = Codebook.load()
    inputs = load_tables(processed_dir, COMPARISON_INPUTS)
    tables = comparison_tables(inputs, codebook)
    codes = {*codebook.codes, UNCODED}
    headers_en, headers_zh = table_headers(tables, codebook)
    written = export_tables(
        tables,
        Path(out_dir) if out_dir is not None else config.EXPORTS_DIR,
        headers_en=headers_en,
        headers_zh=headers_zh,
        workbook="comparison_tables",
        captions=table_captions(tables, len(inputs["documents"])),
        label_columns={name: "doc_label_en" for name, frame in tables.items() if "doc_label_en" in frame.columns},
        print_columns=print_columns(tables),
        definitions=definitions_table({n: f for n, f in tables.items() if len(f)}, codebook),
        percent_columns={
            "coverage_level1_share": [c for c in map(str, tables["coverage_level1_share"].columns) if c in codes]
        },
    )
    return list(dict.fromkeys(path for paths in written.values() for path in paths))
