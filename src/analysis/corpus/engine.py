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
(``analysis.corpus.build.process_entry`` returns a problem row for an
``InputError``).  Any other exception is a bug: by default (``on_error="raise"``)
it stops the run with :class:`ItemError`, which names the item (its ``doc_id``
and path when it has them), its position, the original exception and its
traceback, the same whichever engine ran it.  With ``on_error="return"`` the
failing item's result is an :class:`ItemFailure` instead and the run goes on.

Isolation (``budget=``, used for documents): each item runs alone in a worker
process, under a :class:`Budget` of wall-clock seconds and memory enforced in
the worker (an alarm signal; an address-space limit), and the parent kills a
worker that overruns the time budget by a grace period.  An item that is too
slow, too large, raises, or kills its worker (a crash, the kernel's OOM killer)
becomes an :class:`ItemFailure` of that kind; a fresh worker takes over and
every other item is still run.  ``jobs=1`` then means one worker process.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

from tqdm.auto import tqdm

from analysis import config
from analysis.core.errors import AnalysisError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
ENGINES = ("local", "dask")
ON_ERROR = ("raise", "return")
MAX_CHUNK = 32  # items per task: enough to amortise pickling, small enough to balance load
CHUNKS_PER_WORKER = 4  # default window = jobs * this many chunks in flight
# Kinds of ItemFailure.
FAILURE_ERROR = "error"  # the function raised
FAILURE_TOO_SLOW = "too slow"  # over the time budget
FAILURE_TOO_LARGE = "too large"  # over the memory budget
FAILURE_DIED = "worker died"  # the worker process ended while running the item


@dataclass(frozen=True)
class ItemFailure:
    """An item whose function call did not return: where, what, why, and the traceback text if any."""

    index: int  # 0-based position of the item in the input
    item: str  # short description of the item (doc_id and path when known)
    error: str  # exception type and message, e.g. "KeyError: 'x'", or what the budget or the worker did
    traceback: str
    kind: str = FAILURE_ERROR  # FAILURE_ERROR, FAILURE_TOO_SLOW, FAILURE_TOO_LARGE or FAILURE_DIED

    def describe(self) -> str:
        return f"item {self.index} ({self.item}) failed: {self.error}"


@dataclass(frozen=True)
class Budget:
    """Per-item limits enforced in the worker: wall-clock seconds, memory in bytes (above the worker's start)."""

    seconds: float | None = None
    memory_bytes: int | None = None

    @classmethod
    def from_config(cls) -> Budget:
        """The configured per-document budget (``config.DOCUMENT_SECONDS`` / ``DOCUMENT_MEMORY_BYTES``)."""
        return cls(config.DOCUMENT_SECONDS or None, config.DOCUMENT_MEMORY_BYTES or None)

    @property
    def hard_seconds(self) -> float | None:
        """When the parent kills a worker that did not stop by itself: the budget plus a grace period."""
        return None if self.seconds is None else self.seconds + max(5.0, 0.2 * self.seconds)


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


class _OverTime(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` inside a stage can swallow it."""


def _raise_over_time(signum: int, frame: Any) -> None:
    raise _OverTime()


def _failure(index: int, item: Any, kind: str, error: str, trace: str = "") -> ItemFailure:
    return ItemFailure(index=index, item=describe_item(item), error=error, traceback=trace, kind=kind)


def run_guarded(func: Callable[[Any], Any], index: int, item: Any, budget: Budget | None = None) -> Any:
    """``func(item)``, or an :class:`ItemFailure` saying why not (an exception, too slow, too large).

    The time budget is an alarm signal, so it is only enforced here in a main
    thread (worker processes; not Dask's worker threads).
    """
    seconds = budget.seconds if budget is not None else None
    alarm = seconds is not None and threading.current_thread() is threading.main_thread()
    previous: Any = None
    try:
        if alarm and seconds is not None:
            previous = signal.signal(signal.SIGALRM, _raise_over_time)
            signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return func(item)
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
    except _OverTime:
        return _failure(index, item, FAILURE_TOO_SLOW, f"took longer than the time budget of {seconds:g} s")
    except MemoryError:
        limit = f" of {budget.memory_bytes / 1e6:,.0f} MB" if budget is not None and budget.memory_bytes else ""
        return _failure(index, item, FAILURE_TOO_LARGE, f"needed more memory than the budget{limit}")
    except Exception as exc:
        return _failure(index, item, FAILURE_ERROR, f"{type(exc).__name__}: {exc}", traceback.format_exc())
    finally:
        if previous is not None:
            signal.signal(signal.SIGALRM, previous)


def run_chunk(func: Callable[[Any], Any], start: int, chunk: Sequence[Any], budget: Budget | None = None) -> list[Any]:
    """Apply ``func`` to a chunk; an exception becomes an :class:`ItemFailure` in its place.

    Runs in the worker, so the failure carries the worker-side traceback and
    can be pickled back whatever the engine.
    """
    return [run_guarded(func, start + offset, item, budget) for offset, item in enumerate(chunk)]


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
    budget: Budget | None = None,
) -> Iterator[Any]:
    """``func(item)`` for every item, in input order (see the module docstring).

    ``window`` bounds the chunks in flight (default ``jobs * 4``); ``chunksize``
    the items per chunk (default: about 8 chunks per worker, at most 32).
    ``budget`` isolates every item in a worker process under that budget
    (local engine; ``config.ISOLATE_DOCUMENTS`` off runs ``jobs=1`` in this
    process instead, with the time budget only, for debugging).
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
        isolate = budget is not None and engine == "local" and (jobs > 1 or config.ISOLATE_DOCUMENTS)
        if isolate:
            assert budget is not None
            chunks: Iterator[list[Any]] = _isolated_results(func, items, jobs, budget, window or jobs * 2)
        elif engine == "local" and jobs == 1:
            chunks = (run_chunk(func, index, [item], budget) for index, item in enumerate(items))
        else:
            chunks = _parallel_chunks(
                func, items, engine, scheduler, jobs, size, window or jobs * CHUNKS_PER_WORKER, budget
            )
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
    budget: Budget | None = None,
) -> Iterator[list[Any]]:
    """Result chunks in input order, at most ``window`` chunks in flight.

    With a ``budget`` (Dask), a chunk whose worker died (``KilledWorker``) comes
    back as one failure per item of the chunk instead of ending the run.
    """
    with ExitStack() as stack:
        executor = stack.enter_context(_executor(engine, scheduler, jobs))
        numbered = enumerate(items)
        pending: deque[tuple[Future, int, list[Any]]] = deque()

        def submit_next() -> bool:
            chunk = list(itertools.islice(numbered, size))
            if not chunk:
                return False
            start, chunk_items = chunk[0][0], [item for _, item in chunk]
            pending.append((executor.submit(run_chunk, func, start, chunk_items, budget), start, chunk_items))
            return True

        try:
            while len(pending) < max(1, window) and submit_next():
                pass
            while pending:
                future, start, chunk_items = pending.popleft()
                try:
                    results = future.result()
                except Exception as exc:
                    if budget is None:
                        raise
                    error = f"the worker running this item's chunk failed ({type(exc).__name__}: {exc})"
                    results = [_failure(start + i, item, FAILURE_DIED, error) for i, item in enumerate(chunk_items)]
                submit_next()
                yield results
        finally:
            for future, _, _ in pending:  # the consumer stopped early or an error is propagating
                future.cancel()


# --------------------------------------------------------------------------- isolated workers


def _limit_memory(memory_bytes: int | None) -> None:
    """Cap this process's address space at its current size plus ``memory_bytes`` (Linux)."""
    if not memory_bytes:
        return
    try:
        import resource

        with open("/proc/self/statm") as handle:
            current = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = current + memory_bytes
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError, ImportError) as exc:
        log.warning("cannot limit worker memory (%s): the memory budget is not enforced", exc)


def _worker_loop(connection: Any, func: Callable[[Any], Any], budget: Budget) -> None:
    """Body of a worker process: limit its memory, then run one item at a time until told to stop."""
    _limit_memory(budget.memory_bytes)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        index, item = message
        result = run_guarded(func, index, item, budget)
        connection.send(result)
        if isinstance(result, ItemFailure) and result.kind != FAILURE_ERROR:
            return  # interrupted mid-item, the process state is suspect: the parent starts a fresh worker


class _Worker:
    """A worker process of :func:`_isolated_results` and the item it is running."""

    def __init__(self, context: Any, func: Callable[[Any], Any], budget: Budget) -> None:
        self.connection, child = context.Pipe(duplex=True)
        self.process = context.Process(target=_worker_loop, args=(child, func, budget), daemon=True)
        self.process.start()
        child.close()
        self.task: tuple[int, Any] | None = None
        self.started = 0.0

    def send(self, index: int, item: Any) -> None:
        self.task = (index, item)
        self.started = time.monotonic()
        self.connection.send((index, item))

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.connection.send(None)
            except (OSError, ValueError):
                pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()

    def poll_result(self, budget: Budget) -> Any:
        """The finished item's result, a failure if the worker died or overran, or ``_PENDING``."""
        assert self.task is not None
        index, item = self.task
        try:
            if self.connection.poll():
                return self.connection.recv()
        except (EOFError, OSError):
            pass
        if not self.process.is_alive():
            return _failure(index, item, FAILURE_DIED, _death_cause(self.process.exitcode))
        hard = budget.hard_seconds
        if hard is not None and time.monotonic() - self.started > hard:
            self.process.kill()
            return _failure(
                index, item, FAILURE_TOO_SLOW, f"took longer than the time budget of {budget.seconds:g} s (stopped)"
            )
        return _PENDING


_PENDING = object()


def _death_cause(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = str(-exitcode)
        hint = " (the system's out-of-memory killer?)" if -exitcode == signal.SIGKILL else ""
        return f"the worker process died on this item (signal {name}){hint}"
    return f"the worker process died on this item (exit code {exitcode})"


def _isolated_results(
    func: Callable[[Any], Any], items: Iterable[Any], jobs: int, budget: Budget, window: int
) -> Iterator[list[Any]]:
    """One-result lists in input order, each item run alone in a worker process under ``budget``.

    A worker that dies or overruns the time budget (it is killed) costs only
    its own item, which becomes an :class:`ItemFailure`; a new worker takes
    its place.  At most ``window`` items are running or waiting to be yielded.
    """
    import multiprocessing
    import multiprocessing.connection

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    numbered: Iterator[tuple[int, Any]] = enumerate(items)
    first = next(numbered, None)
    if first is None:  # nothing to run (e.g. every document came from the cache): start no process
        return
    numbered = itertools.chain([first], numbered)
    workers = [_Worker(context, func, budget) for _ in range(jobs)]
    finished: dict[int, Any] = {}
    next_index = 0
    exhausted = False
    try:
        while True:
            for worker in workers:
                in_flight = sum(w.task is not None for w in workers) + len(finished)
                if worker.task is None and not exhausted and in_flight < max(window, jobs):
                    step = next(numbered, None)
                    if step is None:
                        exhausted = True
                    else:
                        worker.send(*step)
            busy = [w for w in workers if w.task is not None]
            if not busy and not finished and exhausted:
                return
            if busy:
                timeout = 0.5
                if budget.hard_seconds is not None:
                    first_deadline = min(w.started for w in busy) + budget.hard_seconds
                    timeout = max(0.01, min(timeout, first_deadline - time.monotonic()))
                handles = [w.connection for w in busy] + [w.process.sentinel for w in busy]
                multiprocessing.connection.wait(handles, timeout=timeout)
                for position, worker in enumerate(workers):
                    if worker.task is None:
                        continue
                    result = worker.poll_result(budget)
                    if result is _PENDING:
                        continue
                    index, _ = worker.task
                    worker.task = None
                    finished[index] = result
                    if isinstance(result, ItemFailure) and result.kind != FAILURE_ERROR:
                        worker.stop(kill=True)
                        workers[position] = _Worker(context, func, budget)
                        log.warning("%s", result.describe())
            while next_index in finished:
                yield [finished.pop(next_index)]
                next_index += 1
    finally:
        for worker in workers:
            worker.stop(kill=worker.task is not None)


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
