"""Rows of the tables for one document (corpus.rows)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.corpus.rows import UNIT_FIELDS, unit_rows


def unit_rows_by_comprehension(doc: Any) -> list[dict[str, Any]]:
    """unit_rows as first written: the fields of UNIT_FIELDS taken by a comprehension."""
    return [
        {
            "doc_id": doc.doc_id,
            "task_id": unit.task_id,
            "measure_index": mention.get("measure_index"),
            "unit_order": order,
            **{k: mention.get(k) for k in UNIT_FIELDS},
        }
        for unit in doc.tasks
        for order, mention in enumerate(unit.extra.get("units", []))
    ]


_KEYS = st.sampled_from([*UNIT_FIELDS, "measure_index", "other"])
_MENTION = st.dictionaries(_KEYS, st.none() | st.text(max_size=2) | st.integers(0, 3) | st.booleans())
_TASK = st.builds(
    lambda task_id, mentions: SimpleNamespace(task_id=task_id, extra={"units": mentions} if mentions else {}),
    st.text(max_size=3),
    st.lists(_MENTION, max_size=3),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TASK, max_size=4))
def test_unit_rows_are_the_rows_the_comprehension_made(tasks):
    doc = SimpleNamespace(doc_id="d", tasks=tasks)
    rows = unit_rows(doc)
    expected = unit_rows_by_comprehension(doc)
    assert rows == expected
    assert [list(row) for row in rows] == [list(row) for row in expected]  # the same columns in the same order


def _spans(part: Any) -> dict[str, Any]:
    """The four span columns of a task or a measure row."""
    return {
        "span_start": part.span[0],
        "span_end": part.span[1],
        "raw_span_start": part.raw_span[0],
        "raw_span_end": part.raw_span[1],
    }


def _first_written_rows(doc: Any) -> dict[str, list[dict[str, Any]]]:
    """The sections, tasks and measures rows as first written: one dict literal per row."""
    from analysis.core.models import KIND_TASK
    from analysis.core.schema import LIST_SEPARATOR
    from analysis.parse.structure import heading_parents

    sections, paths = [], []
    for heading, parent in zip(doc.headings, heading_parents(doc.headings), strict=False):
        parent_path = paths[parent] if parent is not None else ""
        path = f"{parent_path}/{heading.number_key}" if parent_path else heading.number_key
        paths.append(path)
        raw = doc.aligned.original_span(*heading.span) if doc.aligned else (None, None)
        sections.append(
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
    tasks = [
        {
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
            **_spans(unit),
            "n_measures": len(unit.measures),
            "flags": ";".join(unit.flags),
            "doc_title": str(doc.metadata.get("title") or ""),
        }
        for unit in doc.items
    ]
    measures = [
        {
            "doc_id": doc.doc_id,
            "task_id": unit.task_id,
            "measure_index": measure.index,
            "text": measure.text,
            **_spans(measure),
            "units_raw": LIST_SEPARATOR.join(measure.units_raw),
        }
        for unit in doc.items
        if unit.kind == KIND_TASK
        for measure in unit.measures
    ]
    return {"sections": sections, "tasks": tasks, "measures": measures, "units": unit_rows_by_comprehension(doc)}


_PLAN = (
    "某县推进数字政府建设实施方案\n"
    "一、总体要求\n坚持问题导向。\n"
    "二、重点任务\n"
    "（一）完善基础设施\n1.建设政务云平台，2025年底前覆盖率达到100%。(牵头单位:县大数据局;责任单位:县财政局)\n"
    "2.推进数据共享，完善目录。建立考核机制。(县政务服务中心负责)\n"
    "（二）提升服务能力\n3.推行一网通办。\n"
)


def test_records_are_the_rows_first_written(tmp_path):
    """Records of the large tables (and the dict rows made from them) hold the rows the dict literals made."""
    from analysis.corpus.rows import document_tables, measure_rows, section_rows, table_dicts, task_rows
    from analysis.parse.pipeline import process_document

    path = tmp_path / "plan.txt"
    path.write_text(_PLAN, encoding="utf-8")
    doc = process_document(path, "plan", {})
    expected = _first_written_rows(doc)
    assert expected["tasks"] and expected["sections"] and expected["measures"] and expected["units"]
    tables = document_tables(doc)
    got = {name: table_dicts(tables[name]) for name in expected}
    got_by_function = {"sections": section_rows(doc), "tasks": task_rows(doc), "measures": measure_rows(doc)}
    for name, rows in expected.items():
        assert got[name] == rows, name
        assert [list(row) for row in got[name]] == [list(row) for row in rows], name
        if name in got_by_function:
            assert got_by_function[name] == rows, name
