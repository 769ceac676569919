"""Review loop: export low-confidence tasks -> coder fills the sheet -> import -> overrides win."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

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
    assert "加强行政复议工作（截断" in texts


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
    overrides = import_review(sheet, codebook, store, now=T0)
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
    import_review(sheet, codebook, store, now=T0)
    first_bytes = store.read_bytes()
    import_review(sheet, codebook, store, now=T1)
    assert store.read_bytes() == first_bytes  # same rows, same timestamps, no duplicates
    fill(sheet, {"alpha_2017-T001": ("disputes", "reconsideration", "改回", "张三")})
    overrides = import_review(sheet, codebook, store, now=T1).set_index("task_id")
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
        import_review(sheet, codebook, store, now=T0)
    message = str(error.value)
    assert str(sheet) in message and "row 4" in message and "'dispute'" in message
    assert not store.exists()


def test_subtheme_of_other_theme_rejected_existing_file_kept(tmp_path: Path, codebook: Codebook, predicted) -> None:
    tasks, predictions = predicted
    sheet, store = tmp_path / "review.xlsx", tmp_path / "overrides.csv"
    export_review(predictions, tasks, sheet, threshold=1.01, codebook=codebook)
    fill(sheet, {"alpha_2017-T001": ("oversight", "", "", "张三")})
    import_review(sheet, codebook, store, now=T0)
    before = store.read_bytes()
    fill(sheet, {"alpha_2017-T002": ("enforcement", "litigation", "", "张三")})  # row 3
    with pytest.raises(InputError, match=r"row 3 \(alpha_2017-T002\): subtheme 'litigation' belongs to 'disputes'"):
        import_review(sheet, codebook, store, now=T1)
    assert store.read_bytes() == before


def test_sheet_without_review_columns_rejected(tmp_path: Path, codebook: Codebook) -> None:
    path = tmp_path / "other.xlsx"
    pd.DataFrame({"task_id": ["a-T001"], "theme": ["disputes"]}).to_excel(path, sheet_name="review", index=False)
    with pytest.raises(InputError, match="lacks column.*coder_theme"):
        import_review(path, codebook, tmp_path / "o.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(InputError, match="broken.xlsx: cannot be read"):
        import_review(tmp_path / "broken.xlsx", codebook, tmp_path / "o.csv")
