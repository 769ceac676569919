"""Exporting comparison tables: CSV, Markdown, LaTeX and one formatted Excel workbook.

The notebooks export every comparison table through :func:`export_tables` so
that all tables look alike and are safe to open in a spreadsheet program.

Formula safety (CSV/formula injection, OWASP guidance): a text cell whose
first character is ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
could be run as a formula by Excel/LibreOffice.  Such *strings* are written

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
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from analysis.core.errors import InputError
from analysis.publish.latex import standalone_document, to_latex
from analysis.publish.textwidth import display_width

log = logging.getLogger(__name__)

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a text cell as a formula."""

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


def is_formula_like(value: object) -> bool:
    """True if ``value`` is a string a spreadsheet could run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def neutralise_formula(value: object) -> object:
    """Prefix formula-like strings with ``'`` (for CSV); anything else is returned unchanged."""
    return "'" + str(value) if is_formula_like(value) else value


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


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with formula-like strings (cells and headers) quote-prefixed.

    Numeric columns are left untouched, so negative numbers stay numbers.
    """
    safe = frame.copy()
    for column in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[column]) or pd.api.types.is_datetime64_any_dtype(safe[column])):
            safe[column] = safe[column].map(neutralise_formula)
    safe.columns = [neutralise_formula(str(c)) for c in safe.columns]
    return safe


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
        if ILLEGAL_CHARACTERS_RE.search(value):
            log.warning(
                "sheet %r cell %s: control characters replaced by U+FFFD (not allowed in XLSX)",
                sheet.title,
                cell.coordinate,
            )
            value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        cell.value = value
        # openpyxl turns any string starting with "=" into a formula; force text.
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def _number_format(column: str, series: pd.Series, percent: bool = False) -> str | None:
    """Number format by column type: shares (``*_share``, 0-1) as %, ``*_pct`` (0-100) with one
    decimal, integer columns as integers, other decimals with two places; text: none."""
    if column.endswith("_share") or percent:
        return "0.0%"
    if column.endswith("_pct"):
        return "0.0"
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return None
    values = pd.to_numeric(series, errors="coerce").dropna()
    if pd.api.types.is_integer_dtype(series) or (len(values) and bool((values == values.round()).all())):
        return "0"
    return "0.00"


def _cell_text(value: object) -> str:
    value = _excel_value(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def check_unique_headers(name: str, headers: Mapping[str, str], lang: str) -> None:
    """Raise when two columns of one table would show the same header (a reader could not tell them apart)."""
    seen: dict[str, str] = {}
    for column, header in headers.items():
        if header in seen:
            raise ValueError(
                f"table {name!r}: columns {seen[header]!r} and {column!r} share the {lang} header {header!r}; "
                "give them distinct headers in reference/data_dictionary.csv"
            )
        seen[header] = column


def write_sheet(
    sheet: Any,
    frame: pd.DataFrame,
    headers_en: Mapping[str, str],
    headers_zh: Mapping[str, str],
    *,
    label_column: str | None = None,
    percent_columns: Collection[str] = (),
) -> None:
    """Fill a worksheet: row 1 English header, row 2 Chinese header, data from row 3.

    ``label_column`` (the column naming each row, e.g. ``doc_label_en``) is
    moved to the front.  Print set-up: A4 landscape, fitted to one page wide,
    the two header rows and the label column repeated on every page; the
    header rows and the label column are frozen on screen.
    """
    if label_column is not None and label_column in frame.columns:
        frame = frame[[label_column, *[c for c in frame.columns if c != label_column]]]
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="E8E8E8")
    rule = Border(bottom=Side(style="thin"))
    for col_idx, column in enumerate(frame.columns, start=1):
        for row_idx, text in ((1, headers_en[column]), (2, headers_zh[column])):
            cell = _write_excel_cell(sheet, row_idx, col_idx, text)
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        sheet.cell(row=2, column=col_idx).border = rule

        number_format = _number_format(column, frame[column], column in percent_columns)
        width = max(display_width(headers_en[column]), display_width(headers_zh[column])) // 2 + 2
        for row_idx, value in enumerate(frame[column].tolist(), start=HEADER_ROWS + 1):
            cell = _write_excel_cell(sheet, row_idx, col_idx, value)
            if number_format and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = number_format
            elif isinstance(cell.value, str):
                cell.alignment = Alignment(vertical="top", wrap_text=True)
            width = max(width, display_width(_cell_text(value)))
        sheet.column_dimensions[get_column_letter(col_idx)].width = min(
            max(width + 2, _EXCEL_MIN_WIDTH), _EXCEL_MAX_WIDTH
        )
    frozen_columns = 1 if label_column is not None and label_column in frame.columns else 0
    sheet.freeze_panes = f"{get_column_letter(frozen_columns + 1)}{HEADER_ROWS + 1}"
    _print_setup(sheet, repeat_first_column=bool(frozen_columns))
    if len(frame.columns):
        last = f"{get_column_letter(len(frame.columns))}{max(len(frame) + HEADER_ROWS, HEADER_ROWS)}"
        sheet.auto_filter.ref = f"A{HEADER_ROWS}:{last}"


def _print_setup(sheet: Any, *, repeat_first_column: bool) -> None:
    """A4 landscape, one page wide (as many tall as needed), header rows (and label column) on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"1:{HEADER_ROWS}"
    if repeat_first_column:
        sheet.print_title_cols = "A:A"
    sheet.print_options.gridLines = False
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6


