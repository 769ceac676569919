"""Loading reference tables (codebook, aliases, crosswalks, ...) with a schema.

Reference knowledge is data: CSV files under ``src/analysis/reference/``,
each described (with its source) in that folder's README.  Every table is
validated when it is loaded, so a typo in a hand-edited file fails loudly with
the file, row and problem named, instead of silently changing results.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis import config
from analysis.core.errors import ReferenceDataError

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSchema:
    """What a reference table must look like.

    ``required``: columns that must exist and be non-empty in every row;
    ``optional``: columns that may exist (may be empty);
    ``unique``: column sets whose values must not repeat;
    ``allowed``: for a column, the set of values it may take (empty allowed
    unless the column is required);
    ``checks``: extra row checks returning an error message or None; a check
    gets the row as a mapping column -> value (``row["alias"]``, ``row.get``).
    """

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    allowed: dict[str, frozenset[str]] = field(default_factory=dict)
    checks: tuple[Callable[[Any], str | None], ...] = ()


def reference_path(name: str) -> Path:
    """Path of a reference file shipped with the package."""
    return config.REFERENCE_DIR / name


def read_csv_strict(path: str | Path, schema: TableSchema) -> pd.DataFrame:
    """Read a UTF-8 CSV as strings and validate it against ``schema`` (a DataFrame of :func:`read_rows_strict`)."""
    # pandas only for callers that want a frame: the per-document stages read rows (start-up time).
    import pandas as pd

    path = Path(path)
    columns, rows = _read_validated(path, schema)
    return pd.DataFrame({c: [row[c] for row in rows] for c in columns}, columns=columns, dtype=str)


def read_rows_strict(path: str | Path, schema: TableSchema) -> list[dict[str, str]]:
    """Read a UTF-8 CSV as strings, validate it against ``schema``: one dict per row, every value stripped."""
    return _read_validated(Path(path), schema)[1]


def _read_validated(path: Path, schema: TableSchema) -> tuple[list[str], list[dict[str, str]]]:
    columns, records = _read_csv(path)
    validate(columns, records, schema, path)
    return columns, [{c: v.strip() for c, v in record.items()} for record in records]


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header (stripped) and rows of a CSV read as pandas' ``read_csv(dtype=str, keep_default_na=False)`` reads it:
    blank lines skipped, missing trailing fields empty, more fields than the header an error."""
    if not path.is_file():
        raise ReferenceDataError(path, "file not found")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            lines = [(n, fields) for n, fields in enumerate(csv.reader(handle, strict=True), start=1) if fields]
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ReferenceDataError(path, f"cannot be read as UTF-8 CSV: {exc}") from exc
    if not lines:
        raise ReferenceDataError(path, "cannot be read as UTF-8 CSV: no columns to parse from file")
    columns = [c.strip() for c in lines[0][1]]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ReferenceDataError(path, f"cannot be read as UTF-8 CSV: repeated column(s) {', '.join(repeated)}")
    records = []
    for number, fields in lines[1:]:
        if len(fields) > len(columns):
            raise ReferenceDataError(
                path, f"cannot be read as UTF-8 CSV: expected {len(columns)} fields in line {number}, saw {len(fields)}"
            )
        records.append(dict(zip(columns, fields + [""] * (len(columns) - len(fields)), strict=True)))
    return columns, records


def validate(columns: list[str], records: list[dict[str, str]], schema: TableSchema, path: str | Path) -> None:
    """Raise :class:`ReferenceDataError` naming the first problems found (``records``: the rows as read)."""
    missing = [c for c in schema.required if c not in columns]
    if missing:
        raise ReferenceDataError(path, f"missing column(s): {', '.join(missing)}")
    known = set(schema.required) | set(schema.optional)
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ReferenceDataError(path, f"unknown column(s): {', '.join(unknown)}")
    raw = {column: [record[column] for record in records] for column in columns}
    stripped = {column: [_strip(v) for v in values] for column, values in raw.items()}
    problems: list[str] = []
    for column in schema.required:
        problems += [f"row {i + 2}: empty {column!r}" for i, v in enumerate(stripped[column]) if v == ""]
    for column, allowed in schema.allowed.items():
        if column not in columns:
            continue
        problems += [
            f"row {i + 2}: {column}={value!r} not one of {sorted(allowed)}"
            for i, (value, v) in enumerate(zip(raw[column], stripped[column], strict=True))
            if v != "" and v not in allowed
        ]
    for unique in schema.unique:
        seen: set[tuple[object, ...]] = set()
        for i, key in enumerate(zip(*(stripped[c] for c in unique), strict=True)):
            if key in seen:
                problems.append(f"row {i + 2}: duplicate {'+'.join(unique)} {'/'.join(map(str, key))!r}")
            seen.add(key)
    for check in schema.checks:
        for i, record in enumerate(records):
            message = check(record)
            if message:
                problems.append(f"row {i + 2}: {message}")
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ReferenceDataError(path, shown + more)


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def warn_unused(kind: str, path: str | Path, defined: Iterable[str], used: Iterable[str]) -> list[str]:
    """Log (and return) reference entries that were never used in a run."""
    unused = sorted(set(defined) - set(used))
    if unused:
        log.warning("%s: %d %s never used: %s", path, len(unused), kind, ", ".join(unused[:20]))
    return unused


AGENCY_CATEGORIES_FILE = "agency_categories.csv"
AGENCY_CATEGORIES_SCHEMA = TableSchema(
    required=("code", "label_zh", "label_en"), optional=("note",), unique=(("code",),)
)


def load_agency_categories(reference_dir: str | Path | None = None) -> list[dict[str, str]]:
    """The agency categories (code, zh/en labels), validated: shared by the unit normaliser and the comparisons."""
    folder = Path(reference_dir) if reference_dir else config.REFERENCE_DIR
    return read_rows_strict(folder / AGENCY_CATEGORIES_FILE, AGENCY_CATEGORIES_SCHEMA)
