"""Where per-document work runs: one process, a local process pool, or Dask.

``map_ordered`` applies a picklable function to every item and yields the
results **in input order**, so a parallel build writes exactly what a serial
one writes.  Three ways to run it:

``engine="local", jobs=1``
    A plain loop in this process.  No start-up cost, easiest to debug and to
    profile; uses one core.
``engine="local", jobs>1``
    A ``ProcessPoolExecutor`` with ``jobs`` worker processes on this machine.
    Workers start in about a second and each loads the reference tables once;
    items and results are pickled across process boundaries, which costs
    little next to parsing a document.
``engine="dask"``
    A ``distributed`` cluster: ``scheduler`` is the address of a running
    scheduler (``"tcp://host:8786"``), or ``None`` to start a ``LocalCluster``
    of ``jobs`` single-threaded worker processes for this call.  Worth it when
    the corpus does not fit one machine's cores; the workers must have the
    ``analysis`` package installed and see the input files at the same paths
    (shared file system).  Cluster start-up takes a few seconds, and every task
    goes through the scheduler, so for a few thousand documents on one machine
    the local pool is faster.

Memory stays flat however many items there are: items are sent in chunks and
at most ``window`` chunks are in flight (submitted, running, or finished but
not yet yielded) at any time.  Results are yielded as soon as the earliest
pending chunk is done; finished later chunks wait in their futures (that is
the reorder buffer, bounded by ``window``).  ``items`` may be any iterable,
including a generator: it is consumed lazily.

Errors: the function is expected to turn *expected* bad input into a result
(``analysis.build.process_entry`` returns a problem row for an ``InputError``).
Any other exception is a bug: by default (``on_error="raise"``) it stops the
run with :class:`ItemError`, which names the item (its ``doc_id`` and path when
it has them), its position, the original exception and its traceback, the same
whichever engine ran it.  With ``on_error="return"`` the failing item's result
is an :class:`ItemFailure` instead and the run goes on.
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

from tqdm.auto import tqdm

from analysis.core.errors import AnalysisError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
ENGINES = ("local", "dask")
ON_ERROR = ("raise", "return")
MAX_CHUNK = 32  # items per task: enough to amortise pickling, small enough to balance load
CHUNKS_PER_WORKER = 4  # default window = jobs * this many chunks in flight


@dataclass(frozen=True)
class ItemFailure:
    """An item whose function call raised: where, what, and the traceback text."""

    index: int  # 0-based position of the item in the input
    item: str  # short description of the item (doc_id and path when known)
    error: str  # exception type and message, e.g. "KeyError: 'x'"
    traceback: str

    def describe(self) -> str:
        return f"item {self.index} ({self.item}) failed: {self.error}"


class ItemError(AnalysisError):
    """``func`` raised on one item; carries the :class:`ItemFailure`."""

    def __init__(self, failure: ItemFailure) -> None:
        self.failure = failure
        super().__init__(f"{failure.describe()}\n--- traceback in the worker ---\n{failure.traceback}")


def describe_item(item: Any, limit: int = 200) -> str:
    """A short, readable name for an item: ``doc_id`` and path if it has them, else its repr."""
    doc_id = getattr(item, "doc_id", None)
    path = getattr(item, "path", None)
    if doc_id is not None or path is not None:
        return " ".join(str(part) for part in (doc_id, path) if part is not None)
    text = repr(item)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_chunk(func: Callable[[Any], Any], start: int, chunk: Sequence[Any]) -> list[Any]:
    """Apply ``func`` to a chunk; an exception becomes an :class:`ItemFailure` in its place.

    Runs in the worker, so the failure carries the worker-side traceback and
    can be pickled back whatever the engine.
    """
    results: list[Any] = []
    for offset, item in enumerate(chunk):
        try:
            results.append(func(item))
        except Exception as exc:
            results.append(
                ItemFailure(
                    index=start + offset,
                    item=describe_item(item),
                    error=f"{type(exc).__name__}: {exc}",
                    traceback=traceback.format_exc(),
                )
            )
    return results


def chunk_size(n_items: int | None, jobs: int) -> int:
    """Items per task: about 8 tasks per worker, at most ``MAX_CHUNK``."""
    if not n_items:
        return 8
    return max(1, min(MAX_CHUNK, n_items // (max(jobs, 1) * 8)))


def map_ordered(
    func: Callable[[Item], Any],
    items: Iterable[Item],
    *,
    jobs: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    progress: bool = True,
    desc: str = "items",
    window: int | None = None,
    chunksize: int | None = None,
    on_error: str = "raise",
) -> Iterator[Any]:
    """``func(item)`` for every item, in input order (see the module docstring).

    ``window`` bounds the chunks in flight (default ``jobs * 4``); ``chunksize``
    the items per chunk (default: about 8 chunks per worker, at most 32).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, not {on_error!r}")
    if scheduler is not None and engine != "dask":
        raise ValueError("a scheduler address only makes sense with engine='dask'")
    jobs = max(1, int(jobs))
    total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    size = chunksize or chunk_size(total, jobs)
    bar = tqdm(total=total, desc=desc, unit="doc", disable=not progress)
    try:
        if engine == "local" and jobs == 1:
            chunks: Iterator[list[Any]] = (run_chunk(func, index, [item]) for index, item in enumerate(items))
        else:
            chunks = _parallel_chunks(func, items, engine, scheduler, jobs, size, window or jobs * CHUNKS_PER_WORKER)
        for results in chunks:
            for result in results:
                if isinstance(result, ItemFailure) and on_error == "raise":
                    raise ItemError(result)
                yield result
            bar.update(len(results))
    finally:
        bar.close()


