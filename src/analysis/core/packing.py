"""Table rows packed column by column: how a build's per-document worker sends its large tables.

A document's rows as tuples cost one Python object per cell to pickle in the
worker, to unpickle in the build's process and to turn into a frame there.
Packed, a text column is one string (the cells joined by ``\\0``) and an
integer column one run of bytes: the worker joins them in C, the build's
process joins the parts of many documents the same way and hands each column
to Arrow whole, without making a Python string per cell.  The frame is the one
:func:`~analysis.core.schema.frame_records` makes from the same rows (tested).

A column that does not pack — a missing value, a cell holding ``\\0``, an
integer beyond 64 bits, a type the table does not expect — travels as its
cells, and is typed as pandas types a column of tuples, then cast by :func:`~analysis.core.schema.conform`.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from analysis.core import schema

if TYPE_CHECKING:
    import pandas as pd

JOINED = "joined"  # a text column: the cells joined by SEPARATOR (none of them holds it)
INTEGERS = "integers"  # an Int64 column without missing values: the cells as signed 64-bit machine integers
CELLS = "cells"  # anything else: the cells themselves
SEPARATOR = "\0"


class PackedRows(NamedTuple):
    """A table's rows of one document packed by column (:func:`pack_rows`); ``columns`` in the rows' order."""

    columns: tuple[str, ...]
    n_rows: int
    packed: tuple[tuple[str, Any], ...]  # per column: (JOINED, str) | (INTEGERS, bytes) | (CELLS, tuple)

    def column_cells(self, position: int) -> list[Any]:
        """The cells of the column at ``position``, as they were before packing."""
        kind, payload = self.packed[position]
        if not self.n_rows:
            return []
        if kind == JOINED:
            cells: list[Any] = payload.split(SEPARATOR)
            return cells
        if kind == INTEGERS:
            return array("q", payload).tolist()
        return list(payload)

    def rows(self) -> list[tuple[Any, ...]]:
        """The rows as tuples in ``columns`` order (what was packed)."""
        return list(zip(*(self.column_cells(i) for i in range(len(self.columns))), strict=True))


def pack_rows(columns: Sequence[str], rows: list[tuple[Any, ...]], table: str) -> PackedRows:
    """``rows`` (tuples in ``columns`` order) of ``table`` packed by column, as the data dictionary types them."""
    dtypes = schema.table_columns(table)
    cells_by_column: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    packed: list[tuple[str, Any]] = []
    for name, cells in zip(columns, cells_by_column, strict=True):
        packed.append(_pack_column(cells, dtypes.get(name)))
    return PackedRows(tuple(columns), len(rows), tuple(packed))


def _pack_column(cells: tuple[Any, ...], dtype: str | None) -> tuple[str, Any]:
    # join and array test every cell in C: a cell of another type raises TypeError (or OverflowError), and the
    # column goes as its cells.
    try:
        if dtype == "string":
            joined = SEPARATOR.join(cells)
            if joined.count(SEPARATOR) == len(cells) - 1:  # no cell holds the separator
                return JOINED, joined
        elif dtype == "Int64" and bool not in map(type, cells):  # True would pack as 1
            return INTEGERS, array("q", cells).tobytes()
    except (TypeError, OverflowError):
        pass
    return CELLS, cells


def frame_packed(parts: Sequence[PackedRows], table: str, **kwargs: Any) -> pd.DataFrame:
    """The conformed frame of the rows of ``parts`` (in order; all of the same columns), as :func:`frame_records`
    makes it from the same rows as tuples."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [part for part in parts if part.n_rows]
    if not parts:
        return schema.empty_table(table)
    columns = parts[0].columns
    if any(part.columns != columns for part in parts):
        raise ValueError(f"{table}: packed parts with different columns")
    data: dict[str, Any] = {}
    for position, name in enumerate(columns):
        kinds = {part.packed[position][0] for part in parts}
        if kinds == {JOINED}:
            joined = SEPARATOR.join(part.packed[position][1] for part in parts)
            cells = pc.split_pattern(pa.array([joined], type=pa.large_string()), SEPARATOR).values
            data[name] = pd.arrays.ArrowStringArray(cells)
        elif kinds == {INTEGERS}:
            integers = np.frombuffer(b"".join(part.packed[position][1] for part in parts), dtype=np.int64)
            data[name] = pd.array(integers, dtype="Int64")
        else:  # cells of their own types: typed as pandas types a column of tuples (int and None: float), then cast
            cells = [(cell,) for part in parts for cell in part.column_cells(position)]
            data[name] = pd.DataFrame(cells, columns=[name])[name]
    return schema.conform(pd.DataFrame(data, columns=list(columns)), table, **kwargs)
