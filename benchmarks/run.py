"""Benchmark the corpus build on SYNTHETIC corpora of growing size.

``python -m benchmarks.run [--sizes 1000 10000 100000] [--jobs N] [--out benchmarks/results]``

For each size it generates a synthetic corpus (``benchmarks.synthetic``) and
runs, each in a fresh Python process so that peak memory is its own:

``staged``
    the real build (``analysis.build.build_corpus``) with ``jobs=1``, with
    every stage function wrapped by a timer: read, simplify, clean, repair,
    metadata, structure, tasks, units, targets, rows, assemble, themes,
    write.  Time is exclusive (a stage called inside another is not counted
    twice); what no wrapper covers is ``other``.  Peak RSS per stage is the
    largest resident size sampled (every 20 ms, psutil) while that stage ran.
``warm``
    fits (or loads from its cache) the theme classifier once, timed apart, so
    that no build below pays for a one-time fit.
``build1``
    the whole build with ``jobs=1``, timed as a whole: the headline is
    build1 / jieba1 — one core against one core.  Run ``--repeats`` times, each
    time followed at once by jieba alone in one process (``jieba1``): the
    headline is the median of these paired ratios (with their range), so a
    drift of the machine's speed between phases minutes apart (±10 % on a
    shared virtual machine) does not decide it.
``build``
    the same build with ``jobs=N``, timed as a whole; peak RSS of the process
    tree (main + workers); compared with jieba in N processes.
``cache``
    ``analysis.cache.map_cached`` with ``jobs=N`` into an empty cache (parse +
    store every document), then again with every document cached (the
    per-document part of an incremental rebuild where nothing changed).
``jieba``
    the reference: ``jieba`` alone (default dictionary + the project's domain
    dictionary through ``analysis.core.segment.get_tokenizer``) segmenting the
    same texts in one process (``lcut``; loading the dictionary not counted),
    and again in N processes (wall time of the pool's map, dictionaries loaded
    in every worker before the clock starts).
``extract``
    the command line on single documents: start-up (``--help``), one document
    (the classifier cache warm), and up to 50 documents in one call; the
    difference gives the time per document once started.

Then it checks that the ``jobs=N`` tables equal the ``jobs=1`` tables, prints
a table and writes ``results.json`` and ``results.md`` to ``--out``.  Stage
functions that do not exist (renamed, not written yet) are skipped and listed.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import itertools
import json
import logging
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("benchmarks.run")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (1000, 10000)
SAMPLE_SECONDS = 0.02
# The whole builds are sampled less often: a sample reads /proc/<pid>/smaps of every process (~7 ms each), which
# every 20 ms took half a core from a two-core build; a peak of memory lasts far longer than 0.1 s.
BUILD_SAMPLE_SECONDS = 0.1

# (stage, "module:attribute") — every wrapper found is timed; missing ones are reported.
STAGE_FUNCTIONS: tuple[tuple[str, str], ...] = (
    ("read", "analysis.parse.pipeline:read_document"),
    ("simplify", "analysis.parse.pipeline:to_simplified"),
    ("clean", "analysis.parse.pipeline:clean"),
    ("repair", "analysis.parse.pipeline:repair"),
    ("repair", "analysis.parse.pipeline:find_unrepaired"),
    ("metadata", "analysis.parse.pipeline:extract_metadata"),
    ("metadata", "analysis.parse.pipeline:merge_metadata"),
    ("structure", "analysis.parse.pipeline:parse_structure"),
    ("tasks", "analysis.parse.pipeline:extract_tasks"),
    ("units", "analysis.parse.pipeline:task_units"),
    ("units", "analysis.parse.pipeline:default_normaliser"),
    ("targets", "analysis.parse.pipeline:task_targets"),
    ("rows", "analysis.corpus.rows:document_tables"),
    ("assemble", "analysis.corpus.build:assemble"),
    ("themes", "analysis.corpus.build:theme_coder"),
    ("themes", "analysis.corpus.coding:ThemeCoder.code"),
    ("themes", "analysis.corpus.build:with_themes"),
    ("write", "analysis.core.store:PartitionedWriter.write"),
    ("write", "analysis.core.store:PartitionedWriter.commit"),
    ("write", "analysis.corpus.build:run_summary"),
    ("write", "analysis.corpus.build:run_report"),
)
STAGE_ORDER = (
    "read",
    "simplify",
    "clean",
    "repair",
    "metadata",
    "structure",
    "tasks",
    "units",
    "targets",
    "rows",
    "assemble",
    "themes",
    "write",
    "other",
)
PER_DOCUMENT_STAGES = STAGE_ORDER[:10]


# --------------------------------------------------------------------------- measuring


class StageClock:
    """Exclusive wall time per stage: entering a stage pauses the one it was called from."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[str] = []
        self._since = time.perf_counter()

    @property
    def current(self) -> str:
        return self._stack[-1] if self._stack else "other"

    def _switch(self) -> None:
        now = time.perf_counter()
        self.seconds[self.current] += now - self._since
        self._since = now

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._switch()
            self._stack.append(stage)
            self.calls[stage] += 1
            try:
                return func(*args, **kwargs)
            finally:
                self._switch()
                self._stack.pop()

        timed.__wrapped__ = func  # type: ignore[attr-defined]
        return timed

    def finish(self) -> None:
        self._switch()


