"""Review loop: export low-confidence tasks -> coder fills the sheet -> import -> overrides win."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from adversarial_inputs import PLAN
from analysis.annotate.review import REVIEW_COLUMNS, export_review, import_review, load_overrides
from analysis.annotate.themes import ThemeClassifier, apply_overrides
from analysis.core.codebook import Codebook
from analysis.core.errors import InputError
from test_themes import make_tasks, write_codebook

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
T1 = datetime(2024, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def codebook(tmp_path: Path) -> Codebook:
    return Codebook.load(write_codebook(tmp_path / "codebook.csv"))


@pytest.fixture
def predicted(codebook: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    tasks, gold = make_tasks()
    predictions = ThemeClassifier(codebook).fit(tasks, gold).predict(tasks)
    return tasks, predictions


def fill(path: Path, codes: dict[str, tuple[str, str, str, str]]) -> None:
    """Play the coder: write (theme, subtheme, note, coder) into the rows of the given task_ids."""
    workbook = load_workbook(path)
    sheet = workbook["review"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        task_id = row[header.index("task_id")].value
        if task_id in codes:
            for column, value in zip(
                ("coder_theme", "coder_subtheme", "coder_note", "coder"), codes[task_id], strict=False
            ):
                row[header.index(column)].value = value
    workbook.save(path)


def test_export_writes_unsure_tasks_and_codebook(tmp_path: Path, codebook: Codebook, predicted) -> None:
    tasks, predictions = predicted
    path = tmp_path / "review.xlsx"
    exported = export_review(predictions, tasks, path, threshold=1.01, codebook=codebook)
    assert len(exported) == len(predictions)  # every confidence is below 1.01
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["review", "codebook"]
    sheet = workbook["review"]
    assert [c.value for c in sheet[1]] == list(REVIEW_COLUMNS)
    first = {h: c.value for h, c in zip(REVIEW_COLUMNS, sheet[2], strict=False)}
    assert first["task_id"] == "alpha_2017-T001"
    assert first["headings"] == "主要任务 > 依法有效化解社会矛盾纠纷"
    assert first["coder_theme"] is None and first["theme"] == predictions.loc[0, "theme"]
    codes = [row[2] for row in workbook["codebook"].iter_rows(min_row=2, values_only=True)]
    assert "reconsideration" in codes and "disputes" in codes


def test_threshold_selects_rows(tmp_path: Path, codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    # Uncalibrated: coding its own training tasks, a calibrated model is sure of every one of them.
    predictions = ThemeClassifier(codebook, calibrate=False).fit(tasks, gold).predict(tasks)
    threshold = float(predictions["theme_confidence"].median())
    exported = export_review(predictions, tasks, tmp_path / "r.xlsx", threshold=threshold, codebook=codebook)
    unsure = predictions[predictions["theme_confidence"] < threshold]
    expected = unsure.sort_values("theme_confidence", kind="stable")["task_id"].tolist()  # most likely wrong first
    assert exported["task_id"].tolist() == expected
    assert 0 < len(expected) < len(predictions)


def test_damaged_text_is_exported(tmp_path: Path, codebook: Codebook, predicted) -> None:
    tasks, predictions = predicted
    tasks = tasks.copy()
    tasks.loc[1, "text"] = "加强行政复议\x00工作\x07（截断"
    export_review(predictions, tasks, tmp_path / "r.xlsx", threshold=1.01, codebook=codebook)
    texts = [r[5] for r in load_workbook(tmp_path / "r.xlsx")["review"].iter_rows(min_row=2, values_only=True)]
    # XLSX cannot hold control characters: each becomes U+FFFD, so the damage stays visible.
    assert "加强行政复议\ufffd工作\ufffd（截断" in texts


def test_round_trip_overrides_win(tmp_path: Path, codebook: Codebook, predicted) -> None:
    tasks, predictions = predicted
    sheet, store = tmp_path / "review.xlsx", tmp_path / "overrides.csv"
    export_review(predictions, tasks, sheet, threshold=1.01, codebook=codebook)
    fill(
        sheet,
        {
            "alpha_2017-T001": ("oversight", "", "讲的是对复议的监督", "张三"),
            "beta_2019-T007": ("capacity", "study", "", "李四"),
            "gamma_2021-T002": ("", "litigation", "", "李四"),  # theme inferred from the subtheme
        },
    )
    overrides = import_review(sheet, codebook, store, tasks=tasks, now=T0)
    assert overrides[["task_id", "theme", "subtheme", "coder"]].values.tolist() == [
        ["alpha_2017-T001", "oversight", "", "张三"],
        ["beta_2019-T007", "capacity", "study", "李四"],
        ["gamma_2021-T002", "disputes", "litigation", "李四"],
    ]
    assert set(overrides["coded_at"]) == {"2024-03-01T09:00:00+00:00"}
    pd.testing.assert_frame_equal(load_overrides(store), overrides, check_like=True)
    final = apply_overrides(predictions, load_overrides(store), codebook).set_index("task_id")
    assert final.loc["alpha_2017-T001", "theme"] == "oversight"
    assert final.loc["alpha_2017-T001", "theme_source"] == "override"
    assert final.loc["gamma_2021-T002", ["theme", "subtheme"]].tolist() == ["disputes", "litigation"]
    # overridden tasks are not exported again
    again = export_review(final.reset_index(), tasks, tmp_path / "again.xlsx", threshold=1.01, codebook=codebook)
    assert "alpha_2017-T001" not in set(again["task_id"])


def test_import_twice_changes_nothing_and_new_code_replaces(tmp_path: Path, codebook: Codebook, predicted) -> None:
    tasks, predictions = predicted
    sheet, store = tmp_path / "review.xlsx", tmp_path / "overrides.csv"
    export_review(predictions, tasks, sheet, threshold=1.01, codebook=codebook)
    fill(sheet, {"alpha_2017-T001": ("oversight", "", "", "张三"), "alpha_2017-T002": ("disputes", "", "", "张三")})
    import_review(sheet, codebook, store, tasks=tasks, now=T0)
    first_bytes = store.read_bytes()
    import_review(sheet, codebook, store, tasks=tasks, now=T1)
    assert store.read_bytes() == first_bytes  # same rows, same timestamps, no duplicates
    fill(sheet, {"alpha_2017-T001": ("disputes", "reconsideration", "改回", "张三")})
    overrides = import_review(sheet, codebook, store, tasks=tasks, now=T1).set_index("task_id")
    assert len(overrides) == 2
    assert overrides.loc["alpha_2017-T001", ["theme", "subtheme", "coded_at"]].tolist() == [
        "disputes",
        "reconsideration",
        "2024-03-02T09:00:00+00:00",
    ]
    assert overrides.loc["alpha_2017-T002", "coded_at"] == "2024-03-01T09:00:00+00:00"


def test_unknown_code_rejected_and_nothing_written(tmp_path: Path, codebook: Codebook, predicted) -> None:
    tasks, predictions = predicted
    sheet, store = tmp_path / "review.xlsx", tmp_path / "overrides.csv"
    export_review(predictions, tasks, sheet, threshold=1.01, codebook=codebook)
    fill(
        sheet, {"alpha_2017-T001": ("oversight", "", "", "张三"), "alpha_2017-T003": ("dispute", "", "", "张三")}
    )  # typo: row 4 of the sheet
    with pytest.raises(InputError) as error:
        import_review(sheet, codebook, store, tasks=tasks, now=T0)
    message = str(error.value)
    assert str(sheet) in message and "row 4" in message and "'dispute'" in message
    assert not store.exists()


def test_subtheme_of_other_theme_rejected_existing_file_kept(tmp_path: Path, codebook: Codebook, predicted) -> None:
    tasks, predictions = predicted
    sheet, store = tmp_path / "review.xlsx", tmp_path / "overrides.csv"
    export_review(predictions, tasks, sheet, threshold=1.01, codebook=codebook)
    fill(sheet, {"alpha_2017-T001": ("oversight", "", "", "张三")})
    import_review(sheet, codebook, store, tasks=tasks, now=T0)
    before = store.read_bytes()
    fill(sheet, {"alpha_2017-T002": ("enforcement", "litigation", "", "张三")})  # row 3
    with pytest.raises(InputError, match=r"row 3 \(alpha_2017-T002\): subtheme 'litigation' belongs to 'disputes'"):
        import_review(sheet, codebook, store, tasks=tasks, now=T1)
    assert store.read_bytes() == before


def test_sheet_without_review_columns_rejected(tmp_path: Path, codebook: Codebook) -> None:
    path = tmp_path / "other.xlsx"
    pd.DataFrame({"task_id": ["a-T001"], "theme": ["disputes"]}).to_excel(path, sheet_name="review", index=False)
    with pytest.raises(InputError, match="lacks column.*coder_theme"):
        import_review(path, codebook, tmp_path / "o.csv", tasks=make_tasks()[0])
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="broken.xlsx: cannot be read"):
        import_review(tmp_path / "broken.xlsx", codebook, tmp_path / "o.csv", tasks=make_tasks()[0])


# --------------------------------------------------------------------------- hostile sheets, overrides by identity


def exported_sheet(tmp_path: Path, codebook: Codebook, predicted) -> tuple[pd.DataFrame, Path, Path]:
    """Every task exported for review: the tasks, the sheet's path and the overrides file's path."""
    tasks, predictions = predicted
    sheet, store = tmp_path / "review.xlsx", tmp_path / "overrides.csv"
    export_review(predictions, tasks, sheet, threshold=1.01, codebook=codebook)
    return tasks, sheet, store


def test_the_review_sheet_holds_no_formula(tmp_path: Path, codebook: Codebook, predicted) -> None:
    tasks, predictions = predicted
    tasks = tasks.copy()
    tasks.loc[1, "text"] = '=HYPERLINK("http://example.invalid","点击")加强行政复议'
    tasks.loc[1, "title"] = "@SUM(1+1)"
    export_review(predictions, tasks, tmp_path / "r.xlsx", threshold=1.01, codebook=codebook)
    sheet = load_workbook(tmp_path / "r.xlsx")["review"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = {cell.value for cell in cells}
    assert tasks.loc[1, "text"] in texts and "@SUM(1+1)" in texts  # kept as text, not dropped


def test_rows_for_tasks_that_do_not_exist_are_refused_with_their_excel_row(tmp_path, codebook, predicted) -> None:
    tasks, sheet, store = exported_sheet(tmp_path, codebook, predicted)
    workbook = load_workbook(sheet)
    review = workbook["review"]
    header = [c.value for c in review[1]]
    for n in range(3):  # bogus rows appended by hand below the exported ones
        review.append({header.index("task_id") + 1: f"nowhere-T{n:03d}", header.index("coder_theme") + 1: "oversight"})
    workbook.save(sheet)
    first_bogus_row = len(tasks[tasks["kind"] == "task"]) + 2
    with pytest.raises(InputError, match=rf"row {first_bogus_row}: task_id 'nowhere-T000' is not in the current"):
        import_review(sheet, codebook, store, tasks=tasks, now=T0)
    assert not store.exists()


def test_a_formula_in_a_coder_cell_is_an_error_not_dropped(tmp_path, codebook, predicted) -> None:
    tasks, sheet, store = exported_sheet(tmp_path, codebook, predicted)
    fill(
        sheet, {"alpha_2017-T001": ("oversight", "", "", "张三"), "alpha_2017-T002": ('=IF(1,"disputes")', "", "", "")}
    )
    with pytest.raises(InputError, match=r"row 3: coder_theme holds a formula"):
        import_review(sheet, codebook, store, tasks=tasks, now=T0)
    assert not store.exists()


def test_a_sheet_exported_before_the_tasks_changed_is_refused(tmp_path, codebook, predicted) -> None:
    tasks, sheet, store = exported_sheet(tmp_path, codebook, predicted)
    fill(sheet, {"alpha_2017-T001": ("oversight", "", "", "张三")})
    rebuilt = tasks.copy()
    rebuilt.loc[rebuilt["task_id"] == "alpha_2017-T001", "text"] = "另一项任务：推进政务公开标准化规范化。"
    with pytest.raises(InputError, match=r"row 2 \(alpha_2017-T001\): the task's text has changed"):
        import_review(sheet, codebook, store, tasks=rebuilt, now=T0)


def test_overrides_are_stored_with_their_tasks_identity(tmp_path, codebook, predicted) -> None:
    from analysis.annotate.review import task_text_hash

    tasks, sheet, store = exported_sheet(tmp_path, codebook, predicted)
    fill(sheet, {"beta_2019-T007": ("capacity", "study", "", "李四")})
    [stored] = import_review(sheet, codebook, store, tasks=tasks, now=T0).to_dict("records")
    task = tasks.set_index("task_id").loc["beta_2019-T007"]
    assert (stored["doc_id"], stored["path"]) == ("beta_2019", task["path"])
    assert stored["text_hash"] == task_text_hash(task["text"]) != task_text_hash(task["text"] + "。")


def test_attach_finds_moved_tasks_and_reports_gone_and_changed_ones() -> None:
    from analysis.annotate.review import STORED_COLUMNS, attach_overrides, task_text_hash

    def task(task_id: str, path: str, text: str) -> dict[str, str]:
        return {"doc_id": "d", "task_id": task_id, "kind": "task", "path": path, "text": text}

    def override(task_id: str, path: str, text: str, theme: str) -> dict[str, str]:
        row = dict.fromkeys(STORED_COLUMNS, "")
        row.update(task_id=task_id, theme=theme, doc_id="d", path=path, text_hash=task_text_hash(text))
        return row

    before = ["推进政务公开。", "加强执法监督。", "完善复议制度。", "落实普法责任。"]  # 一/1, 一/2, 一/3, 二/1
    overrides = pd.DataFrame(
        [
            override("d-T002", "一/2", before[1], "enforcement"),  # moves to T003 (a task inserted before it)
            override("d-T003", "一/3", before[2], "disputes"),  # its text is edited in the rebuild
            override("d-T004", "二/1", before[3], "capacity"),  # its task (and section) are deleted
        ]
    )
    after = pd.DataFrame(
        [
            task("d-T001", "一/1", before[0]),
            task("d-T002", "一/2", "新增：建立行政执法协调机制。"),
            task("d-T003", "一/3", before[1]),
            task("d-T004", "一/4", "完善行政复议制度。"),
        ]
    )
    attached = attach_overrides(overrides, after)
    assert attached.overrides[["task_id", "theme"]].values.tolist() == [["d-T003", "enforcement"]]
    problems = [p["problem"] for p in attached.problems]
    assert len(problems) == 2
    assert "d-T003" in problems[0] and "the task at d 一/3 has another text now" in problems[0]
    assert "d-T004" in problems[1] and "no task of d has its text any more" in problems[1]


PLAN_V1 = PLAN + "5.加强行政复议规范化建设，依法纠正违法或不当行政行为。(牵头单位:县司法局)\n"
# The next capture of the same plan: a task inserted at the top (every later number moves), task 4 reworded,
# task 5's section renumbered.  Overrides must follow their tasks' texts, never their old numbers.
PLAN_V2 = (
    PLAN_V1.replace("1.深化行政审批", "1.开展法治政府建设示范创建活动。(牵头单位:县司法局)\n2.深化行政审批")
    .replace("2.加强规范性文件", "3.加强规范性文件")
    .replace("3.全面推行", "4.全面推行")
    .replace("4.每年至少开展一次行政执法案卷评查。", "5.每季度开展一次行政执法案卷评查。")
    .replace("5.加强行政复议", "6.加强行政复议")
)


def test_a_rebuild_with_other_segmentation_never_moves_an_override(tmp_path, monkeypatch) -> None:
    from analysis.corpus.build import build_corpus
    from test_build import write_corpus

    monkeypatch.setattr("analysis.config.THEME_OVERRIDES_PATH", tmp_path / "overrides.csv")
    raw, out = tmp_path / "raw", tmp_path / "out"
    manifest = write_corpus(raw, [{"doc_id": "hongyan_2021", "file": "plan.txt"}], {"plan.txt": PLAN_V1.encode()})
    first = build_corpus(manifest, raw, out, progress=False).table("tasks")
    first = first[first["kind"] == "task"].set_index("task_id")
    assert len(first) == 5
    sheet = tmp_path / "review.xlsx"
    export_review(first.reset_index(), first.reset_index(), sheet, threshold=1.01)
    coded = {"hongyan_2021-T002": "oversight", "hongyan_2021-T004": "disputes", "hongyan_2021-T005": "capacity"}
    fill(sheet, {task_id: (theme, "", "", "王五") for task_id, theme in coded.items()})
    import_review(sheet, tasks=first.reset_index(), now=T0)

    (raw / "plan.txt").write_bytes(PLAN_V2.encode())
    result = build_corpus(manifest, raw, out, progress=False)
    second = result.table("tasks")
    second = second[second["kind"] == "task"]
    assert len(second) == 6
    overridden = second[second["theme_source"] == "override"]
    # Each override is on the task with the text it was coded on; the reworded task has none.
    expected = {first.loc[task_id, "text"]: theme for task_id, theme in coded.items() if task_id != "hongyan_2021-T004"}
    assert dict(zip(overridden["text"], overridden["theme"], strict=True)) == expected
    assert set(overridden["task_id"]) == {"hongyan_2021-T003", "hongyan_2021-T006"}  # numbers moved, codes followed
    problems = result.table("problems")
    [warning] = problems.loc[problems["stage"] == "review", "problem"].tolist()
    assert "hongyan_2021-T004" in warning and "not applied" in warning
