"""Publication-ready exports: LaTeX that compiles with XeLaTeX + ctex and fits the page, a workbook that
prints (LibreOffice headless), one definitions sheet, no empty table, labels as validated data."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from tests.system_tools import require_latex_package, require_tools
from tests.test_comparisons import _target, _task, _unit

from analysis.core import labels as reference_labels
from analysis.core.errors import ReferenceDataError
from analysis.core.store import write_table
from analysis.publish import comparison_tables, exports, latex

WRAPPER = r"""\documentclass[UTF8,a4paper,11pt]{ctexart}
\usepackage[a4paper,margin=2.5cm]{geometry}
\usepackage{booktabs,array,xltabular,pdflscape}
\begin{document}
\input{%s}
\end{document}
"""


def _processed(folder: Path) -> Path:
    documents = pd.DataFrame(
        {
            "doc_id": ["nanshan_2017", "beiling_2018", "dongpo_2021"],
            "jurisdiction": ["南山市", "北岭区", "东坡县司法局"],
            "jurisdiction_en": ["Nanshan", "Beiling District", "Dongpo County Justice Bureau"],
            "issued_year": pd.array([2017, 2018, 2021], dtype="Int64"),
            "admin_level": ["prefecture", "district", "department"],
            "doc_type": ["实施方案", "工作要点", "工作计划"],
        }
    )
    long_text = "全面推行行政执法公示制度、执法全过程记录制度和重大执法决定法制审核制度，" * 3
    other_text = "深化行政审批制度改革，推行告知承诺制，公开办事指南，压减办理时限。" * 3
    tasks = pd.DataFrame(
        [
            _task("nanshan_2017", 1, "functions", "functions_approval", text=other_text),
            _task("nanshan_2017", 2, "enforcement", "enforcement_procedure", text=long_text),
            _task("nanshan_2017", 3, "oversight", "oversight_transparency", text="主动公开财政预决算。"),
            _task("beiling_2018", 1, "functions", "functions_lists", text="动态调整权责清单。"),
            _task("beiling_2018", 2, "disputes", "disputes_reconsideration", text="推进行政复议体制改革。"),
            _task("dongpo_2021", 1, "digital", text="建设法治政府数字化平台。"),
            _task("dongpo_2021", 2, "functions", text="优化营商环境，压减审批时限。"),
        ]
    )
    units = pd.DataFrame(
        [
            _unit("nanshan_2017", 1, "司法局", "legal_affairs_justice", role="lead"),
            _unit("nanshan_2017", 1, "财政局", "finance_audit"),
            _unit("nanshan_2017", 2, "政府法制办公室", "legal_affairs_justice", successor="司法局"),
            _unit("dongpo_2021", 1, "司法局", "legal_affairs_justice"),
        ]
    )
    targets = pd.DataFrame(
        [
            _target("nanshan_2017", 1, "rate", 100.0, "%"),
            _target("nanshan_2017", 2, "deadline", deadline_date="2017-12-31"),
            _target("dongpo_2021", 2, "count", 3.0, "件"),
        ]
    )
    for name, frame in {"documents": documents, "tasks": tasks, "units": units, "targets": targets}.items():
        write_table(frame, name, folder)
    return folder


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("publication")
    processed = _processed(root / "processed")
    comparison_tables.export_comparison_tables(out_dir=root / "exports", processed_dir=processed)
    return root / "exports"


def test_every_exported_tex_compiles_with_xelatex_and_fits_the_text_width(exported: Path, tmp_path: Path) -> None:
    require_tools("xelatex")
    require_latex_package("ctex.sty")
    tables = sorted(p for p in exported.glob("*.tex") if p.stem != "comparison_tables")
    assert len(tables) >= 16  # every table in English and in Chinese
    for table in tables:
        (tmp_path / "doc.tex").write_text(WRAPPER % table.as_posix(), encoding="utf-8")
        run = subprocess.run(
            ["xelatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        log_text = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
        assert run.returncode == 0, f"{table.name} does not compile:\n{log_text[-2000:]}"
        overfull = re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log_text)
        assert not [w for w in overfull if float(w) > 1.0], f"{table.name} runs past the text width: {overfull}"


def test_the_tables_document_compiles(exported: Path) -> None:
    require_tools("xelatex")
    require_latex_package("ctex.sty")
    run = subprocess.run(
        ["xelatex", "-interaction=nonstopmode", "-halt-on-error", "comparison_tables.tex"],
        cwd=exported,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:]


def test_latex_states_rounding_and_shows_not_applicable(exported: Path) -> None:
    duty = (exported / "duty_metrics.tex").read_text(encoding="utf-8")
    assert r"\caption{Responsible units per plan (3 plans)" in duty
    assert r"\label{tab:duty_metrics}" in duty
    assert "n/a = not applicable" in duty
    row = next(line for line in duty.splitlines() if line.startswith("Beiling District 2018"))
    assert "n/a" in row  # names no unit: agencies not applicable, not 0
    share = (exported / "coverage_level1_share.tex").read_text(encoding="utf-8")
    assert r"Shares in \%, one decimal" in share
    # the 纲要 edition in force is a name, printed 2015 (not 2,015); 1 of its 3 tasks on functions -> 33.3 (%)
    assert re.search(r"Nanshan 2017 & 2015 & 33\.3 & ", share)
    zh = (exported / "duty_metrics_zh.tex").read_text(encoding="utf-8")
    assert "责任部门数" in zh and "北岭区 2018" in zh


def test_wide_table_is_set_landscape_or_split_and_keeps_its_label_column() -> None:
    frame = pd.DataFrame({"doc_label_en": ["Nanshan 2017"], **{f"n_code_{i}": [i] for i in range(40)}})
    headers = {c: c.replace("_", " ") for c in frame.columns}
    text = latex.to_latex(frame, headers, caption="Wide", label="tab:wide")
    assert text.startswith("\\begin{landscape}")
    parts = re.findall(r"\\begin\{xltabular\}", text)
    assert len(parts) >= 2
    assert text.count("Nanshan 2017") == len(parts)  # the label column in every part
    assert "(part 1/" in text


def test_workbook_prints_landscape_fit_to_width_with_repeated_headers(exported: Path) -> None:
    book = load_workbook(exported / "comparison_tables.xlsx")
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows.replace("$", "") == "1:2"
    duty = book["duty_metrics"]
    assert duty.freeze_panes == "B3"  # header rows and the label column
    assert duty["A1"].value == "Plan" and duty.print_title_cols.replace("$", "") == "A:A"
    headers = [c.value for c in duty[1]]
    assert len(headers) == len(set(headers))
    column = {c.value: c.column_letter for c in duty[1]}
    assert duty[f"{column['Share of tasks naming a unit']}3"].number_format == "0.0%"
    assert duty[f"{column['Tasks']}3"].number_format == "0"
    assert duty[f"{column['Concentration (HHI)']}3"].number_format == "0.00"


def test_workbook_defines_every_exported_column(exported: Path) -> None:
    book = load_workbook(exported / "comparison_tables.xlsx")
    rows = list(book["definitions"].iter_rows(min_row=3, values_only=True))
    defined = {(r[0], r[1]) for r in rows}
    for name in book.sheetnames:
        if name == "definitions":
            continue
        sheet = book[name]
        columns = [c.value for c in sheet[1]]
        english = {r[2] for r in rows if r[0] == name}
        assert set(columns) == english, name
    assert all(r[4] for r in rows), "a column without a definition"
    assert ("duty_metrics", "hhi") in defined


def test_an_empty_table_is_not_written(exported: Path) -> None:
    # No two tasks of different plans are near-identical here: no similarity table, no empty file.
    assert not (exported / "similarity_pairs.csv").exists()
    assert "similarity_pairs" not in load_workbook(exported / "comparison_tables.xlsx").sheetnames


def test_two_columns_with_one_header_are_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame({"theme": ["functions"], "theme_label_en": ["Functions"]})
    with pytest.raises(ValueError, match="share the en header 'Theme'"):
        exports.export_tables({"t": frame}, tmp_path, headers_en={"t": {"theme": "Theme", "theme_label_en": "Theme"}})


def test_workbook_converts_to_a_sensible_number_of_landscape_pages(exported: Path, tmp_path: Path) -> None:
    require_tools("soffice")
    from pypdf import PdfReader

    run = subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(exported / "comparison_tables.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    pdf = tmp_path / "comparison_tables.pdf"
    assert pdf.is_file(), run.stdout + run.stderr
    pages = PdfReader(pdf).pages
    n_sheets = len(load_workbook(exported / "comparison_tables.xlsx").sheetnames)
    # One page wide: a few pages per sheet at most (the 64-row codebook and the definitions run longer).
    assert n_sheets <= len(pages) <= 3 * n_sheets
    assert all(float(p.mediabox.width) > float(p.mediabox.height) for p in pages)


# --------------------------------------------------------------------------- labels as data


def _labels_file(folder: Path, rows: list[str]) -> Path:
    path = folder / "labels.csv"
    path.write_text("kind,key,label_zh,label_en,note\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


TARGET_ROWS = [f"target_type,{t},{t},{t.title()}," for t in reference_labels.TARGET_TYPES]


def test_labels_file_is_validated_on_load(tmp_path: Path) -> None:
    bad_kind = _labels_file(tmp_path, [*TARGET_ROWS, "colour,red,红,Red,"])
    with pytest.raises(ReferenceDataError, match="kind='colour'"):
        reference_labels.load_labels(bad_kind)
    (tmp_path / "dup").mkdir()
    duplicate = _labels_file(
        tmp_path / "dup", [*TARGET_ROWS, "admin_level,county,县级,County,", "admin_level,county,县,County,"]
    )
    with pytest.raises(ReferenceDataError, match="duplicate kind"):
        reference_labels.load_labels(duplicate)
    (tmp_path / "missing").mkdir()
    missing = _labels_file(tmp_path / "missing", TARGET_ROWS[1:])
    with pytest.raises(ReferenceDataError, match=r"no 'target_type' label for key\(s\) \['rate'\]"):
        reference_labels.load_labels(missing)


def test_unused_label_is_a_warning_and_unknown_key_a_clear_error(tmp_path: Path, caplog) -> None:
    path = _labels_file(tmp_path, [*TARGET_ROWS, "target_type,ratio,比值,Ratio,", "admin_level,county,县级,County,"])
    with caplog.at_level(logging.WARNING, logger="analysis.core.labels"):
        reference_labels.load_labels(path)
    assert "ratio" in caplog.text
    assert reference_labels.label("admin_level", "county", "en", path=path) == "County"
    with pytest.raises(reference_labels.UnknownLabelError, match="no 'admin_level' label for 'village'.*labels.csv"):
        reference_labels.label("admin_level", "village", "en", path=path)


def test_every_packaged_label_kind_in_use_has_both_languages() -> None:
    table = reference_labels.load_labels()
    assert (table["label_zh"] != "").all() and (table["label_en"] != "").all()
    assert reference_labels.label("doc_type", "工作要点", "en") == "Work points"
    assert reference_labels.column_header("n_tasks", "en") == "Tasks"
    assert reference_labels.column_header("hhi", "zh") == "集中度(HHI)"
    with pytest.raises(reference_labels.UnknownLabelError, match="data_dictionary.csv"):
        reference_labels.column_header("no_such_column", "en")


def test_years_and_editions_print_without_a_thousands_comma() -> None:
    frame = pd.DataFrame({"framework_edition": [2015, 2021], "issued_year": [2019, 2022], "n_tasks": [12345, 7]})
    formats = {f.name: f for f in latex.column_formats(frame, {c: c for c in frame.columns})}
    assert latex.format_number(2015, 0, False, formats["framework_edition"].grouping) == "2015"
    assert latex.format_number(2022, 0, False, formats["issued_year"].grouping) == "2022"
    assert latex.format_number(12345, 0, False, formats["n_tasks"].grouping) == "12,345"
