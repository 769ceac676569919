"""Build the corpus: manifest → parsed documents → coded tasks → tables + run report.

I/O lives at the two edges: :func:`build_corpus` reads the manifest and the
files, and writes the tables and the report.  In between, every document goes
through the same pure functions (:func:`process_entry`), one process or many.
A document that fails is reported and left out; the others still go through.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
from tqdm.auto import tqdm

from analysis import config, tables
from analysis.errors import InputError
from analysis.manifest import ManifestEntry, load_manifest
from analysis.models import KIND_TASK, ParsedDocument
from analysis.pipeline import parse_document
from analysis.store import write_table, write_text_atomic

log = logging.getLogger(__name__)

TABLE_NAMES = ("documents", "sections", "tasks", "measures", "units", "targets", "repairs", "problems")


@dataclass
class BuildResult:
    """What a build produced: the tables and the problems found."""

    tables: dict[str, pd.DataFrame]
    problems: list[dict[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def annotate_document(doc: ParsedDocument, normaliser: Any) -> ParsedDocument:
    """Per-document enrichment: responsible units and targets on every task."""
    from analysis.targets import task_targets
    from analysis.units import task_units

    jurisdiction = doc.metadata.get("jurisdiction")
    year = _document_year(doc)
    for unit in doc.units:
        if unit.kind != KIND_TASK:
            continue
        unit.extra["units"] = task_units(unit, normaliser, jurisdiction=jurisdiction)
        unit.extra["targets"] = task_targets(unit, document_year=year)
    return doc


def _document_year(doc: ParsedDocument) -> int | None:
    issued = doc.metadata.get("issued") or ""
    if len(issued) >= 4 and issued[:4].isdigit():
        return int(issued[:4])
    start = doc.metadata.get("period_start")
    return int(start) if start else None


def process_entry(entry: ManifestEntry) -> tuple[ParsedDocument | None, dict[str, Any] | None]:
    """Parse and annotate one manifest entry; an input error becomes a problem row."""
    from analysis.units import AgencyNormaliser

    try:
        doc = parse_document(entry.path, entry.doc_id, entry.metadata)
    except InputError as error:
        return None, {"doc_id": entry.doc_id, "file": str(entry.path), "stage": "read",
                      "severity": "error", "problem": error.problem}
    annotate_document(doc, _normaliser(AgencyNormaliser))
    return doc, None


_NORMALISER_CACHE: dict[str, Any] = {}


def _normaliser(factory: Any) -> Any:
    """One agency normaliser per process (reference tables load once)."""
    if "normaliser" not in _NORMALISER_CACHE:
        _NORMALISER_CACHE["normaliser"] = factory()
    return _NORMALISER_CACHE["normaliser"]


def parse_entries(entries: list[ManifestEntry], jobs: int = 1, progress: bool = True) -> Iterable[tuple]:
    """Process entries in manifest order, in ``jobs`` processes."""
    bar = tqdm(total=len(entries), desc="documents", unit="doc", disable=not progress)
    if jobs <= 1:
        for entry in entries:
            yield entry, *process_entry(entry)
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for entry, result in zip(entries, pool.map(process_entry, entries, chunksize=4)):
                yield entry, *result
                bar.update()
    bar.close()


def code_themes(docs: list[ParsedDocument]) -> list[dict[str, Any]]:
    """Train the theme classifier on the gold annotations and code every task."""
    from analysis.themes import code_tasks

    return code_tasks(docs)


def assemble_tables(docs: list[ParsedDocument], problems: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """All tables of a build, conformed to the data dictionary."""
    files = {d.doc_id: d.source_path for d in docs}
    all_problems = list(problems) + [
        {**p, "file": files.get(p.get("doc_id", ""), "")} for d in docs for p in d.problems
    ]
    documents = [tables.document_rows(d) for d in docs]
    return {
        "documents": tables.frame(documents, "documents"),
        "sections": tables.frame([r for d in docs for r in tables.section_rows(d)], "sections"),
        "tasks": tables.frame([r for d in docs for r in tables.task_rows(d)], "tasks",
                              allow_missing=tables.THEME_COLUMNS),
        "measures": tables.frame([r for d in docs for r in tables.measure_rows(d)], "measures"),
        "units": tables.frame([r for d in docs for r in tables.unit_rows(d)], "units"),
        "targets": tables.frame([r for d in docs for r in tables.target_rows(d)], "targets"),
        "repairs": tables.frame([r for d in docs for r in tables.repair_rows(d)], "repairs"),
        "problems": tables.frame(
            [{k: p.get(k, "") for k in ("doc_id", "file", "stage", "severity", "problem")} for p in all_problems],
            "problems",
        ),
    }


def build_corpus(
    manifest_path: Path | None = None,
    raw_dir: Path | None = None,
    out_dir: Path | None = None,
    *,
    jobs: int = 1,
    progress: bool = True,
) -> BuildResult:
    """Build every document of the manifest and write the tables and run report."""
    manifest_path = manifest_path or config.MANIFEST_PATH
    raw_dir = raw_dir or config.RAW_DIR
    out_dir = out_dir or config.PROCESSED_DIR
    entries, manifest_problems = load_manifest(manifest_path, raw_dir)
    problems: list[dict[str, Any]] = [p.to_dict() for p in manifest_problems]
    for problem in problems:
        log.error("%s: %s", problem["file"] or manifest_path, problem["problem"])
    docs: list[ParsedDocument] = []
    failed = [p["doc_id"] for p in problems]
    for entry, doc, problem in parse_entries(entries, jobs=jobs, progress=progress):
        if problem:
            log.error("%s: %s", problem["file"], problem["problem"])
            problems.append(problem)
            failed.append(entry.doc_id)
        else:
            docs.append(doc)
    theme_rows = code_themes(docs)
    by_task = {row["task_id"]: row for row in theme_rows}
    for doc in docs:
        for unit in doc.tasks:
            unit.extra.update({k: v for k, v in by_task.get(unit.task_id, {}).items() if k != "task_id"})
    result = BuildResult(assemble_tables(docs, problems), problems, failed)
    write_outputs(result, out_dir)
    return result


def write_outputs(result: BuildResult, out_dir: Path) -> list[Path]:
    """Write every table (Parquet + CSV) and the run report, each atomically."""
    written: list[Path] = []
    for name in TABLE_NAMES:
        written += write_table(result.tables[name], name, out_dir)
    report = run_report(result)
    write_text_atomic(out_dir / "run_report.md", report)
    write_text_atomic(out_dir / "run_report.json", json.dumps(run_summary(result), ensure_ascii=False, indent=2))
    return written + [out_dir / "run_report.md", out_dir / "run_report.json"]


def run_summary(result: BuildResult) -> dict[str, Any]:
    """Machine-readable summary of a build."""
    documents = result.tables["documents"]
    problems = result.tables["problems"]
    units = result.tables["units"]
    return {
        "n_documents": int(len(documents)),
        "n_failed": len(result.failed),
        "failed": result.failed,
        "n_tasks": int(documents["n_tasks"].sum()) if len(documents) else 0,
        "n_errors": int((problems["severity"] == "error").sum()),
        "n_warnings": int((problems["severity"] == "warning").sum()),
        "n_unmatched_units": int((units["match"] == "unmatched").sum()) if len(units) else 0,
        "per_document": documents[["doc_id", "n_tasks", "n_framing", "n_measures", "n_repairs", "n_problems"]]
        .astype(object).to_dict(orient="records"),
    }


def run_report(result: BuildResult) -> str:
    """Human-readable run report: per-document summary and every problem."""
    summary = run_summary(result)
    lines = ["# Run report", "", f"Documents built: {summary['n_documents']}; failed: {summary['n_failed']}; "
             f"tasks: {summary['n_tasks']}; errors: {summary['n_errors']}; warnings: {summary['n_warnings']}.", ""]
    documents = result.tables["documents"]
    if len(documents):
        lines += ["## Documents", "", documents[["doc_id", "jurisdiction", "doc_type", "n_tasks", "n_framing",
                                                "n_measures", "n_repairs", "n_problems"]].to_markdown(index=False), ""]
    units = result.tables["units"]
    unmatched = units[units["match"] == "unmatched"] if len(units) else units
    lines += ["## Unmatched unit names", ""]
    lines += [unmatched[["doc_id", "task_id", "raw"]].to_markdown(index=False) if len(unmatched) else "None.", ""]
    problems = result.tables["problems"]
    lines += ["## Problems", ""]
    lines += [problems.to_markdown(index=False) if len(problems) else "None.", ""]
    return "\n".join(lines)
