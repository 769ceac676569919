"""The one formula guard every spreadsheet writer uses (CSV and XLSX)."""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook, load_workbook

from analysis.core.safety import csv_safe, is_formula_like, set_text_cell


def test_csv_safe_guards_text_cells_and_headers_but_not_numbers():
    frame = pd.DataFrame(
        {"=title": ["=SUM(A1)", "+86 电话", "-", "@user", "行政-执法", None], "n": [-3, 1, 2, 3, 4, 5]}
    )
    safe = csv_safe(frame)
    assert list(safe.columns) == ["'=title", "n"]
    assert safe["'=title"].tolist()[:5] == ["'=SUM(A1)", "'+86 电话", "'-", "'@user", "行政-执法"]
    assert safe["'=title"].isna().tolist()[5]
    assert safe["n"].tolist() == [-3, 1, 2, 3, 4, 5]  # numbers stay numbers
    assert frame.loc[0, "=title"] == "=SUM(A1)"  # the input is not changed


def test_csv_safe_guards_typed_string_columns_like_object_columns():
    values = ["=SUM(A1)", "\tcmd", "\rcmd", "行政-执法", None, "-3", "法治"]
    as_object = csv_safe(pd.DataFrame({"v": values}))["v"].tolist()
    as_string = csv_safe(pd.DataFrame({"v": pd.Series(values, dtype="string")}))["v"]
    assert [None if pd.isna(v) else v for v in as_string] == [None if pd.isna(v) else v for v in as_object]
    assert as_object[:4] == ["'=SUM(A1)", "'\tcmd", "'\rcmd", "行政-执法"]


def test_a_formula_like_string_stays_text_in_a_saved_workbook(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    for row, value in enumerate(["=cmd|' /C calc'!A0", "@SUM(1)", "普通文本", "控制\x07字符"], start=1):
        set_text_cell(sheet.cell(row=row, column=1), value)
    workbook.save(tmp_path / "w.xlsx")
    cells = [row[0] for row in load_workbook(tmp_path / "w.xlsx").active.iter_rows()]
    assert [cell.data_type for cell in cells] == ["s", "s", "s", "s"]
    assert [cell.value for cell in cells] == ["=cmd|' /C calc'!A0", "@SUM(1)", "普通文本", "控制\ufffd字符"]
    assert [is_formula_like(cell.value) for cell in cells] == [True, True, False, False]
