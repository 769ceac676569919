"""Command line: ``python -m analysis <command>``.

Commands
--------
build      the whole corpus (manifest) → ``data/processed/`` tables + run report
extract    documents from any paths (files, folders, globs) → JSON Lines on stdout
evaluate   measured quality: theme classifier (leave-one-document-out), targets, units
review     export low-confidence theme codes to Excel / import a coder's sheet as overrides
export     comparison tables → CSV, Excel, Markdown, LaTeX under ``exports/``
notebooks  execute every notebook headless (figures under ``figures/``)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from analysis import config
from analysis.core.errors import AnalysisError, InputError

log = logging.getLogger("analysis")


def _parse_meta(pairs: Sequence[str]) -> dict[str, object]:
    meta: dict[str, object] = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"--meta expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        meta[key.strip()] = int(value) if key.strip() in ("period_start", "period_end") and value.isdigit() else value
    return meta


def cmd_build(args: argparse.Namespace) -> int:
    from analysis.corpus.build import build_corpus

    result = build_corpus(
        Path(args.manifest) if args.manifest else None,
        Path(args.raw_dir) if args.raw_dir else None,
        Path(args.out) if args.out else None,
        jobs=args.jobs,
        progress=not args.no_progress,
        engine=args.engine,
        scheduler=args.scheduler,
        use_cache=not args.no_cache,
    )
    documents = result.table("documents")
    summary_columns = ["doc_id", "doc_type", "n_tasks", "n_framing", "n_measures", "n_repairs", "n_problems"]
    if len(documents):
        print(documents[summary_columns].to_string(index=False))
    problems = result.table("problems")
    print(
        f"\n{len(documents)} document(s) built, {len(result.failed)} failed, "
        f"{result.summary['n_warnings']} warning(s), {result.summary['n_unmatched_units']} unmatched unit name(s); "
        f"run report: {result.out_dir / 'run_report.md'}"
    )
    for _, row in problems[problems["severity"] == "error"].iterrows():
        print(f"ERROR {row['file'] or row['doc_id']}: {row['problem']}", file=sys.stderr)
    return 0 if result.ok else 1


EXTRACT_SUFFIXES = (".txt", ".html", ".htm", ".docx", ".pdf")
"""The files ``extract`` picks from a folder."""


def extract_paths(arguments: Sequence[str]) -> list[Path]:
    """The files named by ``extract``'s arguments, in order: files as given, a folder's supported files sorted by
    name, a glob pattern's matches sorted (a pattern matching nothing, or a missing file, is kept so that its
    error is reported in its place)."""
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in EXTRACT_SUFFIXES)
        elif not path.exists() and any(ch in argument for ch in "*?["):
            matches = sorted(Path().glob(argument)) if not path.is_absolute() else sorted(Path("/").glob(argument[1:]))
            paths += [m for m in matches if m.is_file()] or [path]
        else:
            paths.append(path)
    return paths


def cmd_extract(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `python -m analysis --help` and the other commands
    # should not pay for the parser stages and the theme model (start-up time).
    from analysis.core.models import THEME_COLUMNS
    from analysis.corpus import rows
    from analysis.corpus.coding import ThemeCoder
    from analysis.parse.pipeline import process_document

    meta = _parse_meta(args.meta or [])
    paths = extract_paths(args.paths)
    doc_id = str(meta.pop("doc_id", "") or args.doc_id or "") or None
    if doc_id and len(paths) > 1:
        raise SystemExit("--doc-id names one document: give one path, or none for file-name ids")
    coder: ThemeCoder | None = None  # fitted or loaded on the first document with tasks
    failed = 0
    out = sys.stdout
    for path in paths:
        try:
            doc = process_document(path, doc_id, dict(meta))
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        if not args.no_themes and doc.tasks:
            coder = coder or ThemeCoder.from_project()
            # Rows, not tables: one document's tasks need no pandas (start-up time).
            themes = {row["task_id"]: row for row in coder.code_rows(rows.task_rows(doc))}
            for task in doc.tasks:
                if task.task_id in themes:
                    task.extra.update({c: themes[task.task_id][c] for c in THEME_COLUMNS})
        out.write(json.dumps(doc.document_record(), ensure_ascii=False, default=str) + "\n")
        for item in doc.items:
            out.write(json.dumps(item.to_record(), ensure_ascii=False, default=str) + "\n")
        out.flush()
    return 2 if failed else 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from analysis.corpus.evaluate import evaluate_all

    print(evaluate_all())
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from analysis.annotate import review

    if args.action == "export":
        path = review.export_from_processed(Path(args.out) if args.out else None, threshold=args.threshold)
        print(f"review sheet written: {path}")
        return 0
    if not args.file:
        raise SystemExit("review import needs FILE")
    overrides = review.import_from_file(Path(args.file))
    print(f"{len(overrides)} override(s) stored; rerun `make build` to apply them everywhere")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from analysis.publish.comparison_tables import export_comparison_tables

    written = export_comparison_tables(out_dir=Path(args.out) if args.out else None)
    for path in written:
        print(path)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The static HTML report: processed tables, the documents' captured text, executed notebooks."""
    from analysis.compare.labels import load_tables
    from analysis.parse.read import read_document
    from analysis.publish.report import build_report

    processed = Path(args.processed) if args.processed else config.PROCESSED_DIR
    tables = load_tables(processed, ("documents", "tasks", "units", "targets"))
    texts: dict[str, str | None] = {}
    for doc_id, source in zip(tables["documents"]["doc_id"], tables["documents"]["source_path"], strict=True):
        path = Path(str(source)) if str(source) not in ("", "nan", "None", "<NA>") else None
        if path is not None and not path.is_absolute():
            path = config.ROOT / path
        try:
            texts[str(doc_id)] = read_document(path).text if path is not None else None
        except InputError as error:  # the report still links the document, saying its text is missing
            logging.getLogger(__name__).warning("report: no text for %s: %s", doc_id, error)
            texts[str(doc_id)] = None
    executed = Path(args.notebooks) if args.notebooks else config.NOTEBOOKS_DIR / "executed"
    index = build_report(tables, Path(args.out) if args.out else None, texts=texts, executed_dir=executed)
    print(index)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="build the whole corpus from the manifest")
    build.add_argument("--manifest", help=f"manifest CSV (default {config.MANIFEST_PATH})")
    build.add_argument("--raw-dir", help=f"folder of the raw documents (default {config.RAW_DIR})")
    build.add_argument("--out", help=f"output folder (default {config.PROCESSED_DIR})")
    build.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: all cores; output identical to --jobs 1)",
    )
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    build.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help="where per-document work runs (dask: a Dask cluster)",
    )
    build.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: local cluster)")
    build.add_argument(
        "--no-cache",
        action="store_true",
        help="reprocess every document (default: unchanged documents come from the cache in <out>/.document_cache)",
    )
    build.set_defaults(func=cmd_build)

    extract = sub.add_parser(
        "extract", help="documents from any paths (files, folders, globs) → JSON Lines on stdout, in input order"
    )
    extract.add_argument(
        "paths", nargs="+", metavar="PATH", help="a file, a folder (its .txt/.html/.docx/.pdf) or a glob"
    )
    extract.add_argument("--doc-id", help="document id, for one document (default: the file name stem)")
    extract.add_argument("--meta", nargs="*", metavar="KEY=VALUE", help="metadata, e.g. jurisdiction=天门市")
    extract.add_argument("--no-themes", action="store_true", help="skip theme coding")
    extract.set_defaults(func=cmd_extract)

    evaluate = sub.add_parser("evaluate", help="measured quality of themes, targets and units")
    evaluate.set_defaults(func=cmd_evaluate)

    review = sub.add_parser("review", help="human review of low-confidence theme codes")
    review.add_argument("action", choices=["export", "import"])
    review.add_argument("file", nargs="?", help="the filled sheet (import)")
    review.add_argument("--out", help="sheet path (export)")
    review.add_argument("--threshold", type=float, default=0.6, help="confidence below which tasks are exported")
    review.set_defaults(func=cmd_review)

    export = sub.add_parser("export", help="comparison tables → CSV, Excel, Markdown, LaTeX")
    export.add_argument("--out", help=f"output folder (default {config.EXPORTS_DIR})")
    export.set_defaults(func=cmd_export)

    report = sub.add_parser("report", help="static HTML report (notebooks + interactive comparison) -> reports/")
    report.add_argument("--processed", help=f"processed tables (default {config.PROCESSED_DIR})")
    report.add_argument("--notebooks", help="executed notebooks to render (default notebooks/executed)")
    report.add_argument("--out", help=f"output folder (default {config.REPORTS_DIR})")
    report.set_defaults(func=cmd_report)

    from analysis.publish import notebooks as notebook_runner

    notebooks = sub.add_parser("notebooks", help="execute every notebook headless (writes figures/)")
    notebook_runner.add_arguments(notebooks)
    notebooks.set_defaults(func=notebook_runner.run_from_args)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args))
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
