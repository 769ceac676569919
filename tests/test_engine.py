"""map_ordered: same results, in input order, whatever runs them; errors name the item."""

from __future__ import annotations

import itertools

import pytest

from analysis.corpus.engine import ItemError, ItemFailure, chunk_size, describe_item, map_ordered
from analysis.parse.manifest import ManifestEntry
from analysis.parse.structure import parse_structure

# Plans written with different numbering habits; parse_structure is a real
# per-document function, so the engines are compared on real work.
PLAN_TEXTS = [
    "一、总体要求\n坚持依法行政。\n二、主要任务\n(一)推进简政放权。深化改革。\n(二)加强执法监督。\n",
    "一、主要任务\n1.健全依法决策机制。完善程序。\n2、加强规范性文件管理。\n3．推进政务公开。\n",
    "一、重点工作\n（一）完善制度体系\n（1）制定年度立法计划。\n（2）开展清理工作。\n二、保障措施\n（一）加强组织领导。\n",
    "一、目标\n①执法全过程记录。②重大执法决定法制审核。\n",
    "没有任何编号的一段文字。",
]


def headings_summary(text: str) -> list[tuple[int, str, str]]:
    """Level, normalised number and title of every heading (picklable, comparable)."""
    return [(h.level, h.number_key, h.title) for h in parse_structure(text)]


def numbered_items(n: int) -> list[str]:
    """Many different documents: the texts renumbered with a varying first section."""
    return [
        text.replace("一、", f"{'一二三'[i % 3]}、", 1) + f"\n附:第{i}号"
        for i, text in zip(range(n), itertools.cycle(PLAN_TEXTS))
    ]


def test_serial_results_are_in_input_order_and_real() -> None:
    results = list(map_ordered(headings_summary, PLAN_TEXTS, progress=False))
    assert results[1] == [
        (1, "一", "主要任务"),
        (3, "1", "健全依法决策机制"),
        (3, "2", "加强规范性文件管理"),
        (3, "3", "推进政务公开"),
    ]
    assert results[4] == []
    assert len(results) == len(PLAN_TEXTS)


def test_process_pool_matches_serial_with_a_small_window() -> None:
    items = numbered_items(60)
    serial = list(map_ordered(headings_summary, items, progress=False))
    pooled = list(map_ordered(headings_summary, items, jobs=2, window=2, chunksize=3, progress=False))
    assert pooled == serial


def test_generator_input_is_consumed_lazily_and_in_bounded_steps() -> None:
    pulled: list[int] = []

    def items():
        for index, text in enumerate(numbered_items(200)):
            pulled.append(index)
            yield text

    results = map_ordered(headings_summary, items(), jobs=2, window=2, chunksize=4, progress=False)
    next(results)
    # Two chunks of four were submitted (plus one refill after the first came back).
    assert len(pulled) <= 3 * 4
    results.close()


def test_dask_local_cluster_matches_serial() -> None:
    distributed = pytest.importorskip("distributed")
    items = numbered_items(40)
    serial = list(map_ordered(headings_summary, items, progress=False))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_cluster = list(
            map_ordered(
                headings_summary,
                items,
                engine="dask",
                scheduler=cluster.scheduler_address,
                window=3,
                chunksize=4,
                progress=False,
            )
        )
    assert on_cluster == serial


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_exception_names_the_failing_item(jobs: int) -> None:
    entries = [ManifestEntry("ok_doc", "a.txt"), ManifestEntry("broken_doc", "b.txt"), ManifestEntry("c", "c.txt")]
    with pytest.raises(ItemError) as raised:
        list(map_ordered(_fail_on_broken, entries, jobs=jobs, progress=False))
    failure = raised.value.failure
    assert failure.index == 1
    assert "broken_doc" in failure.item and "b.txt" in failure.item
    assert failure.error == "ValueError: cannot parse broken_doc"
    assert "_fail_on_broken" in failure.traceback  # the worker's traceback travels with it
    assert "broken_doc" in str(raised.value)


