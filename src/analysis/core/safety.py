"""Formula safety for every spreadsheet the project writes: CSV files and Excel workbooks.

A text cell whose first character is ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return can be run as a formula by Excel or LibreOffice (CSV/formula
injection, OWASP guidance).  Captured documents are third-party text, so any
title, issuer, task or unit name may start with one of them.  Every writer of
a spreadsheet goes through this module:

* CSV: :func:`csv_safe` prefixes such strings with a single quote
  (``'=SUM(A1)``), which a spreadsheet shows as text.  Parquet files keep the
  text as captured; only the copies meant for spreadsheets are guarded.
* XLSX: :func:`set_text_cell` stores strings as explicit string cells
  (quote-prefix style when formula-like), never as formulas.

Numbers stay numbers: a negative number in a numeric column (``-3``) is not
guarded; a *string* ``"-3"`` is text and is guarded like any other.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a text cell as a formula."""


def is_formula_like(value: object) -> bool:
    """True if ``value`` is a string a spreadsheet could run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralise_formula(value: object) -> object:
    """Prefix formula-like strings with ``'`` (for CSV); anything else is returned unchanged."""
    return "'" + value if is_formula_like(value) else value  # type: ignore[operator]


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with formula-like strings (cells and headers) quote-prefixed.

    Numeric and datetime columns are left untouched, so negative numbers stay numbers.
    """
    import pandas as pd  # only where tables are written: the formula checks above need none (start-up time)

    safe = frame.copy()
    for column in safe.columns:
        series = safe[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        if isinstance(series.dtype, pd.StringDtype):  # vectorised: the usual case, whole tables of text
            formula_like = series.str.startswith(FORMULA_TRIGGERS).fillna(False).astype(bool)
            if formula_like.any():
                safe[column] = series.mask(formula_like, "'" + series)
            continue
        safe[column] = series.map(neutralise_formula)
    safe.columns = [neutralise_formula(str(c)) for c in safe.columns]
    return safe


def guard_formulas(text: Any) -> Any:
    """An Arrow string array with formula-like strings quote-prefixed, as :func:`csv_safe` does to a column.

    Missing values stay missing.  ``text`` is a pyarrow (chunked) string array;
    only the first character of each string is looked at.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    formula_like = pc.is_in(pc.utf8_slice_codeunits(text, 0, 1), value_set=pa.array(FORMULA_TRIGGERS, text.type))
    if not pc.any(formula_like).as_py():
        return text
    quote, nothing = pa.scalar("'", text.type), pa.scalar("", text.type)
    return pc.if_else(formula_like, pc.binary_join_element_wise(quote, text, nothing), text)


def set_text_cell(cell: Any, value: str) -> Any:
    """Store ``value`` in an openpyxl cell as text, never as a formula.

    Control characters that XLSX cannot hold are replaced by U+FFFD (and
    logged); openpyxl would otherwise turn any string starting with ``=`` into
    a formula, so the data type is forced to string.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if ILLEGAL_CHARACTERS_RE.search(value):
        log.warning(
            "sheet %r cell %s: control characters replaced by U+FFFD (not allowed in XLSX)",
            cell.parent.title,
            cell.coordinate,
        )
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell.value = value
    cell.data_type = "s"
    if is_formula_like(value):
        cell.quotePrefix = True
    return cell
