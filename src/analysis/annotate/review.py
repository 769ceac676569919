"""Human review of theme codes: Excel sheet out, coder's codes back in as overrides.

``export_review`` writes the tasks the classifier is unsure about (confidence
below a threshold) to an Excel workbook with empty ``coder_*`` columns and a
second sheet listing the codebook.  ``import_review`` reads the filled sheet,
checks every code against the codebook (nothing is stored if any row is
wrong) and merges the coded rows into ``data/annotations/theme_overrides.csv``
(one row per task_id, written atomically).  Importing the same sheet twice
leaves the file unchanged; a new code for a task replaces the old one.
:func:`analysis.themes.apply_overrides` makes the overrides win over the model.
"""

from __future__ import annotations

import logging
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from analysis import config
from analysis.annotate.themes import review_order
from analysis.core.codebook import LEVEL1_CODES, OVERRIDE_COLUMNS, Codebook, CodebookCodeError, check_tasks_frame
from analysis.core.errors import InputError
from analysis.core.store import atomic_path, read_table

log = logging.getLogger(__name__)

REVIEW_SHEET = "review"
CODEBOOK_SHEET = "codebook"
CODER_COLUMNS: tuple[str, ...] = ("coder_theme", "coder_subtheme", "coder_note", "coder")
REVIEW_COLUMNS: tuple[str, ...] = (
    "task_id",
    "doc_id",
    "path",
    "headings",
    "title",
    "text",
    "theme",
    "theme_label_zh",
    "theme_label_en",
    "subtheme",
    "subtheme_label_zh",
    "subtheme_label_en",
    "theme_confidence",
    "theme_source",
    "theme_evidence",
    *CODER_COLUMNS,
)
_COLUMN_WIDTHS = {"headings": 30, "title": 24, "text": 70, "theme_evidence": 40, "coder_note": 30}


def _cell(value: Any) -> Any:
    """A value openpyxl accepts: control characters from damaged text removed."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def review_rows(predictions: pd.DataFrame, tasks: pd.DataFrame, threshold: float = 0.6) -> pd.DataFrame:
    """Tasks whose theme_confidence is below ``threshold``, most likely wrong first (gold and overrides never)."""
    task_rows = check_tasks_frame(tasks)
    task_rows["headings"] = task_rows["headings"].map(" > ".join)
    prediction_columns = list(REVIEW_COLUMNS[6:15])
    merged = task_rows.drop(columns="kind").merge(
        predictions[["task_id", *prediction_columns]], on="task_id", how="inner", validate="one_to_one"
    )
    unsure = merged["theme_confidence"].astype(float) < threshold
    rows = review_order(merged.loc[unsure])
    for column in CODER_COLUMNS:
        rows[column] = ""
    return rows[list(REVIEW_COLUMNS)].reset_index(drop=True)


def export_review(
    predictions: pd.DataFrame,
    tasks: pd.DataFrame,
    path: str | Path,
    threshold: float = 0.6,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Write the review workbook (sheets ``review`` and ``codebook``); returns the exported rows."""
    codebook = codebook or Codebook.load()
    path = Path(path)
    rows = review_rows(predictions, tasks, threshold)
    codes = codebook.to_table()[["level", "theme", "code", "label_zh", "label_en", "scope_zh", "keywords"]]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = REVIEW_SHEET
    _write_frame(sheet, rows)
    code_sheet = workbook.create_sheet(CODEBOOK_SHEET)
    _write_frame(code_sheet, codes)
    _add_code_lists(sheet, len(rows), len(codes))
    with atomic_path(path) as temporary:
        workbook.save(temporary)
    log.info("%s: %d task(s) below confidence %.2f for review", path, len(rows), threshold)
    return rows


def _write_frame(sheet: Any, frame: pd.DataFrame) -> None:
    sheet.append(list(frame.columns))
    for values in frame.itertuples(index=False):
        sheet.append([_cell(v) for v in values])
    sheet.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = _COLUMN_WIDTHS.get(column, 14)


