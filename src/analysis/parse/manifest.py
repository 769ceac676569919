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
import os
import re
from collections.abc import Iterator
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


class Manifest:
    """A checked manifest whose entries are read from the file again at every iteration.

    Checking it (:func:`open_manifest`) keeps only the header, the row
    problems and the lines they are on, so memory stays flat however many rows
    there are: a build of 100,000 documents does not hold 100,000 entries (and
    neither do the worker processes forked from it).  Iterating yields the
    usable entries in manifest order, the same ones every time; ``len`` is
    their number.  If the file changes after it was checked, iterating raises
    :class:`ManifestError` instead of yielding other rows.
    """

    def __init__(self, path: Path, raw_dir: Path) -> None:
        self.path = path
        self.raw_root = raw_dir.resolve()
        self.header, counts, self._stamp = _checked_header(path)
        self.problems: list[ManifestProblem] = []
        self._n_entries = 0
        for line, record in self._records():
            doc_id, file = record["doc_id"].strip(), record["file"].strip()
            problem = _row_problem(record, doc_id, file, self.raw_root, counts)
            if problem:
                self.problems.append(ManifestProblem(line, doc_id, file, problem))
            else:
                self._n_entries += 1
        self._problem_lines = frozenset(p.row for p in self.problems)

    def __len__(self) -> int:
        return self._n_entries

    def __iter__(self) -> Iterator[ManifestEntry]:
        for line, record in self._records():
            if line in self._problem_lines:
                continue
            metadata = {c: _value(c, record.get(c, "")) for c in OPTIONAL_COLUMNS if c in self.header}
            path = _resolved(self.raw_root, record["file"].strip())
            yield ManifestEntry(record["doc_id"].strip(), path, metadata, line)

    def _records(self) -> Iterator[tuple[int, dict[str, str]]]:
        """The data rows as ``(line, {column: value})``, read from the file as it was checked."""
        if _stamp(self.path) != self._stamp:
            raise ManifestError(self.path, "manifest changed after it was checked; run again")
        rows = _rows(self.path)
        next(rows)  # the header
        for line, fields in rows:
            yield line, dict(zip(self.header, fields, strict=True))


def open_manifest(path: Path, raw_dir: Path) -> Manifest:
    """Read and check the manifest (:class:`ManifestError` if it is malformed); entries are read when iterated."""
    return Manifest(path, raw_dir)


def load_manifest(path: Path, raw_dir: Path) -> tuple[list[ManifestEntry], list[ManifestProblem]]:
    """Read and check the manifest; return usable entries and row problems (all in memory: small manifests)."""
    manifest = open_manifest(path, raw_dir)
    return list(manifest), manifest.problems


class _BrokenRow(Exception):
    """A row the csv module cannot read (broken quoting); the message names the row."""


def _stamp(path: Path) -> tuple[int, int, int]:
    """What tells whether the file changed: inode, size, modification time."""
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise ManifestError(path, "manifest not found") from exc
    except OSError as exc:
        raise ManifestError(path, f"manifest cannot be read ({exc})") from exc
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Every non-blank row of the file with the line it starts on (header = 1), read as a stream.

    Broken quoting raises :class:`_BrokenRow` naming the row; bytes that are not UTF-8 raise
    ``UnicodeDecodeError`` (:func:`_checked_header` turns both into a :class:`ManifestError`).
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError as exc:
        raise ManifestError(path, "manifest not found") from exc
    except OSError as exc:
        raise ManifestError(path, f"manifest cannot be read ({exc})") from exc
    with io.TextIOWrapper(handle, encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, strict=True)
        line = 1
        try:
            for fields in reader:
                if any(field.strip() for field in fields):
                    yield line, fields
                line = reader.line_num + 1
        except csv.Error as exc:
            raise _BrokenRow(f"row {line}: {exc}") from exc


def _checked_header(path: Path) -> tuple[list[str], dict[str, int], tuple[int, int, int]]:
    """The header, the count of every ``doc_id``, and the file's stamp, after one pass over the whole file.

    Raises :class:`ManifestError` naming every malformed row: bytes that are
    not UTF-8, broken quoting, a NUL character, a field count other than the
    header's; then for missing, unknown or duplicate columns.  Blank lines are skipped.
    """
    stamp = _stamp(path)
    header: list[str] | None = None
    counts: dict[str, int] = {}
    malformed: list[str] = []
    try:
        try:
            for line, fields in _rows(path):
                nul = [name for name, value in zip(header or fields, fields, strict=False) if "\x00" in value]
                if nul or any("\x00" in value for value in fields):
                    where = "the header" if header is None else f"column {(nul or ['beyond the header'])[0]!r}"
                    malformed.append(f"row {line}: NUL character in {where}")
                if header is None:
                    header = [name.strip() for name in fields]
                    continue
                if len(fields) != len(header):
                    malformed.append(f"row {line}: {len(fields)} fields where the header has {len(header)}")
                elif "doc_id" in header:
                    doc_id = fields[header.index("doc_id")].strip()  # counted for the duplicate check
                    counts[doc_id] = counts.get(doc_id, 0) + 1
        except _BrokenRow as exc:  # reading stops here, as the csv module cannot go on
            malformed.append(str(exc))
            _decode_whole(path)  # bytes that are not UTF-8 anywhere are reported first, as before the rows
    except UnicodeDecodeError:
        _decode_whole(path)
        raise
    if header is None:
        raise ManifestError(path, "manifest is empty (no header row)")
    if malformed:
        malformed.sort(key=lambda text: int(text.split(":")[0].split()[1]))
        more = f" (and {len(malformed) - 20} more)" if len(malformed) > 20 else ""
        raise ManifestError(path, "malformed manifest: " + "; ".join(malformed[:20]) + more)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ManifestError(path, f"manifest lacks required column(s): {', '.join(missing)}")
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ManifestError(path, f"manifest has unknown column(s): {', '.join(unknown)}")
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise ManifestError(path, f"manifest has duplicate column(s): {', '.join(duplicated)}")
    return header, counts, stamp


def _decode_whole(path: Path) -> None:
    """Raise :class:`ManifestError` naming the row of the first byte that is not UTF-8, if there is one."""
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(path, f"manifest is not UTF-8 text (row {line}: {exc.reason})") from exc


def _row_problem(row: dict[str, str], doc_id: str, file: str, raw_root: Path, counts: dict[str, int]) -> str | None:
    if not doc_id:
        return "empty doc_id"
    if not DOC_ID_PATTERN.match(doc_id):
        return f"doc_id {doc_id!r} must be letters, digits, '_', '-', '.' (it names output rows and files)"
    if counts.get(doc_id, 0) > 1:
        return f"duplicate doc_id {doc_id!r} (used by {counts[doc_id]} rows)"
    if not file:
        return "empty file"
    target = _resolved(raw_root, file)
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


def _resolved(root: Path, file: str) -> Path:
    """``(root / file).resolve()`` for a resolved ``root``, faster for a plain file name.

    A name without a separator that is not a link resolves to itself: one
    ``lstat`` instead of one per folder of the path (a manifest of 100,000
    rows is read three times per build).
    """
    path = root / file
    if "/" not in file and os.sep not in file and file not in ("", ".", "..") and not path.is_symlink():
        return path
    return path.resolve()


def _value(column: str, raw: str) -> object:
    value = (raw or "").strip()
    if not value:
        return None
    if column in ("period_start", "period_end"):
        return int(value)
    return value