class RssSampler(threading.Thread):
    """Samples the memory of this process tree; keeps the peak overall and per stage.

    Two sums over the processes: resident size (RSS, counts pages that forked
    workers share with their parent once per process, so it overstates) and
    proportional set size (PSS, each shared page split between its sharers:
    what the tree really holds).  ``peak`` is RSS, ``peak_pss`` PSS;
    ``peak_main_rss`` / ``peak_main_pss`` are this process alone and
    ``peak_child_pss`` the largest single worker.
    """

    def __init__(self, clock: StageClock | None = None, interval: float = SAMPLE_SECONDS) -> None:
        super().__init__(daemon=True)
        self.clock = clock
        self.interval = interval
        self.peak = 0
        self.peak_pss = 0
        self.peak_main_rss = 0
        self.peak_main_pss = 0
        self.peak_child_pss = 0
        self.cpu_seconds = 0.0  # CPU time of this sampling thread
        self.peak_by_stage: dict[str, int] = defaultdict(int)
        self._halt = threading.Event()
        try:
            import psutil

            self._process = psutil.Process()
        except ImportError:  # fall back to getrusage (peak of this process only)
            self._process = None

    def rss(self) -> int:
        if self._process is None:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return self._tree_sum(lambda process: process.memory_info().rss)

    def pss(self) -> int:
        return 0 if self._process is None else self._tree_sum(lambda process: process.memory_full_info().pss)

    def _tree_sum(self, measure: Callable[[Any], int]) -> int:
        """``measure`` summed over this process and its children (one that exits meanwhile counts 0)."""
        return sum(self._each(measure))

    def _each(self, measure: Callable[[Any], Any]) -> list[Any]:
        """``measure`` of this process, then of each child (one that exits meanwhile counts 0)."""
        values = []
        for process in [self._process, *self._process.children(recursive=True)]:
            try:
                values.append(measure(process))
            except Exception:
                values.append(0)
        return values

    def sample(self) -> int:
        """Take one sample, update the peaks; return the tree's RSS."""
        if self._process is None:
            value = self.rss()
            self.peak = max(self.peak, value)
            return value
        full = self._each(lambda process: process.memory_full_info())
        rss = [getattr(info, "rss", 0) for info in full]
        pss = [getattr(info, "pss", 0) for info in full]
        self.peak, self.peak_pss = max(self.peak, sum(rss)), max(self.peak_pss, sum(pss))
        self.peak_main_rss, self.peak_main_pss = max(self.peak_main_rss, rss[0]), max(self.peak_main_pss, pss[0])
        self.peak_child_pss = max([self.peak_child_pss, *pss[1:]])
        return sum(rss)

    def run(self) -> None:
        while not self._halt.is_set():
            value = self.sample()
            if self.clock is not None:
                stage = self.clock.current
                self.peak_by_stage[stage] = max(self.peak_by_stage[stage], value)
            self.cpu_seconds = time.thread_time()  # what sampling cost (reading smaps is not free)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.sample()

    def peaks(self) -> dict[str, int]:
        """The peaks as result fields."""
        return {
            "peak_rss": self.peak,
            "peak_pss": self.peak_pss,
            "peak_main_rss": self.peak_main_rss,
            "peak_main_pss": self.peak_main_pss,
            "peak_child_pss": self.peak_child_pss,
        }