def _add_code_lists(sheet: Any, n_rows: int, n_codes: int) -> None:
    """Drop-down lists of valid codes in the coder columns (typing is still possible)."""
    last = max(n_rows + 1, 2)
    theme_column = get_column_letter(REVIEW_COLUMNS.index("coder_theme") + 1)
    sub_column = get_column_letter(REVIEW_COLUMNS.index("coder_subtheme") + 1)
    themes = DataValidation(type="list", formula1='"' + ",".join(LEVEL1_CODES) + '"', allow_blank=True)
    subthemes = DataValidation(type="list", formula1=f"={CODEBOOK_SHEET}!$C$2:$C${n_codes + 1}", allow_blank=True)
    sheet.add_data_validation(themes)
    sheet.add_data_validation(subthemes)
    themes.add(f"{theme_column}2:{theme_column}{last}")
    subthemes.add(f"{sub_column}2:{sub_column}{last}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_review_sheet(path: str | Path, codebook: Codebook) -> pd.DataFrame:
    """The coded rows of a filled review sheet, validated (columns of the overrides file but coded_at).

    Raises :class:`InputError` naming the file, the Excel row and the code for
    every unknown code or subtheme outside its theme.
    """
    path = Path(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InputError(path, f"cannot be read as an Excel workbook: {error}") from error
    try:
        if REVIEW_SHEET not in workbook.sheetnames:
            raise InputError(path, f"no sheet named {REVIEW_SHEET!r} (sheets: {', '.join(workbook.sheetnames)})")
        rows = list(workbook[REVIEW_SHEET].iter_rows(values_only=True))
    finally:
        workbook.close()
    if not rows:
        raise InputError(path, f"sheet {REVIEW_SHEET!r} is empty")
    header = [_text(h) for h in rows[0]]
    missing = [c for c in ("task_id", *CODER_COLUMNS) if c not in header]
    if missing:
        raise InputError(path, f"sheet {REVIEW_SHEET!r} lacks column(s): {', '.join(missing)}")
    column = {name: header.index(name) for name in ("task_id", *CODER_COLUMNS)}
    coded: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for excel_row, values in enumerate(rows[1:], start=2):
        get = {name: _text(values[i]) if i < len(values) else "" for name, i in column.items()}
        theme, subtheme = get["coder_theme"], get["coder_subtheme"]
        if not theme and not subtheme:
            continue
        task_id = get["task_id"]
        if not task_id:
            problems.append(f"row {excel_row}: codes given but task_id is empty")
            continue
        if not theme and subtheme in codebook and codebook.level(subtheme) == 2:
            theme = codebook.parent(subtheme) or ""
        try:
            codebook.validate_codes(theme, subtheme)
        except CodebookCodeError as error:
            problems.append(f"row {excel_row} ({task_id}): {error}")
            continue
        entry = {
            "task_id": task_id,
            "theme": theme,
            "subtheme": subtheme,
            "note": get["coder_note"],
            "coder": get["coder"],
        }
        previous = coded.get(task_id)
        if previous is not None and previous != entry:
            problems.append(f"row {excel_row} ({task_id}): task coded twice with different codes")
            continue
        coded[task_id] = entry
    if problems:
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise InputError(path, "; ".join(problems[:20]) + more)
    return pd.DataFrame(list(coded.values()), columns=[c for c in OVERRIDE_COLUMNS if c != "coded_at"])


def load_overrides(path: str | Path | None = None) -> pd.DataFrame:
    """The stored overrides (empty table if the file does not exist yet)."""
    path = Path(path) if path is not None else config.THEME_OVERRIDES_PATH
    if not path.is_file():
        frame = pd.DataFrame(columns=list(OVERRIDE_COLUMNS))
    else:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
            raise InputError(path, f"cannot be read as UTF-8 CSV: {error}") from error
        missing = [c for c in OVERRIDE_COLUMNS if c not in frame.columns]
        if missing:
            raise InputError(path, f"missing column(s): {', '.join(missing)}")
        duplicated = frame["task_id"].duplicated()
        if duplicated.any():
            raise InputError(path, f"task_id(s) listed twice: {', '.join(frame.loc[duplicated, 'task_id'][:10])}")
        frame = frame[list(OVERRIDE_COLUMNS)]
    frame.attrs["path"] = str(path)
    return frame


def merge_overrides(existing: pd.DataFrame, coded: pd.DataFrame, coded_at: str) -> pd.DataFrame:
    """``existing`` with ``coded`` merged in: unchanged rows keep their timestamp, changed ones replace."""
    merged = {row["task_id"]: row for row in existing[list(OVERRIDE_COLUMNS)].to_dict("records")}
    compared = [c for c in OVERRIDE_COLUMNS if c != "coded_at"]
    for row in coded.to_dict("records"):
        old = merged.get(row["task_id"])
        if old is not None and all(old[c] == row[c] for c in compared):
            continue
        merged[row["task_id"]] = {**row, "coded_at": coded_at}
    frame = pd.DataFrame([merged[k] for k in sorted(merged)], columns=list(OVERRIDE_COLUMNS))
    return frame


def import_review(
    path: str | Path,
    codebook: Codebook | None = None,
    overrides_path: str | Path | None = None,
    *,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Store the coded rows of a filled review sheet as overrides; returns all stored overrides.

    Nothing is written when any row is invalid (the :class:`InputError` names
    the file, Excel row and code) or when the sheet adds nothing new.
    """
    codebook = codebook or Codebook.load()
    overrides_path = Path(overrides_path) if overrides_path is not None else config.THEME_OVERRIDES_PATH
    coded = read_review_sheet(path, codebook)
    existing = load_overrides(overrides_path)
    stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    merged = merge_overrides(existing, coded, stamp)
    if not merged.equals(existing.reset_index(drop=True)) or not overrides_path.is_file():
        with atomic_path(overrides_path) as temporary:
            merged.to_csv(temporary, index=False, encoding="utf-8", lineterminator="\n")
        log.info("%s: %d override(s) stored (%d from %s)", overrides_path, len(merged), len(coded), path)
    merged.attrs["path"] = str(overrides_path)
    return merged


def export_from_processed(out: Path | None = None, threshold: float = 0.6, processed_dir: Path | None = None) -> Path:
    """Review sheet from the last build's tasks table (CLI ``review export``)."""
    tasks = read_table("tasks", processed_dir or config.PROCESSED_DIR)
    path = out or config.EXPORTS_DIR / "theme_review.xlsx"
    coded = tasks[tasks["kind"] == "task"]
    export_review(coded, tasks, path, threshold)
    return path


def import_from_file(path: Path) -> pd.DataFrame:
    """CLI ``review import``: store a filled sheet's codes in the default overrides file."""
    return import_review(path)