def test_on_error_return_keeps_going_with_a_failure_in_place() -> None:
    entries = [ManifestEntry("ok_doc", "a.txt"), ManifestEntry("broken_doc", "b.txt"), ManifestEntry("c", "c.txt")]
    results = list(map_ordered(_fail_on_broken, entries, jobs=2, on_error="return", progress=False))
    assert results[0] == "ok_doc" and results[2] == "c"
    assert isinstance(results[1], ItemFailure) and results[1].index == 1


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="engine"):
        list(map_ordered(len, ["a"], engine="spark"))
    with pytest.raises(ValueError, match="scheduler"):
        list(map_ordered(len, ["a"], scheduler="tcp://127.0.0.1:8786"))


def test_chunk_size_and_item_description() -> None:
    assert chunk_size(100_000, 2) == 32  # capped
    assert chunk_size(40, 2) == 2
    assert chunk_size(None, 2) == 8  # unknown length (a generator)
    assert describe_item("x" * 500).endswith("...")
    assert len(describe_item("x" * 500)) == 200


def _fail_on_broken(entry: ManifestEntry) -> str:
    if entry.doc_id.startswith("broken"):
        raise ValueError(f"cannot parse {entry.doc_id}")
    return entry.doc_id


# --------------------------------------------------------------------------- isolation under a budget


def _hostile(item: str) -> object:
    """A per-document function that misbehaves on some documents (runs in the worker process)."""
    import ctypes
    import os
    import signal
    import time

    if item == "crashes":  # a segfault in a C extension, or the kernel's OOM killer
        os.kill(os.getpid(), signal.SIGKILL)
    if item == "loops":  # pure-Python loop: stopped by the alarm in the worker
        while True:
            pass
    if item == "hangs_in_c":  # ignores the alarm (as C code that never returns would): the parent kills it
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        ctypes.CDLL(None).sleep(60)
    if item == "hungry":
        blocks = [bytearray(10_000_000) for _ in range(100)]  # 1 GB, over the 300 MB budget
        return len(blocks)
    if item == "buggy":
        raise KeyError("missing field")
    time.sleep(0.01)
    return headings_summary(PLAN_TEXTS[0]), item


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_bad_item_fails_alone_and_the_others_are_built(jobs: int) -> None:
    from analysis.corpus.engine import FAILURE_DIED, FAILURE_ERROR, FAILURE_TOO_LARGE, FAILURE_TOO_SLOW, Budget

    items = ["a", "crashes", "b", "loops", "c", "hungry", "d", "buggy", "e", "hangs_in_c", "f"]
    budget = Budget(seconds=3, memory_bytes=300_000_000)
    results = list(map_ordered(_hostile, items, jobs=jobs, progress=False, on_error="return", budget=budget))
    assert len(results) == len(items)
    good = [r[1] for r in results if not isinstance(r, ItemFailure)]
    assert good == ["a", "b", "c", "d", "e", "f"]  # every good item, in input order
    failures = {items[r.index]: r for r in results if isinstance(r, ItemFailure)}
    assert {name: f.kind for name, f in failures.items()} == {
        "crashes": FAILURE_DIED,
        "loops": FAILURE_TOO_SLOW,
        "hungry": FAILURE_TOO_LARGE,
        "buggy": FAILURE_ERROR,
        "hangs_in_c": FAILURE_TOO_SLOW,
    }
    assert "SIGKILL" in failures["crashes"].error
    assert "3 s" in failures["loops"].error and "300 MB" in failures["hungry"].error
    assert "KeyError" in failures["buggy"].error and "missing field" in failures["buggy"].traceback


def test_a_budget_failure_raises_naming_the_item_by_default() -> None:
    from analysis.corpus.engine import Budget

    with pytest.raises(ItemError, match=r"item 1 \('loops'\) failed: took longer than the time budget of 0.5 s"):
        list(map_ordered(_hostile, ["a", "loops"], jobs=1, progress=False, budget=Budget(seconds=0.5)))
