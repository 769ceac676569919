"""Every path the project reads or writes, in one place.

The repository root is found from this file (the package is installed in
editable mode by `make all`).  Set ``ANALYSIS_ROOT`` to point the pipeline at
another checkout or data folder, e.g. in tests.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The repository root (``$ANALYSIS_ROOT`` if set)."""
    override = os.environ.get("ANALYSIS_ROOT")
    if override:
        return Path(override).resolve()
    return PACKAGE_DIR.parents[1]


ROOT = project_root()
DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
MANIFEST_PATH = RAW_DIR / "manifest.csv"
PROCESSED_DIR = DATA_DIR / "processed"
CACHE_DIR = DATA_DIR / "cache"
ANNOTATIONS_DIR = DATA_DIR / "annotations"
# Hand-made research data (committed): gold theme codes, a blind second coding,
# gold targets, and the overrides a reviewer imported.
THEMES_GOLD_PATH = ANNOTATIONS_DIR / "themes_gold.csv"
THEMES_SECOND_CODER_PATH = ANNOTATIONS_DIR / "themes_second_coder.csv"
TARGETS_GOLD_PATH = ANNOTATIONS_DIR / "targets_gold.csv"
THEME_OVERRIDES_PATH = ANNOTATIONS_DIR / "theme_overrides.csv"
FIGURES_DIR = ROOT / "figures"
EXPORTS_DIR = ROOT / "exports"
REPORTS_DIR = ROOT / "reports"  # the static HTML report (python -m analysis report)
NOTEBOOKS_DIR = ROOT / "notebooks"

# Reference knowledge (codebook, agency aliases, reform crosswalk, domain
# dictionary, ...) is data shipped with the package, validated on load.
REFERENCE_DIR = PACKAGE_DIR / "reference"

# One document above this size is refused with a clear error (memory per
# document stays bounded; a real plan is rarely over 1 MB of text).
MAX_DOCUMENT_BYTES = int(float(os.environ.get("ANALYSIS_MAX_DOCUMENT_MB", "20")) * 1_000_000)
