"""Theme coding for a build: fit the classifier once, code tasks part by part.

The classifier learns from the gold annotations (``data/annotations``), whose
rows point at seed tasks by ``doc_id`` + ``path``.  Their texts come from
parsing those documents afresh from ``data/raw`` through the manifest — never
from a previous build's output — so a build does not depend on an older one
and ``extract`` of a single file is coded by the same model as the corpus.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import sklearn

from analysis import config
from analysis.annotate.review import attach_overrides, load_overrides
from analysis.annotate.themes import ThemeClassifier, apply_overrides, tasks_frame
from analysis.core.codebook import PREDICTION_COLUMNS, Codebook, load_gold
from analysis.core.models import KIND_TASK
from analysis.core.store import atomic_path
from analysis.corpus.cache import pipeline_version
from analysis.parse.manifest import load_manifest
from analysis.parse.pipeline import parse_document

log = logging.getLogger(__name__)


def gold_tasks(gold: pd.DataFrame, manifest_path: Path | None = None, raw_dir: Path | None = None) -> pd.DataFrame:
    """Classifier input for the documents the gold annotations refer to."""
    entries, _ = load_manifest(manifest_path or config.MANIFEST_PATH, raw_dir or config.RAW_DIR)
    wanted = set(gold["doc_id"])
    found = [e for e in entries if e.doc_id in wanted]
    missing = wanted - {e.doc_id for e in found}
    if missing:
        log.warning(
            "gold annotations name documents not in the manifest (not used for training): %s",
            ", ".join(sorted(missing)),
        )
    return tasks_frame(parse_document(e.path, e.doc_id, e.metadata) for e in found)


def as_classifier_input(tasks: pd.DataFrame) -> pd.DataFrame:
    """The `tasks` table (headings joined by ' > ') → the classifier's input frame."""
    frame = tasks[["doc_id", "task_id", "kind", "path", "title", "text"]].copy()
    frame["headings"] = [
        [h for h in str(value).split(" > ") if h] if isinstance(value, str) else list(value or [])
        for value in tasks["headings"]
    ]
    return frame.astype(dict.fromkeys(("doc_id", "task_id", "kind", "path", "title", "text"), object))


@dataclass
class ThemeCoder:
    """A fitted classifier plus the coders' overrides, applied to any tasks table."""

    classifier: ThemeClassifier
    codebook: Codebook
    overrides: pd.DataFrame | None

    @classmethod
    def from_project(
        cls,
        *,
        gold_path: Path | None = None,
        manifest_path: Path | None = None,
        raw_dir: Path | None = None,
        overrides_path: Path | None = None,
    ) -> ThemeCoder:
        """Fit on the project's gold annotations (cached per process for the default paths)."""
        if gold_path is manifest_path is raw_dir is overrides_path is None:
            return replace(_default_coder(), overrides=load_overrides())  # the classifier cached, overrides fresh
        return _fit(gold_path, manifest_path, raw_dir, overrides_path)

    def code(self, tasks: pd.DataFrame) -> pd.DataFrame:
        """Theme columns (``task_id`` + theme fields) for the tasks (framing units are not coded)."""
        real = tasks[tasks["kind"] == KIND_TASK]
        if real.empty:
            return pd.DataFrame(columns=list(PREDICTION_COLUMNS))
        predictions = self.classifier.predict(as_classifier_input(real))
        if self.overrides is not None and len(self.overrides):
            # Overrides find their task by identity (document, text), never by a task_id that may have moved.
            attached = attach_overrides(self.overrides, real).overrides
            predictions = apply_overrides(predictions, attached, self.codebook)
        return predictions[list(PREDICTION_COLUMNS)]


def _fit(
    gold_path: Path | None, manifest_path: Path | None, raw_dir: Path | None, overrides_path: Path | None
) -> ThemeCoder:

    codebook = Codebook.load()
    gold_file = Path(gold_path or config.THEMES_GOLD_PATH)
    gold = load_gold(gold_file, codebook) if gold_file.is_file() else None
    if gold is None:
        log.warning("%s not found: theme classifier trained on the codebook only", gold_file)
        training = tasks_frame([])
    else:
        training = gold_tasks(gold, manifest_path, raw_dir)
    classifier = ThemeClassifier(codebook).fit(training, gold)
    return ThemeCoder(classifier, codebook, load_overrides(overrides_path))


def classifier_key() -> str:
    """sha256 of everything the fitted classifier depends on.

    The package's code and reference data (codebook, domain dictionary, the
    per-document stages that parse the gold documents), the annotations, the
    manifest and the raw gold documents, and the library versions.
    """

    digest = hashlib.sha256(pipeline_version(config.PACKAGE_DIR).encode())
    # Every source file in every folder of the package, named by its path inside it
    # (a module moved to another folder changes the key).
    inputs = sorted(config.PACKAGE_DIR.rglob("*.py")) + sorted(config.REFERENCE_DIR.glob("*"))
    inputs += [config.THEMES_GOLD_PATH, config.MANIFEST_PATH]
    if config.THEMES_GOLD_PATH.is_file():
        gold = pd.read_csv(config.THEMES_GOLD_PATH, dtype=str, usecols=["doc_id"])
        entries, _ = load_manifest(config.MANIFEST_PATH, config.RAW_DIR)
        inputs += sorted(e.path for e in entries if e.doc_id in set(gold["doc_id"]))
    for path in inputs:
        if path.is_file():
            digest.update(_key_name(path).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    digest.update(f"sklearn=={sklearn.__version__}".encode())
    return digest.hexdigest()


def _key_name(path: Path) -> str:
    """A key input's name: its path inside the package (or the project), so a moved file changes the key."""
    for base in (config.PACKAGE_DIR, config.ROOT):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.name


@functools.lru_cache(maxsize=1)
def _default_coder() -> ThemeCoder:
    """The project's coder: fitted classifier loaded from data/cache when its inputs are unchanged.

    The pickle is a private, rebuildable cache (never committed): it is keyed
    by :func:`classifier_key`, so any change to code, codebook, annotations or
    documents fits the model afresh.  Overrides are always read fresh.
    """

    path = config.CACHE_DIR / f"theme_classifier-{classifier_key()[:20]}.pkl"
    if path.is_file():
        try:
            with path.open("rb") as handle:
                classifier = pickle.load(handle)
            return ThemeCoder(classifier, classifier.codebook, load_overrides())
        except Exception as error:  # a damaged cache entry is refitted, never fatal
            log.warning("%s unreadable (%s): fitting again", path, error)
    coder = _fit(None, None, None, None)
    for stale in config.CACHE_DIR.glob("theme_classifier-*.pkl"):
        stale.unlink(missing_ok=True)
    with atomic_path(path) as temporary, temporary.open("wb") as handle:
        pickle.dump(coder.classifier, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return coder
