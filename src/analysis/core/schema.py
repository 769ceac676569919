"""The data dictionary and the table schema: every processed table's columns, types and meaning.

`conform` casts a frame to its table's columns and types (checked against
``reference/data_dictionary.csv``), so every writer and reader agrees on them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from analysis.core.errors import AnalysisError
from analysis.core.reference import TableSchema, read_csv_strict, reference_path

if TYPE_CHECKING:
    import pandas as pd

DICTIONARY_SCHEMA = TableSchema(
    required=("table", "column", "dtype", "description", "header_en", "header_zh"),
    unique=(("table", "column"),),
    allowed={"dtype": frozenset({"string", "Int64", "float64", "boolean", "object"})},
)


TABLE_NAMES: tuple[str, ...] = ("documents", "sections", "tasks", "measures", "units", "targets", "repairs", "problems")
"""The processed tables, in the order a build writes them."""

LIST_SEPARATOR = " | "


class SchemaError(AnalysisError):
    """A table does not match the data dictionary."""


@functools.lru_cache(maxsize=1)
def data_dictionary() -> pd.DataFrame:
    """The data dictionary (validated)."""
    return read_csv_strict(reference_path("data_dictionary.csv"), DICTIONARY_SCHEMA)


def table_columns(table: str) -> dict[str, str]:
    """Column → dtype of a table, in dictionary order (a fresh dict: the caller may change it)."""
    return dict(_table_columns(table))


@functools.cache
def _table_columns(table: str) -> tuple[tuple[str, str], ...]:
    """Looked up once per table: every part of every table is conformed (a pandas filter costs ~4 ms)."""
    rows = data_dictionary()[data_dictionary()["table"] == table]
    if rows.empty:
        raise SchemaError(f"table {table!r} is not in the data dictionary")
    return tuple(zip(rows["column"], rows["dtype"], strict=False))


def conform(frame: pd.DataFrame, table: str, *, allow_missing: Iterable[str] = ()) -> pd.DataFrame:
    """Order and type ``frame``'s columns as the dictionary says; raise on mismatch.

    ``allow_missing`` names columns that a stage has not filled yet (they are
    added empty), e.g. theme columns before the classifier has run.
    """
    import pandas as pd  # here, not at the top: LIST_SEPARATOR and the names need no pandas (start-up time)

    columns = table_columns(table)
    extra = [c for c in frame.columns if c not in columns]
    if extra:
        raise SchemaError(f"{table}: column(s) not in the data dictionary: {', '.join(extra)}")
    missing = [c for c in columns if c not in frame.columns]
    not_allowed = [c for c in missing if c not in set(allow_missing)]
    if not_allowed:
        raise SchemaError(f"{table}: missing column(s): {', '.join(not_allowed)}")
    # Missing columns made apart (empty, as pandas makes a column set to NA) instead of in a copy of ``frame``.
    filler = pd.DataFrame(index=frame.index)
    for column in missing:
        filler[column] = pd.NA
    # One frame made from the cast columns (their values by position, copied: the result shares nothing with
    # ``frame``), instead of inserting them one by one into an empty frame.
    cast = {
        column: _cast((filler if column in missing else frame)[column], dtype, table, column).array
        for column, dtype in columns.items()
    }
    return pd.DataFrame(cast, index=pd.RangeIndex(len(frame)), columns=list(columns), copy=True)


def _cast(series: pd.Series, dtype: str, table: str, column: str) -> pd.Series:
    import pandas as pd  # see conform

    try:
        if dtype == "string":
            return series.astype("string")
        if dtype == "Int64":
            return pd.to_numeric(series, errors="raise").astype("Int64")
        if dtype == "float64":
            return pd.to_numeric(series, errors="raise").astype("float64")
        if dtype == "boolean":
            return series.astype("boolean")
        return series
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{table}.{column}: values do not fit {dtype}: {exc}") from exc


def empty_table(table: str) -> pd.DataFrame:
    """A typed table with no rows."""
    import pandas as pd  # see conform

    return conform(pd.DataFrame(columns=list(table_columns(table))), table)


def frame(rows: list[dict[str, Any]], table: str, **kwargs: Any) -> pd.DataFrame:
    """Rows → a conformed table (an empty typed table when there are no rows)."""
    import pandas as pd  # see conform

    if not rows:
        return empty_table(table)
    return conform(pd.DataFrame(rows), table, **kwargs)


def frame_records(columns: Sequence[str], rows: list[tuple[Any, ...]], table: str, **kwargs: Any) -> pd.DataFrame:
    """:func:`frame` for rows given as tuples in ``columns`` order (the same table as from the rows as dicts).

    pandas turns a list of tuples into columns as it does a list of dicts with those keys (the same
    per-column type inference), without looking up every key of every row.
    """
    import pandas as pd  # see conform

    if not rows:
        return empty_table(table)
    return conform(pd.DataFrame(rows, columns=list(columns)), table, **kwargs)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise a clear ``ValueError`` naming the table when ``frame`` lacks any of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} table lacks column(s): {', '.join(missing)}")
