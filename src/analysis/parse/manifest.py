"""The corpus manifest: one row per document in ``data/raw/manifest.csv``.

A researcher adds a document by adding its file to ``data/raw/`` and a row
here; no code changes.  Whole-file problems (unreadable CSV, missing
columns) raise :class:`ManifestError`.  Row problems (missing file, file
outside ``data/raw/``, duplicate ``doc_id``, bad values) are returned per row
so the other documents are still processed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core.errors import ManifestError

REQUIRED_COLUMNS = ("doc_id", "file")
METADATA_COLUMNS = (
    "jurisdiction",
    "jurisdiction_en",
    "province",
    "admin_level",
    "issuer",
    "doc_number",
    "issued",
    "published",
    "period_start",
    "period_end",
    "doc_type",
    "title",
)
OPTIONAL_COLUMNS = (*METADATA_COLUMNS, "source_file", "notes")
ADMIN_LEVELS = frozenset({"national", "province", "prefecture", "county", "district", "township", "department"})
DOC_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class ManifestEntry:
    """One usable manifest row: the document's id, path and metadata."""

    doc_id: str
    path: Path
    metadata: dict[str, object] = field(default_factory=dict)


@dataclass
class ManifestProblem:
    """A manifest row that cannot be used (the run report lists it)."""

    row: int  # 1-based CSV line number (header = 1)
    doc_id: str
    file: str
    problem: str

    def to_dict(self) -> dict[str, object]:
        return {
            "stage": "manifest",
            "severity": "error",
            "doc_id": self.doc_id,
            "file": self.file,
            "row": self.row,
            "problem": self.problem,
        }


def load_manifest(path: Path, raw_dir: Path) -> tuple[list[ManifestEntry], list[ManifestProblem]]:
    """Read and check the manifest; return usable entries and row problems."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ManifestError(path, "manifest not found") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ManifestError(path, f"manifest is not a readable UTF-8 CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ManifestError(path, f"manifest lacks required column(s): {', '.join(missing)}")
    unknown = [c for c in frame.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ManifestError(path, f"manifest has unknown column(s): {', '.join(unknown)}")

    raw_root = raw_dir.resolve()
    entries: list[ManifestEntry] = []
    problems: list[ManifestProblem] = []
    counts = frame["doc_id"].str.strip().value_counts()
    for position, row in frame.iterrows():
        line = int(position) + 2
        doc_id, file = row["doc_id"].strip(), row["file"].strip()
        problem = _row_problem(row, doc_id, file, raw_root, counts)
        if problem:
            problems.append(ManifestProblem(line, doc_id, file, problem))
            continue
        metadata = {c: _value(c, row.get(c, "")) for c in OPTIONAL_COLUMNS if c in frame.columns}
        entries.append(ManifestEntry(doc_id, (raw_root / file).resolve(), metadata))
    return entries, problems


def _row_problem(row: pd.Series, doc_id: str, file: str, raw_root: Path, counts: pd.Series) -> str | None:
    if not doc_id:
        return "empty doc_id"
    if not DOC_ID_PATTERN.match(doc_id):
        return f"doc_id {doc_id!r} must be letters, digits, '_', '-', '.' (it names output rows and files)"
    if counts.get(doc_id, 0) > 1:
        return f"duplicate doc_id {doc_id!r} (used by {counts[doc_id]} rows)"
    if not file:
        return "empty file"
    target = (raw_root / file).resolve()
    if raw_root != target and raw_root not in target.parents:
        return f"file {file!r} lies outside {raw_root}"
    if not target.is_file():
        return f"file {file!r} not found in {raw_root}"
    level = row.get("admin_level", "").strip()
    if level and level not in ADMIN_LEVELS:
        return f"admin_level {level!r} not one of {sorted(ADMIN_LEVELS)}"
    for column in ("issued", "published"):
        value = row.get(column, "").strip()
        if value and not DATE_PATTERN.match(value):
            return f"{column} {value!r} is not a YYYY-MM-DD date"
    for column in ("period_start", "period_end"):
        value = row.get(column, "").strip()
        if value and not re.fullmatch(r"\d{4}", value):
            return f"{column} {value!r} is not a year"
    return None


def _value(column: str, raw: str) -> object:
    value = (raw or "").strip()
    if not value:
        return None
    if column in ("period_start", "period_end"):
        return int(value)
    return value
