"""Rows packed by column (a build's worker → the build's process) make the frame the rows as tuples make."""

from __future__ import annotations

import pickle
from array import array

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core import schema
from analysis.core.models import THEME_COLUMNS
from analysis.core.packing import CELLS, INTEGERS, JOINED, PackedRows, frame_packed, pack_rows

pytestmark = pytest.mark.unit

_TEXT = st.text(alphabet=["a", "中", ",", '"', "\n", " ", "\0", "="], max_size=4)
_ODD = st.none() | st.integers(-5, 5) | st.booleans() | st.floats(allow_nan=False, width=32) | _TEXT
# Mostly cells of the column's own type (the packed paths), now and then anything (the cells path).
_CELL_OF = {
    "string": st.one_of(_TEXT, _TEXT, _TEXT, _ODD),
    "Int64": st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-3, 300), st.integers(2**63, 2**70), _ODD),
    "boolean": st.one_of(st.booleans(), _ODD),
    "float64": st.one_of(st.floats(allow_nan=True, width=32), _ODD),
}
_TABLES = ("sections", "tasks", "measures", "units", "targets")


def _columns(table: str) -> dict[str, str]:
    return {c: d for c, d in schema.table_columns(table).items() if table != "tasks" or c not in THEME_COLUMNS}


def _allow_missing(table: str) -> tuple[str, ...]:
    return THEME_COLUMNS if table == "tasks" else ()


@st.composite
def documents(draw):
    """A table and its rows from one to four documents (some without rows)."""
    table = draw(st.sampled_from(_TABLES))
    columns = _columns(table)
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, 4))
        parts.append([tuple(draw(_CELL_OF[dtype]) for dtype in columns.values()) for _ in range(n)])
    return table, tuple(columns), parts


# Floats that do not fit an integer column make numpy warn before pandas raises (the test expects the raise).
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@settings(max_examples=300, deadline=None)
@given(documents())
def test_packed_rows_make_the_frame_of_the_same_rows_as_tuples(case):
    table, columns, parts = case
    rows = [row for part in parts for row in part]
    packed = [pack_rows(columns, part, table) for part in parts]
    try:
        expected = schema.frame_records(columns, rows, table, allow_missing=_allow_missing(table))
    except Exception as exc:  # values that do not fit the table: the same error
        with pytest.raises(type(exc)):
            frame_packed(packed, table, allow_missing=_allow_missing(table))
        return
    result = frame_packed(packed, table, allow_missing=_allow_missing(table))
    pd.testing.assert_frame_equal(result, expected, check_exact=True)
    assert list(result.dtypes) == list(expected.dtypes)
    for column, dtype in schema.table_columns(table).items():
        if dtype == "string":  # the same Arrow type underneath (what Parquet files record)
            assert pa.array(result[column].array).type == pa.array(expected[column].array).type


@settings(max_examples=200, deadline=None)
@given(documents())
def test_packed_rows_give_back_their_rows(case):
    table, columns, parts = case
    for part in parts:
        packed = pack_rows(columns, part, table)
        assert packed.rows() == part
        assert pickle.loads(pickle.dumps(packed, protocol=5)).rows() == part


def test_each_column_packs_as_its_cells_allow():
    columns = ("doc_id", "task_id", "measure_index", "unit_order", "raw", "name", "generic")
    rows = [
        ("d", "d-T1", 0, 0, "县财政局", "财政局", False),
        ("d", "d-T1", None, 1, "县\0司法局", None, True),
        ("d", "d-T2", 2, 2**64, "", "", False),
    ]
    kinds = [kind for kind, _ in pack_rows(columns, rows, "units").packed]
    # doc_id, task_id: text; measure_index: a missing value; unit_order: beyond 64 bits; raw: a cell holds \0;
    # name: a missing value; generic: not a packed type.
    assert kinds == [JOINED, JOINED, CELLS, CELLS, CELLS, CELLS, CELLS]
    assert pack_rows(columns[:4], [row[:4] for row in rows[:1]], "units").packed[2:] == (
        (INTEGERS, array("q", [0]).tobytes()),
        (INTEGERS, array("q", [0]).tobytes()),
    )
    assert [kind for kind, _ in pack_rows(("doc_id", "level"), [("d", True)], "sections").packed] == [JOINED, CELLS]
    assert PackedRows(columns, 0, tuple((CELLS, ()) for _ in columns)).rows() == []


def test_parts_of_different_columns_are_refused():
    first = pack_rows(("doc_id", "task_id"), [("a", "a-1")], "measures")
    second = pack_rows(("task_id", "doc_id"), [("b-1", "b")], "measures")
    with pytest.raises(ValueError, match="different columns"):
        frame_packed([first, second], "measures", allow_missing=tuple(schema.table_columns("measures")))
