"""The corpus manifest: one row per document in ``data/raw/manifest.csv``.

A researcher adds a document by adding its file to ``data/raw/`` and a row
here; no code changes.  A manifest that cannot be read as a table raises
:class:`ManifestError` naming every malformed row (not UTF-8, broken quoting,
a NUL character, more or fewer fields than the header) and missing or
unknown columns.  Row problems (missing file, file outside ``data/raw/``,
duplicate ``doc_id``, values that are not real dates, a period that ends
before it starts, ...) are returned per row so the other documents are still
processed.  Rows are numbered by their line in the file (header = 1).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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
    row: int | None = None  # line of the row in the manifest (header = 1); None outside a manifest


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
    header, data_rows = _read_rows(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ManifestError(path, f"manifest lacks required column(s): {', '.join(missing)}")
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ManifestError(path, f"manifest has unknown column(s): {', '.join(unknown)}")
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise ManifestError(path, f"manifest has duplicate column(s): {', '.join(duplicated)}")

    raw_root = raw_dir.resolve()
    entries: list[ManifestEntry] = []
    problems: list[ManifestProblem] = []
    records = [(line, dict(zip(header, fields, strict=True))) for line, fields in data_rows]
    counts: dict[str, int] = {}
    for _, record in records:
        counts[record["doc_id"].strip()] = counts.get(record["doc_id"].strip(), 0) + 1
    for line, record in records:
        doc_id, file = record["doc_id"].strip(), record["file"].strip()
        problem = _row_problem(record, doc_id, file, raw_root, counts)
        if problem:
            problems.append(ManifestProblem(line, doc_id, file, problem))
            continue
        metadata = {c: _value(c, record.get(c, "")) for c in OPTIONAL_COLUMNS if c in header}
        entries.append(ManifestEntry(doc_id, (raw_root / file).resolve(), metadata, line))
    return entries, problems


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the data rows of the manifest, each row with its line number (header = 1).

    Raises :class:`ManifestError` naming every malformed row: bytes that are
    not UTF-8, broken quoting, a NUL character, a field count other than the
    header's.  Blank lines are skipped.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ManifestError(path, "manifest not found") from exc
    except OSError as exc:
        raise ManifestError(path, f"manifest cannot be read ({exc})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(path, f"manifest is not UTF-8 text (row {line}: {exc.reason})") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    malformed: list[str] = []
    line = 1
    try:
        for fields in reader:
            if any(field.strip() for field in fields):
                rows.append((line, fields))
            line = reader.line_num + 1
    except csv.Error as exc:
        malformed.append(f"row {line}: {exc}")
    if not rows:
        raise ManifestError(path, "manifest is empty (no header row)")
    header = [name.strip() for name in rows[0][1]]
    for line, fields in rows:
        nul = [name for name, value in zip(header, fields, strict=False) if "\x00" in value]
        if nul or any("\x00" in value for value in fields):
            where = "the header" if line == rows[0][0] else f"column {(nul or ['beyond the header'])[0]!r}"
            malformed.append(f"row {line}: NUL character in {where}")
    for line, fields in rows[1:]:
        if len(fields) != len(header):
            malformed.append(f"row {line}: {len(fields)} fields where the header has {len(header)}")
    if malformed:
        malformed.sort(key=lambda text: int(text.split(":")[0].split()[1]))
        more = f" (and {len(malformed) - 20} more)" if len(malformed) > 20 else ""
        raise ManifestError(path, "malformed manifest: " + "; ".join(malformed[:20]) + more)
    return header, rows[1:]


def _row_problem(row: dict[str, str], doc_id: str, file: str, raw_root: Path, counts: dict[str, int]) -> str | None:
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
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"{column} {value!r} is not a real date"
    for column in ("period_start", "period_end"):
        value = row.get(column, "").strip()
        if value and not re.fullmatch(r"\d{4}", value):
            return f"{column} {value!r} is not a year"
    start, end = row.get("period_start", "").strip(), row.get("period_end", "").strip()
    if start and end and int(end) < int(start):
        return f"period ends ({end}) before it starts ({start})"
    return None


def _value(column: str, raw: str) -> object:
    value = (raw or "").strip()
    if not value:
        return None
    if column in ("period_start", "period_end"):
        return int(value)
    return value
