"""Committed tables: one whole build visible at every instant, exclusive builds, leftovers cleaned, file modes."""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
import traceback
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core import safety, store
from analysis.core.store import BuildLock, BuildLockedError, PartitionedWriter, atomic_path, clean_leftovers, read_table

TABLES = ("documents", "tasks")
CRASH_EXIT = 17
# Filesystem operations a commit may perform; the crash test stops the process before each one in turn.
STEPS = (
    (os, "rename"),
    (os, "replace"),
    (os, "symlink"),
    (os, "unlink"),
    (os, "rmdir"),
    (os, "fsync"),
    (shutil, "rmtree"),
    (Path, "write_text"),
)


def stage_build(out: Path, marker: str) -> PartitionedWriter:
    """A staged build whose every row (two parts per table) and whose report say ``marker``."""
    writer = PartitionedWriter(out)
    for name in TABLES:
        for part in range(2):
            writer.write(name, pd.DataFrame({"build": [marker] * 3, "part": [part] * 3}))
    return writer


def commit_build(out: Path, marker: str) -> None:
    stage_build(out, marker).commit({"run_report.md": f"build {marker}\n"})


def visible_builds(out: Path) -> set[str]:
    """The build markers a reader sees, through read_table and through the fixed paths pandas users open."""
    seen: set[str] = set()
    for name in TABLES:
        for read in (read_table, lambda table, folder: pd.read_parquet(folder / f"{table}.parquet")):
            try:
                seen |= set(read(name, out)["build"])
            except (FileNotFoundError, OSError):
                seen.add("missing")
    report = out / "run_report.md"
    seen.add(report.read_text(encoding="utf-8").split()[1] if report.exists() else "missing")
    return seen


def crash_during_commit(out: Path, marker: str, crash_at: int) -> int:
    """Commit a build in a child process that dies (``os._exit``, no cleanup) before its ``crash_at``-th step.

    Returns the child's exit status: ``CRASH_EXIT`` if it died, 0 if the commit finished first.
    """
    pid = os.fork()
    if pid == 0:  # the child: stage, then count the commit's filesystem steps and die at the chosen one
        try:
            writer = stage_build(out, marker)
            counter = [0]
            for owner, name in STEPS:
                original = getattr(owner, name)

                def step(*args, __original=original, **kwargs):
                    if counter[0] == crash_at:
                        os._exit(CRASH_EXIT)
                    counter[0] += 1
                    return __original(*args, **kwargs)

                setattr(owner, name, step)
            writer.commit({"run_report.md": f"build {marker}\n"})
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_crash_at_any_step_of_the_commit_leaves_one_whole_build_visible(tmp_path):
    out = tmp_path / "processed"
    commit_build(out, "old")
    outcomes = []
    crash_at = 0
    while True:
        status = crash_during_commit(out, "new", crash_at)
        seen = visible_builds(out)
        assert seen in ({"old"}, {"new"}), f"crash before step {crash_at}: a reader sees {seen}"
        outcomes.append(seen.pop())
        if status == 0:  # the commit finished before reaching the crash point: every step has been tried
            break
        assert status == CRASH_EXIT
        # Start the next round from the old build again, with the crashed run's leftovers still there.
        if outcomes[-1] == "new":
            commit_build(out, "old")
        crash_at += 1
    assert crash_at > 5  # the commit has several steps and each was interrupted once
    assert outcomes[0] == "old" and outcomes[-1] == "new"
    # The switch is one step: once a reader sees the new build, every later crash point shows it too.
    first_new = outcomes.index("new")
    assert set(outcomes[first_new:]) == {"new"}


def test_leftovers_of_crashed_runs_are_cleaned_by_the_next_build(tmp_path):
    out = tmp_path / "processed"
    commit_build(out, "one")
    for crash_at in (0, 3, 6):
        crash_during_commit(out, "crashed", crash_at)
    stage_build(out, "abandoned")  # a run killed before its commit: its staging folder stays
    (out / ".staging-legacy").mkdir()  # the older layout's leftovers
    commit_build(out, "two")
    commit_build(out, "three")
    builds = sorted(p.name for p in (out / store.BUILDS_DIR).iterdir())
    assert len(builds) == store.KEEP_BUILDS  # the current build and the one before it, nothing else
    assert not [p for p in builds if p.startswith(".")]
    assert not list(out.glob(".staging-*")) and not list(out.glob(f".{store.CURRENT}.*"))
    assert visible_builds(out) == {"three"}


def test_a_failed_run_changes_nothing_and_leaves_no_staging(tmp_path):
    out = tmp_path / "processed"
    commit_build(out, "old")
    writer = stage_build(out, "new")
    writer.abort()
    assert visible_builds(out) == {"old"}
    assert not list((out / store.BUILDS_DIR).glob(".staging-*"))


def test_older_unversioned_tables_are_replaced_by_links(tmp_path):
    out = tmp_path / "processed"
    (out / "tasks.parquet").mkdir(parents=True)
    pd.DataFrame({"build": ["legacy"]}).to_parquet(out / "tasks.parquet" / "part-00000.parquet")
    assert set(read_table("tasks", out)["build"]) == {"legacy"}
    commit_build(out, "new")
    assert (out / "tasks.parquet").is_symlink()
    assert visible_builds(out) == {"new"}


def test_a_second_build_into_the_same_folder_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "processed"
    with BuildLock(out):
        with pytest.raises(BuildLockedError, match=rf"another build is writing here \(pid {os.getpid()}\b"):
            with BuildLock(out):
                pass
    with BuildLock(out):  # released on exit
        pass


