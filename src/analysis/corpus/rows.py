"""Tables stage: parsed documents → DataFrames with a fixed, documented schema.

The schema of every table is the data dictionary
(``reference/data_dictionary.csv``: table, column, dtype, description).
:func:`conform` orders and types the columns and fails loudly on a column the
dictionary does not know or one it misses, so the library, the exports and
the notebooks always see the same names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

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


class Records(NamedTuple):
    """A table's rows as tuples in ``columns`` order: what a build sends and caches per document.

    Cheaper than one dict per row to make, to pickle across the worker's pipe, to unpickle and to turn into a
    frame (pandas reads the same values, so the frame is the same).  :meth:`dicts` gives the dict rows.
    """

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        """The rows as dicts (keys in column order)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


SECTION_COLUMNS = (
    "doc_id",
    "section_path",
    "level",
    "number",
    "number_inferred",
    "title",
    "parent_path",
    "span_start",
    "span_end",
    "raw_span_start",
    "raw_span_end",
)


def section_records(doc: ParsedDocument) -> Records:
    """`sections` rows: every numbered (or recovered) heading."""
    parents = heading_parents(doc.headings)
    paths: list[str] = []
    rows = []
    doc_id = doc.doc_id
    for heading, parent in zip(doc.headings, parents, strict=False):
        parent_path = paths[parent] if parent is not None else ""
        path = f"{parent_path}/{heading.number_key}" if parent_path else heading.number_key
        paths.append(path)
        raw = doc.aligned.original_span(*heading.span) if doc.aligned else (None, None)
        rows.append(
            (
                doc_id,
                path,
                heading.level,
                heading.number,
                heading.inferred,
                heading.title,
                parent_path,
                heading.span[0],
                heading.span[1],
                raw[0],
                raw[1],
            )
        )
    return Records(SECTION_COLUMNS, rows)


def section_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`sections` rows as dicts."""
    return section_records(doc).dicts()


TASK_COLUMNS = (
    "doc_id",
    "task_id",
    "kind",
    "seq",
    "number",
    "path",
    "level",
    "headings",
    "section_title",
    "title",
    "text",
    "span_start",
    "span_end",
    "raw_span_start",
    "raw_span_end",
    "n_measures",
    "flags",
    "doc_title",
)


def task_records(doc: ParsedDocument) -> Records:
    """`tasks` rows (tasks and framing units) without theme columns."""
    doc_title = str(doc.metadata.get("title") or "")
    return Records(
        TASK_COLUMNS,
        [
            (
                unit.doc_id,
                unit.task_id,
                unit.kind,
                unit.seq,
                unit.number,
                unit.path,
                unit.level,
                " > ".join(unit.headings),
                unit.headings[-1] if unit.headings else "",
                unit.title,
                unit.text,
                unit.span[0],
                unit.span[1],
                unit.raw_span[0],
                unit.raw_span[1],
                len(unit.measures),
                ";".join(unit.flags),
                doc_title,
            )
            for unit in doc.items
        ],
    )


def task_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`tasks` rows (tasks and framing units); theme columns from ``extra`` if set."""
    rows = task_records(doc).dicts()
    for unit, row in zip(doc.items, rows, strict=True):
        for column in THEME_COLUMNS:
            if column in unit.extra:
                row[column] = unit.extra[column]
    return rows


MEASURE_COLUMNS = (
    "doc_id",
    "task_id",
    "measure_index",
    "text",
    "span_start",
    "span_end",
    "raw_span_start",
    "raw_span_end",
    "units_raw",
)


def measure_records(doc: ParsedDocument) -> Records:
    """`measures` rows."""
    doc_id = doc.doc_id
    return Records(
        MEASURE_COLUMNS,
        [
            (
                doc_id,
                unit.task_id,
                measure.index,
                measure.text,
                measure.span[0],
                measure.span[1],
                measure.raw_span[0],
                measure.raw_span[1],
                LIST_SEPARATOR.join(measure.units_raw),
            )
            for unit in doc.items
            if unit.kind == KIND_TASK
            for measure in unit.measures
        ],
    )


def measure_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`measures` rows as dicts."""
    return measure_records(doc).dicts()


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


UNIT_COLUMNS = ("doc_id", "task_id", "measure_index", "unit_order", *UNIT_FIELDS)


def unit_records(doc: ParsedDocument) -> Records:
    """`units` rows: one per (task, measure, unit), in written order."""
    rows = []
    doc_id = doc.doc_id
    for unit in doc.tasks:
        task_id = unit.task_id
        for order, mention in enumerate(unit.extra.get("units", [])):
            get = mention.get  # the fields of UNIT_FIELDS written out: ~100 rows per document
            rows.append(
                (
                    doc_id,
                    task_id,
                    get("measure_index"),
                    order,
                    get("raw"),
                    get("name"),
                    get("canonical"),
                    get("successor"),
                    get("category"),
                    get("role"),
                    get("generic"),
                    get("match"),
                    get("source"),
                )
            )
    return Records(UNIT_COLUMNS, rows)


def unit_rows(doc: ParsedDocument) -> list[dict[str, Any]]:
    """`units` rows as dicts."""
    return unit_records(doc).dicts()


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


DocumentTables = dict[str, "list[dict[str, Any]] | Records"]


def document_tables(doc: ParsedDocument) -> DocumentTables:
    """Every table's rows for one document (the unit of caching and parallel work).

    The large tables come as :class:`Records` (no theme columns: a build codes themes later), the others as
    dict rows; :func:`table_dicts` reads either.
    """
    return {
        "documents": [document_rows(doc)],
        "sections": section_records(doc),
        "tasks": task_records(doc),
        "measures": measure_records(doc),
        "units": unit_records(doc),
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


def table_dicts(rows: list[dict[str, Any]] | Records) -> list[dict[str, Any]]:
    """A table's rows of :func:`document_tables` as dicts, whichever form they came in."""
    return rows.dicts() if isinstance(rows, Records) else rows
