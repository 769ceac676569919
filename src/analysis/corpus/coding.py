"""Theme coding for a build: fit the classifier once, code tasks part by part.

The classifier learns from the gold annotations (``data/annotations``), whose
rows point at seed tasks by ``doc_id`` + ``path``.  Their texts come from
parsing those documents afresh from ``data/raw`` through the manifest — never
from a previous build's output — so a build does not depend on an older one
and ``extract`` of a single file is coded by the same model as the corpus.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import logging
import pickle
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from analysis import config
from analysis.annotate.theme_inference import (
    Codes,
    ThemePredictor,
    apply_gold,
    apply_gold_rows,
    apply_overrides,
    gold_text,
    prediction_frame,
    prediction_records,
    tasks_frame,
)
from analysis.core.codebook import (
    GOLD_COLUMNS,
    OPTIONAL_TASK_COLUMNS,
    PREDICTION_COLUMNS,
    Codebook,
    TaskColumns,
    as_heading_list,
    check_task_rows,
    checked_task_columns,
    load_gold,
)
from analysis.core.models import KIND_TASK
from analysis.core.store import atomic_path
from analysis.corpus.cache import ROW_LIBRARIES, library_version, package_modules, reachable_modules
from analysis.parse.manifest import load_manifest
from analysis.parse.pipeline import parse_document

if TYPE_CHECKING:
    import pandas as pd

    from analysis.annotate.themes import FittedModels

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


CLASSIFIER_INPUT = ("doc_id", "task_id", "kind", "path", "title", "text", *OPTIONAL_TASK_COLUMNS, "headings")
"""The columns of the `tasks` table the classifier reads."""


def as_classifier_input(tasks: pd.DataFrame) -> pd.DataFrame:
    """The `tasks` table (headings joined by ' > ') → the classifier's input frame (``doc_title`` kept if present)."""
    columns = ["doc_id", "task_id", "kind", "path", "title", "text"]
    columns += [c for c in OPTIONAL_TASK_COLUMNS if c in tasks.columns]
    frame = tasks[columns].copy()
    frame["headings"] = _heading_lists(tasks["headings"].tolist())
    return frame.astype(dict.fromkeys(("doc_id", "task_id", "kind", "path", "title", "text"), object))


def _heading_list(value: Any) -> list[str]:
    """The tasks table's headings (joined by ' > ') as a list."""
    return [h for h in str(value).split(" > ") if h] if isinstance(value, str) else list(value or [])


def _heading_lists(values: list[Any]) -> list[list[str]]:
    """:func:`_heading_list` of each value; siblings share their headings, so each joined string is split once."""
    split: dict[str, list[str]] = {}
    lists = []
    for value in values:
        if not isinstance(value, str):
            lists.append(_heading_list(value))
            continue
        if value not in split:
            split[value] = _heading_list(value)
        lists.append(list(split[value]))  # a list of its own per row, as before
    return lists


def classifier_columns(tasks: pd.DataFrame) -> TaskColumns:
    """``check_tasks_frame(as_classifier_input(task rows))`` as columns: the same values, without the two frames.

    Building and checking those frames took a tenth of coding a build's part.
    """
    import pandas as pd  # the frame's missing values (start-up time: extract imports this module)

    is_task = (tasks["kind"] == KIND_TASK).to_numpy()
    every = bool(is_task.all())

    def column(name: str) -> list[Any]:
        return (tasks[name] if every else tasks[name][is_task]).tolist()

    columns: dict[str, list[Any]] = {"kind": column("kind")}
    headings = column("headings")
    columns["headings"] = [
        split if isinstance(value, str) else as_heading_list(split)
        for value, split in zip(headings, _heading_lists(headings), strict=True)
    ]
    for name in ("doc_id", "task_id", "path", "title", "text", *OPTIONAL_TASK_COLUMNS):
        if name not in tasks.columns:  # an optional column: empty
            columns[name] = [""] * len(headings)
            continue
        columns[name] = [
            value
            if type(value) is str
            else (
                "" if value is None or value is pd.NA or (isinstance(value, float) and value != value) else str(value)
            )
            for value in column(name)
        ]
    return checked_task_columns(columns, "tasks DataFrame")


