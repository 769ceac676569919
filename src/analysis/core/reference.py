"""Loading reference tables (codebook, aliases, crosswalks, ...) with a schema.

Reference knowledge is data: CSV files under ``src/analysis/reference/``,
each described (with its source) in that folder's README.  Every table is
validated when it is loaded, so a typo in a hand-edited file fails loudly with
the file, row and problem named, instead of silently changing results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import config
from analysis.core.errors import ReferenceDataError

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
    """Read a UTF-8 CSV as strings and validate it against ``schema``."""
    path = Path(path)
    if not path.is_file():
        raise ReferenceDataError(path, "file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ReferenceDataError(path, f"cannot be read as UTF-8 CSV: {exc}") from exc
    frame.columns = [c.strip() for c in frame.columns]
    validate(frame, schema, path)
    return frame.apply(lambda col: col.str.strip())


def validate(frame: pd.DataFrame, schema: TableSchema, path: str | Path) -> None:
    """Raise :class:`ReferenceDataError` naming the first problems found.

    Works on plain column lists: reference tables are small, and per-column
    pandas operations cost more than the rows themselves (this runs for
    every table at every start-up).
    """
    missing = [c for c in schema.required if c not in frame.columns]
    if missing:
        raise ReferenceDataError(path, f"missing column(s): {', '.join(missing)}")
    known = set(schema.required) | set(schema.optional)
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise ReferenceDataError(path, f"unknown column(s): {', '.join(unknown)}")
    index = frame.index.tolist()
    raw = {column: frame[column].tolist() for column in frame.columns}
    stripped = {column: [_strip(v) for v in values] for column, values in raw.items()}
    problems: list[str] = []
    for column in schema.required:
        problems += [f"row {i + 2}: empty {column!r}" for i, v in zip(index, stripped[column], strict=True) if v == ""]
    for column, allowed in schema.allowed.items():
        if column not in frame.columns:
            continue
        problems += [
            f"row {i + 2}: {column}={value!r} not one of {sorted(allowed)}"
            for i, value, v in zip(index, raw[column], stripped[column], strict=True)
            if v != "" and v not in allowed
        ]
    for columns in schema.unique:
        seen: set[tuple[object, ...]] = set()
        for i, key in zip(index, zip(*(stripped[c] for c in columns), strict=True), strict=True):
            if key in seen:
                problems.append(f"row {i + 2}: duplicate {'+'.join(columns)} {'/'.join(map(str, key))!r}")
            seen.add(key)
    if schema.checks:
        records = frame.to_dict("records")  # rows as column -> value mappings (iterrows is 50x slower)
        for check in schema.checks:
            for i, row in zip(index, records, strict=True):
                message = check(row)
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


def load_agency_categories(reference_dir: str | Path | None = None) -> pd.DataFrame:
    """The agency categories (code, zh/en labels), validated: shared by the unit normaliser and the comparisons."""
    folder = Path(reference_dir) if reference_dir else config.REFERENCE_DIR
    return read_csv_strict(folder / AGENCY_CATEGORIES_FILE, AGENCY_CATEGORIES_SCHEMA)
