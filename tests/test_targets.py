"""Targets stage: finding, typing and normalising quantified commitments.

Sentences are written for these tests (other places, metrics and numbers than
the seed documents); the last test checks the extractor against the
hand-coded gold file over the seed texts.
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import config
from analysis.annotate.target_evaluation import evaluate_targets
from analysis.annotate.target_vocabulary import CANDIDATE_ENTRIES, load_vocabulary
from analysis.annotate.targets import Target, find_targets, task_targets
from analysis.compare.targets import target_metrics
from analysis.core.errors import ReferenceDataError
from analysis.core.models import Measure, Task
from analysis.core.numerals import chinese_number
from analysis.core.reference import reference_path

FIXTURES = Path(__file__).parent / "fixtures" / "targets"


def only(text: str, **kwargs) -> Target:
    """The single target in ``text`` (fails if there are 0 or several)."""
    found = find_targets(text, **kwargs)
    assert len(found) == 1, [t.text for t in found]
    return found[0]


def assert_round_trip(text: str, targets: list[Target]) -> None:
    for t in targets:
        assert text[t.start : t.end] == t.text


# --------------------------------------------------------------------------
# rates and shares


@pytest.mark.parametrize(
    "sentence, metric_core, value, comparator",
    [
        ("全面落实行政复议决定,行政复议纠错率达到95%。", "纠错率", 95.0, "at_least"),
        ("政府信息依申请公开答复率实现100%。", "答复率", 100.0, "exactly"),
        ("行政执法案卷合格率不低于95％。", "合格率", 95.0, "at_least"),  # full-width %
        ("群众满意度测评优良率保持85%以上。", "优良率", 85.0, "at_least"),
        ("执法证件持证率达98%。", "持证率", 98.0, "exactly"),
        ("行政诉讼败诉率控制在5%以下。", "败诉率", 5.0, "at_most"),
        ("政务服务事项网上可办率达到百分之九十。", "可办率", 90.0, "at_least"),
    ],
)
def test_rates(sentence, metric_core, value, comparator):
    t = only(sentence)
    assert (t.type, t.value, t.unit, t.comparator) == ("rate", value, "%", comparator)
    assert metric_core in t.metric and t.metric in sentence
    assert t.text.startswith(t.metric)
    assert_round_trip(sentence, [t])


def test_rate_range():
    sentence = "基层调解组织覆盖率保持在80%-90%之间。"
    t = only(sentence)
    assert (t.type, t.value, t.value_max, t.comparator) == ("rate", 80.0, 90.0, "range")
    t2 = only("考核优秀比例控制在15至20%。")
    assert (t2.value, t2.value_max, t2.comparator) == (15.0, 20.0, "range")


def test_shares_from_suffix_and_from_total():
    t = only("依法行政考核在绩效考核中所占分值比重不低于8%。")
    assert (t.type, t.value, t.comparator) == ("share", 8.0, "at_least")
    s = "公职律师人数不少于本系统法律工作人员总数3%。"
    t = only(s)
    assert (t.type, t.value, t.comparator) == ("share", 3.0, "at_least")
    assert t.text.startswith("不少于") and t.text.endswith("3%")


def test_metrics_listed_with_one_shared_value():
    s = "做好备案工作,报送率、报送及时率均达到98%。"
    found = find_targets(s)
    assert [(t.metric, t.value, t.type) for t in found] == [
        ("报送率", 98.0, "rate"),
        ("报送及时率", 98.0, "rate"),
    ]
    assert_round_trip(s, found)


# --------------------------------------------------------------------------
# thresholds, counts, durations


def test_distributive_thresholds_one_per_metric():
    s = "2022年全县PM10、臭氧浓度分别控制在70、160微克/立方米以内,优良天数达到300天以上。"
    found = find_targets(s)
    assert [(t.metric, t.value, t.unit, t.comparator, t.type) for t in found] == [
        ("PM10", 70.0, "微克/立方米", "at_most", "threshold"),
        ("臭氧浓度", 160.0, "微克/立方米", "at_most", "threshold"),
        ("优良天数", 300.0, "天", "at_least", "threshold"),
    ]
    assert_round_trip(s, found)


@pytest.mark.parametrize(
    "sentence, value, unit",
    [
        ("年内制定8件政府规章,清理规范性文件。", 8.0, "件"),
        ("新建三个公共法律服务工作站。", 3.0, "个"),
        ("梳理公布十项便民措施。", 10.0, "项"),
        ("每个乡镇至少配备2名专职法制员。", 2.0, "名"),
        ("培育两家法治示范企业。", 2.0, "家"),
    ],
)
def test_counts(sentence, value, unit):
    t = only(sentence)
    assert (t.type, t.value, t.unit) == ("count", value, unit)
    assert_round_trip(sentence, [t])


def test_lone_chinese_one_needs_a_cue():
    assert find_targets("建立统一部署机制,形成一批研究成果,一起推进。") == []
    t = only("每个县区只设一个综合执法队伍。")
    assert (t.type, t.value, t.comparator) == ("count", 1.0, "exactly")


@pytest.mark.parametrize(
    "sentence, value, unit, comparator",
    [
        ("政府规章有效期一般不超过3年。", 3.0, "年", "at_most"),
        ("行政许可事项在15个工作日内办结。", 15.0, "个工作日", "at_most"),
        ("全面建设24小时自助政务服务区。", 24.0, "小时", "exactly"),
        ("临时性文件有效期为两年。", 2.0, "年", "exactly"),
    ],
)
def test_durations(sentence, value, unit, comparator):
    t = only(sentence)
    assert (t.type, t.value, t.unit, t.comparator) == ("duration", value, unit, comparator)


# --------------------------------------------------------------------------
# frequencies


@pytest.mark.parametrize(
    "sentence, value, unit, comparator, period, years",
    [
        ("县政府常务会议每季度学法一次。", 1.0, "次", "exactly", "quarter", 0.25),
        ("每年至少召开两次法治工作专题会议。", 2.0, "次", "at_least", "year", 1.0),
        ("每两年开展一次规章清理。", 1.0, "次", "exactly", "two_years", 2.0),
        ("每3年组织一轮执法人员轮训。", 1.0, "轮", "exactly", "three_years", 3.0),
        ("每半年通报一次行政应诉情况。", 1.0, "次", "exactly", "half_year", 0.5),
        ("每半通报一次行政应诉情况。", 1.0, "次", "exactly", "half_year", 0.5),  # 年 lost in capture
        ("每月不少于4次开展巡查。", 4.0, "次", "at_least", "month", 0.083333),
        ("各单位每年举办法治讲座三期以上。", 3.0, "期", "at_least", "year", 1.0),
    ],
)
def test_frequencies(sentence, value, unit, comparator, period, years):
    t = only(sentence)
    assert (t.type, t.value, t.unit, t.comparator, t.period) == ("frequency", value, unit, comparator, period)
    assert t.period_years == pytest.approx(years)
    assert t.text.startswith("每")
    assert_round_trip(sentence, [t])


def test_periodic_words_without_a_number_are_not_targets():
    # 定期 (regularly) sets no period; 每年 with no number is a yearly recurrence (see test below).
    found = find_targets("定期开展执法检查,每年组织执法人员培训,年度考核结果向社会公开。")
    assert [(t.text, t.type, t.period, t.value) for t in found] == [("每年", "frequency", "year", None)]


# --------------------------------------------------------------------------
# deadlines


def test_deadline_with_explicit_year():
    t = only("2019年底前完成证明事项清理。")
    assert (t.type, t.deadline_date, t.comparator, t.deadline_recurring) == ("deadline", "2019-12-31", "at_most", False)
    t = only("力争到2025年基本建成法治政府。")
    assert t.deadline_date == "2025-12-31"
    t = only("2021年6月底前出台实施办法。")
    assert t.deadline_date == "2021-06-30"
    t = only("2024年上半年完成评估。")
    assert t.deadline_date == "2024-06-30"


def test_deadline_year_from_document_year_or_none():
    with_year = only("9月底前完成自查。", document_year=2019)
    assert with_year.deadline_date == "2019-09-30"
    without_year = only("9月底前完成自查。")
    assert (without_year.type, without_year.deadline_date) == ("deadline", None)
    assert only("2月底前上报。", document_year=2024).deadline_date == "2024-02-29"  # leap year
    assert only("年底前完成清理。", document_year=2022).deadline_date == "2022-12-31"


def test_recurring_deadline():
    t = only("各部门每年1月15日前报送上年度工作总结。", document_year=2019)
    assert (t.deadline_recurring, t.deadline_date, t.deadline_month, t.deadline_day) == (True, None, 1, 15)
    t = only("每年4月底前报告法治政府建设情况。")
    assert (t.deadline_recurring, t.deadline_month, t.deadline_day) == (True, 4, None)


def test_schedule_dates_in_parentheses_and_ranges():
    s = "(一)宣传发动(3月)。(二)自查整改(4月1日-6月30日)。(三)总结(11月-1月)。"
    found = find_targets(s, document_year=2022)
    assert [(t.text, t.comparator, t.deadline_date) for t in found] == [
        ("3月", "exactly", "2022-03-31"),
        ("4月1日-6月30日", "range", "2022-06-30"),
        ("11月-1月", "range", "2023-01-31"),
    ]


# --------------------------------------------------------------------------
# non-targets


@pytest.mark.parametrize(
    "sentence",
    [
        "根据《某省法治政府建设规划(2021—2025年)》要求。",  # plan period in a title
        "印发《关于2019年行政执法监督工作的通知》(某政发〔2019〕12号)。",  # document number, law title
        "深入贯彻党的二十大和二十届二中全会精神。",  # meeting names
        "省委第十三届七次全体会议精神。",
        "统筹推进“五位一体”总体布局,协调推进“四个全面”战略布局。",
        "全面推行“双随机、一公开”监管和“最多跑一次”改革。",
        "建立行政执法“三项制度”,落实“三统一”要求。",
        "严格执行收支两条线管理。",
        "2023年法治政府建设的总体思路是稳中求进。",  # year as context
        "落实2024年区政府重大行政决策事项目录。",
        "某市人民政府办公室 2022年3月15日印发",  # signature date
        "区县两级政务服务中心全面运行,推进县镇村三级联动。",
        "空气质量持续改善,群众满意度不断提升。",
        "各街道要定期开展督查。",
    ],
)
def test_non_targets(sentence):
    assert find_targets(sentence, document_year=2022) == []


def test_numbers_inside_metric_names_are_not_values():
    t = only("PM2.5年均浓度降至35微克/立方米。")
    assert (t.value, t.type, t.comparator, t.unit) == (35.0, "threshold", "at_most", "微克/立方米")


# --------------------------------------------------------------------------
# conversions and spans


@pytest.mark.parametrize(
    "token, value",
    [
        ("两", 2.0),
        ("二", 2.0),
        ("十", 10.0),
        ("十五", 15.0),
        ("一百", 100.0),
        ("百", 100.0),
        ("3", 3.0),
        ("2.5", 2.5),
        ("１２", 12.0),
    ],
)
def test_chinese_number(token, value):
    assert chinese_number(token) == value


def test_chinese_number_rejects_words():
    with pytest.raises(ValueError):
        chinese_number("若干")


def test_spans_round_trip_in_a_mixed_paragraph():
    text = (
        "   3.强化执法监督。每年至少组织２次执法检查,重大执法决定法制审核率达到100％;"
        "2020年底前完成清理,选取20项事项试点。"
    )
    found = find_targets(text, document_year=2020)
    assert [t.type for t in found] == ["frequency", "rate", "deadline", "count"]
    assert_round_trip(text, found)


# --------------------------------------------------------------------------
# reference table


def _copy_patterns(tmp_path: Path) -> Path:
    path = tmp_path / "target_patterns.csv"
    shutil.copy(reference_path("target_patterns.csv"), path)
    return path


def _append(path: Path, row: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(row + "\n")


@pytest.mark.parametrize(
    "row, message",
    [
        ("comparator_before,不止,more_than,,", "not one of"),
        ("period,每旬度,ten_days,abc,", "positive number of years"),
        ("unit,斤,weight,,", "not one of"),
        ("metric_suffix,指数,index,,", "not one of"),
        ("non_target_regex,[未闭合,,,", "does not compile"),
        ("slogan,三严三实,,,", "category"),
        ("comparator_before,至少,at_least,,", "duplicate"),
        ("deadline_year_part,年初,01,,", "MM-DD"),
    ],
)
def test_reference_table_validation(tmp_path, row, message):
    path = _copy_patterns(tmp_path)
    _append(path, row)
    with pytest.raises(ReferenceDataError) as excinfo:
        load_vocabulary(str(path))
    assert str(path) in str(excinfo.value)
    assert message in str(excinfo.value)


def test_reference_table_drives_matching(tmp_path):
    path = _copy_patterns(tmp_path)
    _append(path, "unit,个站点,count,,test unit")
    _append(path, "non_target_term,三张清单,,,test slogan")
    found = find_targets("建成12个站点,公布三张清单。", patterns_path=path)
    assert [(t.value, t.unit) for t in found] == [(12.0, "个站点")]


def test_missing_reference_file_names_the_path(tmp_path):
    with pytest.raises(ReferenceDataError, match="file not found"):
        load_vocabulary(str(tmp_path / "nope.csv"))


# --------------------------------------------------------------------------
# task_targets


def test_task_targets_shift_spans_and_find_measures():
    doc = "XXXX2.加强培训。每年举办两期培训班。审核率达到100%。"
    task_text = "加强培训。每年举办两期培训班。审核率达到100%。"
    offset = doc.index(task_text)
    first = doc.index("每年")
    second = doc.index("审核率")
    task = Task(
        doc_id="d",
        task_id="d-T001",
        kind="task",
        seq=1,
        number="2.",
        path="一/2",
        level=3,
        headings=[],
        title="加强培训",
        text=task_text,
        span=(offset, len(doc)),
        raw_span=(offset, len(doc)),
        measures=[
            Measure(0, "每年举办两期培训班。", (first, second), (first, second)),
            Measure(1, "审核率达到100%。", (second, len(doc)), (second, len(doc))),
        ],
    )
    rows = task_targets(task, document_year=2020)
    assert [(r["measure_index"], r["target_index"], r["type"]) for r in rows] == [(0, 0, "frequency"), (1, 1, "rate")]
    for row in rows:
        assert doc[row["span_start"] : row["span_end"]] == row["text"]
        assert row["doc_id"] == "d" and row["task_id"] == "d-T001" and row["path"] == "一/2"


# --------------------------------------------------------------------------
# target_metrics


def _tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    tasks = pd.DataFrame(
        {
            "doc_id": ["a", "a", "a", "a", "a", "b", "b"],
            "task_id": ["a-T001", "a-T002", "a-T003", "a-T004", "a-F01", "b-T001", "b-T002"],
            "kind": ["task", "task", "task", "task", "framing", "task", "task"],
            "path": ["一/1", "一/2", "二/1", "二/2", "一", "一", "二"],
            "theme": ["law", "law", "review", "review", None, "law", "review"],
        }
    )
    targets = pd.DataFrame(
        {
            "doc_id": ["a", "a", "a", "a", "b"],
            "task_id": ["a-T001", "a-T001", "a-T003", "a-T004", "b-T002"],
            "type": ["rate", "frequency", "rate", "deadline", "share"],
            "value": [100.0, 2.0, 95.0, None, 100.0],
            "deadline_date": [None, None, None, "2020-12-31", None],
            "deadline_recurring": [False, False, False, False, False],
        }
    )
    return targets, tasks


def test_target_metrics_by_document():
    targets, tasks = _tiny_tables()
    result = target_metrics(targets, tasks).set_index("doc_id")
    # doc a: 4 tasks (framing excluded), tasks T001/T003/T004 have targets, 4 targets
    assert result.loc["a", "n_tasks"] == 4
    assert result.loc["a", "n_tasks_with_target"] == 3
    assert result.loc["a", "target_task_share"] == pytest.approx(0.75)
    assert result.loc["a", "n_targets"] == 4
    assert result.loc["a", "targets_per_task"] == pytest.approx(1.0)
    assert (result.loc["a", "n_rate"], result.loc["a", "n_frequency"], result.loc["a", "n_deadline"]) == (2, 1, 1)
    assert result.loc["a", "n_count"] == 0
    assert result.loc["a", "share_100_pct"] == pytest.approx(50.0)  # 100 and 95: one of two, in percent
    assert result.loc["a", "n_deadline_resolved"] == 1
    # doc b: 2 tasks, one with one share target at 100
    assert result.loc["b", "target_task_share"] == pytest.approx(0.5)
    assert result.loc["b", "share_100_pct"] == pytest.approx(100.0)


def test_target_metrics_by_theme():
    targets, tasks = _tiny_tables()
    result = target_metrics(targets, tasks, group_by=["doc_id", "theme"]).set_index(["doc_id", "theme"])
    assert result.loc[("a", "law"), "n_tasks"] == 2
    assert result.loc[("a", "law"), "n_targets"] == 2
    assert result.loc[("a", "review"), "n_tasks_with_target"] == 2
    assert math.isnan(result.loc[("b", "law"), "share_100_pct"])  # no rate/share targets
    assert result.loc[("b", "law"), "n_targets"] == 0


def test_target_metrics_rejects_orphan_targets_and_unknown_types():
    targets, tasks = _tiny_tables()
    orphan = pd.concat(
        [targets, pd.DataFrame({"doc_id": ["c"], "task_id": ["c-T001"], "type": ["rate"], "value": [1.0]})]
    )
    with pytest.raises(ValueError, match="not in the tasks table"):
        target_metrics(orphan, tasks)
    bad = targets.assign(type=["rate", "frequency", "rate", "deadline", "ratio"])
    with pytest.raises(ValueError, match="unknown type"):
        target_metrics(bad, tasks)


# --------------------------------------------------------------------------
# evaluate_targets


def test_evaluate_targets_on_a_tiny_example():
    gold = pd.DataFrame(
        {
            "doc_id": ["a", "a", "a", "b"],
            "path": ["一/1", "一/1", "一/2", "一"],
            "text": ["审核率达到100%", "每年两次", "2020年底", "5个"],
            "type": ["rate", "frequency", "deadline", "count"],
        }
    )
    predicted = pd.DataFrame(
        {
            "doc_id": ["a", "a", "a", "b"],
            "path": ["一/1", "一/1", "一/2", "二"],
            "text": ["100%", "每年两次以上", "2020年底", "5个"],
            "type": ["rate", "frequency", "duration", "count"],
        }
    )
    result = evaluate_targets(predicted, gold)
    # matches: 100% in 审核率达到100%; 每年两次 in 每年两次以上; 2020年底 (type differs);
    # 5个 is in another path -> unmatched on both sides
    assert result["presence"]["tp"] == 3
    assert result["presence"]["precision"] == pytest.approx(3 / 4)
    assert result["presence"]["recall"] == pytest.approx(3 / 4)
    assert result["type"]["tp"] == 2
    assert result["type"]["precision"] == pytest.approx(2 / 4)
    assert result["type"]["f1"] == pytest.approx(0.5)
    assert list(result["unmatched_gold"]["text"]) == ["5个"]


def test_evaluate_targets_by_span_when_both_have_spans():
    gold = pd.DataFrame(
        {"doc_id": ["a"], "path": ["1"], "text": ["x"], "type": ["rate"], "span_start": [10], "span_end": [15]}
    )
    hit = pd.DataFrame(
        {"doc_id": ["a"], "path": ["1"], "text": ["y"], "type": ["rate"], "span_start": [14], "span_end": [20]}
    )
    miss = hit.assign(span_start=[15])
    assert evaluate_targets(hit, gold)["presence"]["tp"] == 1
    assert evaluate_targets(miss, gold)["presence"]["tp"] == 0


# --------------------------------------------------------------------------
# a whole (made-up) plan, variants and damage


def test_fixture_plan_targets():
    text = (FIXTURES / "county_plan_2023.txt").read_text(encoding="utf-8")
    found = find_targets(text, document_year=2023)
    assert_round_trip(text, found)
    got = [(t.type, t.value, t.unit, t.comparator, t.period, t.deadline_date, t.deadline_recurring) for t in found]
    assert got == [
        ("deadline", None, None, "at_most", None, "2025-12-31", False),  # 到2025年 (framing; still found in text)
        ("rate", 98.0, "%", "at_least", None, None, False),  # full-width digits and %
        ("deadline", None, None, "at_most", None, "2023-06-30", False),  # 6月底前 + document year
        ("rate", 20.0, "%", "at_least", None, None, False),  # 抽查比例不低于20%
        ("rate", 100.0, "%", "at_least", None, None, False),  # 备案审查率 (shared value)
        ("rate", 100.0, "%", "at_least", None, None, False),  # 纠错率均达到100%
        ("frequency", 1.0, "次", "exactly", "half_year", None, False),
        ("frequency", 1.0, "次", "exactly", "two_years", None, False),  # 每两年进行一次
        ("share", 3.0, "%", "at_least", None, None, False),
        ("frequency", 4.0, "次", "at_least", "year", None, False),
        ("duration", 16.0, "学时", "at_least", None, None, False),
        ("rate", 95.0, "%", "at_least", None, None, False),
        ("deadline", None, None, "at_most", None, None, True),  # 每年11月底前
        ("frequency", 1.0, "次", "exactly", "quarter", None, False),
        ("deadline", None, None, "at_most", None, "2023-09-30", False),  # 第三季度前
    ]
    # the signature date, 二十大, “一网通办”, “双随机、一公开” are not targets
    assert not any("3月8日" in t.text or "二十" in t.text for t in found)


def test_traditional_comparators_are_listed():
    t = only("執法證件持證率不低於95%。")
    assert (t.type, t.value, t.comparator) == ("rate", 95.0, "at_least")
    t = only("複議案件審理期限不超過60日。")
    assert (t.type, t.value, t.unit, t.comparator) == ("duration", 60.0, "日", "at_most")


def test_line_breaks_and_damaged_dates_do_not_make_targets():
    assert find_targets("某某县人民政府办公室\n201769   \n\n天门市") == []
    assert find_targets("本办法于2020年12月3日经县政府常务会议通过,自2021年1月1日起施行。") == []


def test_lone_wei_is_no_comparator_without_a_metric():
    t = only("县财政为12家企业发放补贴。")
    assert (t.text, t.comparator, t.type) == ("12家", "exactly", "count")
    assert find_targets("把法治建设作为一项重要任务。") == []


def test_deadline_part_means_by():
    t = only("于2024年6月底完成清理。")
    assert (t.comparator, t.deadline_date) == ("at_most", "2024-06-30")


# --------------------------------------------------------------------------
# regression against the hand-coded gold over the seed texts

_ITEM = re.compile(
    r"^\s*(?:(?P<l1>[一二三四五六七八九十]+)、|\((?P<l2>[一二三四五六七八九十]+)\)|(?P<l3>\d+)\s*[.、](?!\d))"
)
_FRAMING = re.compile(r"指导思想|基本原则|总体要求|总体目标|工作目标|创建目标")
_CN = "一二三四五六七八九十"


def seed_tasks(text: str) -> dict[str, str]:
    """Task path -> task text, by a simple line scan of a seed file.

    A leaf numbered item is a task unless it or a parent has a framing title;
    a heading-only line takes the next paragraph as its text; a short
    unnumbered line between items is a sub-heading whose number was lost.
    """
    items: list[dict] = []
    parts: dict[int, str] = {}
    titles: dict[int, str] = {}
    lines = [line.strip() for line in text.splitlines()]
    for i, line in enumerate(lines):
        m = _ITEM.match(line)
        if not m:
            following = next((x for x in lines[i + 1 :] if x), "")
            next_item = _ITEM.match(following)
            lost_heading = 0 < len(line) <= 20 and "。" not in line and next_item and next_item["l3"]
            if items and items[-1]["level"] == 3 and 2 in parts and lost_heading:
                number = parts[2].strip("()")
                parts[2] = f"({_CN[_CN.index(number) + 1]})"
                titles[2] = line
            continue
        level = 1 if m["l1"] else 2 if m["l2"] else 3
        key = m["l1"] or (f"({m['l2']})" if m["l2"] else m["l3"])
        parts = {k: v for k, v in parts.items() if k < level}
        titles = {k: v for k, v in titles.items() if k < level}
        parts[level], titles[level] = key, line[m.end() :]
        body = line[m.end() :]
        if "。" not in body:
            following = next((x for x in lines[i + 1 :] if x), "")
            if not _ITEM.match(following):
                body += following
        items.append(
            {
                "level": level,
                "path": "/".join(parts[k] for k in sorted(parts)),
                "body": body,
                "framing": any(_FRAMING.search(t) for t in titles.values()),
            }
        )
    tasks = {}
    for item, nxt in zip(items, [*items[1:], None], strict=False):
        if nxt is not None and nxt["level"] > item["level"]:
            continue
        if not item["framing"]:
            tasks[item["path"]] = item["body"]
    return tasks


def test_seed_gold_precision_and_recall():
    gold = pd.read_csv(config.ANNOTATIONS_DIR / "targets_gold.csv", dtype={"path": str})
    manifest = pd.read_csv(config.MANIFEST_PATH, dtype=str)
    rows = []
    for doc in manifest.itertuples():
        year = int(doc.issued[:4])
        text = (config.RAW_DIR / doc.file).read_text(encoding="utf-8")
        tasks = seed_tasks(text)
        missing = set(gold.loc[gold["doc_id"] == doc.doc_id, "path"]) - set(tasks)
        assert not missing, f"{doc.doc_id}: gold paths not found by the simple scan: {missing}"
        for path, body in tasks.items():
            for t in find_targets(body, document_year=year):
                rows.append({"doc_id": doc.doc_id, "path": path, "text": t.text, "type": t.type})
    result = evaluate_targets(pd.DataFrame(rows), gold)
    report = (
        f"presence {result['presence']}, type {result['type']}\n"
        f"unmatched predicted:\n{result['unmatched_predicted']}\nunmatched gold:\n{result['unmatched_gold']}"
    )
    assert result["presence"]["precision"] >= 0.9, report
    assert result["presence"]["recall"] >= 0.9, report
    assert result["type"]["precision"] >= 0.9, report
    assert result["type"]["recall"] >= 0.9, report


def test_stance_separates_reported_figures_from_commitments():
    from analysis.annotate.targets import target_stance

    text = "全年共办理行政复议案件45件,纠错率为12%。力争行政复议纠错率达到15%以上。"
    first = text.index("45件")
    later = text.index("15%")
    assert target_stance(text, first, []) == "reported"
    assert target_stance(text, later, []) == "commitment"
    assert target_stance(text, later, ["2021年工作成效", "复议工作"]) == "reported"
    assert target_stance(text, first, ["下一步工作安排"]) == "commitment"


def test_target_metrics_count_commitments_only():
    tasks = pd.DataFrame({"doc_id": ["r", "r"], "task_id": ["r-T001", "r-T002"], "kind": ["task", "task"]})
    targets = pd.DataFrame(
        {
            "doc_id": ["r", "r"],
            "task_id": ["r-T001", "r-T002"],
            "type": ["count", "rate"],
            "value": [45.0, 100.0],
            "stance": ["reported", "commitment"],
        }
    )
    metrics = target_metrics(targets, tasks).set_index("doc_id")
    assert metrics.loc["r", "n_targets"] == 1
    assert metrics.loc["r", "n_tasks_with_target"] == 1


# --------------------------------------------------------------------------
# families seen in real captures


def texts(sentence: str, **kwargs) -> list[str]:
    return [t.text for t in find_targets(sentence, **kwargs)]


def test_timetable_stage_year_range_is_a_deadline_but_a_plan_period_is_not():
    t = only("二、实施步骤\n全面推进阶段(2017-2019年)。对照方案逐项落实。", document_year=2017)
    assert (t.text, t.type, t.comparator, t.deadline_date) == ("2017-2019年", "deadline", "range", "2019-12-31")
    assert texts("根据《某省法治政府建设实施方案(2016-2020年)》要求,结合实际。") == []


def test_each_year_with_a_part_of_the_year_is_a_recurring_deadline():
    t = only("县政府每年第一季度向县人大常委会报告上年度法治政府建设情况。")
    assert (t.text, t.type, t.deadline_recurring, t.deadline_month, t.deadline_day) == (
        "每年第一季度",
        "deadline",
        True,
        3,
        31,
    )


def test_each_year_without_a_number_is_a_yearly_recurrence():
    t = only("每年对各部门依法行政情况开展督查。")
    assert (t.text, t.type, t.period, t.value) == ("每年", "frequency", "year", None)
    # With a count, the frequency reading wins and 每年 is part of it.
    assert texts("每年至少开展两次执法检查。") == ["每年至少开展两次"]


def test_arabic_number_with_a_scale_word():
    t = only("全年办理政务服务事项12.5万件。")
    assert (t.text, t.type, t.value, t.unit) == ("12.5万件", "count", 125000.0, "件")


@pytest.mark.parametrize(
    "sentence",
    [
        "备案数量排名前三位的分别是县教育局、县财政局、县民政局。",  # a ranking
        "配合编制全县第十四个五年规划纲要。",  # a plan name
        "督促起草单位做好三年立法计划的衔接。",
        "深入学习贯彻党的十九届六次全会精神。",  # a meeting name
        "抓好“稳定、发展、改革、民生”四件大事。",  # a count naming a quoted list (slogan)
    ],
)
def test_names_rankings_and_slogans_are_not_targets(sentence):
    assert find_targets(sentence) == []


def test_framing_units_carry_targets_but_no_units(tmp_path: Path):
    from analysis.parse.pipeline import process_document

    path = tmp_path / "plan.txt"
    path.write_text(
        "某县2021年法治政府建设实施方案\n一、总体目标\n到2025年,政府行为全面纳入法治轨道。\n"
        "二、主要任务\n(一)推进政务公开。重大决策公开率达到100%。(牵头单位:县政府办公室)\n",
        encoding="utf-8",
    )
    doc = process_document(path)
    framing, task = doc.items
    assert framing.kind == "framing" and [t["text"] for t in framing.extra["targets"]] == ["到2025年"]
    assert "units" not in framing.extra
    assert [(t["type"], t["value"], t["text"].endswith("公开率达到100%")) for t in task.extra["targets"]] == [
        ("rate", 100.0, True)
    ]
    assert [u["raw"] for u in task.extra["units"]] == ["县政府办公室"]


# --------------------------------------------------------------------------
# speed-ups keep the output (issue 13)

# Fragments the target grammar reacts to, combined into texts by the property tests below.
_FRAGMENTS = (
    "1", "12", "2019", "2023", "3.5", "一", "二十", "两", "三", "万", "%", "百分之", "个", "项", "次", "年", "月", "日",
    "底", "前", "以前", "上半年", "季度", "第", "每", "每年", "分别", "不少于", "达到", "以上", "到", "力争到", "于",
    "阶段", "(", ")", "、", ",", "。", " ", "-", "至", "“", "”", "《", "》", "届", "全会", "规划", "率", "林草", "覆盖",
    ".", "百", "千", "亿", "分之", "~", "—", "\t", "零", "〇", "人次", "万元", "以下",
)  # fmt: skip


def _entries() -> list[str]:
    return sorted(load_vocabulary().prefilter)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=16))
def test_prefilters_and_cores_never_lose_a_match(pieces: list[str]) -> None:
    vocab = load_vocabulary()
    text = "".join(pieces)
    for name in _entries():
        expected = [m.span() for m in vocab.regex[name].finditer(text)]
        if expected:
            assert vocab.prefilter[name].search(text), (name, text)
        assert [m.span() for m in vocab.finditer(name, text)] == expected, (name, text)
    if any(vocab.regex[name].search(text) for name in CANDIDATE_ENTRIES):
        assert vocab.may_hold_target(text), text


@pytest.mark.parametrize(
    "text",
    [
        "林草覆盖率不少于百分之三十,2025年底前完成。",
        "力争到2024年6月底前建成;每年3月底前报送,一季度前完成评估。",
        "三年行动阶段(2021-2023年),分别达到12、15、20个。",
        "统一组织培训,进一步规范程序。",  # no target at all
        "于2022年通过,第十四届二次会议,每季度至少开展1次。",
    ],
)
def test_windowed_search_matches_finditer_on_written_sentences(text: str) -> None:
    vocab = load_vocabulary()
    assert set(vocab.cores) <= set(vocab.regex)
    for name in vocab.regex:
        assert [m.span() for m in vocab.finditer(name, text)] == [m.span() for m in vocab.regex[name].finditer(text)]


def test_text_without_any_target_word_is_skipped_whole() -> None:
    vocab = load_vocabulary()
    text = "加强统一领导,进一步规范行政程序。"
    assert not vocab.may_hold_target(text)
    assert find_targets(text) == []
    assert vocab.may_hold_target("每季度开展督查")


@pytest.mark.parametrize("text", ["", "甲", "甲,乙;丙。丁:", "(甲)、乙%丙\n", ",,;"])
def test_clause_starts_by_bisection_match_the_character_walk(text: str) -> None:
    from analysis.annotate.target_vocabulary import CLAUSE_BREAK
    from analysis.annotate.targets import _ClauseStarts

    for extra in ("", "、%"):
        breaks, current, expected = CLAUSE_BREAK + extra, 0, []
        for i in range(len(text) + 1):
            expected.append(current)
            if i < len(text) and text[i] in breaks:
                current = i + 1
        starts = _ClauseStarts(text, CLAUSE_BREAK + extra)
        assert [starts[i] for i in range(len(text) + 1)] == expected


def test_zones_up_to_the_last_anchor_answer_as_all_zones() -> None:
    from analysis.annotate.targets import _protected_zones, _Zones

    vocab = load_vocabulary()
    text = "《条例(2020年修订)》第三条,“十四五”规划,林草覆盖率达到30%,《办法》和“一网通办”2016-2020年。"
    every = _Zones(_protected_zones(text, vocab))
    for until in range(len(text) + 1):
        part = _Zones(_protected_zones(text, vocab, until=until))
        for start in range(until + 1):
            for end in range(start, len(text) + 1):
                assert part.cover((start, end)) == every.cover((start, end))


def test_target_dict_is_the_dataclass_as_dict() -> None:
    from dataclasses import asdict

    for target in find_targets("力争到2025年底前,林草覆盖率达到30%以上,每年至少开展2次督查。", document_year=2024):
        assert target.to_dict() == asdict(target)
        assert list(target.to_dict()) == list(asdict(target))


def test_target_fields_in_a_row_are_the_dataclass_as_dict() -> None:
    for target in find_targets("力争到2025年底前,林草覆盖率达到30%以上,每年至少开展2次督查。", document_year=2024):
        assert list(vars(target).items()) == list(target.to_dict().items())  # task_targets reads vars()


def _vocabulary_words(vocab) -> list[str]:
    return [
        *vocab.comparator_blocked,
        *vocab.commitment_headings,
        *vocab.reported_headings,
        *vocab.metric_suffixes,
    ]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_suffix_and_heading_lookups_match_the_term_loops(data) -> None:
    from analysis.annotate.targets import _Finder

    vocab = load_vocabulary()
    pieces = st.one_of(
        st.sampled_from(_vocabulary_words(vocab)), st.text(alphabet="作为送达率数量工作下一步,", max_size=3)
    )
    text = "".join(data.draw(st.lists(pieces, max_size=6)))
    finder = _Finder(text, 2024, vocab)
    for cmp_end in range(len(text) + 1):
        expected = any(text[max(0, cmp_end - len(w)) : cmp_end] == w for w in vocab.comparator_blocked)
        assert finder._comparator_blocked(cmp_end) == expected
    commitment, reported = vocab.heading_patterns
    assert bool(commitment.search(text)) == any(term in text for term in vocab.commitment_headings)
    assert bool(reported.search(text)) == any(term in text for term in vocab.reported_headings)
    assert text.endswith(vocab.metric_suffixes) == any(text.endswith(s) for s in vocab.metric_suffixes)


def test_remembered_numbers_read_as_before_and_failures_still_raise() -> None:
    from analysis.annotate.targets import _number

    for token in ("二十", "两", "3.5", "一百", "12"):
        assert _number(token) == chinese_number(token)
        assert _number(token) == chinese_number(token)
    for _ in range(2):
        with pytest.raises(ValueError):
            _number("甲")


# --------------------------------------------------------------------------- the vocabulary's screens


def test_the_vocabulary_screens_match_its_non_target_regexes() -> None:
    from analysis.core.text import required_literals

    vocab = load_vocabulary()
    assert [p for p, _ in vocab.non_target_screens] == list(vocab.non_target_regexes)
    assert [r for _, r in vocab.non_target_screens] == [required_literals(p) for p in vocab.non_target_regexes]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_every_text_a_non_target_regex_matches_passes_its_screen(data) -> None:
    from analysis.core.text import may_match

    pattern, required = data.draw(st.sampled_from(load_vocabulary().non_target_screens))
    text = data.draw(st.from_regex(pattern))
    if pattern.search(text) is not None:
        assert may_match(required, text), (pattern.pattern, text, required)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="每年月日底前分别到2019年3月底12个百分点%达到一二十次阶段—-", max_size=40))
def test_entries_present_is_what_each_prefilter_says(text: str) -> None:
    from analysis.annotate.target_vocabulary import CANDIDATE_ENTRIES

    vocab = load_vocabulary()
    present = vocab.entries_present(text)
    assert bool(present) == vocab.may_hold_target(text)
    for name in CANDIDATE_ENTRIES:
        assert (name in present) == (vocab.prefilter[name].search(text) is not None)
        if name not in present:
            assert next(vocab.regex[name].finditer(text), None) is None


@pytest.mark.parametrize(
    "pattern, anchor",
    [
        (r"(?<!阶段)\d{4}年", r"[\d]"),
        (r"(?<=[”》])[一二三]{1,2}件", "[一二三]"),
        (r"(?<![a-c])(?![x])[^a-c]+z", "[^a-c]"),
        (r"\b甲乙", "[甲]"),
        (r"(?<!甲)[a-c\s]?乙", None),  # the opening may be absent: its first character is not known
        (r"[甲乙]\d", None),  # the engine scans for the class itself
        (r"(?<!甲)(?:乙|丙)", "[乙丙]"),  # Python's parser reads the alternation as a class
        (r"(?<!甲)(?:乙丙|丁)", None),
        (r"(?i)(?<!甲)a", None),
    ],
)
def test_first_character_anchor_of_patterns_opening_with_assertions(pattern: str, anchor: str | None) -> None:
    from analysis.core.text import first_character_anchor

    found = first_character_anchor(re.compile(pattern))
    if anchor is None:
        assert found is None
    else:
        assert found is not None
        assert {ch for ch in "甲乙丙一二三a-cxz 5" if found.match(ch)} == {
            ch for ch in "甲乙丙一二三a-cxz 5" if re.compile(anchor).match(ch)
        }


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_anchored_non_target_searches_find_what_finditer_finds(data) -> None:
    from analysis.core.text import anchored_finditer, body_anchor, first_character_anchor

    vocab = load_vocabulary()
    assert any(vocab.non_target_anchors)  # the plan periods, meeting names, counts after quotes
    anchored = [(p, a) for p in vocab.non_target_regexes for a in (body_anchor(p), first_character_anchor(p)) if a]
    pattern, anchor = data.draw(st.sampled_from(anchored))  # either anchor of each (the body one is used)
    pieces = st.one_of(
        st.from_regex(pattern, fullmatch=True), st.text(alphabet="阶段(:”》一二十2019年-至届规划", max_size=4)
    )
    text = "".join(data.draw(st.lists(pieces, max_size=6)))
    expected = [m.span() for m in pattern.finditer(text)]
    assert [m.span() for m in anchored_finditer(pattern, text, anchor, 0, window=True)] == expected


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_reported_cues_found_from_their_starts_like_the_lookahead(data) -> None:
    from analysis.annotate.targets import _StanceFinder

    vocab = load_vocabulary()
    pieces = st.one_of(st.sampled_from(vocab.reported_cues), st.text(alphabet="全年共计同比上较已完成。", max_size=3))
    text = "".join(data.draw(st.lists(pieces, max_size=8)))
    finder = _StanceFinder(text, [], vocab)
    expected = [(m.start(), m.group(1)) for m in vocab.regex["reported_cues"].finditer(text)]
    assert [(m.start(), m.group(1)) for m in finder._cues()] == expected


@pytest.mark.parametrize("text", ["同比上年增长", "全年共计完成", "较上年同比", "", "环比累计全年共"])
def test_overlapping_reported_cues_are_all_found(text: str) -> None:
    """A cue may start inside another (同比 / 比上年): every start counts, as with the lookahead."""
    from analysis.annotate.targets import _StanceFinder

    vocab = load_vocabulary()
    expected = [(m.start(), m.group(1)) for m in vocab.regex["reported_cues"].finditer(text)]
    assert [(m.start(), m.group(1)) for m in _StanceFinder(text, [], vocab)._cues()] == expected


_TARGET_OPTIONAL_FIELDS = ["value", "value_max", "unit", "comparator", "period", "period_years", "deadline_date"]
_TARGET_OPTIONAL_FIELDS += ["metric", "deadline_recurring", "deadline_month", "deadline_day"]


@settings(max_examples=200, deadline=None)
@given(
    span=st.tuples(st.integers(0, 12), st.integers(0, 12)),
    kind=st.sampled_from(["count", "deadline", "frequency", "share"]),
    fields=st.dictionaries(
        st.sampled_from(_TARGET_OPTIONAL_FIELDS),
        st.one_of(st.none(), st.integers(0, 12), st.text(max_size=3), st.booleans()),
    ),
)
def test_made_targets_are_the_dataclass_built_by_its_constructor(span, kind, fields) -> None:
    import dataclasses

    from analysis.annotate.targets import _Finder

    raw = "到2025年全市PM2.5浓度降至35"
    start, end = sorted(span)
    made = _Finder(raw, None, load_vocabulary()).make(start, end, kind, **fields)
    defaults = {"value": None, "value_max": None, "unit": None, "comparator": None, "period": None}
    defaults |= {"period_years": None, "deadline_date": None, "deadline_recurring": False, "metric": None}
    built = Target(text=raw[start:end], start=start, end=end, type=kind, **(defaults | fields))
    assert type(made) is Target and made == built and hash(made) == hash(built) and repr(made) == repr(built)
    assert list(vars(made).items()) == list(vars(built).items())  # the row columns come from vars, in order
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.value = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        _Finder(raw, None, load_vocabulary()).make(start, end, kind, colour="red")


@pytest.mark.parametrize(
    ("pattern", "body"),
    [
        (r"(?<!阶段)(?<!阶段\()(?<!阶段:)\d{4}年", r"\d{4}年"),
        (r"(?<=[”\"》])[一二]{1,2}(?:件|个)", r"[一二]{1,2}(?:件|个)"),
        (r"(?<![])(])x|y", "x|y"),
        (r"(?=[\]a])\w+", r"\w+"),
        (r"\d{4}(?<!0000)年", None),  # opens with no lookaround
        (r"(?<!阶段)", None),  # nothing after it
        (r"(?<!(?:阶|段))\d", None),  # a group inside the lookaround
    ],
)
def test_body_anchor_strips_the_opening_lookarounds(pattern: str, body: str | None) -> None:
    from analysis.core.text import body_anchor

    found = body_anchor(re.compile(pattern))
    assert (found.pattern if found else None) == body
