"""Incremental builds: per-document rows cached by content and pipeline version.

The per-document stage (read → … → tables rows, ``analysis.build.process_entry``)
is a pure function of the file's bytes, its path, its ``doc_id``, its
manifest metadata and the code and reference data of that stage.  A
:class:`DocumentCache` stores its row bundle under a key built from exactly
these, so an unchanged document is never parsed twice, and any change to
one of them parses it again.

:func:`pipeline_version` covers the package's Python sources and the
reference tables **except** the theme stage (``themes.py``, ``segment.py``,
the codebook, the domain dictionary and any ``*theme*`` file): themes are
coded after the per-document stage over the whole tasks table, so editing
the codebook re-codes themes without re-parsing a single document.  (If a
per-document module ever imports the theme stage, it is counted in again.)
The versions of the third-party libraries whose output ends up in the rows
(OpenCC, rjieba, cn2an, charset-normalizer, …) are part of it too.

Format: one file per document, ``<cache_dir>/<key[:2]>/<key>.pkl.z`` —
a magic header, then a zlib-compressed pickle (protocol 5) of
``{"key", "rows"}``.  Pickle is only safe for data this program wrote
itself: this is a private, local cache, never a place to load files from
elsewhere.  Writes are atomic (temporary file + ``os.replace``); a file
that cannot be read, decompressed or unpickled, or that holds another key,
counts as a miss (and is logged), never as a crash.  Failed documents are
not cached: they are retried on the next build.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import logging
import pickle
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis import config
from analysis.core.store import atomic_path

if TYPE_CHECKING:
    from analysis.corpus.engine import ItemFailure

log = logging.getLogger(__name__)

DocumentRows = dict[str, Any]  # every table's rows of one document (``corpus.rows.document_tables``)
MAGIC = b"ANALYSIS-ROWS-1\n"
SUFFIX = ".pkl.z"
# Modules are named by their dotted path inside the package ("parse.pipeline"), so a
# module moved into another folder is a different input and a stale cache entry is
# never served for it.
# The theme stage runs after the per-document stage (over the whole tasks table).
THEME_STAGE_MODULES = frozenset(
    {
        "annotate.themes",
        "annotate.theme_features",
        "annotate.theme_inference",
        "core.codebook",
        "core.segment",
        "corpus.coding",
    }
)
THEME_STAGE_REFERENCE = frozenset({"codebook.csv", "domain_dictionary.txt"})
# Libraries whose behaviour shapes the per-document rows.
ROW_LIBRARIES = (
    "opencc-python-reimplemented",
    "rjieba",
    "cn2an",
    "charset-normalizer",
    "beautifulsoup4",
    "lxml",
    "python-docx",
    "pypdf",
)
# Modules the per-document stage starts from (``corpus.build.process_entry`` calls
# these; the build imports the theme stage only to code themes afterwards).
PER_DOCUMENT_ROOTS = ("parse.pipeline", "corpus.rows")
PACKAGE_NAME = "analysis"


def _is_documentation(path: Path) -> bool:
    return path.suffix.lower() == ".md"


def _is_theme_data(path: Path) -> bool:
    return path.name in THEME_STAGE_REFERENCE or "theme" in path.name.lower()


def package_modules(package_dir: Path) -> dict[str, Path]:
    """Every module of the package by dotted name relative to it (``core.text``; a package is its ``__init__``)."""
    modules: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(part.isidentifier() for part in parts):
            modules[".".join(parts)] = path
    return modules


def imported_modules(
    source: Path, module: str = "", known: Iterable[str] | None = None, *, with_parents: bool = True
) -> set[str]:
    """Dotted names of the package modules a source file imports, anywhere in it (parsed, not pattern-matched).

    ``from analysis.core import text`` names ``core.text`` when that is a module
    (``known``), else ``core``; relative imports are resolved against ``module``.
    ``with_parents`` adds the packages an import runs on the way (``core`` for ``core.text``).
    """
    known_names = set(known) if known is not None else None
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_bytes(), filename=str(source))):
        if isinstance(node, ast.Import):
            names.update(_inside_package(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(node, module, source.name == "__init__.py")
            if base is None:
                continue
            for alias in node.names:
                child = f"{base}.{alias.name}" if base else alias.name
                if known_names is None or child in known_names:
                    names.add(child)  # a submodule
                else:
                    names.add(base)  # a name defined in the module (or package) ``base``
    # Importing ``a.b.c`` runs the packages ``a`` and ``a.b`` too.
    if with_parents:
        names |= {".".join(name.split(".")[:i]) for name in names for i in range(1, name.count(".") + 1)}
    return {name for name in names if name and (known_names is None or name in known_names)}


def _inside_package(name: str) -> str:
    prefix = PACKAGE_NAME + "."
    return name[len(prefix) :] if name.startswith(prefix) else ""


def _resolve_from(node: ast.ImportFrom, module: str, is_package: bool) -> str | None:
    """The package-relative dotted name an ``from X import …`` statement starts from (None: outside the package)."""
    if node.level == 0:
        if node.module == PACKAGE_NAME:
            return ""
        inside = _inside_package(node.module or "")
        return inside or None
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    if node.module:
        parts = [*parts, *node.module.split(".")]
    return ".".join(parts)


def per_document_modules(package_dir: Path) -> set[str]:
    """Modules reachable by import from the per-document stage's entry modules (dotted names)."""
    return reachable_modules(package_dir, PER_DOCUMENT_ROOTS)


