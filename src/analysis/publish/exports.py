"""Exporting comparison tables: CSV, Markdown, LaTeX and one formatted Excel workbook.

The notebooks export every comparison table through :func:`export_tables` so
that all tables look alike and are safe to open in a spreadsheet program.

Formula safety (CSV/formula injection, OWASP guidance; the one guard for the
whole project is :mod:`analysis.core.safety`): a text cell whose first
character is ``=``, ``+``, ``-``, ``@``, a tab or a carriage return could be run
as a formula by Excel/LibreOffice.  Such *strings* are written

* to CSV with a leading single quote (``'=SUM(A1)``), which the spreadsheet
  shows instead of running; :func:`read_back_csv` does not undo it, so a
  researcher sees exactly what a spreadsheet user sees;
* to XLSX as explicit string cells (``data_type == "s"``, quote-prefix style)
  holding the literal text, never as formulas.

Numbers stay numbers: a negative number in a numeric column (``-3``) is
written as a number in both formats.  Only text is guarded; a *string*
``"-3"`` counts as text and is guarded like any other.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from analysis.core.errors import InputError
from analysis.core.safety import (  # the one formula guard, shared with every spreadsheet writer
    FORMULA_TRIGGERS,  # noqa: F401  (re-exported: part of this module's interface)
    csv_safe,
    is_formula_like,  # noqa: F401
    neutralise_formula,  # noqa: F401
    set_text_cell,
)

log = logging.getLogger(__name__)


CSV_ENCODING = "utf-8-sig"
"""UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")

EXCEL_SHEET_NAME_MAX = 31
_EXCEL_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_EXCEL_MIN_WIDTH = 6
_EXCEL_MAX_WIDTH = 60
HEADER_ROWS = 2
"""Workbook layout: row 1 English header, row 2 Chinese header, data from row 3."""


# ---------------------------------------------------------------------------
# Small shared helpers
# ---------------------------------------------------------------------------


