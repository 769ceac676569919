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

# Per-document budgets, enforced in the worker process that builds the document:
# a document over either is reported ("too slow" / "too large") and the others
# are built.  A real plan needs about a second and a few hundred MB; the
# defaults leave a wide margin.  0 switches a budget off.
DOCUMENT_SECONDS = float(os.environ.get("ANALYSIS_DOCUMENT_SECONDS", "120"))
DOCUMENT_MEMORY_BYTES = int(float(os.environ.get("ANALYSIS_DOCUMENT_MEMORY_MB", "2000")) * 1_000_000)
# Build each document in a worker process even with --jobs 1 (so a crash or a
# budget overrun costs one document); "0" runs it in the build's own process
# (easier to debug or profile; the memory budget is then not enforced).
ISOLATE_DOCUMENTS = os.environ.get("ANALYSIS_ISOLATE_DOCUMENTS", "1") != "0"
# A second build into the same output folder waits this long for the first to
# finish, then stops with a message naming the running build.
BUILD_LOCK_WAIT_SECONDS = float(os.environ.get("ANALYSIS_BUILD_LOCK_WAIT_SECONDS", "0"))

# Limits on what a small file may expand to (each refused with an error naming the limit).
MAX_DOCX_UNPACKED_BYTES = int(float(os.environ.get("ANALYSIS_MAX_DOCX_UNPACKED_MB", "200")) * 1_000_000)
MAX_DOCX_PARAGRAPHS = int(os.environ.get("ANALYSIS_MAX_DOCX_PARAGRAPHS", "100000"))
MAX_HTML_DEPTH = int(os.environ.get("ANALYSIS_MAX_HTML_DEPTH", "500"))
MAX_PDF_PAGES = int(os.environ.get("ANALYSIS_MAX_PDF_PAGES", "2000"))
