"""Writing tables so that readers only ever see one whole build: Parquet for code, CSV for Excel.

Layout of an output folder (``data/processed/``)::

    builds/<build id>/documents.parquet/part-00000.parquet ...   one folder per committed build
    builds/<build id>/documents.csv, run_report.md, ...
    current -> builds/<build id>          the ONE pointer readers follow (a symlink)
    documents.parquet -> current/documents.parquet   fixed links, so
    documents.csv -> current/documents.csv           ``pd.read_parquet("data/processed/documents.parquet")``
    .build.lock                                      keeps working
    .document_cache/

A build writes every table into a staging folder under ``builds/``; the commit
renames it to its final name and then switches ``current`` with one
``os.replace`` of a symlink, which is atomic: a reader, or a crash at any
moment, sees the previous build or the new one, never a mix.  The build
before the current one is kept (a reader that resolved ``current`` just
before the switch can finish); older ones, and staging folders left by a
crashed run, are removed by :func:`clean_leftovers` under the build lock.

:func:`read_table` resolves ``current`` once, so all the parts it reads come
from the same build.  :class:`BuildLock` makes builds into one folder
exclusive: the lock file names the holder's pid; the operating system
releases the lock when the holder dies, so a crashed run never blocks the next.
"""

from __future__ import annotations

import codecs
import csv
import fcntl
import io
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.core.errors import AnalysisError
from analysis.core.safety import FORMULA_TRIGGERS, csv_safe, guard_formulas, neutralise_formula

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

BUILDS_DIR = "builds"
CURRENT = "current"
LOCK_FILE = ".build.lock"
STAGING_PREFIX = ".staging-"
KEEP_BUILDS = 2  # the current build and the one before it (readers that resolved `current` just before a switch)
CSV_ENCODING = "utf-8-sig"


def _umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place on success.

    The file gets the permissions a plain ``open()`` would give it (0666 minus
    the umask), not the 0600 of a temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        if temporary_path.is_file():
            os.chmod(temporary_path, 0o666 & ~_umask())
        os.replace(temporary_path, path)
    finally:
        if temporary_path.exists():
            temporary_path.unlink()


def write_csv(frame: pd.DataFrame, path: Path, *, append: bool = False) -> None:
    """Write ``frame`` as formula-safe CSV for spreadsheets (UTF-8 with BOM; no BOM/header when appending).

    The bytes are those of ``csv_safe(frame).to_csv(path, index=False)``;
    tables of the project's column types are formatted with Arrow
    (:func:`csv_lines`, several times faster than pandas' writer), anything
    else goes through pandas.
    """
    lines = csv_lines(frame)
    if lines is None:
        csv_safe(frame).to_csv(
            path,
            mode="a" if append else "w",
            header=not append,
            index=False,
            encoding="utf-8" if append else CSV_ENCODING,
        )
        return
    with open(path, "ab" if append else "wb") as handle:
        if not append:
            handle.write(codecs.BOM_UTF8 + _csv_row([neutralise_formula(str(c)) for c in frame.columns]).encode())
        for block in lines:
            handle.write(block)


# What Python's csv writer (pandas' ``to_csv``: delimiter ",", quote '"', line end "\n") quotes a field for.
_CSV_QUOTE_WHEN = '[\n",]'
# A cell that may need the formula guard (a first character of FORMULA_TRIGGERS) or quotes.
_CSV_SPECIAL = "^[" + "".join("\\" + c if c in "-\\]^" else c for c in FORMULA_TRIGGERS) + "]|" + _CSV_QUOTE_WHEN


