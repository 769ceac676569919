"""Tables stage: parsed documents → DataFrames with a fixed, documented schema.

The schema of every table is the data dictionary
(``reference/data_dictionary.csv``: table, column, dtype, description).
:func:`conform` orders and types the columns and fails loudly on a column the
dictionary does not know or one it misses, so the library, the exports and
the notebooks always see the same names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis import config
from analysis.core.models import KIND_TASK, THEME_COLUMNS, ParsedDocument
from analysis.core.schema import LIST_SEPARATOR
from analysis.parse.structure import heading_parents


def document_rows(doc: ParsedDocument) -> dict[str, Any]:
    """One `documents` row."""
    metadata = dict(doc.metadata)
    issued = metadata.get("issued") or ""
    year = int(issued[:4]) if len(issued) >= 4 and issued[:4].isdigit() else metadata.get("period_start")
    tasks = doc.tasks
    row = {
        "doc_id": doc.doc_id,
        **{
            k: metadata.get(k)
            for k in (
                "title",
                "issuer",
                "doc_number",
                "issued",
                "published",
                "period_start",
                "period_end",
                "doc_type",
                "doc_type_raw",
                "year",
                "year_source",
                "jurisdiction",
                "jurisdiction_en",
                "province",
                "admin_level",
                "source_format",
                "n_simplified_chars",
                "n_furniture_blocks",
            )
        },
        "issued_year": year,
        "source_path": _display_path(doc.source_path),
        "encoding": doc.encoding,
        "n_tasks": len(tasks),
        "n_framing": len(doc.items) - len(tasks),
        "n_measures": sum(len(t.measures) for t in tasks),
        "n_sections": len(doc.headings),
        "max_depth": max((h.level for h in doc.headings), default=None),
        "n_repairs": len(doc.repairs),
        "n_problems": len(doc.problems),
    }
    return row


def _display_path(path: str) -> str:
    """Paths inside the project are stored relative to it (tables stay portable)."""
    try:
        return str(Path(path).resolve().relative_to(config.ROOT))
    except ValueError:
        return path


def section_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`sections` rows: every numbered (or recovered) heading."""
    parents = heading_parents(doc.headings)
    paths: list[str] = []
    rows = []
    for heading, parent in zip(doc.headings, parents, strict=False):
        parent_path = paths[parent] if parent is not None else ""
        path = f"{parent_path}/{heading.number_key}" if parent_path else heading.number_key
        paths.append(path)
        raw = doc.aligned.original_span(*heading.span) if doc.aligned else (None, None)
        rows.append(
            {
                "doc_id": doc.doc_id,
                "section_path": path,
                "level": heading.level,
                "number": heading.number,
                "number_inferred": heading.inferred,
                "title": heading.title,
                "parent_path": parent_path,
                "span_start": heading.span[0],
                "span_end": heading.span[1],
                "raw_span_start": raw[0],
                "raw_span_end": raw[1],
            }
        )
    return rows


def task_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`tasks` rows (tasks and framing units); theme columns from ``extra`` if set."""
    rows = []
    for unit in doc.items:
        row = {
            "doc_id": unit.doc_id,
            "task_id": unit.task_id,
            "kind": unit.kind,
            "seq": unit.seq,
            "number": unit.number,
            "path": unit.path,
            "level": unit.level,
            "headings": " > ".join(unit.headings),
            "section_title": unit.headings[-1] if unit.headings else "",
            "title": unit.title,
            "text": unit.text,
            "span_start": unit.span[0],
            "span_end": unit.span[1],
            "raw_span_start": unit.raw_span[0],
            "raw_span_end": unit.raw_span[1],
            "n_measures": len(unit.measures),
            "flags": ";".join(unit.flags),
            "doc_title": str(doc.metadata.get("title") or ""),
        }
        for column in THEME_COLUMNS:
            if column in unit.extra:
                row[column] = unit.extra[column]
        rows.append(row)
    return rows


def measure_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`measures` rows."""
    return [
        {
            "doc_id": doc.doc_id,
            "task_id": unit.task_id,
            "measure_index": measure.index,
            "text": measure.text,
            "span_start": measure.span[0],
            "span_end": measure.span[1],
            "raw_span_start": measure.raw_span[0],
            "raw_span_end": measure.raw_span[1],
            "units_raw": LIST_SEPARATOR.join(measure.units_raw),
        }
        for unit in doc.items
        if unit.kind == KIND_TASK
        for measure in unit.measures
    ]


def repair_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`repairs` rows."""
    return [
        {
            "doc_id": doc.doc_id,
            "kind": r.kind,
            "before": r.before,
            "after": r.after,
            "raw_span_start": r.raw_span[0],
            "raw_span_end": r.raw_span[1],
            "reason": r.reason,
        }
        for r in doc.repairs
    ]


UNIT_FIELDS = ("raw", "name", "canonical", "successor", "category", "role", "generic", "match", "source")


TARGET_FIELDS = (
    "text",
    "type",
    "value",
    "value_max",
    "unit",
    "comparator",
    "period",
    "period_years",
    "deadline_date",
    "deadline_recurring",
    "deadline_month",
    "deadline_day",
    "metric",
    "stance",
)


def unit_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`units` rows: one per (task, measure, unit), in written order."""
    rows = []
    doc_id = doc.doc_id
    for unit in doc.tasks:
        task_id = unit.task_id
        for order, mention in enumerate(unit.extra.get("units", [])):
            get = mention.get  # the fields of UNIT_FIELDS written out: ~100 rows per document, a dict each
            rows.append(
                {
                    "doc_id": doc_id,
                    "task_id": task_id,
                    "measure_index": get("measure_index"),
                    "unit_order": order,
                    "raw": get("raw"),
                    "name": get("name"),
                    "canonical": get("canonical"),
                    "successor": get("successor"),
                    "category": get("category"),
                    "role": get("role"),
                    "generic": get("generic"),
                    "match": get("match"),
                    "source": get("source"),
                }
            )
    return rows


def target_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`targets` rows: one per quantified commitment (of a task or a framing unit), spans in both texts."""
    rows = []
    for unit in doc.items:
        for target in unit.extra.get("targets", []):
            start, end = target["span_start"], target["span_end"]
            raw = doc.aligned.original_span(start, end) if doc.aligned else (None, None)
            rows.append(
                {
                    "doc_id": doc.doc_id,
                    "task_id": unit.task_id,
                    "path": unit.path,
                    "measure_index": target.get("measure_index"),
                    "target_index": target["target_index"],
                    "span_start": start,
                    "span_end": end,
                    "raw_span_start": raw[0],
                    "raw_span_end": raw[1],
                    **{k: target.get(k) for k in TARGET_FIELDS},
                }
            )
    return rows


def document_tables(doc: ParsedDocument) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows for one document (the unit of caching and parallel work)."""
    return {
        "documents": [document_rows(doc)],
        "sections": section_rows(doc),
        "tasks": task_rows(doc),
        "measures": measure_rows(doc),
        "units": unit_rows(doc),
        "targets": target_rows(doc),
        "repairs": repair_rows(doc),
        "problems": [
            {
                "doc_id": doc.doc_id,
                "file": doc.source_path,
                "stage": p.get("stage", ""),
                "severity": p.get("severity", "warning"),
                "problem": p.get("problem", ""),
            }
            for p in doc.problems
        ],
    }
