"""``python -m analysis extract`` on many paths: files, folders and globs, streamed in input order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.cli import extract_paths, main

PLAN_A = """青山县2020年法治政府建设工作要点

一、深化简政放权
1.全面推行权力清单制度,年底前完成清单调整。(牵头单位:县司法局)
2.推进“证照分离”改革。(牵头单位:县市场监管局)
二、规范行政执法
3.全面落实行政执法三项制度。(牵头单位:县司法局)
"""

PLAN_B = """白河区2021年法治政府建设实施方案

一、完善依法行政制度体系
(一)加强规范性文件备案审查,备案率达到100%。
(二)开展规章和规范性文件清理。
"""


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_folder_and_files_are_extracted_in_input_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "b_baihe.txt").write_text(PLAN_B, encoding="utf-8")
    (folder / "a_qingshan.txt").write_text(PLAN_A, encoding="utf-8")
    (folder / "notes.md").write_text("not a document", encoding="utf-8")
    single = tmp_path / "again.txt"
    single.write_text(PLAN_A, encoding="utf-8")

    assert main(["extract", str(single), str(folder), "--no-themes"]) == 0
    records = _records(capsys.readouterr().out)
    documents = [r["doc_id"] for r in records if r["record"] == "document"]
    assert documents == ["again", "a_qingshan", "b_baihe"]  # arguments in order, a folder's files sorted by name
    tasks_by_doc = {}
    for record in records:
        if record["record"] == "task" and record["kind"] == "task":
            tasks_by_doc.setdefault(record["doc_id"], []).append(record["path"])
    assert tasks_by_doc == {
        "again": ["一/1", "一/2", "二/3"],
        "a_qingshan": ["一/1", "一/2", "二/3"],
        "b_baihe": ["一/(一)", "一/(二)"],
    }
    # every task record follows its own document record
    current = None
    for record in records:
        if record["record"] == "document":
            current = record["doc_id"]
        else:
            assert record["doc_id"] == current


def test_a_bad_file_is_reported_and_the_others_still_come_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "1_good.txt").write_text(PLAN_A, encoding="utf-8")
    (tmp_path / "2_empty.txt").write_bytes(b"")
    (tmp_path / "3_good.txt").write_text(PLAN_B, encoding="utf-8")
    code = main(["extract", str(tmp_path / "*.txt"), "--no-themes"])
    captured = capsys.readouterr()
    assert code == 2
    assert "2_empty.txt" in captured.err
    documents = [r["doc_id"] for r in _records(captured.out) if r["record"] == "document"]
    assert documents == ["1_good", "3_good"]


def test_glob_and_missing_paths_resolve_in_place(tmp_path: Path) -> None:
    for name in ("x2.txt", "x1.txt", "y.html"):
        (tmp_path / name).write_text(PLAN_A, encoding="utf-8")
    missing = tmp_path / "missing.txt"
    paths = extract_paths([str(tmp_path / "x*.txt"), str(missing), str(tmp_path / "none*.txt")])
    assert paths == [tmp_path / "x1.txt", tmp_path / "x2.txt", missing, tmp_path / "none*.txt"]


def test_doc_id_is_refused_for_several_documents(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(PLAN_A, encoding="utf-8")
    (tmp_path / "b.txt").write_text(PLAN_B, encoding="utf-8")
    with pytest.raises(SystemExit, match="one document"):
        main(["extract", str(tmp_path), "--doc-id", "x", "--no-themes"])


EXTRACT_AND_LIST_LIBRARIES = """
import contextlib, io, json, sys
from analysis.cli import main
records = []
for arguments in (sys.argv[1:2], [*sys.argv[1:2], "--doc-id", sys.argv[2]]):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["extract", *arguments]) == 0
    records.append([json.loads(line) for line in out.getvalue().splitlines()])
heavy = sorted(m for m in ("pandas", "pyarrow", "scipy", "sklearn") if m in sys.modules)
print(json.dumps({"records": records, "heavy": heavy}))
"""


def test_extract_codes_one_document_without_pandas_scipy_or_sklearn() -> None:
    """Start-up time: one document, its themes included (gold codes too), imports neither tables nor SciPy."""
    import subprocess
    import sys

    from analysis import config
    from analysis.corpus.coding import ThemeCoder

    ThemeCoder.from_project()  # the classifier is fitted once and cached on disk: extract only loads it
    seed = config.RAW_DIR / "gansu_miit_2017_implementation_rules.txt"
    run = subprocess.run(
        [sys.executable, "-c", EXTRACT_AND_LIST_LIBRARIES, str(seed), "gansu_miit_2017"],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(run.stdout)
    assert found["heavy"] == []
    plain, gold = ([r for r in records if r.get("kind") == "task"] for records in found["records"])
    assert plain and all(r["theme"] and r["theme_source"] in ("model", "rule") for r in plain)
    assert any(r["theme_source"] == "gold" for r in gold)  # a gold document: hand codes and a cross-fitted model
