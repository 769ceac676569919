"""Coverage against the 纲要 in force: a theme the plan's framework lacks is "not applicable", never "omitted".

Two hand-written plans, one of each period, go through the pipeline; their tasks are then coded by
hand (as a coder would), so the test is about the comparison, not the classifier.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import compare as cmp
from analysis.compare.coverage import (
    applicability,
    applicable_codes,
    coverage_table,
    framework_edition,
    load_editions,
    omission_summary,
    theme_omissions,
)
from analysis.core.codebook import LEVEL1_CODES, Codebook
from analysis.core.errors import ReferenceDataError
from analysis.core.schema import frame
from analysis.corpus.rows import THEME_COLUMNS, document_rows, task_rows
from analysis.parse.pipeline import parse_document

PLAN_2018 = """\
某县2018年法治政府建设工作要点

一、依法全面履行政府职能
1.深化行政审批制度改革。全面清理县级行政审批事项,公布保留事项目录,推行一窗受理。
二、坚持严格规范公正文明执法
2.推行行政执法公示制度。在县政府网站集中公示执法主体、执法人员和执法结果。
三、全面提高政府工作人员法治思维和依法行政能力
3.落实领导干部学法制度。县政府常务会议每季度至少安排一次学法,全年不少于四次。
"""

PLAN_2022 = """\
某市2022年法治政府建设工作要点

