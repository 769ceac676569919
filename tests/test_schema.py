"""The table schema: conform casts and orders columns as the data dictionary says."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core import schema
from analysis.core.schema import SchemaError, conform, table_columns


def conform_by_insertion(frame: pd.DataFrame, table: str, allow_missing: tuple[str, ...] = ()) -> pd.DataFrame:
    """conform as first written: the frame copied, missing columns set to NA, cast columns inserted one by one."""
    columns = table_columns(table)
    missing = [c for c in columns if c not in frame.columns]
    assert all(c in allow_missing for c in missing)
    frame = frame.copy()
    for column in missing:
        frame[column] = pd.NA
    out = pd.DataFrame(index=frame.index)
    for column, dtype in columns.items():
        out[column] = schema._cast(frame[column], dtype, table, column)
    return out.reset_index(drop=True)


_VALUES = {
    "string": st.none() | st.text(max_size=3) | st.integers(-5, 5),
    "Int64": st.none() | st.integers(-(2**40), 2**40),
    "float64": st.none() | st.floats(allow_nan=True) | st.integers(-5, 5),
    "boolean": st.none() | st.booleans(),
}


@st.composite
def table_frames(draw):
    """A frame for the `targets` table (all four column types): some columns left out, any index."""
    columns = table_columns("targets")
    n = draw(st.integers(0, 5))
    kept = {c: d for c, d in columns.items() if draw(st.booleans())}
    data = {c: draw(st.lists(_VALUES[d], min_size=n, max_size=n)) for c, d in kept.items()}
    index = draw(st.sampled_from([None, [7] * n, list(range(n, 0, -1))]))
    frame = pd.DataFrame(data, index=index, columns=list(kept))
    return frame, tuple(c for c in columns if c not in kept)


@settings(max_examples=200, deadline=None)
@given(table_frames())
def test_conform_makes_the_table_inserting_columns_one_by_one_made(case):
    frame, missing = case
    before = frame.copy()
    try:
        expected = conform_by_insertion(frame, "targets", missing)
    except SchemaError:
        with pytest.raises(SchemaError):
            conform(frame, "targets", allow_missing=missing)
        return
    result = conform(frame, "targets", allow_missing=missing)
    pd.testing.assert_frame_equal(result, expected)
    assert list(result.dtypes) == list(expected.dtypes)
    pd.testing.assert_frame_equal(frame, before)  # the input is left as it was


def test_table_columns_is_a_fresh_dict_each_time():
    first = table_columns("units")
    first["extra"] = "string"
    assert "extra" not in table_columns("units")
    with pytest.raises(SchemaError):
        table_columns("no_such_table")


_CELL = st.none() | st.text(max_size=3) | st.integers(-5, 5) | st.booleans() | st.floats(allow_nan=False, width=32)


# Floats that do not fit an integer column make numpy warn before pandas raises (the test expects the raise).
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@settings(max_examples=200, deadline=None)
@given(st.data())
def test_frame_records_is_the_frame_of_the_same_rows_as_dicts(data):
    """Tuples in column order give the table the rows as dicts give (pandas infers each column alike)."""
    table = data.draw(st.sampled_from(["sections", "units", "targets"]))
    columns = list(table_columns(table))
    n = data.draw(st.integers(0, 4))
    tuples = [tuple(data.draw(_CELL) for _ in columns) for _ in range(n)]
    try:
        expected = schema.frame([dict(zip(columns, row, strict=True)) for row in tuples], table)
    except Exception as exc:  # values that do not fit (a SchemaError, or pandas' own error): the same error
        with pytest.raises(type(exc)):
            schema.frame_records(columns, tuples, table)
        return
    result = schema.frame_records(columns, tuples, table)
    pd.testing.assert_frame_equal(result, expected, check_exact=True)
    assert list(result.dtypes) == list(expected.dtypes)