def _csv_row(fields: list[object]) -> str:
    """One CSV line exactly as pandas' ``to_csv`` writes it (it calls the csv module with these settings)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerow(fields)
    return buffer.getvalue()


def csv_lines(frame: pd.DataFrame) -> list[memoryview] | None:
    """The body of ``csv_safe(frame).to_csv(index=False)`` (no header) as UTF-8 blocks, formatted by Arrow.

    Each cell is made as pandas makes it — strings formula-guarded
    (:func:`~analysis.core.safety.guard_formulas`), then quoted when they hold
    a comma, a quote or a line feed (quotes doubled); ``Int64`` in decimal;
    ``boolean`` as ``True``/``False``; ``float64`` by numpy's ``astype(str)``;
    a missing value empty — and the cells of a row joined by Arrow, without a
    Python object per cell.  None for a frame with any other column type, or a
    single column (where the csv module quotes an empty field): write it with pandas.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(frame.columns) < 2 or not all(isinstance(c, str) for c in frame.columns):
        return None
    cells = []
    for _, series in frame.items():
        dtype = series.dtype
        if isinstance(dtype, pd.StringDtype):
            arrow = pa.array(series.array, from_pandas=True)  # an Array, or a ChunkedArray for Arrow-backed strings
            text = (pa.chunked_array([arrow]) if isinstance(arrow, pa.Array) else arrow).cast(pa.large_string())
            if pc.any(pc.match_substring_regex(text, _CSV_SPECIAL)).as_py():  # one pass: most columns hold neither
                text = guard_formulas(text)
                needs_quotes = pc.match_substring_regex(text, _CSV_QUOTE_WHEN)
                if pc.any(needs_quotes).as_py():
                    quote, nothing = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
                    quoted = pc.binary_join_element_wise(quote, pc.replace_substring(text, '"', '""'), quote, nothing)
                    text = pc.if_else(needs_quotes, quoted, text)
            cells.append(text)
        elif isinstance(dtype, pd.Int64Dtype):
            cells.append(pa.array(series.array).cast(pa.large_string()))
        elif isinstance(dtype, pd.BooleanDtype):
            cells.append(pc.if_else(pa.array(series.array), "True", "False").cast(pa.large_string()))
        elif dtype.kind in "iu" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):  # numpy integers
            cells.append(pa.array(series.to_numpy()).cast(pa.large_string()))
        elif dtype == np.bool_:
            cells.append(pc.if_else(pa.array(series.to_numpy()), "True", "False").cast(pa.large_string()))
        elif dtype == np.float64:
            values = series.to_numpy()
            cells.append(pa.array(values.astype(str), type=pa.large_string(), mask=np.isnan(values)))
        else:
            return None
    if not len(frame):
        return []
    comma, newline, nothing = (pa.scalar(text, pa.large_string()) for text in (",", "\n", ""))
    rows = pc.binary_join_element_wise(*cells, comma, null_handling="replace", null_replacement="")
    rows = pc.binary_join_element_wise(rows, newline, nothing)
    blocks = []
    for chunk in rows.chunks if isinstance(rows, pa.ChunkedArray) else [rows]:
        if not len(chunk):
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
        blocks.append(memoryview(chunk.buffers()[2])[offsets[0] : offsets[-1]])
    return blocks


def write_table(frame: pd.DataFrame, name: str, out_dir: Path) -> list[Path]:
    """Write ``name.parquet`` and ``name.csv`` (utf-8-sig, formula-safe) atomically."""
    parquet = out_dir / f"{name}.parquet"
    csv = out_dir / f"{name}.csv"
    with atomic_path(parquet) as temporary:
        frame.to_parquet(temporary, index=False)
    with atomic_path(csv) as temporary:
        write_csv(frame, temporary)
    return [parquet, csv]


def committed_dir(processed_dir: Path) -> Path:
    """The folder holding the committed tables: ``current`` resolved once, else the folder itself.

    A folder written before versioned builds (tables directly inside) is read as it is.
    """
    pointer = processed_dir / CURRENT
    if pointer.is_symlink() or pointer.is_dir():
        return pointer.resolve()
    return processed_dir


def read_table(name: str, processed_dir: Path) -> pd.DataFrame:
    """Read a processed table: ``name.parquet`` (a file, or a folder of parts) of one whole build."""
    import pandas as pd  # not for atomic_path and the lock, which extract uses (start-up time)

    path = committed_dir(processed_dir) / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"{processed_dir / (name + '.parquet')} not found: run `make all` (or `python -m analysis build`) first"
        )
    if path.is_dir():
        parts = sorted(path.glob("part-*.parquet"))
        if not parts:
            raise FileNotFoundError(f"{path} holds no part-*.parquet files")
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return pd.read_parquet(path)


def read_tables(names: Iterable[str], processed_dir: Path) -> dict[str, pd.DataFrame]:
    """Several processed tables, all from the same build (``current`` is resolved once for all of them)."""
    folder = committed_dir(processed_dir)
    return {name: read_table(name, folder) for name in names}


# --------------------------------------------------------------------------- exclusive builds


class BuildLockedError(AnalysisError):
    """Another live build holds the lock of the output folder."""


class BuildLock:
    """An exclusive lock on an output folder (``.build.lock``, holding the pid of its holder).

    ``wait_seconds`` > 0 waits that long for the other build to finish before
    giving up; the error names the holder.  The lock is an ``flock`` on the
    file: released by the operating system when the holder exits, even on a crash.
    """

    def __init__(self, out_dir: Path, wait_seconds: float = 0.0) -> None:
        self.path = out_dir / LOCK_FILE
        self.wait_seconds = wait_seconds
        self._fd: int | None = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666 & ~_umask())
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 500, 0).decode("utf-8", "replace").strip() or "unknown"
                    os.close(fd)
                    raise BuildLockedError(
                        f"{self.path.parent}: another build is writing here ({holder}); "
                        "wait for it to finish or build into another --out folder"
                    ) from None
                time.sleep(0.2)
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {stamp}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _builds(out_dir: Path) -> list[Path]:
    folder = out_dir / BUILDS_DIR
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) if folder.is_dir() else []