一、健全政府机构职能体系
1.深入推进“放管服”改革。全面实行行政许可事项清单管理,推行告知承诺制。
二、健全行政执法工作体系
2.完善行政执法程序。全面落实行政执法三项制度,年底前修订行政裁量权基准。
三、加强党的领导,完善法治政府建设推进机制
3.落实第一责任人职责。党政主要负责人年底前专题听取法治政府建设情况汇报。
"""

HAND_CODES = {
    "county_2018": ["functions", "enforcement", "capacity"],
    "city_2022": ["functions", "enforcement", "organisation"],
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """documents and tasks tables of the two plans, tasks coded by hand."""
    folder = tmp_path_factory.mktemp("plans")
    documents, tasks = [], []
    for doc_id, text, issued in (("county_2018", PLAN_2018, "2018-03-20"), ("city_2022", PLAN_2022, "2022-02-15")):
        path = folder / f"{doc_id}.txt"
        path.write_text(text, encoding="utf-8")
        doc = parse_document(path, doc_id, {"issued": issued})
        documents.append(document_rows(doc))
        rows = [r for r in task_rows(doc) if r["kind"] == "task"]
        assert len(rows) == 3, f"{doc_id}: the plan has three numbered tasks"
        for row, theme in zip(rows, HAND_CODES[doc_id], strict=True):
            row.update(theme=theme, theme_source="gold")
        tasks += rows
    return frame(documents, "documents"), frame(tasks, "tasks", allow_missing=THEME_COLUMNS)


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return Codebook.load()


def test_edition_in_force_follows_the_issue_date():
    editions = load_editions()
    assert framework_edition("2021-06-30", 2021, editions) == 2015
    assert framework_edition("2021-09-01", 2021, editions) == 2021
    assert framework_edition(None, 2022, editions) == 2021
    # Year only, and it is the year the 2021 edition came out: the edition in force on 1 January.
    assert framework_edition("", 2021, editions) == 2015
    assert framework_edition(None, None, editions) == 2015  # unknown date: the oldest edition
    assert framework_edition("2012-05-01", 2012, editions) == 2015


def test_2021_only_themes_are_not_in_the_2015_edition(codebook: Codebook):
    assert set(LEVEL1_CODES) - set(applicable_codes(codebook, 2015)) == {"emergency", "digital"}
    assert applicable_codes(codebook, 2021) == list(LEVEL1_CODES)
    level2 = set(applicable_codes(codebook, 2021, level=2)) - set(applicable_codes(codebook, 2015, level=2))
    assert {c for c in level2 if c.startswith(("emergency", "digital"))} == {
        c for c in codebook.level2_codes if c.startswith(("emergency", "digital"))
    }


def test_a_pre_2021_plan_never_omits_a_2021_only_theme(tables, codebook: Codebook):
    documents, tasks = tables
    omissions = theme_omissions(tasks, documents, codebook).set_index("doc_id")
    old, new = omissions.loc["county_2018"], omissions.loc["city_2022"]
    assert old["framework_edition"] == 2015 and new["framework_edition"] == 2021
    assert "emergency" not in old["omitted"].split(";") and "digital" not in old["omitted"].split(";")
    assert old["not_applicable"] == "emergency;digital"
    assert old["n_themes_applicable"] == 8 and old["n_themes_omitted"] == 8 - 3
    assert codebook.label("emergency", "zh") not in old["omitted_zh"]
    # The 2022 plan answers to the 2021 edition: leaving out emergencies is an omission there.
    assert {"emergency", "digital"} <= set(new["omitted"].split(";"))
    assert new["not_applicable"] == "" and new["n_themes_omitted"] == 10 - 3


def test_coverage_tables_leave_not_applicable_cells_empty(tables, codebook: Codebook):
    documents, tasks = tables
    table = coverage_table(tasks, documents, 1, "count", codebook=codebook).set_index("doc_id")
    assert pd.isna(table.loc["county_2018", "emergency"]) and pd.isna(table.loc["county_2018", "digital"])
    assert table.loc["county_2018", "rulemaking"] == 0  # in the 2015 edition: an omission, counted 0
    assert table.loc["city_2022", "emergency"] == 0
    assert table.loc["county_2018", "framework_edition"] == 2015
    matrix = cmp.coverage_matrix(tasks, documents, 1, "share", None, codebook=codebook, mark_not_applicable=True)
    assert pd.isna(matrix.loc["county_2018", "digital"]) and matrix.loc["city_2022", "digital"] == 0
    plain = cmp.coverage_matrix(tasks, documents, 1, "count", None, codebook=codebook)
    assert plain.loc["county_2018", "digital"] == 0  # figures that want plain counts still get them
    assert applicability(documents, codebook).loc["county_2018"].sum() == 8


def test_a_plan_covering_a_theme_its_framework_lacks_lists_it_as_covered(tables, codebook: Codebook):
    documents, tasks = tables
    tasks = tasks.copy()
    tasks.loc[(tasks["doc_id"] == "county_2018") & (tasks["theme"] == "capacity"), "theme"] = "digital"
    omissions = theme_omissions(tasks, documents, codebook).set_index("doc_id")
    assert "digital" in omissions.loc["county_2018", "covered"].split(";")
    assert omissions.loc["county_2018", "not_applicable"] == "emergency"
    table = coverage_table(tasks, documents, 1, "count", codebook=codebook).set_index("doc_id")
    assert table.loc["county_2018", "digital"] == 1


def test_omission_summary_counts_only_plans_that_could_cover_a_theme(tables, codebook: Codebook):
    documents, tasks = tables
    summary = omission_summary(tasks, documents, codebook).set_index("theme")
    assert summary.loc["emergency", ["n_plans", "n_covered", "n_omitted", "n_not_applicable"]].tolist() == [2, 0, 1, 1]
    assert summary.loc["functions", ["n_covered", "n_omitted", "n_not_applicable"]].tolist() == [2, 0, 0]
    assert summary.loc["capacity", ["n_covered", "n_omitted"]].tolist() == [1, 1]


def test_editions_table_is_validated(tmp_path: Path):
    bad = tmp_path / "editions.csv"
    bad.write_text("edition,title,in_force_from\n2015,纲要,2015-13-40\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="YYYY-MM-DD"):
        load_editions(bad)
    bad.write_text("edition,title,in_force_from\n2010,意见,2010-10-10\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="no gangyao_<edition> column"):
        load_editions(bad)