def _parallel_chunks(
    func: Callable[[Any], Any],
    items: Iterable[Any],
    engine: str,
    scheduler: str | None,
    jobs: int,
    size: int,
    window: int,
) -> Iterator[list[Any]]:
    """Result chunks in input order, at most ``window`` chunks in flight."""
    with ExitStack() as stack:
        executor = stack.enter_context(_executor(engine, scheduler, jobs))
        numbered = enumerate(items)
        pending: deque[Future] = deque()

        def submit_next() -> bool:
            chunk = list(itertools.islice(numbered, size))
            if not chunk:
                return False
            pending.append(executor.submit(run_chunk, func, chunk[0][0], [item for _, item in chunk]))
            return True

        try:
            while len(pending) < max(1, window) and submit_next():
                pass
            while pending:
                results = pending.popleft().result()
                submit_next()
                yield results
        finally:
            for future in pending:  # the consumer stopped early or an error is propagating
                future.cancel()


class _Executor(ExitStack):
    """Context manager wrapping an executor and whatever must be closed after it."""

    def __init__(self) -> None:
        super().__init__()
        self.executor: Executor | None = None

    def __enter__(self) -> Executor:  # type: ignore[override]
        super().__enter__()
        assert self.executor is not None
        return self.executor


def _executor(engine: str, scheduler: str | None, jobs: int) -> _Executor:
    """A ``concurrent.futures``-style executor for the engine (closed on exit)."""
    stack = _Executor()
    if engine == "local":
        pool = ProcessPoolExecutor(max_workers=jobs)
        stack.callback(pool.shutdown, wait=True, cancel_futures=True)
        stack.executor = pool
        return stack
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(
            n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.WARNING
        )
        stack.callback(cluster.close)
        client = Client(cluster)
        log.info("dask: started a LocalCluster with %d workers", jobs)
    else:
        client = Client(scheduler)
        log.info("dask: connected to %s", scheduler)
    stack.callback(client.close)
    # Chunks are not pure: the same input submitted twice must run twice.
    stack.executor = client.get_executor(pure=False)
    return stack