def clean_leftovers(out_dir: Path) -> list[Path]:
    """Remove what crashed runs left: staging folders, half-made pointers, builds older than the kept ones.

    Call it only while holding the :class:`BuildLock` (no live build is writing then).
    """
    removed: list[Path] = []
    builds = out_dir / BUILDS_DIR
    leftovers = list(builds.glob(f"{STAGING_PREFIX}*")) if builds.is_dir() else []
    leftovers += list(out_dir.glob(f"{STAGING_PREFIX}*")) + list(out_dir.glob(".old-*"))  # older layout
    leftovers += [p for p in out_dir.glob(f".{CURRENT}.*") if p.is_symlink()]
    current = (out_dir / CURRENT).resolve() if (out_dir / CURRENT).is_symlink() else None
    finished = _builds(out_dir)
    keep: set[Path] = set()
    if current is not None and current in finished:
        position = finished.index(current)  # builds sort by time: keep the current one and the ones just before it
        keep = {current, *finished[max(0, position - KEEP_BUILDS + 1) : position]}
    leftovers += [p for p in finished if p not in keep]  # no current build: none of them was ever visible
    for path in leftovers:
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    if removed:
        log.info("%s: removed %d leftover(s) of earlier runs", out_dir, len(removed))
    return removed


def _new_build_id() -> str:
    """A build folder name that sorts by time: ``20261128T094501.123456Z-<pid>``."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ") + f"-{os.getpid()}"


class PartitionedWriter:
    """Write tables chunk by chunk into a staging folder, then publish them all at once.

    Each table becomes ``name.parquet/part-00000.parquet, …`` (a layout pandas,
    pyarrow and Dask read as one dataset) plus ``name.csv`` (utf-8-sig,
    formula-safe) for Excel.  Nothing readers see changes until
    :meth:`commit`, which switches the ``current`` pointer in one atomic step
    (see the module docstring).
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        (out_dir / BUILDS_DIR).mkdir(parents=True, exist_ok=True)
        self.build_id = _new_build_id()
        self.staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{self.build_id}-", dir=out_dir / BUILDS_DIR))
        self._parts: dict[str, int] = {}

    def write(self, name: str, frame: pd.DataFrame, *, csv: bool = True) -> None:
        """Append one part of table ``name`` (the first part also fixes the CSV header).

        ``csv=False`` writes the Parquet part only: for a table that
        :meth:`rewrite` will replace (and write its CSV then).
        """
        folder = self.staging / f"{name}.parquet"
        folder.mkdir(exist_ok=True)
        index = self._parts.get(name, 0)
        frame.to_parquet(folder / f"part-{index:05d}.parquet", index=False)
        if csv:
            write_csv(frame, self.staging / f"{name}.csv", append=index > 0)
        self._parts[name] = index + 1

    def parts(self, name: str) -> list[Path]:
        return sorted((self.staging / f"{name}.parquet").glob("part-*.parquet"))

    def rewrite(self, name: str, recompute: Callable[[list[Path]], Iterable[pd.DataFrame]]) -> None:
        """Replace the parts of ``name`` by ``recompute(old part paths)``, one frame per part, in order.

        The old parts are moved aside first (``recompute`` may read them lazily,
        even from worker processes) and deleted once every new part is written.
        """
        folder = self.staging / f"{name}.parquet"
        old = self.staging / f".{name}.old"
        folder.rename(old)
        (self.staging / f"{name}.csv").unlink(missing_ok=True)
        self._parts[name] = 0
        for frame in recompute(sorted(old.glob("part-*.parquet"))):
            self.write(name, frame)
        shutil.rmtree(old)

    def read(self, name: str) -> pd.DataFrame:
        return read_table(name, self.staging)

    def commit(self, extra_files: dict[str, str] | None = None) -> Path:
        """Publish the staged build: extra text files written, build folder named, ``current`` switched.

        Returns the committed build folder.  A crash before the switch leaves
        the previous build visible; after it, the new one.
        """
        for name, text in (extra_files or {}).items():
            (self.staging / name).write_text(text, encoding="utf-8")
        _fsync_tree(self.staging)
        final = self.out_dir / BUILDS_DIR / self.build_id
        os.rename(self.staging, final)
        pointer = self.out_dir / CURRENT
        temporary = self.out_dir / f".{CURRENT}.{self.build_id}"
        os.symlink(Path(BUILDS_DIR) / self.build_id, temporary)
        os.replace(temporary, pointer)  # the one atomic switch
        _fsync_dir(self.out_dir)
        self.staging = final
        _link_names(self.out_dir, final)
        clean_leftovers(self.out_dir)
        return final

    def abort(self) -> None:
        """Drop the staging folder (when a run fails before committing)."""
        if self.staging.name.startswith(STAGING_PREFIX):
            shutil.rmtree(self.staging, ignore_errors=True)


def _link_names(out_dir: Path, build: Path) -> None:
    """Fixed links ``out_dir/<name> -> current/<name>`` for every entry of the build.

    They never change once made (they go through ``current``), so they are not
    part of the switch; an entry of the older, unversioned layout is replaced.
    """
    for entry in sorted(build.iterdir()):
        link = out_dir / entry.name
        target = Path(CURRENT) / entry.name
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        temporary = out_dir / f".{entry.name}.link"
        temporary.unlink(missing_ok=True)
        os.symlink(target, temporary)
        if link.is_dir() and not link.is_symlink():
            aside = out_dir / f".old-{entry.name}"
            os.rename(link, aside)
            os.replace(temporary, link)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(temporary, link)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Flush every file of a staged build to disk before it is published (a power cut cannot expose it empty)."""
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)
