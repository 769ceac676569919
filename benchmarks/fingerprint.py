"""Fingerprints of every table a build writes: the guard that speed work changes no output.

``python -m benchmarks.fingerprint``            compare this code's output with the recorded fingerprints
``python -m benchmarks.fingerprint --write``    record them anew (only for an output change made on purpose)

Two corpora are built with ``jobs=1``: the seeds (``data/raw`` through the
manifest) and the first :data:`SYNTHETIC_DOCUMENTS` documents of the
synthetic benchmark corpus (seed 0).  A table's fingerprint is the SHA-256 of
its CSV text with the corpus folder replaced by ``<corpus>`` (so the place a
test builds in does not matter) and floats rounded to :data:`FLOAT_DIGITS`
decimals (so the last bits of a platform's floating point do not either).

Theme columns come from a fitted scikit-learn model; a different scikit-learn
release may move a borderline code, so each table also has a digest without
them, and ``tests/test_output_unchanged.py`` compares the theme columns only
under the scikit-learn version the fingerprints were recorded with.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import sklearn

from analysis import config
from analysis.core.models import THEME_COLUMNS
from analysis.core.schema import TABLE_NAMES
from analysis.core.store import read_table
from analysis.corpus.build import build_corpus

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
FINGERPRINT_PATH = ROOT / "tests" / "data" / "output_fingerprints.json"
SYNTHETIC_DOCUMENTS = 40
FLOAT_DIGITS = 6
PLACEHOLDER = "<corpus>"


def table_digest(frame: pd.DataFrame, folder: Path, drop: tuple[str, ...] = ()) -> str:
    """SHA-256 of ``frame`` as CSV text: ``folder`` replaced by a placeholder, floats rounded, ``drop`` left out."""
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    canonical = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_float_dtype(series):
            series = series.round(FLOAT_DIGITS)
        elif isinstance(series.dtype, pd.StringDtype) or series.dtype == object:
            series = series.astype("string").str.replace(str(folder), PLACEHOLDER, regex=False)
        canonical[column] = series
    return hashlib.sha256(canonical.to_csv(index=False).encode("utf-8")).hexdigest()


def build_fingerprints(manifest: Path, raw_dir: Path, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Build one corpus into ``out_dir`` and fingerprint every table."""
    isolate = config.ISOLATE_DOCUMENTS
    config.ISOLATE_DOCUMENTS = False  # the same rows either way; faster in one process
    try:
        build_corpus(manifest, raw_dir, out_dir, jobs=1, progress=False, use_cache=False)
    finally:
        config.ISOLATE_DOCUMENTS = isolate
    prints = {}
    for name in TABLE_NAMES:
        frame = read_table(name, out_dir)
        prints[name] = {
            "rows": len(frame),
            "sha256": table_digest(frame, raw_dir),
            "sha256_without_themes": table_digest(frame, raw_dir, THEME_COLUMNS),
        }
    return prints


def corpus_fingerprints(work: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Fingerprints of the seeds and of the synthetic sample, built under ``work``."""
    from benchmarks.synthetic import write_corpus

    synthetic = write_corpus(work / "synthetic" / "raw", SYNTHETIC_DOCUMENTS, seed=0)
    return {
        "seeds": build_fingerprints(config.MANIFEST_PATH, config.RAW_DIR, work / "seeds_out"),
        "synthetic": build_fingerprints(synthetic.raw_dir / "manifest.csv", synthetic.raw_dir, work / "synthetic_out"),
    }


def differences(recorded: dict[str, Any], found: dict[str, Any], *, themes: bool) -> list[str]:
    """Tables whose fingerprint differs (``themes=False``: compared without the theme columns)."""
    key = "sha256" if themes else "sha256_without_themes"
    problems = []
    for corpus, tables in recorded["corpora"].items():
        for name, expected in tables.items():
            actual = found.get(corpus, {}).get(name)
            if actual is None:
                problems.append(f"{corpus}/{name}: not built")
            elif actual["rows"] != expected["rows"] or actual[key] != expected[key]:
                problems.append(
                    f"{corpus}/{name}: {actual['rows']} rows (recorded {expected['rows']}), contents differ"
                )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="record the fingerprints of this code's output")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="fingerprint-") as folder:
        found = corpus_fingerprints(Path(folder))
    if args.write:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        record = {
            "note": "Fingerprints of the build's tables (benchmarks/fingerprint.py); rewrite only for an intended "
            "output change, and say so in the commit.",
            "recorded_with_commit": commit.stdout.strip(),
            "scikit_learn": sklearn.__version__,
            "synthetic_documents": SYNTHETIC_DOCUMENTS,
            "corpora": found,
        }
        FINGERPRINT_PATH.parent.mkdir(parents=True, exist_ok=True)
        FINGERPRINT_PATH.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        log.warning("fingerprints written to %s", FINGERPRINT_PATH)
        return 0
    recorded = json.loads(FINGERPRINT_PATH.read_text(encoding="utf-8"))
    problems = differences(recorded, found, themes=recorded["scikit_learn"] == sklearn.__version__)
    for problem in problems:
        log.error(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
