"""Human review of theme codes: Excel sheet out, coder's codes back in as overrides.

``export_review`` writes the tasks the classifier is unsure about (confidence
below a threshold) to an Excel workbook with empty ``coder_*`` columns and a
second sheet listing the codebook; every cell is text, never a formula
(:mod:`analysis.core.safety`).  ``import_review`` reads the filled sheet,
checks every code against the codebook and every task against the current
tasks table (nothing is stored if any row is wrong: an unknown code, a
task_id that does not exist, a task whose text changed since the export, a
formula typed in a cell) and merges the coded rows into
``data/annotations/theme_overrides.csv`` (written atomically).  Importing the
same sheet twice leaves the file unchanged; a new code for a task replaces
the old one.

A ``task_id`` follows document order, so it may name another task after a
rebuild with different segmentation.  Each override is therefore stored with
what identifies its task independently of order — the document, the path
and a hash of the task's text — and :func:`attach_overrides` finds the task
again by that identity before :func:`analysis.annotate.themes.apply_overrides`
makes the override win over the model.  An override whose task is gone or
changed is reported (run report) and never applied to another task.
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import config
from analysis.annotate.theme_inference import review_order
from analysis.core.codebook import LEVEL1_CODES, OVERRIDE_COLUMNS, Codebook, CodebookCodeError, check_tasks_frame
from analysis.core.errors import InputError
from analysis.core.models import THEME_CODE_COLUMNS
from analysis.core.safety import set_text_cell
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
    *THEME_CODE_COLUMNS,
    *CODER_COLUMNS,
    "task_hash",  # identity of the task's text when exported (checked on import)
)
_COLUMN_WIDTHS = {"headings": 30, "title": 24, "text": 70, "theme_evidence": 40, "coder_note": 30}
# What identifies an override's task independently of numbering order; stored with every override.
IDENTITY_COLUMNS: tuple[str, ...] = ("doc_id", "path", "text_hash")
STORED_COLUMNS: tuple[str, ...] = (*OVERRIDE_COLUMNS, *IDENTITY_COLUMNS)
MAX_SHEET_PROBLEMS = 1000  # reading a sheet stops after this many bad rows (a sheet of bogus rows fails fast)


def task_text_hash(text: Any) -> str:
    """Identity of a task's wording: the first 16 hex digits of the sha256 of its trimmed text."""
    return hashlib.sha256(str(text if text is not None else "").strip().encode("utf-8")).hexdigest()[:16]


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
    rows["task_hash"] = rows["text"].map(task_text_hash)
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
    # openpyxl is imported where a workbook is made or read: coding a build or an extract never needs it.
    from openpyxl import Workbook

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
    """Header and rows; every string cell is text (a task starting with ``=`` never becomes a formula)."""
    for column_index, name in enumerate(frame.columns, start=1):
        set_text_cell(sheet.cell(row=1, column=column_index), str(name))
    for row_index, values in enumerate(frame.itertuples(index=False), start=2):
        for column_index, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_index, column=column_index)
            if isinstance(value, str):
                set_text_cell(cell, value)
            elif not (value is None or (pd.api.types.is_scalar(value) and pd.isna(value))):
                cell.value = value.item() if hasattr(value, "item") else value
    sheet.freeze_panes = "A2"
    from openpyxl.utils import get_column_letter

    for i, column in enumerate(frame.columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = _COLUMN_WIDTHS.get(column, 14)


def _add_code_lists(sheet: Any, n_rows: int, n_codes: int) -> None:
    """Drop-down lists of valid codes in the coder columns (typing is still possible)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

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


def read_review_sheet(path: str | Path, codebook: Codebook, tasks: pd.DataFrame) -> pd.DataFrame:
    """The coded rows of a filled review sheet, validated, with their tasks' identity (stored columns but coded_at).

    Every coded row must name a task of ``tasks`` (the current tasks table)
    whose text is the one the sheet was exported with.  Raises
    :class:`InputError` naming the file and, for each bad row, its Excel row
    and what is wrong: an unknown code, a subtheme outside its theme, a
    task_id that does not exist, a task that changed, a formula in a cell.
    """
    path = Path(path)
    current = {row.task_id: row for row in check_tasks_frame(tasks, "the current tasks table").itertuples()}
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # Formulas are read as formulas (data_only=False), so they are reported, never silently dropped.
        workbook = load_workbook(path, read_only=True, data_only=False)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InputError(path, f"cannot be read as an Excel workbook: {error}") from error
    coded: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    try:
        if REVIEW_SHEET not in workbook.sheetnames:
            raise InputError(path, f"no sheet named {REVIEW_SHEET!r} (sheets: {', '.join(workbook.sheetnames)})")
        rows = workbook[REVIEW_SHEET].iter_rows()
        first = next(rows, None)
        if first is None:
            raise InputError(path, f"sheet {REVIEW_SHEET!r} is empty")
        header = [_text(cell.value) for cell in first]
        missing = [c for c in ("task_id", *CODER_COLUMNS) if c not in header]
        if missing:
            raise InputError(path, f"sheet {REVIEW_SHEET!r} lacks column(s): {', '.join(missing)}")
        wanted = ("task_id", *CODER_COLUMNS, "text", "task_hash")
        column = {name: header.index(name) for name in wanted if name in header}
        for excel_row, cells in enumerate(rows, start=2):
            if len(problems) >= MAX_SHEET_PROBLEMS:
                problems.append(f"stopped reading at row {excel_row}")
                break
            problem = _coded_row(excel_row, cells, column, codebook, current, coded)
            if problem:
                problems.append(problem)
    finally:
        workbook.close()
    if problems:
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise InputError(path, "; ".join(problems[:20]) + more)
    return pd.DataFrame(list(coded.values()), columns=[c for c in STORED_COLUMNS if c != "coded_at"])


def _coded_row(
    excel_row: int,
    cells: tuple[Any, ...],
    column: dict[str, int],
    codebook: Codebook,
    current: dict[str, Any],
    coded: dict[str, dict[str, str]],
) -> str | None:
    """Check one sheet row and add it to ``coded`` (keyed by task_id); return what is wrong with it, if anything."""
    found = {name: cells[i] for name, i in column.items() if i < len(cells)}
    formulas = [name for name, cell in found.items() if cell.data_type == "f" and name != "text"]
    get = {name: _text(cell.value) for name, cell in found.items()}
    theme, subtheme = get.get("coder_theme", ""), get.get("coder_subtheme", "")
    if formulas:
        return f"row {excel_row}: {', '.join(formulas)} holds a formula ({get[formulas[0]]}); type the value as text"
    if not theme and not subtheme:
        return None
    task_id = get.get("task_id", "")
    if not task_id:
        return f"row {excel_row}: codes given but task_id is empty"
    task = current.get(task_id)
    if task is None:
        return f"row {excel_row}: task_id {task_id!r} is not in the current tasks table"
    exported_hash = get.get("task_hash") or (task_text_hash(get["text"]) if "text" in get else "")
    text_hash = task_text_hash(task.text)
    if exported_hash and exported_hash != text_hash:
        return f"row {excel_row} ({task_id}): the task's text has changed since the sheet was exported; export again"
    if not theme and subtheme in codebook and codebook.level(subtheme) == 2:
        theme = codebook.parent(subtheme) or ""
    try:
        codebook.validate_codes(theme, subtheme)
    except CodebookCodeError as error:
        return f"row {excel_row} ({task_id}): {error}"
    entry = {
        "task_id": task_id,
        "theme": theme,
        "subtheme": subtheme,
        "note": get.get("coder_note", ""),
        "coder": get.get("coder", ""),
        "doc_id": task.doc_id,
        "path": task.path,
        "text_hash": text_hash,
    }
    previous = coded.get(task_id)
    if previous is not None and previous != entry:
        return f"row {excel_row} ({task_id}): task coded twice with different codes"
    coded[task_id] = entry
    return None


def load_overrides(path: str | Path | None = None) -> pd.DataFrame:
    """The stored overrides (empty table if the file does not exist yet).

    A file written before identities were stored lacks the identity columns:
    they are read as empty, and such overrides are reported, not applied.
    """
    path = Path(path) if path is not None else config.THEME_OVERRIDES_PATH
    if not path.is_file():
        frame = pd.DataFrame(columns=list(STORED_COLUMNS))
    else:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
            raise InputError(path, f"cannot be read as UTF-8 CSV: {error}") from error
        missing = [c for c in OVERRIDE_COLUMNS if c not in frame.columns]
        if missing:
            raise InputError(path, f"missing column(s): {', '.join(missing)}")
        for column in IDENTITY_COLUMNS:
            if column not in frame.columns:
                frame[column] = ""
        keys = frame.apply(_override_key, axis=1)
        duplicated = keys.duplicated()
        if duplicated.any():
            raise InputError(path, f"task(s) listed twice: {', '.join(frame.loc[duplicated, 'task_id'][:10])}")
        frame = frame[list(STORED_COLUMNS)]
    frame.attrs["path"] = str(path)
    return frame


def _override_key(row: Any) -> tuple[str, ...]:
    """What one stored override is about: its task's identity (the task_id only for identity-less old rows)."""
    if row["text_hash"]:
        return (row["doc_id"], row["path"], row["text_hash"])
    return ("", "", row["task_id"])


def merge_overrides(existing: pd.DataFrame, coded: pd.DataFrame, coded_at: str) -> pd.DataFrame:
    """``existing`` with ``coded`` merged in (by task identity): unchanged rows keep their timestamp."""
    merged = {_override_key(row): row for row in existing[list(STORED_COLUMNS)].to_dict("records")}
    compared = [c for c in STORED_COLUMNS if c != "coded_at"]
    for row in coded.to_dict("records"):
        key = _override_key(row)
        old = merged.get(key)
        if old is not None and all(old[c] == row[c] for c in compared):
            continue
        merged[key] = {**row, "coded_at": coded_at}
    return pd.DataFrame([merged[k] for k in sorted(merged)], columns=list(STORED_COLUMNS))


def import_review(
    path: str | Path,
    codebook: Codebook | None = None,
    overrides_path: str | Path | None = None,
    *,
    tasks: pd.DataFrame | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Store the coded rows of a filled review sheet as overrides; returns all stored overrides.

    ``tasks`` is the current tasks table (default: the last build's).  Nothing
    is written when any row is invalid (the :class:`InputError` names the
    file, Excel row and problem) or when the sheet adds nothing new.
    """
    codebook = codebook or Codebook.load()
    overrides_path = Path(overrides_path) if overrides_path is not None else config.THEME_OVERRIDES_PATH
    if tasks is None:
        try:
            tasks = read_table("tasks", config.PROCESSED_DIR)
        except FileNotFoundError as error:
            raise InputError(path, f"cannot check the sheet's tasks: {error}") from error
    coded = read_review_sheet(path, codebook, tasks)
    existing = load_overrides(overrides_path)
    stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    merged = merge_overrides(existing, coded, stamp)
    if not merged.equals(existing.reset_index(drop=True)) or not overrides_path.is_file():
        with atomic_path(overrides_path) as temporary:
            merged.to_csv(temporary, index=False, encoding="utf-8", lineterminator="\n")
        log.info("%s: %d override(s) stored (%d from %s)", overrides_path, len(merged), len(coded), path)
    merged.attrs["path"] = str(overrides_path)
    return merged


# --------------------------------------------------------------------------- re-attaching overrides


@dataclass
class AttachedOverrides:
    """Overrides found again in a tasks table: the applicable ones (current task_id) and the others, explained."""

    overrides: pd.DataFrame  # STORED_COLUMNS; task_id = the task the override identifies in this table
    problems: list[dict[str, str]]  # doc_id, task_id (as stored), problem: one per override not applied


def attach_overrides(overrides: pd.DataFrame, tasks: pd.DataFrame) -> AttachedOverrides:
    """Find each override's task in ``tasks`` by its identity (document, text hash, path), never by position.

    An override applies to the task of its document whose text has the same
    hash — the one at the stored path if the text occurs more than once.  Its
    path and task_id may have moved (numbering changed, tasks added or split
    before it).  Not applied, and explained in ``problems``: the task is gone,
    its text changed (another text at the stored path), the text matches
    several tasks none at the stored path, or the override has no identity
    (stored before identities were).  Overrides of documents absent from
    ``tasks`` are reported too: call this with a whole build's tasks for the
    report, or with part of it just to apply.
    """
    columns = list(STORED_COLUMNS)
    if overrides is None or overrides.empty:
        return AttachedOverrides(pd.DataFrame(columns=columns), [])
    real = tasks[tasks["kind"] == "task"] if "kind" in tasks.columns else tasks
    by_text: dict[tuple[str, str], list[tuple[str, str]]] = {}
    at_path: set[tuple[str, str]] = set()
    for doc_id, task_id, path, text in zip(real["doc_id"], real["task_id"], real["path"], real["text"], strict=True):
        by_text.setdefault((str(doc_id), task_text_hash(text)), []).append((str(task_id), str(path)))
        at_path.add((str(doc_id), str(path)))
    documents = {doc_id for doc_id, _ in at_path}
    applied: list[dict[str, Any]] = []
    problems: list[dict[str, str]] = []
    for override in overrides.fillna("").to_dict("records"):
        doc_id, path, text_hash = (str(override.get(c) or "") for c in IDENTITY_COLUMNS)
        described = f"override of {override['task_id']} ({override['theme']}/{override['subtheme'] or '-'})"
        if not text_hash:
            why = "it was stored without its task's identity (import the review sheet again)"
        else:
            candidates = by_text.get((doc_id, text_hash), [])
            same_path = [c for c in candidates if c[1] == path]
            if len(candidates) == 1 or len(same_path) == 1:
                task_id, _ = candidates[0] if len(candidates) == 1 else same_path[0]
                applied.append({**override, "task_id": task_id})
                continue
            if candidates:
                why = f"its text occurs in {len(candidates)} tasks of {doc_id}, none at {path}"
            elif (doc_id, path) in at_path:
                why = f"the task at {doc_id} {path} has another text now"
            elif doc_id in documents:
                why = f"no task of {doc_id} has its text any more"
            else:
                why = f"document {doc_id} is not in the build"
        problems.append(
            {"doc_id": doc_id, "task_id": str(override["task_id"]), "problem": f"{described} not applied: {why}"}
        )
    if problems:
        log.warning("%d override(s) not applied (task gone or changed)", len(problems))
    # Two stored overrides may find the same task (its path moved and it was coded again): the latest wins.
    frame = pd.DataFrame(applied, columns=columns).sort_values("coded_at", kind="stable")
    frame = frame.drop_duplicates("task_id", keep="last").sort_index().reset_index(drop=True)
    return AttachedOverrides(frame, problems)


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
