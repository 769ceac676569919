"""The comparison tables a paper cites, assembled from the compare functions and written by the exporter."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.compare.coverage import COVERAGE_HEADERS, coverage_table, theme_omissions
from analysis.compare.duties import agency_pairs, duty_table
from analysis.compare.labels import SPECIAL_LABELS, UNCODED, load_tables, with_doc_labels
from analysis.compare.reuse import task_pairs
from analysis.compare.targets import target_metrics_by_doc, target_metrics_by_theme
from analysis.core.codebook import Codebook
from analysis.publish.exports import export_tables

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
    known.update(COVERAGE_HEADERS)
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