def _resolve(spec: str) -> tuple[Any, str] | None:
    """``"module:Class.attr"`` → (owner object, attribute name), or None if absent."""
    module_name, _, dotted = spec.partition(":")
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    *path, name = dotted.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    return (owner, name) if hasattr(owner, name) else None


@contextmanager
def timed_stages(clock: StageClock) -> Iterator[list[str]]:
    """Wrap every stage function that exists; yield the specs that do not."""
    missing: list[str] = []
    with ExitStack() as stack:
        for stage, spec in STAGE_FUNCTIONS:
            found = _resolve(spec)
            if found is None:
                missing.append(spec)
                continue
            owner, name = found
            original = inspect.getattr_static(owner, name)
            if isinstance(original, (classmethod, staticmethod)):
                replacement: Any = type(original)(clock.wrap(stage, original.__func__))
            else:
                replacement = clock.wrap(stage, original)
            setattr(owner, name, replacement)
            stack.callback(setattr, owner, name, original)
        yield missing


def build_kwargs(jobs: int) -> dict[str, Any]:
    """Keyword arguments for ``build_corpus`` that this version of it accepts."""
    from analysis.corpus.build import build_corpus

    accepted = inspect.signature(build_corpus).parameters
    wanted = {"jobs": jobs, "progress": False, "cache": False, "use_cache": False}
    return {key: value for key, value in wanted.items() if key in accepted}


# --------------------------------------------------------------------------- phases (run in child processes)