DEFINITIONS_SHEET = "definitions"
DEFINITIONS_COLUMNS = ("table", "column", "header_en", "header_zh", "description")


def write_definitions(sheet: Any, definitions: pd.DataFrame) -> None:
    """The ``definitions`` sheet: one row per exported column (table, column, headers, what it means)."""
    frame = definitions[list(DEFINITIONS_COLUMNS)]
    headers_en = {
        "table": "Table",
        "column": "Column",
        "header_en": "Header",
        "header_zh": "Header (Chinese)",
        "description": "Definition",
    }
    headers_zh = {
        "table": "表",
        "column": "列名",
        "header_en": "英文表头",
        "header_zh": "中文表头",
        "description": "定义",
    }
    write_sheet(sheet, frame, headers_en, headers_zh)
    sheet.column_dimensions["E"].width = _EXCEL_MAX_WIDTH + 20


def write_workbook(
    tables: Mapping[str, pd.DataFrame],
    path: Path,
    headers_en: Mapping[str, Mapping[str, str]],
    headers_zh: Mapping[str, Mapping[str, str]],
    *,
    label_columns: Mapping[str, str] | None = None,
    definitions: pd.DataFrame | None = None,
    percent_columns: Mapping[str, Collection[str]] | None = None,
) -> Path:
    """One workbook, one sheet per table (see :func:`write_sheet`), plus a ``definitions`` sheet if given."""

    label_columns = label_columns or {}
    workbook = Workbook()
    workbook.remove(workbook.active)
    names = [*tables, DEFINITIONS_SHEET] if definitions is not None else list(tables)
    for name, sheet_name in excel_sheet_names(names).items():
        sheet = workbook.create_sheet(sheet_name)
        if name == DEFINITIONS_SHEET and definitions is not None and name not in tables:
            write_definitions(sheet, definitions)
        else:
            write_sheet(
                sheet,
                tables[name],
                headers_en[name],
                headers_zh[name],
                label_column=label_columns.get(name),
                percent_columns=(percent_columns or {}).get(name, ()),
            )
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
    skipped: Iterable[str] = (),
) -> dict[str, dict[str, str]]:
    """Full header map per table; unknown tables/columns raise, missing ones are reported."""
    given = dict(given or {})
    unknown_tables = sorted(set(given) - set(tables) - set(skipped))
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
    captions: Mapping[str, Mapping[str, str]] | None = None,
    label_columns: Mapping[str, str] | None = None,
    print_columns: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    definitions: pd.DataFrame | None = None,
    percent_columns: Mapping[str, Collection[str]] | None = None,
) -> dict[str, list[Path]]:
    """Export each table as CSV, Markdown and LaTeX, plus all of them in one Excel workbook.

    ``tables`` maps a slug (file and sheet name) to a DataFrame; a non-default
    index is exported as columns.  ``headers_en`` / ``headers_zh`` map
    ``table -> column -> header``; an English header defaults to the column
    name, a missing Chinese header falls back to the column name with a
    logged warning, a header for an unknown table or column raises, and two
    columns of one table may not share a header.

    * ``{name}.csv``: UTF-8 with BOM, machine column names, formula-safe.
    * ``{name}.md``: headers in ``text_lang`` ("en"/"zh").
    * ``{name}.tex`` (English headers) and ``{name}_zh.tex`` (Chinese): see
      :mod:`analysis.publish.latex` (fits the page, caption + ``tab:{name}``
      label, rounding stated); ``{workbook}.tex`` is a document that inputs
      every English table and compiles with ``xelatex``.
    * ``{workbook}.xlsx``: a sheet per table (:func:`write_sheet`: two
      header rows, frozen panes, print set-up, number formats by column type,
      formula-safe) and a ``definitions`` sheet when ``definitions`` is given.

    ``captions``: ``table -> lang -> caption`` (default: the slug);
    ``label_columns``: the column naming each row (first in the workbook,
    repeated in every part of a split LaTeX table); ``print_columns``:
    ``table -> lang -> columns`` shown in Markdown and LaTeX (default: all).
    A table with no rows is not written (logged): an empty table says nothing.
    Returns ``{name: [csv, md, tex, tex_zh, xlsx]}`` (the workbook path is shared).
    """
    if text_lang not in ("en", "zh"):
        raise ValueError(f"text_lang must be 'en' or 'zh', not {text_lang!r}")
    if not tables:
        raise ValueError("no tables to export")
    check_slug(workbook, "workbook name")
    flat = {check_slug(name, "table name"): _flat_frame(frame) for name, frame in tables.items()}
    empty = [name for name, frame in flat.items() if frame.empty]
    for name in empty:
        log.warning("table %r has no rows: not exported", name)
    flat = {name: frame for name, frame in flat.items() if not frame.empty}
    if not flat:
        raise ValueError(f"every table is empty: {empty}")
    header_maps = {
        "en": _resolve_headers(flat, headers_en, "en", empty),
        "zh": _resolve_headers(flat, headers_zh, "zh", empty),
    }
    for lang, maps in header_maps.items():
        for name, headers in maps.items():
            check_unique_headers(name, headers, lang)
    captions = captions or {}
    label_columns = dict(label_columns or {})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    written: dict[str, list[Path]] = {}
    for name, frame in flat.items():
        csv_path = write_csv(frame, out_dir / f"{name}.csv")
        md_path = out_dir / f"{name}.md"
        md_columns = list((print_columns or {}).get(name, {}).get(text_lang) or frame.columns)
        md_path.write_text(to_markdown(frame[md_columns], header_maps[text_lang][name]), encoding="utf-8")
        paths = [csv_path, md_path]
        for lang, suffix in (("en", ""), ("zh", "_zh")):
            shown_columns = list((print_columns or {}).get(name, {}).get(lang) or frame.columns)
            shown = frame[shown_columns]
            headers = header_maps[lang][name]
            label_column = label_columns.get(name)
            if label_column in shown.columns:
                shown = shown[[label_column, *[c for c in shown.columns if c != label_column]]]
            caption = (captions.get(name) or {}).get(lang) or name
            tex_path = out_dir / f"{name}{suffix}.tex"
            tex_path.write_text(
                to_latex(
                    shown,
                    headers,
                    caption=caption,
                    label=f"tab:{name}{suffix}",
                    lang=lang,
                    percent_columns=(percent_columns or {}).get(name, ()),
                ),
                encoding="utf-8",
            )
            paths.append(tex_path)
        written[name] = paths
    document = out_dir / f"{workbook}.tex"
    document.write_text(standalone_document([f"{name}.tex" for name in written]), encoding="utf-8")
    xlsx_path = write_workbook(
        flat,
        out_dir / f"{workbook}.xlsx",
        header_maps["en"],
        header_maps["zh"],
        label_columns=label_columns,
        definitions=definitions,
        percent_columns=percent_columns,
    )
    for paths in written.values():
        paths.append(xlsx_path)
    log.info("exported %d table(s) to %s", len(written), out_dir)
    return written