def reachable_modules(package_dir: Path, roots: Iterable[str]) -> set[str]:
    """Modules reachable by import from ``roots`` (dotted names inside the package, roots included)."""
    modules = package_modules(package_dir)
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        todo.extend(imported_modules(modules[name], name, modules) - seen)
    return seen


def version_inputs(package_dir: Path | None = None) -> list[Path]:
    """The files :func:`pipeline_version` hashes: package sources (every folder), then reference data."""
    package_dir = package_dir or config.PACKAGE_DIR
    reachable = per_document_modules(package_dir)
    theme_stage_used = bool(reachable & THEME_STAGE_MODULES)
    if theme_stage_used:
        log.info("the per-document stage imports the theme stage: the codebook counts in the pipeline version")
    modules = package_modules(package_dir)
    sources = sorted(
        (path for name, path in modules.items() if theme_stage_used or name not in THEME_STAGE_MODULES),
        key=lambda path: path.relative_to(package_dir).as_posix(),
    )
    reference = sorted(p for p in (package_dir / "reference").rglob("*") if p.is_file())
    data = [p for p in reference if not _is_documentation(p) and (theme_stage_used or not _is_theme_data(p))]
    return sources + data


def pipeline_version(package_dir: Path | None = None) -> str:
    """sha256 of everything the per-document stage's output depends on (code, reference data, libraries)."""
    package_dir = package_dir or config.PACKAGE_DIR
    digest = hashlib.sha256()
    for path in version_inputs(package_dir):
        digest.update(path.relative_to(package_dir).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for library in ROW_LIBRARIES:
        digest.update(f"{library}=={library_version(library)}\0".encode())
    return digest.hexdigest()


def library_version(library: str) -> str:
    """The installed version of ``library``, or ``"absent"``.

    Read from the ``Version:`` line of its METADATA without parsing the rest
    (what ``importlib.metadata.version`` returns, for a fraction of the start-up time).
    """
    try:
        metadata = importlib.metadata.distribution(library).read_text("METADATA") or ""
    except importlib.metadata.PackageNotFoundError:
        return "absent"
    found = re.search(r"^Version:[ \t]*(\S+)", metadata, re.MULTILINE)
    return found.group(1) if found else "unknown"


def canonical_json(value: Any) -> str:
    """Key-sorted compact JSON (``str`` for what JSON cannot hold), so equal metadata hash equally."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class CacheStats:
    """What a cache did in this process."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    corrupt: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "writes": self.writes, "corrupt": self.corrupt}


class DocumentCache:
    """Per-document row bundles on disk, keyed by content + metadata + pipeline version."""

    def __init__(self, cache_dir: Path | None = None, version: str | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else config.CACHE_DIR
        self.version = version if version is not None else pipeline_version()
        self.stats = CacheStats()
        self.used_keys: set[str] = set()  # keys of the documents seen by the last map_cached run

    def key(self, path: Path, doc_id: str, metadata: dict[str, Any]) -> str:
        """sha256 of the file's bytes, its path, ``doc_id``, the metadata and the pipeline version.

        The path is part of the key because the rows record it (``source_path``,
        ``problems.file``).  Raises ``OSError`` if the file cannot be read.
        """
        digest = hashlib.sha256()
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
        for part in (str(path), doc_id, canonical_json(metadata), self.version):
            digest.update(b"\0" + part.encode("utf-8"))
        return digest.hexdigest()

    def path_for(self, key: str) -> Path:
        """Where the entry for ``key`` lives."""
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.cache_dir / key[:2] / f"{key}{SUFFIX}"

    def __contains__(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def get(self, key: str) -> DocumentRows | None:
        """The cached rows, or ``None`` (a miss) when absent or unreadable."""
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.stats.misses += 1
            return None
        try:
            if not data.startswith(MAGIC):
                raise ValueError("not a cache file (bad header)")
            payload = pickle.loads(zlib.decompress(data[len(MAGIC) :]))
            if not isinstance(payload, dict) or payload.get("key") != key or not isinstance(payload.get("rows"), dict):
                raise ValueError("entry holds another key or no rows")
        except Exception as exc:
            log.warning(
                "cache entry %s is unreadable (%s: %s); parsing the document again", path, type(exc).__name__, exc
            )
            self.stats.corrupt += 1
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        return payload["rows"]

    def put(self, key: str, rows: DocumentRows) -> Path:
        """Store ``rows`` under ``key`` (atomically: readers see the old entry or the new one)."""
        path = self.path_for(key)
        blob = MAGIC + zlib.compress(pickle.dumps({"key": key, "rows": rows}, protocol=5), 1)
        with atomic_path(path) as temporary:
            temporary.write_bytes(blob)
        self.stats.writes += 1
        return path

    def keys(self) -> Iterator[str]:
        """Keys of all entries on disk."""
        if not self.cache_dir.is_dir():
            return
        for path in self.cache_dir.glob(f"??/*{SUFFIX}"):
            yield path.name[: -len(SUFFIX)]

    def prune(self, keep_keys: Iterable[str], *, stale_temp_seconds: float = 3600.0) -> int:
        """Delete every entry not in ``keep_keys`` (and abandoned temporary files); return how many."""
        keep = set(keep_keys)
        removed = 0
        for key in list(self.keys()):
            if key not in keep:
                self.path_for(key).unlink(missing_ok=True)
                removed += 1
        if self.cache_dir.is_dir():
            cutoff = time.time() - stale_temp_seconds
            for temporary in self.cache_dir.glob("??/.*.tmp"):
                if temporary.stat().st_mtime < cutoff:
                    temporary.unlink(missing_ok=True)
        if removed:
            log.info("cache %s: pruned %d stale entries", self.cache_dir, removed)
        return removed


Outcome = tuple[str, "DocumentRows | None", "dict[str, Any] | None"]


def map_cached(
    process: Callable[[Any], Outcome],
    entries: Iterable[Any],
    cache: DocumentCache,
    **engine_options: Any,
) -> Iterator[Outcome | ItemFailure]:
    """``process(entry)`` for every manifest entry, in order, skipping documents already in the cache.

    ``process`` returns ``(doc_id, rows, problem)`` like
    ``analysis.build.process_entry``; entries need ``path``, ``doc_id`` and
    ``metadata``.  Only the misses go to :func:`analysis.engine.map_ordered`
    (``engine_options``: ``jobs``, ``engine``, ``scheduler``, ``progress``, …);
    hits are read here, in order.  Successful rows are written to the cache;
    failures are not (an :class:`~analysis.corpus.engine.ItemFailure` is
    passed through when ``engine_options`` has ``on_error="return"``).  ``cache.used_keys`` afterwards holds the keys of this
    run (pass them to :meth:`DocumentCache.prune`).  ``entries`` must be iterable more than once: it is
    iterated three times and never copied (a streamed :class:`~analysis.parse.manifest.Manifest` stays streamed).
    """
    # The engine (processes, progress bars) only for a build: extract needs just the key functions (start-up time).
    from analysis.corpus.engine import ItemFailure, map_ordered, run_guarded

    keys: list[str | None] = []
    for entry in entries:
        try:
            keys.append(cache.key(entry.path, entry.doc_id, entry.metadata))
        except OSError:
            keys.append(None)  # unreadable: process_entry reports it
    cache.used_keys = {k for k in keys if k is not None}
    hit = [key is not None and key in cache for key in keys]
    misses = iter(map_ordered(process, _Selected(entries, [not h for h in hit]), **engine_options))
    for position, (entry, key, was_hit) in enumerate(zip(entries, keys, hit, strict=False)):
        rows = cache.get(key) if was_hit and key is not None else None
        if rows is not None:
            yield entry.doc_id, rows, None
            continue
        if was_hit:  # present when checked but unreadable now: parse it here (a failure is returned, not raised)
            outcome = run_guarded(process, position, entry, engine_options.get("budget"))
        else:
            cache.stats.misses += 1
            outcome = next(misses)
        if isinstance(outcome, ItemFailure):  # a bug, a budget overrun or a dead worker: never cached
            yield outcome
            continue
        _doc_id, fresh_rows, problem = outcome
        if fresh_rows is not None and problem is None and key is not None:
            cache.put(key, fresh_rows)
        yield outcome


class _Selected:
    """The items of ``items`` whose flag is true, taken from ``items`` afresh at each iteration; ``len`` is their number."""

    def __init__(self, items: Iterable[Any], flags: Sequence[bool]) -> None:
        self.items, self.flags, self.n = items, flags, sum(flags)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[Any]:
        return (item for item, wanted in zip(self.items, self.flags, strict=True) if wanted)
