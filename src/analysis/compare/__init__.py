"""Comparisons between plans: pure functions over the processed tables (no parsing, no models).

One module per question — :mod:`~analysis.compare.coverage` (themes), :mod:`~analysis.compare.duties`
(responsible units), :mod:`~analysis.compare.targets` (quantified targets), :mod:`~analysis.compare.profile`
(the corpus at a glance), :mod:`~analysis.compare.evaluation` (classifier scores for display),
:mod:`~analysis.compare.reuse` (text reuse) — and :mod:`~analysis.compare.labels` for what they share
(document labels, the tasks proper, special keys).  The notebooks import this package as ``cmp``:
every public function of those modules is available here.
"""

from __future__ import annotations

from analysis.compare.coverage import (
    coverage_matrix,
    coverage_table,
    emphasis_by_year,
    gangyao_alignment,
    gangyao_matrix,
    gangyao_sections,
    section_labels,
    theme_omissions,
    theme_profile,
)
from analysis.compare.duties import (
    DUTY_COLUMNS,
    PAIR_COLUMNS,
    UNIT_COLUMNS,
    ReformComparison,
    agency_pair_totals,
    agency_pairs,
    assignment_status,
    assignment_summary,
    category_labels,
    category_theme_matrix,
    duty_metrics,
    duty_table,
    reform_comparison,
    reform_long,
    top_agencies,
)
from analysis.compare.evaluation import (
    evaluation_per_document,
    evaluation_scores,
)
from analysis.compare.labels import (
    GANGYAO_EDITIONS,
    GENERIC_ONLY,
    NO_COUNTERPART,
    NOT_ASSIGNED,
    TABLE_NAMES,
    UNCODED,
    add_labels,
    admin_level_label,
    describe_extreme,
    doc_label_map,
    doc_slug,
    document_labels,
    load_tables,
    select_tasks,
    special_labels,
    theme_labels,
    with_doc_labels,
)
from analysis.compare.profile import (
    count_by,
    documents_by_year_level,
    repairs_by_kind,
    structure_profile,
)
from analysis.compare.targets import (
    deadline_timeline,
    share_100pct,
    target_metrics,
    target_metrics_by_doc,
    target_metrics_by_theme,
    target_type_mix,
)
from analysis.core.codebook import LEVEL1_CODES, Codebook
from analysis.core.labels import column_header, label, label_keys, labels

__all__ = [
    "DUTY_COLUMNS",
    "GANGYAO_EDITIONS",
    "GENERIC_ONLY",
    "LEVEL1_CODES",
    "NOT_ASSIGNED",
    "NO_COUNTERPART",
    "PAIR_COLUMNS",
    "TABLE_NAMES",
    "UNCODED",
    "UNIT_COLUMNS",
    "Codebook",
    "ReformComparison",
    "add_labels",
    "admin_level_label",
    "agency_pair_totals",
    "agency_pairs",
    "assignment_status",
    "assignment_summary",
    "category_labels",
    "category_theme_matrix",
    "column_header",
    "count_by",
    "coverage_matrix",
    "coverage_table",
    "deadline_timeline",
    "describe_extreme",
    "doc_label_map",
    "doc_slug",
    "document_labels",
    "documents_by_year_level",
    "duty_metrics",
    "duty_table",
    "emphasis_by_year",
    "evaluation_per_document",
    "evaluation_scores",
    "gangyao_alignment",
    "gangyao_matrix",
    "gangyao_sections",
    "label",
    "label_keys",
    "labels",
    "load_tables",
    "reform_comparison",
    "reform_long",
    "repairs_by_kind",
    "section_labels",
    "select_tasks",
    "share_100pct",
    "special_labels",
    "structure_profile",
    "target_metrics",
    "target_metrics_by_doc",
    "target_metrics_by_theme",
    "target_type_mix",
    "theme_labels",
    "theme_omissions",
    "theme_profile",
    "top_agencies",
    "with_doc_labels",
]
