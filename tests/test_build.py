"""Corpus build and CLI on corpora written for the tests, good and bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.core.errors import ManifestError
from analysis.corpus import build as build_module
from analysis.corpus.build import build_corpus

COUNTY_PLAN = """关于印发《青山县2019年法治政府建设工作要点》的通知
青政办发〔2019〕5号
各乡镇人民政府,县直各部门:
现将《青山县2019年法治政府建设工作要点》印发给你们,请认真贯彻执行。
青山县人民政府办公室
2019年3月8日
青山县2019年法治政府建设工作要点
一、总体要求
以习近平新时代中国特色社会主义思想为指导,全面推进依法行政。
二、重点任务
(一)依法全面履行政府职能
1.深化“放管服”改革。全面清理行政审批事项(牵头单位:县行政审批局)。推行“双随机、一公开”监管(牵头单位:县市场监管局)。
2.加强规范性文件管理。规范性文件合法性审核率达到100%(牵头单位:县司法局)。
(二)加强组织领导
3.落实第一责任人职责。每年至少听取一次法治政府建设工作汇报。
责任单位:县政府办公室
"""

CITY_PLAN_TRADITIONAL = """白河市2021年法治政府建設工作計劃
一、健全依法決策機制
1.嚴格執行重大行政決策程序,落實公眾參與、專家論證、風險評估。(責任單位:市司法局,市直有關部門)
2.推行法律顧問制度,2021年底前實現黨政機關法律顧問全覆蓋。(責任單位:市司法局)
二、加強行政執法
3.全面推行行政執法三項制度,每年組織開展一次執法案卷評查。(責任單位:市司法局)
"""


def write_corpus(raw: Path, rows: list[dict], files: dict[str, bytes]) -> Path:
    raw.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (raw / name).write_bytes(data)
    manifest = raw / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest


@pytest.fixture()
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    raw = tmp_path / "raw"
    (tmp_path / "outside.txt").write_text(COUNTY_PLAN, encoding="utf-8")
    manifest = write_corpus(
        raw,
        [
            {"doc_id": "qingshan_2019", "file": "qingshan.txt", "jurisdiction": "青山县", "admin_level": "county"},
            {"doc_id": "baihe_2021", "file": "baihe_big5.txt", "jurisdiction": "白河市", "admin_level": "prefecture"},
            {"doc_id": "empty_doc", "file": "empty.txt"},
            {"doc_id": "binary_doc", "file": "blob.txt"},
            {"doc_id": "missing_doc", "file": "nowhere.txt"},
            {"doc_id": "escapee", "file": "../outside.txt"},
            {"doc_id": "qingshan_2019", "file": "qingshan_copy.txt"},
        ],
        {
            "qingshan.txt": COUNTY_PLAN.encode("gb18030"),
            "qingshan_copy.txt": COUNTY_PLAN.encode("utf-8"),
            "baihe_big5.txt": CITY_PLAN_TRADITIONAL.encode("big5"),
            "empty.txt": b"",
            "blob.txt": bytes(range(256)) * 8,
        },
    )
    return manifest, raw


def test_bad_inputs_are_reported_and_the_rest_is_built(corpus, tmp_path):
    manifest, raw = corpus
    out = tmp_path / "processed"
    result = build_corpus(manifest, raw, out, jobs=1, progress=False)
    assert not result.ok
    assert sorted(result.failed) == sorted(
        ["empty_doc", "binary_doc", "missing_doc", "escapee", "qingshan_2019", "qingshan_2019"]
    )
    problems = result.table("problems")
    errors = problems[problems["severity"] == "error"]
    messages = " ".join(errors["problem"])
    assert "duplicate doc_id 'qingshan_2019'" in messages
    assert "outside" in messages and "not found" in messages
    assert set(errors["doc_id"]) >= {"empty_doc", "binary_doc", "missing_doc", "escapee"}
    assert all(errors["problem"].str.len() > 0)
    documents = result.table("documents")
    assert list(documents["doc_id"]) == ["baihe_2021"]
    tasks = result.table("tasks")
    assert (tasks["kind"] == "task").sum() == 3
    # The Big5 traditional-character plan was decoded and simplified for analysis.
    assert tasks.loc[tasks["kind"] == "task", "text"].str.contains("严格执行重大行政决策程序").any()
    report = (out / "run_report.md").read_text(encoding="utf-8")
    assert "duplicate doc_id" in report and "empty_doc" in report
    assert not list(out.glob(".staging-*"))


def test_good_corpus_builds_all_tables(tmp_path):
    raw = tmp_path / "raw"
    manifest = write_corpus(
        raw,
        [{"doc_id": "qingshan_2019", "file": "qingshan.txt", "jurisdiction": "青山县", "issued": "2019-03-08"}],
        {"qingshan.txt": COUNTY_PLAN.encode("utf-8")},
    )
    out = tmp_path / "processed"
    result = build_corpus(manifest, raw, out, jobs=1, progress=False)
    assert result.ok
    for name in build_module.TABLE_NAMES:
        assert (out / f"{name}.parquet").exists() and (out / f"{name}.csv").exists()
    assert (out / "tasks.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    tasks = result.table("tasks")
    real = tasks[tasks["kind"] == "task"]
    assert list(real["path"]) == ["二/(一)/1", "二/(一)/2", "二/(二)/3"]
    assert real["theme"].notna().all()
    measures = result.table("measures")
    last = measures[measures["task_id"] == real["task_id"].iloc[-1]]
    assert list(last["units_raw"]) == ["责任单位:县政府办公室"]
    documents = result.table("documents")
    assert documents.loc[0, "doc_number"] == "青政办发〔2019〕5号"
    assert documents.loc[0, "issued_year"] == 2019


def test_parallel_build_writes_the_same_tables(tmp_path):
    raw = tmp_path / "raw"
    manifest = write_corpus(
        raw,
        [
            {"doc_id": "qingshan_2019", "file": "q.txt"},
            {"doc_id": "empty_doc", "file": "empty.txt"},
            {"doc_id": "baihe_2021", "file": "b.txt"},
            {"doc_id": "qingshan_copy", "file": "q2.txt"},
        ],
        {
            "q.txt": COUNTY_PLAN.encode("gb18030"),
            "empty.txt": b"",
            "b.txt": CITY_PLAN_TRADITIONAL.encode("big5"),
            "q2.txt": COUNTY_PLAN.encode("utf-8"),
        },
    )
    one = build_corpus(manifest, raw, tmp_path / "one", jobs=1, progress=False)
    # One document per part, so theme coding runs part by part in the workers too.
    two = build_corpus(manifest, raw, tmp_path / "two", jobs=2, progress=False, chunk_documents=1)
    assert len(list((tmp_path / "two" / "tasks.parquet").glob("part-*.parquet"))) == 3
    assert one.failed == two.failed == ["empty_doc"]
    for name in ("documents", "tasks", "measures", "units", "targets", "problems"):
        pd.testing.assert_frame_equal(one.table(name), two.table(name))


def test_tasks_coded_as_their_part_is_written_are_those_coded_after_all_parts(tmp_path, monkeypatch):
    """One process codes each tasks part as it writes it; the same parts and CSV as writing, reading back, recoding."""
    raw = tmp_path / "raw"
    files = {"q.txt": COUNTY_PLAN.encode("utf-8"), "b.txt": CITY_PLAN_TRADITIONAL.encode("big5"), "e.txt": b""}
    manifest = write_corpus(raw, [{"doc_id": name[0], "file": name} for name in files], files)
    options = {"jobs": 1, "progress": False, "use_cache": False, "chunk_documents": 1}
    build_corpus(manifest, raw, tmp_path / "as_written", **options)
    monkeypatch.setattr(build_module, "_ChunkCoding", lambda: None)  # the other way: rewrite("tasks", code_task_parts)
    build_corpus(manifest, raw, tmp_path / "after", **options)
    written, after = (tmp_path / "as_written" / "current", tmp_path / "after" / "current")
    parts = sorted(p.relative_to(written) for p in written.glob("*.parquet/part-*.parquet"))
    assert parts == sorted(p.relative_to(after) for p in after.glob("*.parquet/part-*.parquet"))
    assert len([p for p in parts if p.parent.name == "tasks.parquet"]) == 2
    for part in parts:
        pd.testing.assert_frame_equal(pd.read_parquet(written / part), pd.read_parquet(after / part))
    for csv in sorted(written.glob("*.csv")):
        assert csv.read_bytes() == (after / csv.name).read_bytes(), csv.name
    assert (written / "run_report.md").read_text() == (after / "run_report.md").read_text()


def test_theme_coding_sends_one_part_at_a_time_to_each_worker(tmp_path, monkeypatch):
    """A coded part is tens of MB at scale: workers must not hold (and pickle back) several at once."""
    raw = tmp_path / "raw"
    files = {f"q{i}.txt": COUNTY_PLAN.encode("utf-8") for i in range(5)}
    manifest = write_corpus(raw, [{"doc_id": f"q{i}", "file": f"q{i}.txt"} for i in range(5)], files)
    calls: list[dict] = []
    original = build_module.map_ordered

    def recording(func, items, **options):
        calls.append({"func": func, "n_items": len(items), **options})
        return original(func, items, **options)

    monkeypatch.setattr(build_module, "map_ordered", recording)
    build_corpus(manifest, raw, tmp_path / "out", jobs=2, progress=False, chunk_documents=1, use_cache=False)
    coding = [call for call in calls if call["func"] is build_module._code_part_file]
    assert len(coding) == 1 and coding[0]["n_items"] == 5
    assert coding[0]["chunksize"] == 1 and coding[0]["window"] <= 2 * 2


def test_failed_build_leaves_previous_tables_untouched(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    manifest = write_corpus(raw, [{"doc_id": "q", "file": "q.txt"}], {"q.txt": COUNTY_PLAN.encode("utf-8")})
    out = tmp_path / "processed"
    build_corpus(manifest, raw, out, jobs=1, progress=False)
    before = (out / "tasks.csv").read_bytes()

    def broken_coder():
        raise RuntimeError("interrupted")

    monkeypatch.setattr(build_module, "theme_coder", broken_coder)
    with pytest.raises(RuntimeError):
        build_corpus(manifest, raw, out, jobs=1, progress=False)
    assert (out / "tasks.csv").read_bytes() == before
    assert not list(out.glob(".staging-*"))


def test_malformed_manifest_is_an_error_naming_the_file(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    bad = raw / "manifest.csv"
    bad.write_text("name,path\nx,y.txt\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="manifest.csv.*doc_id"):
        build_corpus(bad, raw, tmp_path / "out", progress=False)
    assert main(["build", "--manifest", str(bad), "--raw-dir", str(raw), "--out", str(tmp_path / "out")]) == 2


def test_cli_build_exits_non_zero_when_a_document_fails(corpus, tmp_path, capsys):
    manifest, raw = corpus
    code = main(
        [
            "build",
            "--manifest",
            str(manifest),
            "--raw-dir",
            str(raw),
            "--out",
            str(tmp_path / "o"),
            "--jobs",
            "1",
            "--no-progress",
        ]
    )
    assert code == 1
    assert "empty.txt" in capsys.readouterr().err


def test_extract_writes_json_lines(tmp_path):
    path = tmp_path / "some_plan.txt"
    path.write_text(COUNTY_PLAN, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "analysis", "extract", str(path), "--meta", "jurisdiction=青山县"],
        capture_output=True,
        text=True,
        check=True,
    )
    records = [json.loads(line) for line in run.stdout.splitlines()]
    document, units = records[0], records[1:]
    assert document["record"] == "document" and document["doc_id"] == "some_plan"
    for key in (
        "title",
        "issuer",
        "doc_number",
        "issued",
        "period_start",
        "period_end",
        "doc_type",
        "jurisdiction",
        "repairs",
    ):
        assert key in document
    assert document["jurisdiction"] == "青山县"
    assert [u["kind"] for u in units] == ["framing", "task", "task", "task"]
    task = units[1]
    for key in (
        "doc_id",
        "task_id",
        "kind",
        "number",
        "path",
        "headings",
        "title",
        "text",
        "span",
        "raw_span",
        "measures",
        "units",
        "targets",
        "theme",
        "theme_label_zh",
        "subtheme",
        "theme_confidence",
    ):
        assert key in task
    assert task["measures"][0]["units_raw"] == ["牵头单位:县行政审批局"]
    assert {"text", "span", "units_raw"} <= set(task["measures"][0])


def test_extract_reports_unreadable_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    run = subprocess.run([sys.executable, "-m", "analysis", "extract", str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert "empty.txt" in run.stderr


def test_incremental_build_processes_only_new_documents(tmp_path):
    raw = tmp_path / "raw"
    rows = [{"doc_id": "qingshan_2019", "file": "qingshan.txt"}]
    manifest = write_corpus(raw, rows, {"qingshan.txt": COUNTY_PLAN.encode("utf-8")})
    out = tmp_path / "processed"
    first = build_corpus(manifest, raw, out, jobs=1, progress=False)
    assert (first.cache_stats["hits"], first.cache_stats["misses"]) == (0, 1)
    rows.append({"doc_id": "baihe_2021", "file": "baihe.txt"})
    manifest = write_corpus(raw, rows, {"baihe.txt": CITY_PLAN_TRADITIONAL.encode("utf-8")})
    second = build_corpus(manifest, raw, out, jobs=1, progress=False)
    assert (second.cache_stats["hits"], second.cache_stats["misses"]) == (1, 1)
    assert list(second.table("documents")["doc_id"]) == ["qingshan_2019", "baihe_2021"]
    no_cache = build_corpus(manifest, raw, tmp_path / "fresh", jobs=1, progress=False, use_cache=False)
    for name in ("tasks", "measures", "units", "targets"):
        pd.testing.assert_frame_equal(second.table(name), no_cache.table(name))


def test_changed_coding_recodes_without_reparsing(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    manifest = write_corpus(raw, [{"doc_id": "q", "file": "q.txt"}], {"q.txt": COUNTY_PLAN.encode("utf-8")})
    out = tmp_path / "processed"
    build_corpus(manifest, raw, out, jobs=1, progress=False)

    class EverythingIsCapacity:
        def code(self, tasks: pd.DataFrame) -> pd.DataFrame:
            real = tasks[tasks["kind"] == "task"]
            return pd.DataFrame(
                {
                    "task_id": real["task_id"],
                    "theme": "capacity",
                    "theme_label_zh": "能力",
                    "theme_label_en": "Capacity",
                    "subtheme": "",
                    "subtheme_label_zh": "",
                    "subtheme_label_en": "",
                    "theme_confidence": 1.0,
                    "theme_source": "override",
                    "theme_evidence": "test",
                    "theme_model": "capacity",
                    "subtheme_model": "",
                    "theme_model_confidence": 1.0,
                }
            )

    monkeypatch.setattr(build_module, "theme_coder", EverythingIsCapacity)
    again = build_corpus(manifest, raw, out, jobs=1, progress=False)
    assert again.cache_stats["misses"] == 0
    tasks = again.table("tasks")
    assert set(tasks.loc[tasks["kind"] == "task", "theme"]) == {"capacity"}


@pytest.mark.slow
def test_dask_engine_writes_the_same_tables_as_one_process(corpus, tmp_path):
    from distributed import LocalCluster

    manifest, raw = corpus
    local = build_corpus(manifest, raw, tmp_path / "local", jobs=1, progress=False, use_cache=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = build_corpus(
            manifest,
            raw,
            tmp_path / "dask",
            progress=False,
            use_cache=False,
            engine="dask",
            scheduler=cluster.scheduler_address,
        )
    assert dask.failed == local.failed
    for name in ("documents", "tasks", "measures", "units", "targets", "problems"):
        pd.testing.assert_frame_equal(local.table(name), dask.table(name))
    import dask.dataframe as dd

    assert len(dd.read_parquet(str(tmp_path / "dask" / "tasks.parquet")).compute()) == len(local.table("tasks"))


def test_a_50_mb_file_is_refused_with_its_size_and_the_rest_is_built(tmp_path):
    raw = tmp_path / "raw"
    manifest = write_corpus(
        raw,
        [{"doc_id": "huge", "file": "huge.txt"}, {"doc_id": "qingshan_2019", "file": "qingshan.txt"}],
        {"qingshan.txt": COUNTY_PLAN.encode("utf-8")},
    )
    with (raw / "huge.txt").open("wb") as handle:  # 50 MB of text, written in blocks
        block = COUNTY_PLAN.encode("utf-8") * 200
        while handle.tell() < 50_000_000:
            handle.write(block)
    result = build_corpus(manifest, raw, tmp_path / "out", jobs=1, progress=False)
    assert result.failed == ["huge"]
    problem = result.table("problems").set_index("doc_id").loc["huge", "problem"]
    assert "MB" in problem and "limit" in problem
    assert list(result.table("documents")["doc_id"]) == ["qingshan_2019"]


# --------------------------------------------------------------------------- isolation, formula safety


def _five_plans(raw: Path) -> Path:
    """Five good county plans (rows 2..6 of the manifest) that differ in their county name."""
    counties = ["青山县", "白水县", "红岩县", "东岭县", "西河县"]
    rows = [{"doc_id": f"plan_{i}", "file": f"plan_{i}.txt", "jurisdiction": name} for i, name in enumerate(counties)]
    files = {f"plan_{i}.txt": COUNTY_PLAN.replace("青山县", name).encode() for i, name in enumerate(counties)}
    return write_corpus(raw, rows, files)


def _misbehave_on_plan_4(behaviour: str):
    """A stand-in for a stage that goes wrong on one document (the fifth, manifest row 6) in the worker."""
    import os
    import signal

    real = build_module.process_document

    def process_document(path, *args, **kwargs):
        if Path(path).name == "plan_4.txt":
            if behaviour == "bug":
                raise RecursionError("maximum recursion depth exceeded")
            if behaviour == "crash":
                os.kill(os.getpid(), signal.SIGKILL)
            if behaviour == "slow":
                while True:
                    pass
        return real(path, *args, **kwargs)

    return process_document


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("bug", "internal error (a bug, not bad input): RecursionError: maximum recursion depth exceeded"),
        ("crash", "not built: the worker process died on this item (signal SIGKILL)"),
        ("slow", "too slow: took longer than the time budget of 5 s (ANALYSIS_DOCUMENT_SECONDS raises the budget)"),
    ],
)
def test_any_failure_of_one_document_is_one_problem_row_naming_file_and_manifest_row(
    tmp_path, monkeypatch, behaviour, expected
):
    manifest = _five_plans(tmp_path / "raw")
    monkeypatch.setattr(build_module, "process_document", _misbehave_on_plan_4(behaviour))
    monkeypatch.setattr("analysis.config.DOCUMENT_SECONDS", 5.0)
    result = build_corpus(manifest, tmp_path / "raw", tmp_path / "out", jobs=2, progress=False, use_cache=False)
    assert result.failed == ["plan_4"]
    assert list(result.table("documents")["doc_id"]) == ["plan_0", "plan_1", "plan_2", "plan_3"]
    problems = result.table("problems")
    [row] = problems[problems["severity"] == "error"].to_dict("records")
    assert row["doc_id"] == "plan_4" and row["file"].endswith("plan_4.txt") and row["stage"] == "build"
    assert row["manifest_row"] == 6  # its line in the manifest, not its position in some chunk
    assert row["problem"].startswith(expected)
    assert (tmp_path / "out" / "run_report.md").read_text(encoding="utf-8").count("plan_4") >= 1


def test_the_cli_exits_non_zero_when_a_worker_dies(tmp_path, monkeypatch):
    manifest = _five_plans(tmp_path / "raw")
    monkeypatch.setattr(build_module, "process_document", _misbehave_on_plan_4("crash"))
    arguments = ["build", "--manifest", str(manifest), "--raw-dir", str(tmp_path / "raw"), "--out", str(tmp_path / "o")]
    assert main([*arguments, "--jobs", "1", "--no-progress"]) == 1


def test_problems_of_built_documents_carry_their_manifest_row(tmp_path):
    raw = tmp_path / "raw"
    cut_off = COUNTY_PLAN.rstrip("\n").rstrip("责任单位:县政府办公室").rstrip("\n") + "\n4.加强行政执法"
    manifest = write_corpus(
        raw,
        [{"doc_id": "empty", "file": "empty.txt"}, {"doc_id": "cut", "file": "cut.txt"}],
        {"empty.txt": b"", "cut.txt": cut_off.encode()},
    )
    problems = build_corpus(manifest, raw, tmp_path / "out", progress=False).table("problems")
    assert problems.set_index("doc_id").loc["empty", "manifest_row"] == 2
    assert set(problems.loc[problems["doc_id"] == "cut", "manifest_row"]) == {3}


def test_no_processed_csv_holds_a_live_formula(tmp_path):
    hostile = (
        COUNTY_PLAN.replace("1.深化“放管服”改革。", "1.=cmd|' /C calc'!A0 深化改革。")
        .replace("(牵头单位:县行政审批局)", "(牵头单位:+县行政审批局)")
        .replace("青政办发〔2019〕5号", "@SUM(1+1)")
    )
    raw = tmp_path / "raw"
    manifest = write_corpus(
        raw,
        [{"doc_id": "hostile", "file": "h.txt", "title": '=HYPERLINK("http://x")', "issuer": "-2+3"}],
        {"h.txt": hostile.encode()},
    )
    out = tmp_path / "out"
    build_corpus(manifest, raw, out, progress=False)
    formula_cells = 0
    for csv_path in sorted(out.glob("*.csv")):
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for value in frame.to_numpy().ravel():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), f"{csv_path.name}: {value!r}"
            formula_cells += value.startswith("'") and value[1:2] in ("=", "+", "-", "@")
    assert formula_cells >= 4  # title, issuer, task text, unit name: guarded, not dropped
    documents = pd.read_parquet(out / "documents.parquet")  # the Parquet tables keep the text as captured
    assert documents.loc[0, "title"] == '=HYPERLINK("http://x")'


def test_assemble_reads_records_and_dict_rows_alike():
    """Bundles of Records, of dict rows, of both and of other columns assemble to the tables of their dict rows."""
    from analysis.corpus.build import assemble
    from analysis.corpus.rows import UNIT_COLUMNS as columns
    from analysis.corpus.rows import Records, table_dicts

    def unit(doc_id: str, index: int | None, order: int, raw: str, name: str | None, generic: bool) -> tuple:
        return (doc_id, f"{doc_id}-1", index, order, raw, name, name, None, "lead", "unit", generic, "exact", "x")

    first = Records(columns, [unit("a", 0, 0, "县财政局", "县财政局", False), unit("a", None, 1, "x", None, True)])
    empty = Records(columns, [])
    reordered = Records(tuple(reversed(columns)), [tuple(reversed(unit("b", 1, 0, "y", "y", False)))])
    as_dicts = Records(columns, [unit("c", 2, 0, "z", "z", False)]).dicts()
    del as_dicts[0]["successor"]  # a column missing from a dict row
    for parts in ([first, empty], [first, reordered], [first, as_dicts, first], [as_dicts, first], [empty]):
        bundles = [{"units": part} for part in parts]
        expected = assemble([{"units": table_dicts(part)} for part in parts], [])
        result = assemble(bundles, [])
        for name, table in expected.items():
            pd.testing.assert_frame_equal(result[name], table, check_exact=True)