def test_a_second_build_waits_when_asked(tmp_path):
    out = tmp_path / "processed"
    first = BuildLock(out).__enter__()
    releaser = threading.Timer(0.5, first.__exit__, args=(None, None, None))
    releaser.start()
    started = time.monotonic()
    with BuildLock(out, wait_seconds=20):
        waited = time.monotonic() - started
    releaser.join()
    assert 0.3 < waited < 20


def test_a_lock_held_by_a_dead_process_does_not_block(tmp_path):
    out = tmp_path / "processed"
    pid = os.fork()
    if pid == 0:
        BuildLock(out).__enter__()
        os._exit(0)  # dies holding the lock, without releasing it
    os.waitpid(pid, 0)
    with BuildLock(out):
        pass


def test_atomic_path_gives_normal_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        target = tmp_path / "table.csv"
        with atomic_path(target) as temporary:
            temporary.write_text("a,b\n", encoding="utf-8")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
    finally:
        os.umask(previous)


def test_clean_leftovers_without_a_current_build_removes_unpublished_builds(tmp_path):
    out = tmp_path / "processed"
    (out / store.BUILDS_DIR / "20260101T000000.000000Z-1").mkdir(parents=True)  # renamed, never switched to
    clean_leftovers(out)
    assert not list((out / store.BUILDS_DIR).iterdir())


def test_read_tables_takes_every_table_from_the_same_build(tmp_path, monkeypatch):
    out = tmp_path / "processed"
    commit_build(out, "old")
    real_read = store.read_table

    def read_then_switch(name, folder):  # a new build is committed between reading two tables
        frame = real_read(name, folder)
        if name == TABLES[0]:
            commit_build(out, "new")
        return frame

    monkeypatch.setattr(store, "read_table", read_then_switch)
    tables = store.read_tables(TABLES, out)
    assert {marker for frame in tables.values() for marker in frame["build"]} == {"old"}


# --------------------------------------------------------------------------- the CSV writer


_TEXT = st.text(alphabet=st.sampled_from(list("ab 中文,\"\n\r\t'=+-@\x00\u2028\ufeff😀")), max_size=6)


@st.composite
def csv_frames(draw):
    """Frames of the column types the fast CSV writer formats itself (some columns Arrow-chunked several times)."""
    n = draw(st.integers(0, 6))
    columns = {}
    for i in range(draw(st.integers(2, 5))):
        kind = draw(
            st.sampled_from(["string", "str", "string[python]", "Int64", "boolean", "float64", "int64", "bool"])
        )
        name = draw(st.sampled_from([f"c{i}", f"=c{i}", f"c,{i}", f"-{i}"]))
        if kind in ("string", "str", "string[python]"):
            values = draw(st.lists(st.none() | _TEXT, min_size=n, max_size=n))  # "str": pandas' default, NaN for None
        elif kind == "Int64":
            values = draw(st.lists(st.none() | st.integers(-(2**63) + 1, 2**63 - 1), min_size=n, max_size=n))
        elif kind == "boolean":
            values = draw(st.lists(st.none() | st.booleans(), min_size=n, max_size=n))
        elif kind == "float64":
            values = draw(
                st.lists(
                    st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.1, 1e16, 100.0, -0.0, 1e-5]),
                    min_size=n,
                    max_size=n,
                )
            )
        elif kind == "int64":
            values = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
        else:
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        columns[f"{name}#{i}"] = pd.Series(values, dtype=kind, index=range(n))
    frame = pd.DataFrame(columns)
    if n > 1 and draw(st.booleans()):  # Arrow-backed columns made of several chunks, as after pd.concat
        cut = draw(st.integers(1, n - 1))
        frame = pd.concat([frame.iloc[:cut], frame.iloc[cut:]], ignore_index=True)
    return frame


@settings(max_examples=300, deadline=None)
@given(csv_frames(), st.booleans())
def test_write_csv_writes_the_bytes_pandas_writes(tmp_path_factory, frame, append):
    folder = tmp_path_factory.mktemp("csv")
    fast, slow = folder / "fast.csv", folder / "slow.csv"
    for path in (fast, slow):
        path.write_bytes(b"first part\n")
    store.write_csv(frame, fast, append=append)
    safety.csv_safe(frame).to_csv(
        slow,
        mode="a" if append else "w",
        header=not append,
        index=False,
        encoding="utf-8" if append else store.CSV_ENCODING,
    )
    assert store.csv_lines(frame) is not None  # the fast writer took it
    assert fast.read_bytes() == slow.read_bytes()


def test_write_csv_leaves_other_column_types_and_single_columns_to_pandas(tmp_path):
    frames = [
        pd.DataFrame({"a": ["x", "=y"]}),  # one column: the csv module quotes an empty field there
        pd.DataFrame({"a": ["x", "=y"], "when": pd.to_datetime(["2024-01-01", None])}),
        pd.DataFrame({"a": ["x", "=y"], "mixed": [1, "=2"]}),
        pd.DataFrame({"a": ["x", "=y"], "f": pd.array([1.5, None], dtype="Float64")}),
    ]
    for frame in frames:
        assert store.csv_lines(frame) is None
        store.write_csv(frame, tmp_path / "fast.csv")
        safety.csv_safe(frame).to_csv(tmp_path / "slow.csv", index=False, encoding=store.CSV_ENCODING)
        assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | _TEXT, max_size=8))
def test_guard_formulas_on_arrow_strings_is_csv_safe(values):
    import pyarrow as pa

    column = pd.Series(values, dtype="string")
    guarded = safety.guard_formulas(pa.array(values, type=pa.large_string())).to_pylist()
    expected = safety.csv_safe(pd.DataFrame({"v": column}))["v"].tolist()
    assert guarded == [None if v is pd.NA else v for v in expected]
