"""Table exports: CSV/XLSX round trips, formula safety, LaTeX escaping, Markdown headers."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.publish import exports

TRIGGERS = ["=", "+", "-", "@"]


@pytest.fixture
def comparison() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "theme_label_zh": ["依法全面履行政府职能", "行政执法", "深化「放管服」改革"],
            "place": ["北京市", "廣州市", "深圳市"],
            "n_tasks": [12, -3, 0],
            "task_share": [0.5, 0.125, 0.375],
        }
    )


@pytest.fixture
def dangerous() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "note": ['=HYPERLINK("http://x","点击")', "+1+2", "-2+3", "@SUM(A1:A2)", "\tcmd", "正常文本"],
            "change": [-5, -1, 0, 2, -7, 3],
        }
    )


HEADERS_EN = {"comparison": {"theme_label_zh": "Theme", "place": "Place", "n_tasks": "Tasks", "task_share": "Share"}}
HEADERS_ZH = {"comparison": {"theme_label_zh": "主题", "place": "地区", "n_tasks": "任务数", "task_share": "占比"}}


def test_csv_round_trip_has_bom_and_keeps_chinese_and_values(tmp_path, comparison):
    paths = exports.export_tables({"comparison": comparison}, tmp_path, headers_en=HEADERS_EN, headers_zh=HEADERS_ZH)
    csv_path = paths["comparison"][0]
    assert csv_path.suffix == ".csv"
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "依法全面履行政府职能" in raw.decode("utf-8-sig")
    back = exports.read_back_csv(csv_path)
    pd.testing.assert_frame_equal(back, comparison)


def test_export_returns_csv_md_tex_and_shared_workbook(tmp_path, comparison, dangerous):
    paths = exports.export_tables({"comparison": comparison, "dangerous": dangerous}, tmp_path, workbook="plans")
    assert [p.name for p in paths["comparison"]] == [
        "comparison.csv",
        "comparison.md",
        "comparison.tex",
        "comparison_zh.tex",
        "plans.xlsx",
    ]
    assert paths["comparison"][-1] == paths["dangerous"][-1] == tmp_path / "plans.xlsx"
    assert all(p.is_file() for ps in paths.values() for p in ps)


def test_xlsx_has_english_and_chinese_header_rows_frozen_panes_and_widths(tmp_path, comparison):
    paths = exports.export_tables({"comparison": comparison}, tmp_path, headers_en=HEADERS_EN, headers_zh=HEADERS_ZH)
    sheet = load_workbook(paths["comparison"][-1])["comparison"]
    assert [c.value for c in sheet[1]] == ["Theme", "Place", "Tasks", "Share"]
    assert [c.value for c in sheet[2]] == ["主题", "地区", "任务数", "占比"]
    assert all(c.font.bold for c in sheet[1]) and all(c.font.bold for c in sheet[2])
    assert sheet.freeze_panes == "A3"
    assert [c.value for c in sheet[3]] == ["依法全面履行政府职能", "北京市", 12, 0.5]
    assert sheet.max_row == 2 + len(comparison)
    # 依法全面履行政府职能 = 10 wide characters = 20 columns (+ padding); "Place" column is narrow.
    assert sheet.column_dimensions["A"].width >= 20
    assert sheet.column_dimensions["B"].width < sheet.column_dimensions["A"].width
    assert sheet["D3"].number_format == "0.0%"  # *_share is 0-1


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_formula_triggers_are_quoted_in_csv(tmp_path, trigger):
    frame = pd.DataFrame({"text": [f"{trigger}1+1", "普通"], "value": [-1, 2]})
    path = exports.export_tables({"t": frame}, tmp_path)["t"][0]
    back = exports.read_back_csv(path)
    assert back.loc[0, "text"] == f"'{trigger}1+1"
    assert back.loc[1, "text"] == "普通"
    assert back["value"].tolist() == [-1, 2]
    assert pd.api.types.is_integer_dtype(back["value"])


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_formula_triggers_are_string_cells_in_xlsx(tmp_path, trigger):
    frame = pd.DataFrame({"text": [f"{trigger}SUM(A1:A2)"], "value": [-4.5]})
    xlsx = exports.export_tables({"t": frame}, tmp_path)["t"][-1]
    sheet = load_workbook(xlsx)["t"]
    cell = sheet["A3"]
    assert cell.data_type == "s"
    assert cell.value == f"{trigger}SUM(A1:A2)"
    number = sheet["B3"]
    assert number.data_type == "n" and number.value == -4.5


def test_xlsx_file_contains_no_formula_element(tmp_path, dangerous):
    import zipfile

    xlsx = exports.export_tables({"dangerous": dangerous}, tmp_path)["dangerous"][-1]
    with zipfile.ZipFile(xlsx) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml


def test_tab_and_carriage_return_prefixes_are_guarded_too():
    assert exports.neutralise_formula("\tcmd") == "'\tcmd"
    assert exports.neutralise_formula("\rcmd") == "'\rcmd"
    assert exports.neutralise_formula("行政-执法") == "行政-执法"  # only the first character matters
    assert exports.neutralise_formula(-3) == -3


def test_negative_numbers_stay_numeric_but_negative_looking_text_is_guarded(tmp_path):
    frame = pd.DataFrame({"amount": [-3, -0.5], "code": ["-3", "A-1"]})
    paths = exports.export_tables({"t": frame}, tmp_path)["t"]
    back = exports.read_back_csv(paths[0])
    assert back["amount"].tolist() == [-3, -0.5]
    assert back["code"].tolist() == ["'-3", "A-1"]
    sheet = load_workbook(paths[-1])["t"]
    assert sheet["A3"].value == -3 and sheet["A3"].data_type == "n"
    assert sheet["B3"].value == "-3" and sheet["B3"].data_type == "s"


def test_latex_is_booktabs_and_escapes_special_characters(tmp_path):
    frame = pd.DataFrame({"item_name": ["R&D 投入", "完成率 95%", "#1 任务", "a_b"], "n_tasks": [1, 2, 3, 4]})
    tex = exports.export_tables({"t": frame}, tmp_path)["t"][2].read_text(encoding="utf-8")
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"R\&D 投入" in tex
    assert r"完成率 95\%" in tex
    assert r"\#1 任务" in tex
    assert r"a\_\allowbreak{}b" in tex  # a break point after the underscore
    assert r"item\_\allowbreak{}name" in tex  # headers escaped too
    assert r"\caption{" in tex and r"\label{tab:t}" in tex


def test_markdown_has_header_row_and_escapes_pipes(tmp_path, comparison):
    frame = comparison.assign(place=["北京市|朝阳区", "廣州市", "深圳市"])
    md = exports.export_tables(
        {"comparison": frame}, tmp_path, headers_en=HEADERS_EN, headers_zh=HEADERS_ZH, text_lang="zh"
    )["comparison"][1].read_text(encoding="utf-8")
    lines = md.splitlines()
    assert [c.strip() for c in lines[0].strip("|").split("|")] == ["主题", "地区", "任务数", "占比"]
    assert set(lines[1].replace("|", "").replace(":", "").strip()) <= {"-", " "}
    assert r"北京市\|朝阳区" in md
    assert len(lines) == 2 + len(frame)


def test_sheet_names_are_unique_and_at_most_31_characters():
    names = exports.excel_sheet_names(
        ["theme_share_by_city_and_year_level_one", "theme_share_by_city_and_year_level_two", "short"]
    )
    assert len({n.lower() for n in names.values()}) == 3
    assert all(len(n) <= 31 for n in names.values())
    assert names["short"] == "short"


def test_long_table_names_become_distinct_sheets(tmp_path, comparison):
    tables = {
        "theme_share_by_city_and_year_level_one": comparison,
        "theme_share_by_city_and_year_level_two": comparison,
    }
    xlsx = exports.export_tables(tables, tmp_path)["theme_share_by_city_and_year_level_one"][-1]
    workbook = load_workbook(xlsx)
    assert len(workbook.sheetnames) == 2 and all(len(n) <= 31 for n in workbook.sheetnames)


def test_header_for_unknown_column_is_an_error(tmp_path, comparison):
    with pytest.raises(ValueError, match="unknown column"):
        exports.export_tables({"comparison": comparison}, tmp_path, headers_zh={"comparison": {"n_task": "任务数"}})
    with pytest.raises(ValueError, match="slug"):
        exports.export_tables({"Comparison Table": comparison}, tmp_path)


def test_meaningful_index_is_exported_as_a_column(tmp_path):
    frame = pd.DataFrame({"n_tasks": [3, 4]}, index=pd.Index(["北京市", "上海市"], name="place"))
    back = exports.read_back_csv(exports.export_tables({"t": frame}, tmp_path)["t"][0])
    assert back.columns.tolist() == ["place", "n_tasks"]
    assert back["place"].tolist() == ["北京市", "上海市"]


def test_control_characters_from_damaged_text_do_not_break_the_workbook(tmp_path, caplog):
    frame = pd.DataFrame({"text": ["行政\x01执法"]})
    xlsx = exports.export_tables({"t": frame}, tmp_path)["t"][-1]
    assert load_workbook(xlsx)["t"]["A3"].value == "行政\ufffd执法"
    assert "control characters" in caplog.text


def test_read_back_csv_names_missing_file(tmp_path):
    from analysis.core.errors import InputError

    with pytest.raises(InputError, match="nope.csv"):
        exports.read_back_csv(tmp_path / "nope.csv")


def test_display_width_counts_cjk_double():
    assert exports.display_width("abc") == 3
    assert exports.display_width("行政执法") == 8
    assert exports.display_width("R&D 投入") == 8