def phase_staged(raw_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Serial build with per-stage timers (documents built in this process, where the timers are)."""
    from analysis import config
    from analysis.corpus.build import build_corpus

    config.ISOLATE_DOCUMENTS = False

    clock = StageClock()
    sampler = RssSampler(clock)
    result: dict[str, Any] = {"error": None, "missing_stage_functions": []}
    sampler.start()
    start = time.perf_counter()
    try:
        with timed_stages(clock) as missing:
            result["missing_stage_functions"] = missing
            build_corpus(raw_dir / "manifest.csv", raw_dir, out_dir, **build_kwargs(1))
    except Exception as exc:
        log.exception("staged build failed")
        result["error"] = f"{type(exc).__name__}: {exc}"
    clock.finish()
    result["seconds"] = time.perf_counter() - start
    sampler.stop()
    result["stages"] = {
        stage: {
            "seconds": clock.seconds.get(stage, 0.0),
            "calls": clock.calls.get(stage, 0),
            "peak_rss": sampler.peak_by_stage.get(stage) or None,
        }
        for stage in STAGE_ORDER
    }
    result["peak_rss"] = sampler.peak
    return result


def phase_cache(raw_dir: Path, cache_dir: Path, jobs: int) -> dict[str, Any]:
    """Incremental rebuild: every document parsed into an empty cache, then all read back."""
    from analysis.corpus.build import process_entry
    from analysis.corpus.cache import DocumentCache, map_cached
    from analysis.parse.manifest import load_manifest

    entries, _ = load_manifest(raw_dir / "manifest.csv", raw_dir)
    cold = DocumentCache(cache_dir)
    start = time.perf_counter()
    list(map_cached(process_entry, entries, cold, jobs=jobs, progress=False))
    result: dict[str, Any] = {"cold_seconds": time.perf_counter() - start, "cold_stats": cold.stats.as_dict()}
    warm = DocumentCache(cache_dir, version=cold.version)  # the same code, even if a file was edited meanwhile
    start = time.perf_counter()
    list(map_cached(_must_not_run, entries, warm, jobs=jobs, progress=False))
    result.update(
        warm_seconds=time.perf_counter() - start,
        warm_stats=warm.stats.as_dict(),
        bytes=sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file()),
    )
    return result


def _must_not_run(entry: Any) -> Any:
    raise AssertionError(f"{entry.doc_id} should have come from the cache")


def phase_warm(raw_dir: Path) -> dict[str, Any]:
    """Fit (or load) the theme classifier once, so no timed build pays for fitting it (reported apart)."""
    from analysis.corpus.coding import ThemeCoder

    start = time.perf_counter()
    ThemeCoder.from_project()
    return {"seconds": time.perf_counter() - start, "corpus": str(raw_dir)}


def phase_build(raw_dir: Path, out_dir: Path, jobs: int) -> dict[str, Any]:
    """The whole build with ``jobs`` processes."""
    from analysis.corpus.build import build_corpus

    sampler = RssSampler(interval=BUILD_SAMPLE_SECONDS)
    sampler.start()
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    try:
        build_corpus(raw_dir / "manifest.csv", raw_dir, out_dir, **build_kwargs(jobs))
        error = None
    except Exception as exc:
        log.exception("build failed")
        error = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    sampler.stop()
    cpu = _cpu_seconds() - cpu_start - sampler.cpu_seconds
    return {"seconds": seconds, "cpu_seconds": cpu, **sampler.peaks(), "jobs": jobs, "error": error}


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its ended children (the build has joined its workers).

    Unlike wall time, not inflated when other programs share the cores.
    """
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _jieba_tokenizer() -> tuple[Any, str]:
    try:
        from analysis.core.segment import get_tokenizer

        return get_tokenizer(), "jieba default + analysis domain dictionary"
    except ImportError:
        import jieba

        return jieba.Tokenizer(), "jieba default"


def _jieba_count(paths: list[str]) -> int:
    """Tokens of the given files (run in a worker: the tokenizer is loaded by :func:`_jieba_warm`)."""
    tokenizer, _ = _jieba_tokenizer()
    return sum(len(tokenizer.lcut(Path(path).read_text(encoding="utf-8"))) for path in paths)


def _jieba_warm(_: int) -> int:
    tokenizer, _dictionary = _jieba_tokenizer()
    tokenizer.lcut("法治政府建设")
    return os.getpid()


def phase_jieba(raw_dir: Path, jobs: int = 1, parallel: bool = True) -> dict[str, Any]:
    """jieba alone over the same texts: in one process, then (``parallel``) in ``jobs`` processes (wall time)."""
    from concurrent.futures import ProcessPoolExecutor

    tokenizer, dictionary = _jieba_tokenizer()
    tokenizer.lcut("法治政府建设")  # load the dictionaries before timing
    seconds = 0.0
    n_tokens = 0
    sampler = RssSampler()
    sampler.start()
    paths = sorted(raw_dir.glob("*.txt"))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        start = time.perf_counter()
        n_tokens += len(tokenizer.lcut(text))
        seconds += time.perf_counter() - start
    sampler.stop()
    result: dict[str, Any] = {
        "seconds": seconds,
        "n_tokens": n_tokens,
        "dictionary": dictionary,
        "peak_rss": sampler.peak,
        "jobs": jobs,
    }
    if parallel and jobs > 1:
        chunks = [[str(p) for p in paths[i::jobs]] for i in range(jobs)]
        with ProcessPoolExecutor(jobs) as pool:
            while len(set(pool.map(_jieba_warm, range(4 * jobs)))) < jobs:  # every worker has its dictionary
                pass
            start = time.perf_counter()
            parallel_tokens = sum(pool.map(_jieba_count, chunks))
            result["parallel_seconds"] = time.perf_counter() - start
        result["parallel_tokens_equal"] = parallel_tokens == n_tokens
    return result


def phase_extract(raw_dir: Path, limit: int = 50) -> dict[str, Any]:
    """``python -m analysis extract``: start-up, one document, and ``limit`` documents in one call (wall seconds)."""
    paths = sorted(raw_dir.glob("*.txt"))[:limit]
    command = [sys.executable, "-m", "analysis"]

    def wall(arguments: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(command + arguments, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    wall(["extract", str(paths[0])])  # fits or loads the theme classifier: its cache is warm from here on
    startup = min(wall(["--help"]) for _ in range(3))
    one = min(wall(["extract", str(paths[0])]) for _ in range(3))
    many = wall(["extract", *map(str, paths)])
    return {
        "startup_seconds": startup,
        "one_document_seconds": one,
        "n_documents": len(paths),
        "many_documents_seconds": many,
        "per_document_seconds": (many - one) / max(len(paths) - 1, 1),
    }


def phase_profile(raw_dir: Path, out_file: Path, limit: int) -> dict[str, Any]:
    """cProfile of the per-document stage (process_entry over every document), top functions."""
    import cProfile
    import io
    import pstats

    from analysis.corpus.build import process_entry
    from analysis.parse.manifest import load_manifest

    entries, _ = load_manifest(raw_dir / "manifest.csv", raw_dir)
    process_entry(entries[0])  # warm-up: reference tables load once per process
    profiler = cProfile.Profile()
    profiler.enable()
    for entry in entries:
        process_entry(entry)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    out_file.write_text(text.getvalue(), encoding="utf-8")
    return {"profile": str(out_file)}


PHASES: dict[str, Callable[..., dict[str, Any]]] = {
    "staged": phase_staged,
    "warm": phase_warm,
    "build1": phase_build,
    "build": phase_build,
    "jieba1": phase_jieba,
    "cache": phase_cache,
    "jieba": phase_jieba,
    "extract": phase_extract,
    "profile": phase_profile,
}


def run_phase(name: str, result_file: Path, **arguments: Any) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; return what it wrote."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--phase",
        name,
        "--result",
        str(result_file),
        "--phase-args",
        json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in arguments.items()}),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    completed = subprocess.run(command, cwd=ROOT, env=env)
    if completed.returncode != 0 or not result_file.is_file():
        return {"error": f"phase {name} exited with {completed.returncode}"}
    return json.loads(result_file.read_text(encoding="utf-8"))


def _phase_main(name: str, result_file: Path, arguments: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.WARNING)
    signature = inspect.signature(PHASES[name]).parameters
    converted = {k: (Path(v) if signature[k].annotation in ("Path", Path) else v) for k, v in arguments.items()}
    from analysis.corpus.cache import pipeline_version

    version = pipeline_version()
    result = PHASES[name](**converted)
    result["pipeline_version"] = version if pipeline_version() == version else "changed during the phase"
    result_file.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")


# --------------------------------------------------------------------------- comparing and reporting


def same_tables(left: Path, right: Path) -> dict[str, Any]:
    """Whether two build outputs hold identical tables (and run summaries)."""
    from analysis.core.store import read_table
    from analysis.corpus.build import TABLE_NAMES

    differences = []
    for name in TABLE_NAMES:
        try:
            a, b = read_table(name, left), read_table(name, right)
        except FileNotFoundError as exc:
            differences.append(f"{name}: {exc}")
            continue
        if not a.equals(b):
            differences.append(f"{name}: {len(a)} vs {len(b)} rows, contents differ")
    summaries = [folder / "run_report.json" for folder in (left, right)]
    if all(p.is_file() for p in summaries) and summaries[0].read_bytes() != summaries[1].read_bytes():
        differences.append("run_report.json differs")
    return {"equal": not differences, "differences": differences}


def machine() -> dict[str, Any]:
    """The machine the numbers come from."""
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    memory = (
        next(
            (
                int(line.split()[1]) * 1024
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            ),
            None,
        )
        if Path("/proc/meminfo").exists()
        else None
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _mb(value: float | None) -> str:
    return "—" if not value else f"{value / 1e6:,.0f}"


def _rate(count: float, seconds: float) -> str:
    if not seconds:
        return "—"
    rate = count / seconds
    return f"{rate:,.1f}" if rate >= 10 else f"{rate:.2f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    return f"{numerator / denominator:.2f}" if numerator and denominator else "—"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _equal(value: bool | None) -> str:
    return "not checked" if value is None else ("yes" if value else "NO")


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown tables."""
    host = results["machine"]
    lines = [
        "# Benchmark results (SYNTHETIC corpus)",
        "",
        f"Machine: {host['cpu']}, {host['cores']} cores, {_mb(host['memory_bytes'])} MB RAM, "
        f"Python {host['python']}. Parallel build: jobs={results['jobs']}.",
        "",
        "## Whole build against jieba alone, core for core",
        "",
        "Headline: each build with jobs=1 is followed at once by jieba alone in one process; the ratio is the "
        "median of these pairs (range in brackets), the times are the medians.",
        "",
        "| docs | MB | build s, jobs=1 | jieba s, 1 process | **build/jieba, jobs=1** | "
        f"build s, jobs={results['jobs']} | jieba s, {results['jobs']} processes | build/jieba, jobs={results['jobs']} | "
        "docs/s per core | MB/s per core | ms/doc per core | peak RSS MB (tree) | peak PSS MB (tree) | "
        "CPU ms/doc | peak RSS MB (main process) | jobs=N == jobs=1 | warm-cache s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|",
    ]
    for size in results["sizes"]:
        build, jieba, head = size["build"], size["jieba"], size.get("headline") or {}
        jobs = results["jobs"]
        ratio1 = (
            f"{head['ratio']:.2f} ({head['ratio_min']:.2f}–{head['ratio_max']:.2f}, {head['n_pairs']} pairs)"
            if head
            else "—"
        )
        ratio_n = _ratio(build.get("seconds"), jieba.get("parallel_seconds") if jobs > 1 else jieba.get("seconds"))
        core_seconds = build.get("seconds", 0) * jobs
        lines.append(
            f"| {size['n_documents']:,} | {size['n_bytes'] / 1e6:,.1f} | {_seconds(head.get('build_seconds'))} | "
            f"{_seconds(head.get('jieba_seconds'))} | **{ratio1}** | {_seconds(build.get('seconds'))} | "
            f"{_seconds(jieba.get('parallel_seconds') if jobs > 1 else jieba.get('seconds'))} | {ratio_n} | "
            f"{_rate(size['n_documents'], core_seconds)} | {_rate(size['n_bytes'] / 1e6, core_seconds)} | "
            f"{1000 * core_seconds / size['n_documents']:.2f} | "
            f"{_mb(build.get('peak_rss'))} | {_mb(build.get('peak_pss'))} | "
            f"{1000 * build.get('cpu_seconds', 0) / size['n_documents']:.2f} | {_mb(build.get('peak_main_rss'))} | "
            f"{_equal(size['same_output'].get('equal'))} | "
            f"{_seconds(size['cache'].get('warm_seconds'))} |"
        )
    lines += [
        "",
        "## One-document answers (`python -m analysis extract`, wall seconds)",
        "",
        "| docs in corpus | start-up (`--help`) | one document | N documents in one call | N | per document after start-up |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size in results["sizes"]:
        extract = size.get("extract") or {}
        if extract.get("skipped") or not extract.get("n_documents"):
            continue
        lines.append(
            f"| {size['n_documents']:,} | {extract['startup_seconds']:.2f} | {extract['one_document_seconds']:.2f} | "
            f"{extract['many_documents_seconds']:.2f} | {extract['n_documents']} | "
            f"{extract['per_document_seconds']:.3f} |"
        )
    for size in results["sizes"]:
        staged = size["staged"]
        if staged.get("skipped"):
            continue
        lines += [
            "",
            f"## Stages, {size['n_documents']:,} documents (serial build, exclusive time)",
            "",
            "| stage | seconds | share | docs/s | MB/s | peak RSS MB while running |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        total = staged.get("seconds") or 1.0
        for stage, numbers in (staged.get("stages") or {}).items():
            seconds = numbers["seconds"]
            lines.append(
                f"| {stage} | {seconds:,.2f} | {100 * seconds / total:.1f}% | "
                f"{_rate(size['n_documents'], seconds)} | {_rate(size['n_bytes'] / 1e6, seconds)} | "
                f"{_mb(numbers.get('peak_rss'))} |"
            )
        for key in ("error", "missing_stage_functions"):
            if staged.get(key):
                lines.append(f"\n{key}: {staged[key]}")
        if size["build"].get("error"):
            lines.append(f"\nbuild error: {size['build']['error']}")
        if size["same_output"].get("equal") is False:
            lines.append(f"\noutput differences: {size['same_output'].get('differences')}")
    return "\n".join(lines) + "\n"


SKIPPABLE = ("staged", "build1", "cache", "jieba", "extract")


def subset_corpus(source: Path, out_dir: Path, n: int) -> Any:
    """The first ``n`` documents of a synthetic corpus already written to ``source``, linked into ``out_dir``.

    Document i is the same whatever the size of the corpus it was generated
    in, so this is the corpus ``write_corpus`` would write, without the minutes
    generating it takes at 100,000 documents.  Files are hard links (copies
    across file systems): the build refuses links that lead out of its folder.
    """
    import csv

    from benchmarks.synthetic import SyntheticCorpus

    out_dir.mkdir(parents=True)
    n_bytes = count = 0
    with (
        (source / "manifest.csv").open(encoding="utf-8", newline="") as source_file,
        (out_dir / "manifest.csv").open("w", encoding="utf-8", newline="") as manifest_file,
    ):
        reader = csv.DictReader(source_file)
        writer = csv.DictWriter(manifest_file, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        for row in itertools.islice(reader, n):
            original, link = source / row["file"], out_dir / row["file"]
            try:
                os.link(original, link)
            except OSError:
                shutil.copyfile(original, link)
            n_bytes += link.stat().st_size
            writer.writerow(row)
            count += 1
    if count < n:
        raise ValueError(f"{source} holds {count} documents, fewer than {n}")
    return SyntheticCorpus(out_dir, out_dir / "manifest.csv", out_dir / "synthetic_truth.csv", n, n_bytes)


def headline(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """The headline build/jieba at jobs=1: the median of the paired ratios, their range, and the median times."""
    import statistics

    measured = [
        (p["build1"]["seconds"], p["jieba1"]["seconds"])
        for p in pairs
        if p["build1"].get("seconds") and p["jieba1"].get("seconds") and not p["build1"].get("error")
    ]
    if not measured:
        return {}
    ratios = [build / jieba for build, jieba in measured]
    return {
        "n_pairs": len(measured),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "build_seconds": statistics.median(build for build, _ in measured),
        "jieba_seconds": statistics.median(jieba for _, jieba in measured),
    }


def benchmark_size(
    n: int,
    jobs: int,
    seed: int,
    work: Path,
    profile: bool,
    out: Path,
    skip: tuple[str, ...] = (),
    corpus_dir: Path | None = None,
    repeats: int = 3,
) -> dict[str, Any]:
    """Generate a corpus of ``n`` documents (or take the first ``n`` of ``corpus_dir``) and run every phase on it."""

    def phase(name: str, **arguments: Any) -> dict[str, Any]:
        if name in skip:
            return {"skipped": True}
        return run_phase(name, folder / f"{name}.json", **arguments)

    from benchmarks.synthetic import write_corpus

    folder = work / f"n{n}"
    shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    corpus = (
        write_corpus(folder / "raw", n, seed) if corpus_dir is None else subset_corpus(corpus_dir, folder / "raw", n)
    )
    generated = time.perf_counter() - start
    log.warning("%d synthetic documents (%.1f MB) ready in %.0f s", n, corpus.n_bytes / 1e6, generated)
    staged = phase("staged", raw_dir=corpus.raw_dir, out_dir=folder / "out_serial")
    log.warning("serial build with stage timers: %.0f s", staged.get("seconds", 0))
    warm = phase("warm", raw_dir=corpus.raw_dir)
    log.warning("theme classifier fitted or loaded (not part of any timed build): %.0f s", warm.get("seconds", 0))
    pairs = []
    for repeat in range(0 if {"build1", "jieba"} & set(skip) else repeats):
        # Each build with jobs=1 followed at once by jieba alone: the two times of a pair are seconds apart.
        one = run_phase(
            "build1", folder / f"build1_{repeat}.json", raw_dir=corpus.raw_dir, out_dir=folder / "out_one", jobs=1
        )
        alone = run_phase("jieba1", folder / f"jieba1_{repeat}.json", raw_dir=corpus.raw_dir, jobs=1, parallel=False)
        pairs.append({"build1": one, "jieba1": alone})
        log.warning(
            "pair %d: build with jobs=1 %.1f s, jieba alone %.1f s",
            repeat + 1,
            one.get("seconds", 0),
            alone.get("seconds", 0),
        )
    build = phase("build", raw_dir=corpus.raw_dir, out_dir=folder / "out_parallel", jobs=jobs)
    log.warning("build with jobs=%d: %.0f s", jobs, build.get("seconds", 0))
    cache = phase("cache", raw_dir=corpus.raw_dir, cache_dir=folder / "cache", jobs=jobs)
    log.warning("cache: cold %.0f s, warm %.0f s", cache.get("cold_seconds", 0), cache.get("warm_seconds", 0))
    jieba = phase("jieba", raw_dir=corpus.raw_dir, jobs=jobs)
    extract = phase("extract", raw_dir=corpus.raw_dir)
    result: dict[str, Any] = {
        "n_documents": n,
        "n_bytes": corpus.n_bytes,
        "generate_seconds": generated,
        "staged": staged,
        "warm": warm,
        "pairs": pairs,  # each (build with jobs=1, jieba alone)
        "headline": headline(pairs),
        "build": build,
        "cache": cache,
        "jieba": jieba,
        "extract": extract,
        "same_output": {"equal": None, "differences": ["not checked: the serial build was skipped"]}
        if "staged" in skip
        else same_tables(folder / "out_serial", folder / "out_parallel"),
    }
    versions = {result[name].get("pipeline_version") for name in ("staged", "build", "cache") if name not in skip} | {
        pair["build1"].get("pipeline_version") for pair in pairs
    }
    if len(versions) > 1:  # someone edited the package while the benchmark ran: outputs may differ for that reason
        result["same_output"]["differences"].append(f"the code changed between phases: {sorted(map(str, versions))}")
        log.warning("the analysis package changed while the benchmark ran; comparisons are not meaningful")
    if profile:
        result["profile"] = phase("profile", raw_dir=corpus.raw_dir, out_file=out / f"profile_{n}.txt", limit=40)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--work", type=Path, default=None, help="where corpora go (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated corpora and outputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="take the first N documents of this synthetic corpus (a folder written by benchmarks.synthetic "
        "with the same --seed) instead of generating them",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="pairs of (build with jobs=1, jieba alone) run back to back; the headline is their median ratio",
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile the per-document stage")
    parser.add_argument(
        "--skip",
        nargs="*",
        choices=SKIPPABLE,
        default=[],
        help="phases to leave out (e.g. for 100,000 documents: --skip staged build1 cache extract)",
    )
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--phase-args", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        _phase_main(args.phase, args.result, json.loads(args.phase_args))
        return 0

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="analysis-bench-"))
    results: dict[str, Any] = {"machine": machine(), "jobs": args.jobs, "seed": args.seed, "sizes": []}
    try:
        for n in args.sizes:
            results["sizes"].append(
                benchmark_size(
                    n, args.jobs, args.seed, work, args.profile, args.out, tuple(args.skip), args.corpus, args.repeats
                )
            )
            # Written after every size, so a long run that is stopped keeps what finished.
            (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
            (args.out / "results.md").write_text(markdown(results), encoding="utf-8")
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(markdown(results))
    return (
        0
        if all(s["same_output"].get("equal") is not False and not s["build"].get("error") for s in results["sizes"])
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
