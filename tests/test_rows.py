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
