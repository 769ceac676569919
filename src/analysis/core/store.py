"""Writing tables atomically: Parquet for code, CSV (utf-8-sig) for Excel users.

Each file is written to a temporary name in the target folder and moved into
place with ``os.replace``, so an interrupted run leaves either the old table or
the new one, never half of one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        os.replace(temporary_path, path)
    finally:
        if temporary_path.exists():
            temporary_path.unlink()


def write_table(frame: pd.DataFrame, name: str, out_dir: Path) -> list[Path]:
    """Write ``name.parquet`` and ``name.csv`` (utf-8-sig) atomically."""
    parquet = out_dir / f"{name}.parquet"
    csv = out_dir / f"{name}.csv"
    with atomic_path(parquet) as temporary:
        frame.to_parquet(temporary, index=False)
    with atomic_path(csv) as temporary:
        frame.to_csv(temporary, index=False, encoding="utf-8-sig")
    return [parquet, csv]


def read_table(name: str, processed_dir: Path) -> pd.DataFrame:
    """Read a processed table: ``name.parquet`` (a file, or a folder of parts)."""
    path = processed_dir / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `make all` (or `python -m analysis build`) first")
    if path.is_dir():
        parts = sorted(path.glob("part-*.parquet"))
        if not parts:
            raise FileNotFoundError(f"{path} holds no part-*.parquet files")
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return pd.read_parquet(path)


class PartitionedWriter:
    """Write tables chunk by chunk into a staging folder, then swap them in.

    Each table becomes ``name.parquet/part-00000.parquet, …`` (a layout pandas,
    pyarrow and Dask read as one dataset) plus ``name.csv`` (utf-8-sig) for
    Excel.  Nothing under ``out_dir`` changes until :meth:`commit`, which moves
    each finished table into place with ``os.replace``: a table is either the
    old one or the new one, never half of one.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
        self._parts: dict[str, int] = {}

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Append one part of table ``name`` (the first part also fixes the CSV header)."""
        folder = self.staging / f"{name}.parquet"
        folder.mkdir(exist_ok=True)
        index = self._parts.get(name, 0)
        frame.to_parquet(folder / f"part-{index:05d}.parquet", index=False)
        frame.to_csv(
            self.staging / f"{name}.csv",
            mode="a",
            header=index == 0,
            index=False,
            encoding="utf-8-sig" if index == 0 else "utf-8",
        )
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

    def commit(self, extra_files: dict[str, str] | None = None) -> list[Path]:
        """Move every staged table (and extra text files) into ``out_dir``."""
        written = []
        for name, text in (extra_files or {}).items():
            (self.staging / name).write_text(text, encoding="utf-8")
        for staged in sorted(self.staging.iterdir()):
            target = self.out_dir / staged.name
            if target.is_dir():
                old = Path(tempfile.mkdtemp(prefix=".old-", dir=self.out_dir))
                os.replace(target, old / staged.name)
                os.replace(staged, target)
                shutil.rmtree(old)
            else:
                if target.is_file() and staged.is_dir():
                    target.unlink()
                os.replace(staged, target)
            written.append(target)
        self.abort()
        return written

    def abort(self) -> None:
        """Drop the staging folder (after commit, or when a run fails)."""
        shutil.rmtree(self.staging, ignore_errors=True)
