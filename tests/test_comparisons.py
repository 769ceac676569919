"""Comparisons over small hand-built tables (expected values worked out by hand)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import compare as cmp
from analysis.core.codebook import LEVEL1_CODES, Codebook
from analysis.core.reference import reference_path
from analysis.publish import comparison_tables
from analysis.publish.exports import read_back_csv


def _task(doc_id, n, theme, subtheme="", kind="task", text="加强法治政府建设。", path=None):
    prefix = "T" if kind == "task" else "F"
    width = 3 if kind == "task" else 2
    return {
        "doc_id": doc_id,
        "task_id": f"{doc_id}-{prefix}{n:0{width}d}",
        "kind": kind,
        "seq": n,
        "path": path or f"一/{n}",
        "text": text,
        "theme": theme or None,
        "subtheme": subtheme or None,
    }


@pytest.fixture
def documents() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": ["jia_2017", "yi_2018", "bing_2018", "ding_2019"],
            "jurisdiction": ["甲市", "乙区", "丙市司法局", "丁县"],
            "jurisdiction_en": ["Jia", "Yi District", "Bing Justice Bureau", "Ding"],
            "issued_year": pd.array([2017, 2018, 2018, 2019], dtype="Int64"),
            "admin_level": ["prefecture", "district", "department", "county"],
            "doc_type": ["实施方案", "工作要点", "工作计划", "工作要点"],
        }
    )


@pytest.fixture
def tasks() -> pd.DataFrame:
    rows = [
        _task("jia_2017", 1, "functions", "functions_approval"),
        _task("jia_2017", 2, "functions", "functions_lists"),
        _task("jia_2017", 3, "disputes", "disputes_reconsideration"),
        _task("jia_2017", 4, "oversight", "oversight_transparency"),
        _task("jia_2017", 1, "", kind="framing"),
        _task("yi_2018", 1, "functions", "functions_approval"),
        _task("yi_2018", 2, "emergency", "emergency_plans"),
        _task("yi_2018", 3, ""),  # left uncoded by the classifier
        _task("bing_2018", 1, "functions"),  # theme without subtheme
        _task("bing_2018", 2, "functions"),
        _task("bing_2018", 3, "functions"),
        _task("bing_2018", 4, "functions"),
        _task("bing_2018", 5, "enforcement"),
        _task("ding_2019", 1, "", kind="framing"),  # a plan with no task at all
    ]
    return pd.DataFrame(rows)


def _unit(doc_id, task, canonical, category, successor=None, generic=False, role="responsible", raw=None):
    return {
        "doc_id": doc_id,
        "task_id": f"{doc_id}-T{task:03d}",
        "measure_index": 0,
        "unit_order": 0,
        "raw": raw or canonical,
        "name": canonical,
        "canonical": canonical,
        "successor": successor or canonical,
        "category": category,
        "role": role,
        "generic": generic,
        "match": "exact",
    }


@pytest.fixture
def units() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _unit("jia_2017", 1, "司法局", "legal_affairs_justice", role="lead"),
            _unit("jia_2017", 1, "市场监督管理局", "market_regulation"),
            _unit("jia_2017", 2, "有关部门(泛指)", "generic", generic=True, raw="各有关部门"),
            _unit("jia_2017", 3, "政府法制办公室", "legal_affairs_justice", successor="司法局"),
            _unit("jia_2017", 3, "司法局", "legal_affairs_justice"),
            _unit("jia_2017", 3, "司法局", "legal_affairs_justice"),  # named twice in one task: one link
            _unit("bing_2018", 1, "工商行政管理局", "market_regulation", successor="市场监督管理局"),
            _unit("bing_2018", 1, "质量技术监督局", "market_regulation", successor="市场监督管理局"),
        ]
    )


def _target(doc_id, task, kind, value=None, unit="", deadline_date=None, recurring=False, index=0):
    return {
        "doc_id": doc_id,
        "task_id": f"{doc_id}-T{task:03d}",
        "path": f"一/{task}",
        "measure_index": 0,
        "target_index": index,
        "text": f"{kind} {value}",
        "type": kind,
        "value": value,
        "value_max": None,
        "unit": unit,
        "comparator": "at_least",
        "period": None,
        "period_years": None,
        "deadline_date": deadline_date,
        "deadline_recurring": recurring,
        "metric": None,
    }


@pytest.fixture
def targets() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _target("jia_2017", 1, "rate", 100.0, "%"),
            _target("jia_2017", 1, "rate", 95.0, "%", index=1),
            _target("jia_2017", 3, "deadline", deadline_date="2017-12-31"),
            _target("bing_2018", 1, "count", 5.0, "件"),
            _target("bing_2018", 2, "deadline", deadline_date=None),
        ]
    )


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return Codebook.load()


# ---------------------------------------------------------------------------
# labels


def test_document_labels_join_jurisdiction_and_year_and_stay_unique():
    documents = pd.DataFrame(
        {
            "doc_id": ["a", "b", "c"],
            "jurisdiction": ["甲市", "甲市", None],
            "jurisdiction_en": ["Jia", "Jia", None],
            "issued_year": pd.array([2018, 2018, None], dtype="Int64"),
        }
    )
    labels = cmp.document_labels(documents)
    assert labels["doc_label_zh"].tolist() == ["甲市 2018 · a", "甲市 2018 · b", "c"]
    assert labels["doc_label_en"].tolist() == ["Jia 2018 · a", "Jia 2018 · b", "c"]


def test_doc_slug_makes_file_name_slugs():
    assert cmp.doc_slug("Gansu.MIIT-2017") == "gansu_miit_2017"
    assert cmp.doc_slug("tianmen_2017") == "tianmen_2017"
    with pytest.raises(ValueError):
        cmp.doc_slug("天门")


# ---------------------------------------------------------------------------
# theme coverage


def test_coverage_counts_every_document_and_theme_in_codebook_order(tasks, documents, codebook):
    matrix = cmp.coverage_matrix(tasks, documents, lang=None, codebook=codebook)
    assert list(matrix.index) == ["jia_2017", "yi_2018", "bing_2018", "ding_2019"]
    assert list(matrix.columns) == [*list(LEVEL1_CODES), cmp.UNCODED]
    assert matrix.loc["jia_2017"].to_dict() == {
        **dict.fromkeys(matrix.columns, 0),
        "functions": 2,
        "disputes": 1,
        "oversight": 1,
    }
    assert matrix.loc["yi_2018", "uncoded"] == 1
    assert matrix.loc["ding_2019"].sum() == 0  # framing units are not tasks
    assert matrix.to_numpy().sum() == 12


def test_coverage_shares_divide_by_the_plans_tasks(tasks, documents, codebook):
    shares = cmp.coverage_matrix(tasks, documents, value="share", lang="zh", codebook=codebook)
    assert shares.index.tolist() == ["甲市 2017", "乙区 2018", "丙市司法局 2018", "丁县 2019"]
    assert shares.loc["甲市 2017", "functions"] == pytest.approx(0.5)
    assert shares.loc["甲市 2017", "disputes"] == pytest.approx(0.25)
    assert shares.loc["乙区 2018", "emergency"] == pytest.approx(1 / 3)
    assert shares.loc["乙区 2018", "uncoded"] == pytest.approx(1 / 3)
    assert shares.iloc[:3].sum(axis=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert shares.loc["丁县 2019"].isna().all()  # nothing to divide


def test_coverage_level2_uses_subthemes_and_counts_missing_ones_as_uncoded(tasks, documents, codebook):
    matrix = cmp.coverage_matrix(tasks, documents, level=2, lang=None, codebook=codebook)
    assert list(matrix.columns[:-1]) == codebook.level2_codes
    assert matrix.loc["jia_2017", "functions_approval"] == 1
    assert matrix.loc["yi_2018", "emergency_plans"] == 1
    assert matrix.loc["bing_2018", "uncoded"] == 5


def test_coverage_rejects_codes_not_in_the_codebook(tasks, documents, codebook):
    broken = tasks.copy()
    broken.loc[0, "theme"] = "functionz"
    with pytest.raises(ValueError, match="functionz"):
        cmp.coverage_matrix(broken, documents, codebook=codebook)


def test_theme_omissions_lists_covered_and_omitted_themes(tasks, documents, codebook):
    omissions = cmp.theme_omissions(tasks, documents, codebook).set_index("doc_id")
    assert omissions.loc["jia_2017", "covered"] == "functions;disputes;oversight"
    # A 2017 plan answers to the 2015 纲要, which has no emergency or digital chapter: not applicable, not omitted.
    assert omissions.loc["jia_2017", "n_themes_omitted"] == 5
    assert omissions.loc["jia_2017", "not_applicable"] == "emergency;digital"
    assert omissions.loc["yi_2018", "covered"] == "functions;emergency"  # uncoded is no theme
    assert omissions.loc["ding_2019", "n_themes_covered"] == 0
    assert omissions.loc["ding_2019", "omitted"].split(";") == [
        c for c in LEVEL1_CODES if c not in ("emergency", "digital")
    ]
    assert omissions.loc["bing_2018", "omitted_zh"].split("；")[0] == codebook.label("rulemaking", "zh")


def test_emphasis_by_year_pools_tasks_and_averages_plans(tasks, documents, codebook):
    emphasis = cmp.emphasis_by_year(tasks, documents, codebook).set_index(["issued_year", "theme"])
    # 2018: 乙区 (1 of 3 tasks on functions) and 丙 (4 of 5): pooled 5/8, plan mean (1/3 + 4/5) / 2.
    assert emphasis.loc[(2018, "functions"), "task_share"] == pytest.approx(5 / 8)
    assert emphasis.loc[(2018, "functions"), "mean_doc_share"] == pytest.approx((1 / 3 + 4 / 5) / 2)
    assert emphasis.loc[(2018, "emergency"), "mean_doc_share"] == pytest.approx(1 / 6)
    assert emphasis.loc[(2018, "functions"), "n_documents"] == 2
    assert emphasis.loc[(2017, "functions"), "task_share"] == pytest.approx(0.5)
    assert 2019 not in emphasis.index.get_level_values(0)  # the 2019 plan has no task


def test_gangyao_sections_parse_references():
    assert cmp.gangyao_sections("五(二);五(三)") == ["五"]
    assert cmp.gangyao_sections("九(二十九) 加快推进信息化平台建设;二(五) 深入推进放管服改革") == ["九", "二"]
    assert cmp.gangyao_sections("") == []
    with pytest.raises(Exception, match="section numeral"):
        cmp.gangyao_sections("(五)")


def test_gangyao_alignment_maps_subthemes_then_themes(tasks, documents, codebook):
    alignment = cmp.gangyao_alignment(tasks, documents, codebook)
    table = alignment.set_index(["doc_id", "edition", "section"])
    # 2015: approval 二(一), lists 二(二), reconsideration 七(二), transparency 六(五).
    assert table.loc[("jia_2017", 2015, "二"), "n_tasks"] == 2
    assert table.loc[("jia_2017", 2015, "七"), "n_tasks"] == 1
    assert table.loc[("jia_2017", 2015, "六"), "task_share"] == pytest.approx(0.25)
    # 2021: transparency moved to section 八.
    assert table.loc[("jia_2017", 2021, "八"), "n_tasks"] == 1
    # emergency plans have no 2015 counterpart; the uncoded task is kept apart.
    assert table.loc[("yi_2018", 2015, cmp.NO_COUNTERPART), "n_tasks"] == 1
    assert table.loc[("yi_2018", 2021, "六"), "n_tasks"] == 1
    assert table.loc[("yi_2018", 2015, cmp.UNCODED), "n_tasks"] == 1
    # no subtheme: the theme's own reference (functions -> 二, enforcement -> 五).
    assert table.loc[("bing_2018", 2015, "二"), "n_tasks"] == 4
    assert table.loc[("bing_2018", 2015, "五"), "n_tasks"] == 1
    per_plan = alignment.groupby(["doc_id", "edition"])["n_tasks"].sum()
    assert per_plan.loc[("jia_2017", 2015)] == 4 and per_plan.loc[("ding_2019", 2021)] == 0
    sections_2015 = alignment[alignment["edition"] == 2015].drop_duplicates("section")["section"].tolist()
    assert sections_2015[:3] == ["二", "三", "四"]  # numeral order


def test_gangyao_alignment_splits_a_task_mapped_to_two_sections(tmp_path, tasks, documents):
    original = pd.read_csv(reference_path("codebook.csv"), dtype=str, keep_default_na=False)
    original.loc[original["code"] == "functions_approval", "gangyao_2015"] = "二(一);七(三)"
    path = tmp_path / "codebook.csv"
    original.to_csv(path, index=False)
    alignment = cmp.gangyao_alignment(tasks, documents, Codebook.load(path)).set_index(["doc_id", "edition", "section"])
    assert alignment.loc[("jia_2017", 2015, "二"), "n_tasks"] == pytest.approx(1.5)
    assert alignment.loc[("jia_2017", 2015, "七"), "n_tasks"] == pytest.approx(1.5)


def test_theme_profile_sets_a_plan_against_the_corpus_mean(tasks, documents, codebook):
    profile = cmp.theme_profile(tasks, documents, "jia_2017", codebook).set_index(["series", "theme"])
    assert profile.loc[("plan", "functions"), "task_share"] == pytest.approx(0.5)
    # mean over the three plans with tasks: (1/2 + 1/3 + 4/5) / 3
    assert profile.loc[("corpus_mean", "functions"), "task_share"] == pytest.approx((0.5 + 1 / 3 + 0.8) / 3)
    with pytest.raises(KeyError):
        cmp.theme_profile(tasks, documents, "nowhere", codebook)


# ---------------------------------------------------------------------------
# duty assignment


def test_category_theme_matrix_counts_links_and_shows_unassigned_tasks(units, tasks, codebook):
    matrix = cmp.category_theme_matrix(units, tasks, codebook)
    assert matrix.index.tolist() == ["legal_affairs_justice", "market_regulation", cmp.GENERIC_ONLY, cmp.NOT_ASSIGNED]
    assert matrix.loc["legal_affairs_justice", "functions"] == 1
    assert matrix.loc["legal_affairs_justice", "disputes"] == 2  # 法制办 and 司法局, 司法局 once
    assert matrix.loc["market_regulation", "functions"] == 3
    assert matrix.loc[cmp.GENERIC_ONLY].sum() == 1 and matrix.loc[cmp.GENERIC_ONLY, "functions"] == 1
    assert matrix.loc[cmp.NOT_ASSIGNED, "functions"] == 4  # 乙区 T001, 丙 T002-T004
    assert matrix.loc[cmp.NOT_ASSIGNED].sum() == 8
    assert "generic" not in matrix.index


def test_assignment_status_per_task(units, tasks):
    status = cmp.assignment_status(units, tasks)
    assert status["jia_2017-T001"] == "named"
    assert status["jia_2017-T002"] == cmp.GENERIC_ONLY
    assert status["jia_2017-T004"] == cmp.NOT_ASSIGNED
    assert (status[status.index.str.startswith("yi_2018")] == cmp.NOT_ASSIGNED).all()


def test_reform_comparison_counts_agencies_before_and_after_the_crosswalk(units, documents):
    counts, renamed = cmp.reform_comparison(units, documents)
    counts = counts.set_index("doc_id")
    assert counts.loc["jia_2017", ["n_agencies_written", "n_agencies_reformed", "n_renamed"]].tolist() == [3, 2, 1]
    assert counts.loc["bing_2018", ["n_agencies_written", "n_agencies_reformed", "n_renamed"]].tolist() == [2, 1, 2]
    assert counts.loc["yi_2018", "n_agencies_written"] == 0
    assert renamed[["doc_id", "canonical", "successor"]].values.tolist() == [
        ["jia_2017", "政府法制办公室", "司法局"],
        ["bing_2018", "工商行政管理局", "市场监督管理局"],
        ["bing_2018", "质量技术监督局", "市场监督管理局"],
    ]
    long = cmp.reform_long(counts.reset_index())
    assert len(long) == 2 * len(documents)


def test_duty_table_marks_plans_without_units(units, tasks, documents):
    duty = cmp.duty_table(units, tasks, documents).set_index("doc_id")
    assert duty.loc["yi_2018", "assignment_status"] == "not assigned"
    assert duty.loc["jia_2017", "doc_label_zh"] == "甲市 2017"


def test_plans_naming_no_unit_have_no_agency_counts_not_zero(units, tasks, documents):
    duty = cmp.duty_table(units, tasks, documents).set_index("doc_id")
    assert pd.isna(duty.loc["yi_2018", "n_agencies"])  # names no unit at all: n/a
    assert pd.isna(duty.loc["yi_2018", "hhi"])
    assert duty.loc["jia_2017", "n_agencies"] == 3  # 司法局, 市场监督管理局, 政府法制办公室 as written


def test_agency_pairs_and_top_agencies_follow_the_2018_reform(units, tasks):
    # jia T003 names 政府法制办公室 and 司法局: after the reform one agency, so no pair.
    pairs = cmp.agency_pairs(units)
    assert pairs[["doc_id", "agency_a", "agency_b", "n_shared_tasks"]].values.tolist() == [
        ["jia_2017", "司法局", "市场监督管理局", 1]
    ]
    written = cmp.agency_pairs(units, reformed=False)
    assert ["jia_2017", "司法局", "政府法制办公室", 1] in written[
        ["doc_id", "agency_a", "agency_b", "n_shared_tasks"]
    ].values.tolist()
    top = cmp.top_agencies(units, tasks, top=5).set_index("canonical")
    assert top.loc["司法局", "n_tasks"] == 2  # T001 and T003 (法制办 counted with 司法局)
    assert top.loc["市场监督管理局", "n_tasks"] == 2  # jia T001 and bing T001 (工商 + 质监 merged)
    assert "政府法制办公室" not in top.index


def test_agency_pair_totals_sum_over_plans():
    pairs = pd.DataFrame(
        {
            "doc_id": ["a", "b", "b"],
            "agency_a": ["司法局", "司法局", "财政局"],
            "agency_b": ["财政局", "财政局", "审计局"],
            "n_shared_tasks": [2, 1, 1],
        }
    )
    totals = cmp.agency_pair_totals(pairs, top=2)
    assert totals.values.tolist() == [["司法局", "财政局", 3]]


# ---------------------------------------------------------------------------
# targets


def test_target_type_mix_counts_every_type_per_plan(targets, documents):
    mix = cmp.target_type_mix(targets, documents).set_index(["doc_id", "type"])
    assert mix.loc[("jia_2017", "rate"), "n_targets"] == 2
    assert mix.loc[("jia_2017", "rate"), "type_share"] == pytest.approx(2 / 3)
    assert mix.loc[("bing_2018", "deadline"), "type_share"] == pytest.approx(0.5)
    assert mix.loc[("yi_2018", "rate"), "n_targets"] == 0
    assert math.isnan(mix.loc[("yi_2018", "rate"), "type_share"])
    assert len(mix) == 4 * 7


def test_share_100pct_counts_rate_targets_at_100(targets, tasks, documents):
    shares = cmp.share_100pct(targets, tasks, documents).set_index("doc_id")
    assert shares.loc["jia_2017", ["n_pct_targets", "n_at_100"]].tolist() == [2, 1]
    assert shares.loc["jia_2017", "at_100_share"] == pytest.approx(0.5)
    assert shares.loc["bing_2018", "n_pct_targets"] == 0 and pd.isna(shares.loc["bing_2018", "at_100_share"])


def test_target_metrics_by_doc_keeps_plans_without_tasks(targets, tasks, documents):
    metrics = cmp.target_metrics_by_doc(targets, tasks, documents).set_index("doc_id")
    assert metrics.loc["jia_2017", ["n_tasks", "n_tasks_with_target", "n_targets"]].tolist() == [4, 2, 3]
    assert metrics.loc["ding_2019", "n_targets"] == 0
    assert list(metrics.index) == list(documents["doc_id"])


def test_target_metrics_by_theme_in_codebook_order(targets, tasks, codebook):
    metrics = cmp.target_metrics_by_theme(targets, tasks, codebook)
    assert metrics["theme"].tolist() == ["functions", "enforcement", "emergency", "disputes", "oversight", cmp.UNCODED]
    by_theme = metrics.set_index("theme")
    # functions tasks: jia T001, T002, yi T001, bing T001-T004 = 7; targets: jia T001 (2), bing T001, T002 (1 each)
    assert by_theme.loc["functions", ["n_tasks", "n_targets"]].tolist() == [7, 4]
    assert by_theme.loc["disputes", "n_targets"] == 1 and by_theme.loc["oversight", "n_targets"] == 0
    assert by_theme.loc["functions", "theme_label_zh"] == codebook.label("functions", "zh")


def test_deadline_timeline_puts_dated_deadlines_first(targets, documents):
    timeline = cmp.deadline_timeline(targets, documents)
    assert timeline["doc_id"].tolist() == ["jia_2017", "bing_2018"]
    assert timeline["dated"].tolist() == [True, False]
    assert timeline.loc[0, "deadline"] == pd.Timestamp("2017-12-31")


# ---------------------------------------------------------------------------
# exported set


def test_comparison_tables_have_headers_in_both_languages(tasks, documents, units, targets, codebook):
    tables = {"documents": documents, "tasks": tasks, "units": units, "targets": targets}
    result = comparison_tables.comparison_tables(tables, codebook)
    assert {
        "coverage_level1_count",
        "coverage_level1_share",
        "coverage_level2_count",
        "duty_metrics",
        "agency_pairs",
        "target_metrics_by_doc",
        "target_metrics_by_theme",
        "similarity_pairs",
        "codebook",
    } <= set(result)
    headers_en, headers_zh = comparison_tables.table_headers(result, codebook)
    assert headers_zh["coverage_level1_count"]["functions"] == codebook.label("functions", "zh")
    assert headers_en["duty_metrics"]["hhi"] == "Concentration (HHI)"
    for name, frame in result.items():
        assert set(headers_zh[name]) == {str(c) for c in frame.columns}


def test_export_comparison_tables_writes_every_format(tmp_path, tasks, documents, units, targets):
    from analysis.core.store import write_table

    processed = tmp_path / "processed"
    for name, frame in {"documents": documents, "tasks": tasks, "units": units, "targets": targets}.items():
        write_table(frame, name, processed)
    written = comparison_tables.export_comparison_tables(out_dir=tmp_path / "exports", processed_dir=processed)
    names = {p.name for p in written}
    assert {
        "coverage_level1_share.csv",
        "coverage_level1_share.md",
        "coverage_level1_share.tex",
        "comparison_tables.xlsx",
    } <= names
    back = read_back_csv(tmp_path / "exports" / "coverage_level1_count.csv")
    assert back.set_index("doc_id").loc["jia_2017", "functions"] == 2


# ---------------------------------------------------------------------------
# comparability


def test_each_plan_is_compared_with_the_other_plans_only(tasks, documents, codebook):
    profiles = cmp.theme_against_others(tasks, documents, codebook).set_index(["doc_id", "theme"])
    # jia: 2 of 4 tasks on functions; the others with tasks: yi 1/3, bing 4/5 -> mean (1/3 + 4/5) / 2.
    assert profiles.loc[("jia_2017", "functions"), "task_share"] == pytest.approx(0.5)
    assert profiles.loc[("jia_2017", "functions"), "others_share"] == pytest.approx((1 / 3 + 4 / 5) / 2)
    assert profiles.loc[("jia_2017", "functions"), "n_others"] == 2
    assert "ding_2019" not in profiles.index.get_level_values("doc_id")  # no task: nothing to profile


def test_framework_in_force_follows_the_issue_date():
    documents = pd.DataFrame(
        {
            "doc_id": ["a", "b", "c", "d"],
            "issued": ["2021-03-01", "2021-09-15", None, None],
            "issued_year": pd.array([2021, 2021, 2022, None], dtype="Int64"),
        }
    )
    editions = cmp.framework_in_force(documents)
    assert editions.tolist()[:3] == [2015, 2021, 2021]
    assert pd.isna(editions["d"])


def test_trends_need_years_with_several_plans_and_small_corpora_are_named(documents, tasks):
    assert cmp.years_with_several_plans(documents) == [2018]
    note = cmp.comparability_note(documents.iloc[[0, 3]], tasks, trend=True)
    assert "too few to compare plans" in note  # only jia has tasks
    assert "too small for a trend" in note
    assert "2 plan(s)" in note


def test_reference_row_spreads_the_outline_over_its_themes(codebook):
    reference = cmp.gangyao_reference_shares(codebook, 2015)
    assert reference.sum() == pytest.approx(1.0)
    assert reference["digital"] == 0 and reference["emergency"] == 0  # not sections of the 2015 edition
    assert (reference.drop(["digital", "emergency"]) > 0).all()


def test_task_numbers_in_english_figures_are_digits():
    assert cmp.path_label_en("二/(三)/1") == "2/(3)/1"
    assert cmp.path_label_en("十二/(十)") == "12/(10)"
    assert cmp.path_label_en("一/②") == "1/(2)"
