"""Writing tables atomically: Parquet for code, CSV (utf-8-sig) for Excel users.

Each file is written to a temporary name in the target folder and moved into
place with ``os.replace``, so an interrupted run leaves either the old table or
the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file atomically (UTF-8)."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


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
    """Read a processed table (Parquet)."""
    path = processed_dir / f"{name}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make all` (or `python -m analysis build`) first")
    return pd.read_parquet(path)