def check_slug(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a file-name slug (``a-z0-9`` joined by ``-``/``_``), else raise."""
    if not isinstance(name, str) or not SLUG_PATTERN.match(name):
        raise ValueError(
            f"{what} {name!r} is not a slug: use lower-case ASCII letters and digits "
            "joined by '-' or '_' (e.g. 'theme_share_by_city')"
        )
    return name


def display_width(text: str) -> int:
    """Width of ``text`` in monospace columns: wide (CJK) characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _has_default_index(frame: pd.DataFrame) -> bool:
    index = frame.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None


def _flat_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Frame with a meaningful index turned into columns, and string column names."""
    if not _has_default_index(frame):
        frame = frame.reset_index()
    if isinstance(frame.columns, pd.MultiIndex):
        raise ValueError("MultiIndex columns cannot be exported; flatten them first")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise ValueError(f"duplicate column name(s): {duplicated}")
    return frame


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as formula-safe UTF-8-with-BOM CSV (index kept only if meaningful)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    csv_safe(_flat_frame(frame)).to_csv(path, index=False, encoding=CSV_ENCODING)
    return path


def read_back_csv(path: str | Path, *, dtype: Any = None) -> pd.DataFrame:
    """Read a CSV written by this module (UTF-8 with BOM).

    Nothing is undone: formula guards (a leading ``'``) stay visible.  Only
    empty cells become missing values (strings such as ``NA`` stay text).
    Columns that look numeric are parsed as numbers unless ``dtype`` says
    otherwise (pass ``dtype=str`` to keep codes such as ``"0012"``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "CSV file not found")
    try:
        return pd.read_csv(path, encoding=CSV_ENCODING, dtype=dtype, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot be read as UTF-8 CSV: {exc}") from exc


# ---------------------------------------------------------------------------
# Markdown and LaTeX
# ---------------------------------------------------------------------------


def _markdown_cell(value: object) -> object:
    if isinstance(value, str):
        return value.replace("|", r"\|").replace("\r\n", "<br>").replace("\n", "<br>")
    return value


def to_markdown(frame: pd.DataFrame, headers: Mapping[str, str]) -> str:
    """Pipe-table Markdown; ``|`` and newlines inside cells are escaped."""
    shown = frame.rename(columns=dict(headers))
    shown = shown.apply(lambda column: column.map(_markdown_cell))
    shown.columns = [_markdown_cell(c) for c in shown.columns]
    return shown.to_markdown(index=False) + "\n"


def to_latex(frame: pd.DataFrame, headers: Mapping[str, str], caption: str | None = None) -> str:
    """Booktabs LaTeX table with LaTeX special characters (``& % $ # _ { } ~ ^ \\``) escaped."""
    shown = frame.rename(columns=dict(headers))
    body = shown.to_latex(index=False, escape=True, na_rep="", longtable=False)
    # Chinese text is kept as is: compiling needs XeLaTeX/LuaLaTeX with xeCJK or ctex.
    preamble = (
        "% Needs \\usepackage{booktabs}; Chinese text needs XeLaTeX with \\usepackage{xeCJK}\n"
        "% (or the ctex package).\n"
    )
    if caption:
        preamble += f"% {caption}\n"
    return preamble + body


# ---------------------------------------------------------------------------
# Excel
# ---------------------------------------------------------------------------


def excel_sheet_names(names: Iterable[str]) -> dict[str, str]:
    """Map table names to valid, unique Excel sheet names (<= 31 characters)."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = _EXCEL_SHEET_FORBIDDEN.sub("_", name).strip("'") or "sheet"
        candidate = base[:EXCEL_SHEET_NAME_MAX]
        counter = 2
        while candidate.lower() in taken:  # Excel compares sheet names case-insensitively
            suffix = f"~{counter}"
            candidate = base[: EXCEL_SHEET_NAME_MAX - len(suffix)] + suffix
            counter += 1
        taken.add(candidate.lower())
        result[name] = candidate
    return result


def _excel_value(value: object) -> object:
    """Python value openpyxl can store: missing -> None, numpy/pandas scalars -> Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat() if value.tzinfo is not None else value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return _excel_value(value.item())
        except (AttributeError, ValueError):
            pass
    if isinstance(value, (str, int, float, bool, date, datetime)):
        return value
    return str(value)


def _write_excel_cell(sheet: Any, row: int, column: int, value: object) -> Any:
    """Write one cell; strings are always string cells, never formulas."""

    value = _excel_value(value)
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        set_text_cell(cell, value)
    else:
        cell.value = value
    return cell


def _number_format(column: str) -> str | None:
    """Number format from the column-name contract (``*_share`` 0-1, ``*_pct`` 0-100)."""
    if column.endswith("_share"):
        return "0.0%"
    if column.endswith("_pct"):
        return "0.0"
    return None


def _cell_text(value: object) -> str:
    value = _excel_value(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_sheet(
    sheet: Any,
    frame: pd.DataFrame,
    headers_en: Mapping[str, str],
    headers_zh: Mapping[str, str],
) -> None:
    """Fill a worksheet: row 1 English header, row 2 Chinese header, data from row 3."""

    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="E8E8E8")
    rule = Border(bottom=Side(style="thin"))
    for col_idx, column in enumerate(frame.columns, start=1):
        for row_idx, text in ((1, headers_en[column]), (2, headers_zh[column])):
            cell = _write_excel_cell(sheet, row_idx, col_idx, text)
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="center")
        sheet.cell(row=2, column=col_idx).border = rule

        number_format = _number_format(column)
        width = max(display_width(headers_en[column]), display_width(headers_zh[column]))
        for row_idx, value in enumerate(frame[column].tolist(), start=HEADER_ROWS + 1):
            cell = _write_excel_cell(sheet, row_idx, col_idx, value)
            if number_format and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = number_format
            width = max(width, display_width(_cell_text(value)))
        sheet.column_dimensions[get_column_letter(col_idx)].width = min(
            max(width + 2, _EXCEL_MIN_WIDTH), _EXCEL_MAX_WIDTH
        )
    sheet.freeze_panes = f"A{HEADER_ROWS + 1}"
    if len(frame.columns):
        last = f"{get_column_letter(len(frame.columns))}{max(len(frame) + HEADER_ROWS, HEADER_ROWS)}"
        sheet.auto_filter.ref = f"A{HEADER_ROWS}:{last}"


def write_workbook(
    tables: Mapping[str, pd.DataFrame],
    path: Path,
    headers_en: Mapping[str, Mapping[str, str]],
    headers_zh: Mapping[str, Mapping[str, str]],
) -> Path:
    """One workbook, one sheet per table (see :func:`write_sheet` for the layout)."""

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, sheet_name in excel_sheet_names(tables).items():
        write_sheet(workbook.create_sheet(sheet_name), tables[name], headers_en[name], headers_zh[name])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------


def _resolve_headers(
    tables: Mapping[str, pd.DataFrame],
    given: Mapping[str, Mapping[str, str]] | None,
    lang: str,
) -> dict[str, dict[str, str]]:
    """Full header map per table; unknown tables/columns raise, missing ones are reported."""
    given = dict(given or {})
    unknown_tables = sorted(set(given) - set(tables))
    if unknown_tables:
        raise ValueError(f"headers_{lang} names unknown table(s): {unknown_tables}")
    resolved: dict[str, dict[str, str]] = {}
    for name, frame in tables.items():
        mapping = {str(k): v for k, v in (given.get(name) or {}).items()}
        unknown = sorted(set(mapping) - set(frame.columns))
        if unknown:
            raise ValueError(f"headers_{lang}[{name!r}] names unknown column(s): {unknown}")
        missing = [c for c in frame.columns if c not in mapping]
        if lang == "zh" and missing:
            log.warning("table %r: no Chinese header for column(s) %s; using column names", name, missing)
        resolved[name] = {c: str(mapping.get(c, c)) for c in frame.columns}
    return resolved


def export_tables(
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path,
    *,
    headers_en: Mapping[str, Mapping[str, str]] | None = None,
    headers_zh: Mapping[str, Mapping[str, str]] | None = None,
    workbook: str = "tables",
    text_lang: str = "en",
) -> dict[str, list[Path]]:
    """Export each table as CSV, Markdown and LaTeX, plus all of them in one Excel workbook.

    ``tables`` maps a slug (file and sheet name) to a DataFrame; a non-default
    index is exported as columns.  ``headers_en`` / ``headers_zh`` map
    ``table -> column -> header``; an English header defaults to the column
    name, a missing Chinese header falls back to the column name with a
    logged warning, a header for an unknown table or column raises.

    * ``{name}.csv``: UTF-8 with BOM, machine column names, formula-safe.
    * ``{name}.md`` / ``{name}.tex``: headers in ``text_lang`` ("en"/"zh").
    * ``{workbook}.xlsx``: a sheet per table; row 1 English headers, row 2
      Chinese headers (bold, frozen: panes at A3), data from row 3, column
      widths from content (CJK characters count double), formula-safe.

    See the module docstring for the formula-safety rule.  Returns
    ``{name: [csv, md, tex, xlsx]}`` (the workbook path is shared).
    """
    if text_lang not in ("en", "zh"):
        raise ValueError(f"text_lang must be 'en' or 'zh', not {text_lang!r}")
    if not tables:
        raise ValueError("no tables to export")
    check_slug(workbook, "workbook name")
    flat = {check_slug(name, "table name"): _flat_frame(frame) for name, frame in tables.items()}
    header_maps = {
        "en": _resolve_headers(flat, headers_en, "en"),
        "zh": _resolve_headers(flat, headers_zh, "zh"),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    written: dict[str, list[Path]] = {}
    for name, frame in flat.items():
        text_headers = header_maps[text_lang][name]
        csv_path = write_csv(frame, out_dir / f"{name}.csv")
        md_path = out_dir / f"{name}.md"
        md_path.write_text(to_markdown(frame, text_headers), encoding="utf-8")
        tex_path = out_dir / f"{name}.tex"
        tex_path.write_text(to_latex(frame, text_headers, caption=name), encoding="utf-8")
        written[name] = [csv_path, md_path, tex_path]
    xlsx_path = write_workbook(flat, out_dir / f"{workbook}.xlsx", header_maps["en"], header_maps["zh"])
    for paths in written.values():
        paths.append(xlsx_path)
    log.info("exported %d table(s) to %s", len(written), out_dir)
    return written