def classifier_rows(tasks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """:func:`as_classifier_input` for rows of the `tasks` table as mappings, task rows only, without pandas."""
    present = tasks[0] if tasks else {}
    columns = [c for c in CLASSIFIER_INPUT if c != "headings" and (c not in OPTIONAL_TASK_COLUMNS or c in present)]
    return [
        {**{c: row[c] for c in columns}, "headings": _heading_list(row["headings"])}
        for row in tasks
        if row["kind"] == KIND_TASK
    ]


@dataclass
class ThemeCoder:
    """A fitted classifier, the hand codes and the coders' overrides, applied to any tasks table.

    Precedence: override > gold > model.  A task with a hand code in the gold
    annotations keeps it (``theme_source = "gold"``); the model's code for it
    comes from ``cross_fitted[doc_id]``, a classifier fitted without that
    document, so the ``theme_model`` columns never show a model coding a task
    it was trained on.  Other tasks of those documents are coded by the same
    cross-fitted model; every other document by ``classifier`` (all gold).
    """

    classifier: ThemePredictor
    codebook: Codebook
    overrides: pd.DataFrame | None
    gold: pd.DataFrame | None = None
    cross_fitted: Mapping[str, ThemePredictor] = field(default_factory=dict)
    # The gold table's rows as dicts, when ``gold`` is not given as a table (the cached coder: no pandas to load it).
    gold_rows: list[dict[str, Any]] | None = None

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
            return replace(_default_coder(), overrides=_stored_overrides())  # the classifier cached, overrides fresh
        return _fit(gold_path, manifest_path, raw_dir, overrides_path)

    def gold_table(self) -> pd.DataFrame | None:
        """The hand codes as a table (``gold``, or built from ``gold_rows``)."""
        if self.gold is None and self.gold_rows is not None:
            import pandas as pd  # the cached coder keeps plain rows: extract codes without pandas (start-up time)

            self.gold = pd.DataFrame(self.gold_rows, columns=list(GOLD_COLUMNS))
        return self.gold

    def code_rows(self, tasks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """:meth:`code` for the `tasks` table's rows as mappings (``corpus.rows.task_rows``): one dict per task.

        Same values as :meth:`code` (plain Python values, None for a missing one), without pandas
        unless there are coders' overrides to apply (they are attached through the review's tables).
        """
        if self.overrides is not None and len(self.overrides):
            import pandas as pd  # tables only for overrides (start-up time)

            coded = self.code(pd.DataFrame([dict(row) for row in tasks]))
            return [{c: _plain(v) for c, v in row.items()} for row in coded.to_dict("records")]
        frame = classifier_rows(tasks)
        predictions = prediction_records(self.model_codes(check_task_rows(frame)), self.codebook)
        gold = self._gold_rows()
        if gold:
            predictions = apply_gold_rows(predictions, frame, gold, self.codebook)
        return predictions

    def code(self, tasks: pd.DataFrame) -> pd.DataFrame:
        """Theme columns (``task_id`` + theme fields) for the tasks (framing units are not coded)."""
        import pandas as pd  # the build's tables (start-up time: extract codes rows, code_rows)

        columns = classifier_columns(tasks)
        if not len(columns):
            return pd.DataFrame(columns=list(PREDICTION_COLUMNS))
        predictions = prediction_frame(*self.model_codes(columns), self.codebook)
        gold = self._gold_rows()
        if gold and _any_gold_task(columns, gold):  # else apply_gold would change nothing
            keys = pd.DataFrame({name: columns[name] for name in ("task_id", "doc_id", "path")})
            predictions = apply_gold(predictions, keys, self.gold_table(), self.codebook)
        if self.overrides is not None and len(self.overrides):
            from analysis.annotate.review import attach_overrides  # the review's tables (start-up time)

            # Overrides find their task by identity (document, text), never by a task_id that may have moved.
            attached = attach_overrides(self.overrides, tasks[(tasks["kind"] == KIND_TASK).to_numpy()]).overrides
            predictions = apply_overrides(predictions, attached, self.codebook)
        return predictions[list(PREDICTION_COLUMNS)]

    def model_codes(self, columns: TaskColumns) -> Codes:
        """The model's codes for the classifier's input ``columns``, cross-fitted for the gold documents' tasks.

        The tasks of other documents are coded together by ``classifier``, those of each
        gold document by the classifier fitted without it; the codes come back in input order.
        """
        gold_documents = set(self.cross_fitted)  # their names: looking one up would load the classifiers
        doc_ids = columns["doc_id"]
        if not gold_documents.intersection(doc_ids):
            return self.classifier.predict_columns(columns)
        groups: dict[str | None, list[int]] = {None: []}
        for i, doc_id in enumerate(doc_ids):
            groups.setdefault(doc_id if doc_id in gold_documents else None, []).append(i)
        parts: list[tuple[list[int], Codes]] = []
        for doc_id, index in groups.items():
            if index:
                predictor = self.classifier if doc_id is None else self.cross_fitted[doc_id]
                part = TaskColumns({name: [values[i] for i in index] for name, values in columns.columns.items()})
                parts.append((index, predictor.predict_columns(part)))
        coded: list[list[Any]] = [[None] * len(columns) for _ in Codes._fields]
        for index, codes in parts:
            for field_values, values in zip(coded, codes, strict=True):
                for i, value in zip(index, cast("list[Any]", values), strict=True):
                    field_values[i] = value
        return Codes(*coded)

    def _gold_rows(self) -> list[dict[str, Any]]:
        """The hand codes as rows (``gold_rows``, or the rows of ``gold``)."""
        return self.gold_rows if self.gold_rows is not None else _records(self.gold)


def _any_gold_task(columns: TaskColumns, gold: Sequence[Mapping[str, Any]]) -> bool:
    """Whether any task has a hand code: its ``doc_id`` + ``path`` as :func:`apply_gold` matches them."""
    coded = {(gold_text(row, "doc_id"), gold_text(row, "path")) for row in gold}
    return any(key in coded for key in zip(columns["doc_id"], columns["path"], strict=True))


def _records(table: pd.DataFrame | None) -> list[dict[str, Any]]:
    return [] if table is None else table.to_dict("records")


def _plain(value: object) -> object:
    """pandas scalars (NA, numpy numbers) → JSON-friendly Python values."""
    import pandas as pd  # only for values out of a table (start-up time)

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def _stored_overrides() -> pd.DataFrame | None:
    """The coders' overrides, None when none were ever imported (then neither the file nor pandas is needed)."""
    if not config.THEME_OVERRIDES_PATH.is_file():
        return None
    from analysis.annotate.review import load_overrides  # the review's tables (start-up time)

    return load_overrides()


def _fit(
    gold_path: Path | None, manifest_path: Path | None, raw_dir: Path | None, overrides_path: Path | None
) -> ThemeCoder:
    from analysis.annotate.review import load_overrides  # fitting: pandas and the review's tables (start-up time)

    codebook = Codebook.load()
    gold_file = Path(gold_path or config.THEMES_GOLD_PATH)
    gold = load_gold(gold_file, codebook) if gold_file.is_file() else None
    if gold is None:
        log.warning("%s not found: theme classifier trained on the codebook only", gold_file)
        training = tasks_frame([])
    else:
        training = gold_tasks(gold, manifest_path, raw_dir)
    return fit_coder(training, gold, codebook, load_overrides(overrides_path))


def fit_coder(
    training: pd.DataFrame, gold: pd.DataFrame | None, codebook: Codebook, overrides: pd.DataFrame | None = None
) -> ThemeCoder:
    """A coder fitted on every gold task, plus one classifier per gold document fitted without it (cross-fitting).

    The classifiers share the models their folds have in common, so each distinct set of
    training rows is fitted once (:data:`~analysis.annotate.themes.FittedModels`).
    """
    # Fitting needs scikit-learn; coding with a fitted (cached) classifier does not: imported here (start-up time).
    from analysis.annotate.themes import ThemeClassifier

    shared: FittedModels = {}
    classifier = ThemeClassifier(codebook).fit(training, gold, shared=shared)
    cross_fitted = {}
    if gold is not None:
        for doc_id in sorted(set(training["doc_id"]) & set(gold["doc_id"])):
            others = training["doc_id"] != doc_id
            cross_fitted[doc_id] = ThemeClassifier(codebook).fit(
                training[others], gold[gold["doc_id"] != doc_id], shared=shared
            )
    log.debug("theme classifiers: %d distinct model fits", len(shared))
    return ThemeCoder(classifier, codebook, overrides, gold, cross_fitted)


# The module the fitted classifier comes from: it, and what it imports, are the code the fit depends on.
CLASSIFIER_ROOTS = ("corpus.coding",)
# Libraries whose behaviour shapes the fit: parsing the gold documents (ROW_LIBRARIES) and the model's maths.
CLASSIFIER_LIBRARIES = (*ROW_LIBRARIES, "scikit-learn", "scipy", "numpy")


def classifier_key() -> str:
    """sha256 of everything the fitted classifier depends on.

    The package modules reachable by import from :data:`CLASSIFIER_ROOTS`
    (the theme stage and the per-document stages that parse the gold
    documents; an edit anywhere else — figures, exports, the CLI — keeps the
    fitted classifier), the reference data, the annotations, the manifest and
    the raw gold documents, and the versions of :data:`CLASSIFIER_LIBRARIES`.
    """

    modules = package_modules(config.PACKAGE_DIR)
    reached = _classifier_modules(modules)
    # Named by their path inside the package (a module moved to another folder changes the key).
    inputs = sorted(modules[name] for name in reached) + sorted(config.REFERENCE_DIR.glob("*"))
    inputs += [config.THEMES_GOLD_PATH, config.MANIFEST_PATH]
    if config.THEMES_GOLD_PATH.is_file():
        with config.THEMES_GOLD_PATH.open(encoding="utf-8-sig", newline="") as handle:
            gold_documents = {row.get("doc_id") for row in csv.DictReader(handle)}
        entries, _ = load_manifest(config.MANIFEST_PATH, config.RAW_DIR)
        inputs += sorted(e.path for e in entries if e.doc_id in gold_documents)
    digest = hashlib.sha256()
    for path in inputs:
        if path.is_file():
            digest.update(_key_name(path).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    for library in CLASSIFIER_LIBRARIES:
        digest.update(f"{library}=={library_version(library)}\0".encode())
    return digest.hexdigest()


def _classifier_modules(modules: dict[str, Path]) -> set[str]:
    """The modules reachable from :data:`CLASSIFIER_ROOTS` (parsing every module took a third of ``extract``).

    The answer is kept in the cache folder under a hash of all the package's
    sources, so it is worked out again whenever any of them changes.
    """
    sources = hashlib.sha256("\0".join(CLASSIFIER_ROOTS).encode())
    for name, path in sorted(modules.items()):
        sources.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    memo = config.CACHE_DIR / "classifier_modules.json"
    try:
        stored = json.loads(memo.read_text(encoding="utf-8"))
        if stored["sources"] == sources.hexdigest():
            return set(stored["modules"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # absent, unreadable or stale: worked out below
    reached = reachable_modules(config.PACKAGE_DIR, CLASSIFIER_ROOTS)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(memo) as temporary:
            temporary.write_text(json.dumps({"sources": sources.hexdigest(), "modules": sorted(reached)}), "utf-8")
    except OSError as error:  # a read-only cache folder costs time, never the result
        log.debug("cannot keep %s: %s", memo, error)
    return reached


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
    documents fits the model afresh.  It holds the classifiers' prediction
    halves (:class:`~analysis.annotate.theme_inference.ThemePredictor`: same
    codes, and loading them imports no scikit-learn).  Overrides are always
    read fresh.
    """

    key = classifier_key()[:20]
    path = config.CACHE_DIR / f"theme_classifier-{key}.pkl"
    cross_path = config.CACHE_DIR / f"theme_classifier-{key}-crossfit.pkl"
    if path.is_file() and cross_path.is_file():
        try:
            with path.open("rb") as handle:
                fitted = pickle.load(handle)
            cross_fitted = LazyClassifiers(cross_path, fitted["cross_fitted_docs"])
            classifier, codebook, gold_rows = fitted["classifier"], fitted["codebook"], fitted["gold_rows"]
            return ThemeCoder(classifier, codebook, _stored_overrides(), None, cross_fitted, gold_rows)
        except Exception as error:  # a damaged or older cache entry is refitted, never fatal
            log.warning("%s unreadable (%s): fitting again", path, error)
    coder = _fit(None, None, None, None)
    for stale in config.CACHE_DIR.glob("theme_classifier-*.pkl"):
        stale.unlink(missing_ok=True)
    predictors = {doc_id: ThemePredictor.of(model) for doc_id, model in coder.cross_fitted.items()}
    with atomic_path(cross_path) as temporary, temporary.open("wb") as handle:
        pickle.dump(predictors, handle, protocol=pickle.HIGHEST_PROTOCOL)
    fitted = {
        "classifier": ThemePredictor.of(coder.classifier),
        "codebook": coder.codebook,
        "gold_rows": None if coder.gold is None else _records(coder.gold),  # plain rows: loading needs no pandas
        "cross_fitted_docs": sorted(coder.cross_fitted),
    }
    with atomic_path(path) as temporary, temporary.open("wb") as handle:
        pickle.dump(fitted, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return coder


class LazyClassifiers(Mapping[str, ThemePredictor]):
    """The cross-fitted classifiers, read from their cache file the first time one is needed.

    Only tasks of the gold documents need them; ``extract`` of any other
    document should not pay for loading one classifier per gold document.
    """

    def __init__(self, path: Path, doc_ids: list[str]) -> None:
        self.path = path
        self.doc_ids = tuple(doc_ids)
        self._models: dict[str, ThemePredictor] | None = None

    def _load(self) -> dict[str, ThemePredictor]:
        if self._models is None:
            with self.path.open("rb") as handle:
                self._models = pickle.load(handle)
        return self._models

    def __getitem__(self, doc_id: str) -> ThemePredictor:
        return self._load()[doc_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.doc_ids)

    def __len__(self) -> int:
        return len(self.doc_ids)
