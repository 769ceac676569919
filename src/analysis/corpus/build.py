"""Build the corpus: manifest → per-document rows → coded tasks → tables + run report.

I/O lives at the two edges: :func:`build_corpus` reads the manifest and
writes the tables and the report.  In between, every document goes through
the same pure function (:func:`process_entry`), which returns the rows of
every table for that document — small, picklable bundles that one process,
a process pool or a Dask cluster can produce alike.  Themes are coded after,
over the whole `tasks` table, because the classifier is trained once per run.
A document that fails is reported and left out; the others still go through.

Isolation: each document is built in a worker process under a time and
memory budget (``config.DOCUMENT_SECONDS``, ``config.DOCUMENT_MEMORY_BYTES``).
Whatever goes wrong with one document — bad input, a bug, too slow, too large,
a worker that dies — becomes one ``problems`` row naming its file and manifest
row; the build goes on and exits non-zero.  Builds into one output folder are
exclusive (a lock file) and publish all tables at once (``core.store``).
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import config
from analysis.core import schema
from analysis.core.errors import InputError
from analysis.core.models import THEME_COLUMNS
from analysis.core.schema import TABLE_NAMES
from analysis.core.store import BuildLock, PartitionedWriter, clean_leftovers, read_table
from analysis.corpus import rows
from analysis.corpus.cache import DocumentCache, map_cached
from analysis.corpus.coding import ThemeCoder
from analysis.corpus.engine import (
    FAILURE_DIED,
    FAILURE_TOO_LARGE,
    FAILURE_TOO_SLOW,
    Budget,
    ItemFailure,
    map_ordered,
)
from analysis.parse.manifest import ManifestEntry, open_manifest
from analysis.parse.pipeline import annotate_document, default_normaliser, parse_decoded, process_document
from analysis.parse.read import DecodedText

log = logging.getLogger(__name__)

DocumentRows = rows.DocumentTables


@dataclass
class BuildResult:
    """What a build wrote: where the tables are, its summary, the documents that failed."""

    out_dir: Path
    summary: dict[str, Any]
    failed: list[str] = field(default_factory=list)
    cache_stats: dict[str, int] = field(default_factory=dict)  # hits / misses of the document cache

    @property
    def ok(self) -> bool:
        return not self.failed

    def table(self, name: str) -> pd.DataFrame:
        """Read one of the tables this build wrote."""
        return read_table(name, self.out_dir)


def problem_row(
    doc_id: str, file: str, stage: str, severity: str, problem: str, manifest_row: int | None = None
) -> dict[str, Any]:
    return {
        "doc_id": doc_id,
        "file": file,
        "manifest_row": manifest_row,
        "stage": stage,
        "severity": severity,
        "problem": problem,
    }


def process_entry(entry: ManifestEntry) -> tuple[str, DocumentRows | None, dict[str, Any] | None]:
    """Parse and annotate one document: ``(doc_id, rows, None)`` or ``(doc_id, None, problem)``."""
    try:
        doc = process_document(entry.path, entry.doc_id, entry.metadata)
    except InputError as error:
        return entry.doc_id, None, problem_row(entry.doc_id, str(entry.path), "read", "error", error.problem, entry.row)
    return entry.doc_id, rows.document_tables(doc), None


_FAILURE_PROBLEMS = {
    FAILURE_TOO_SLOW: "too slow: {error} (ANALYSIS_DOCUMENT_SECONDS raises the budget)",
    FAILURE_TOO_LARGE: "too large: {error} (ANALYSIS_DOCUMENT_MEMORY_MB raises the budget)",
    FAILURE_DIED: "not built: {error}",
}


def failure_problem(entry: ManifestEntry, failure: ItemFailure) -> dict[str, Any]:
    """The problems row for a document whose worker did not return rows (budget, crash, or a bug)."""
    template = _FAILURE_PROBLEMS.get(failure.kind, "internal error (a bug, not bad input): {error}")
    if failure.traceback:
        log.error("%s (manifest row %s) failed:\n%s", entry.path, entry.row, failure.traceback)
    problem = template.format(error=failure.error)
    return problem_row(entry.doc_id, str(entry.path), "build", "error", problem, entry.row)


def outcome_rows(entry: ManifestEntry, outcome: Any) -> tuple[DocumentRows | None, dict[str, Any] | None]:
    """``(rows, None)`` for a built document (its problems rows stamped with the manifest row), else ``(None, problem)``."""
    if isinstance(outcome, ItemFailure):
        return None, failure_problem(entry, outcome)
    _doc_id, document_rows, problem = outcome
    if problem is not None:
        return None, {**problem, "manifest_row": entry.row}
    stamped = [{**row, "manifest_row": entry.row} for row in document_rows.get("problems", [])]
    return {**document_rows, "problems": stamped}, None


def process_entries(
    entries: Iterable[ManifestEntry],
    *,
    jobs: int = 1,
    progress: bool = True,
    engine: str = "local",
    scheduler: str | None = None,
    cache: Any = None,
) -> Iterable[Any]:
    """``process_entry`` over all entries in manifest order; unchanged documents come from ``cache``.

    Each result is ``process_entry``'s triple or an :class:`ItemFailure` (bug, budget, dead worker).
    ``entries`` may be iterated more than once (a :class:`~analysis.parse.manifest.Manifest`
    reads them from its file each time).
    """

    if engine == "local":
        warm_up()  # forked workers start with everything loaded: a document's budget counts only its own work
        # What is loaded now (modules, reference tables, dictionaries) lives as long as the process: the cycle
        # collector need not scan it again at every collection (~8 % of the per-document time) and forked
        # workers keep sharing its pages.
        gc.collect()
        gc.freeze()
    options: dict[str, Any] = {
        "jobs": jobs,
        "engine": engine,
        "scheduler": scheduler,
        "progress": progress,
        "desc": "documents",
        "on_error": "return",
        "budget": Budget.from_config(),
    }
    if cache is None:
        yield from map_ordered(process_entry, entries, **options)
    else:
        yield from map_cached(process_entry, entries, cache, **options)


# A few lines in the shape of a plan, run once through every stage to load what the stages load lazily.
_WARM_UP_TEXT = "某县法治政府建设工作要点\n一、主要任务\n1.加强规范性文件管理，审核率达到100%。(牵头单位:县司法局)\n"


def warm_up() -> None:
    """Load reference tables, dictionaries and converters in this process (worker processes fork from it)."""
    decoded = DecodedText(_WARM_UP_TEXT, "utf-8", "txt")
    try:
        annotate_document(parse_decoded(decoded, doc_id="warm-up", source_path="(warm-up)"), default_normaliser())
    except Exception as exc:  # a stage's bug shows on the real documents, each reported on its own
        log.warning("warm-up failed (%s: %s); workers load their data on their first document", type(exc).__name__, exc)


def theme_coder() -> Any:
    """A fitted theme coder: classifier trained on the gold annotations, overrides applied."""

    return ThemeCoder.from_project()


def code_task_parts(parts: list[Path], *, jobs: int = 1, progress: bool = False) -> Iterable[pd.DataFrame]:
    """Each tasks part with its theme columns, in order; parts coded in parallel when ``jobs`` > 1.

    The coder is fitted (or loaded) here first, so worker processes load the
    fitted classifier from the on-disk cache instead of fitting it again.
    """
    coder = theme_coder()
    if jobs <= 1 or len(parts) <= 1:
        for path in parts:
            part = pd.read_parquet(path)
            yield with_themes(part, coder.code(part))
        return

    # One part per task and few in flight: a coded part is tens of MB, and a task of several parts (the default
    # chunking, 12 parts at 100,000 documents) made every worker hold and pickle them all at once, and this
    # process unpickle them all at once.
    options: dict[str, Any] = {"chunksize": 1, "window": 2 * jobs}
    yield from map_ordered(_code_part_file, parts, jobs=jobs, progress=progress, desc="theme coding", **options)


def _code_part_file(path: Path) -> pd.DataFrame:
    """One tasks part coded in a worker (the project's coder, from the disk cache)."""
    part = pd.read_parquet(path)
    return with_themes(part, theme_coder().code(part))


def with_themes(tasks: pd.DataFrame, themes: pd.DataFrame) -> pd.DataFrame:
    """The tasks table with its theme columns filled from ``themes`` (by task_id)."""
    base = tasks.drop(columns=[c for c in THEME_COLUMNS if c in tasks.columns])
    if themes.empty:
        return schema.conform(base, "tasks", allow_missing=THEME_COLUMNS)
    merged = base.merge(themes[["task_id", *THEME_COLUMNS]], on="task_id", how="left", validate="one_to_one")
    return schema.conform(merged, "tasks")


def assemble(bundles: Iterable[DocumentRows], problems: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """Per-document rows → conformed tables (themes not yet coded)."""
    collected = {name: _TableRows() for name in TABLE_NAMES}
    collected["problems"].add(problems)
    for bundle in bundles:
        for name in TABLE_NAMES:
            collected[name].add(bundle.get(name, []))
    return {
        name: table_rows.frame(name, allow_missing=_FILLED_LATER.get(name, ()))
        for name, table_rows in collected.items()
    }


class _TableRows:
    """One table's rows from many documents: tuples while every part is :class:`~rows.Records` of the same
    columns (the frame made from them directly), else dicts (a part of dict rows, or other columns)."""

    def __init__(self) -> None:
        self.columns: tuple[str, ...] | None = None
        self.tuples: list[tuple[Any, ...]] = []
        self.dicts: list[dict[str, Any]] | None = None

    def add(self, part: list[dict[str, Any]] | rows.Records) -> None:
        if isinstance(part, rows.Records):
            if not part.rows:
                return
            if self.dicts is None and self.columns in (None, part.columns):
                self.columns = part.columns
                self.tuples.extend(part.rows)
                return
        elif not part:
            return
        if self.dicts is None:  # from now on dicts, the tuples so far first
            self.dicts = rows.Records(self.columns, self.tuples).dicts() if self.columns is not None else []
            self.tuples = []
        self.dicts.extend(rows.table_dicts(part))

    def frame(self, name: str, **kwargs: Any) -> pd.DataFrame:
        if self.dicts is None and self.columns is not None:
            return schema.frame_records(self.columns, self.tuples, name, **kwargs)
        return schema.frame(self.dicts or [], name, **kwargs)


# Columns a table may lack when assembled: themes are coded later; problems of rows not from the manifest.
_FILLED_LATER: dict[str, tuple[str, ...]] = {"tasks": THEME_COLUMNS, "problems": ("manifest_row",)}


CHUNK_DOCUMENTS = 500  # documents per written part: bounds memory at any corpus size


def build_corpus(
    manifest_path: Path | None = None,
    raw_dir: Path | None = None,
    out_dir: Path | None = None,
    *,
    jobs: int = 1,
    progress: bool = True,
    chunk_documents: int = CHUNK_DOCUMENTS,
    engine: str = "local",
    scheduler: str | None = None,
    use_cache: bool = True,
    cache_dir: Path | None = None,
) -> BuildResult:
    """Build every document of the manifest; write the tables and the run report.

    Documents stream through in manifest order and are written in parts of
    ``chunk_documents``; themes are coded part by part after the classifier
    is fitted once.  Nothing in ``out_dir`` changes until the whole build has
    succeeded.  Documents whose file, metadata and pipeline code are unchanged
    since the last build come from the cache (``use_cache``); ``engine="dask"``
    runs the per-document work on a Dask cluster (``scheduler`` address, or a
    local cluster when None).
    """

    manifest_path = manifest_path or config.MANIFEST_PATH
    raw_dir = raw_dir or config.RAW_DIR
    out_dir = out_dir or config.PROCESSED_DIR
    # Streamed: the entries are read from the file as the documents go through, never held all at once.
    entries = open_manifest(manifest_path, raw_dir)
    problems = [problem_row(p.doc_id, p.file, "manifest", "error", p.problem, p.row) for p in entries.problems]
    failed = [p["doc_id"] for p in problems]
    with BuildLock(out_dir, config.BUILD_LOCK_WAIT_SECONDS):
        clean_leftovers(out_dir)
        # The cache lives with the tables it feeds, so builds into other folders never share or prune it.
        cache = DocumentCache(cache_dir or out_dir / ".document_cache") if use_cache else None
        writer = PartitionedWriter(out_dir)
        # One process: each tasks part is coded as it is written (the coder fitted at the first part), instead of
        # written uncoded, read back, coded and rewritten.  Several: coded in parallel once all are written.
        coding = _ChunkCoding() if jobs <= 1 else None
        try:
            chunk: list[DocumentRows] = []
            documents = process_entries(
                entries, jobs=jobs, progress=progress, engine=engine, scheduler=scheduler, cache=cache
            )
            for entry, outcome in zip(entries, documents, strict=True):
                document_rows, problem = outcome_rows(entry, outcome)
                if problem is not None:
                    log.error("%s (manifest row %s): %s", problem["file"], entry.row, problem["problem"])
                    problems.append(problem)
                    failed.append(entry.doc_id)
                    continue
                assert document_rows is not None
                chunk.append(document_rows)
                if len(chunk) >= chunk_documents:
                    _write_chunk(writer, chunk, coding)
                    chunk = []
            if chunk or not writer.parts("documents"):
                _write_chunk(writer, chunk, coding)
            problems.extend(override_problems(writer))
            writer.write("problems", schema.frame(problems, "problems"))
            if coding is None:
                writer.rewrite("tasks", lambda parts: code_task_parts(parts, jobs=jobs, progress=progress))
            summary = run_summary(writer, failed)
            writer.commit(
                {
                    "run_report.md": run_report(writer, summary),
                    "run_report.json": json.dumps(summary, ensure_ascii=False, indent=2, default=str),
                }
            )
        except BaseException:
            writer.abort()
            raise
        cache_stats: dict[str, int] = {}
        if cache is not None:
            cache.prune(cache.used_keys)
            cache_stats = cache.stats.as_dict()
            log.info("document cache: %s", cache_stats)
    return BuildResult(out_dir, summary, failed, cache_stats)


def override_problems(writer: PartitionedWriter) -> list[dict[str, Any]]:
    """A problems row (warning) for every stored override that is not applied: its task is gone or changed."""
    from analysis.annotate.review import attach_overrides, load_overrides

    overrides = load_overrides()
    if overrides.empty:
        return []
    columns = ["doc_id", "task_id", "kind", "path", "text"]
    # Only the tasks of documents with overrides (what attach_overrides looks at), part by part: not the whole table.
    wanted = set(overrides["doc_id"].astype(str))
    parts = (pd.read_parquet(p, columns=columns) for p in writer.parts("tasks"))
    tasks = pd.concat([part[part["doc_id"].astype(str).isin(wanted)] for part in parts], ignore_index=True)
    attached = attach_overrides(overrides, tasks)
    where = str(overrides.attrs.get("path", ""))
    return [problem_row(p["doc_id"], where, "review", "warning", p["problem"]) for p in attached.problems]


class _ChunkCoding:
    """Codes the tasks of each chunk as it is written (one process); the coder is fitted at the first chunk.

    The same as :func:`code_task_parts` over the written parts: a part's themes depend on that part alone.
    """

    def __init__(self) -> None:
        self._coder: Any = None

    def __call__(self, tasks: pd.DataFrame) -> pd.DataFrame:
        if self._coder is None:
            self._coder = theme_coder()
        return with_themes(tasks, self._coder.code(tasks))


def _write_chunk(writer: PartitionedWriter, chunk: list[DocumentRows], coding: _ChunkCoding | None = None) -> None:
    """Write one part of every table; ``chunk`` is emptied once its rows are in the tables (memory)."""
    tables = assemble(chunk, [])
    chunk.clear()
    # Each table dropped once written, the tasks last: coding them holds the least besides.
    for name in [n for n in tables if n != "tasks"] + ["tasks"]:
        frame = tables.pop(name)
        if name != "tasks":
            writer.write(name, frame)
        elif coding is not None:
            writer.write(name, coding(frame))
        else:  # rewritten with its themes (``code_task_parts``), its CSV written then
            writer.write(name, frame, csv=False)


def run_summary(writer: PartitionedWriter, failed: list[str]) -> dict[str, Any]:
    """Machine-readable summary of a build (from the staged tables)."""
    documents = writer.read("documents")
    problems = writer.read("problems")
    # Unit mentions counted part by part: the whole column is ~100 rows per document.
    n_mentions = n_unmatched = 0
    for part in writer.parts("units"):
        match = pd.read_parquet(part, columns=["match"])["match"]
        n_mentions += len(match)
        n_unmatched += int((match == "unmatched").sum())
    per_document = documents[["doc_id", "n_tasks", "n_framing", "n_measures", "n_repairs", "n_problems"]]
    return {
        "n_documents": len(documents),
        "n_failed": len(failed),
        "failed": failed,
        "n_tasks": int(documents["n_tasks"].sum()) if len(documents) else 0,
        "n_errors": int((problems["severity"] == "error").sum()),
        "n_warnings": int((problems["severity"] == "warning").sum()),
        "n_unit_mentions": n_mentions,
        "n_unmatched_units": n_unmatched,
        "per_document": per_document.astype(object).where(per_document.notna(), None).to_dict(orient="records"),
    }


def run_report(writer: PartitionedWriter, summary: dict[str, Any]) -> str:
    """Human-readable run report: per-document summary, unmatched units, every problem."""
    documents, problems = writer.read("documents"), writer.read("problems")
    columns = ["doc_id", "task_id", "raw", "match"]
    parts = (pd.read_parquet(p, columns=columns) for p in writer.parts("units"))  # one part in memory at a time
    unmatched = pd.concat([part[part["match"] == "unmatched"] for part in parts], ignore_index=True)
    lines = [
        "# Run report",
        "",
        f"Documents built: {summary['n_documents']}; failed: {summary['n_failed']}; tasks: {summary['n_tasks']}; "
        f"errors: {summary['n_errors']}; warnings: {summary['n_warnings']}; "
        f"unit mentions: {summary['n_unit_mentions']} ({summary['n_unmatched_units']} unmatched).",
        "",
        "## Documents",
        "",
    ]
    columns = ["doc_id", "jurisdiction", "doc_type", "n_tasks", "n_framing", "n_measures", "n_repairs", "n_problems"]
    lines += [documents[columns].to_markdown(index=False) if len(documents) else "None.", ""]
    lines += ["## Unmatched unit names (kept as written)", ""]
    lines += [unmatched[["doc_id", "task_id", "raw"]].to_markdown(index=False) if len(unmatched) else "None.", ""]
    lines += ["## Problems", ""]
    lines += [problems.to_markdown(index=False) if len(problems) else "None.", ""]
    return "\n".join(lines)
