"""Tasks stage: tasks vs framing, titles, measures and unit clauses, spans."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.text import AlignedText
from analysis.parse.structure import parse_structure
from analysis.parse.tasks import extract_tasks, is_framing_title, split_measures


def units_of(text: str, doc_id: str = "doc"):
    return extract_tasks(doc_id, AlignedText.identity(text), parse_structure(text))


PLAN = (
    "某县2019年法治政府建设工作要点\n"
    "一、总体要求\n"
    "(一)指导思想\n深入贯彻落实党的十九大精神。\n"
    "(二)工作目标\n到2020年基本建成法治政府。\n"
    "二、重点任务\n"
    "(一)依法履行政府职能\n"
    "1.深化审批改革。清理审批事项,压减办理时限。推行网上审批(牵头单位:县政务服务中心)。"
    "清理中介服务(牵头单位:县编办)。建立目录(牵头单位:县人社局)。\n"
    "2.推进政务公开。公开预决算信息。\n责任单位:县财政局、县政府办\n"
    "(二)加强组织领导\n县政府每年向县委报告法治政府建设情况。\n"
    "三、保障措施\n"
    "(一)加强宣传。营造氛围。\n"
)


def test_tasks_and_framing_units():
    units = units_of(PLAN)
    kinds = [(u.kind, u.path, u.title) for u in units]
    assert kinds == [
        ("framing", "一/(一)", "指导思想"),
        ("framing", "一/(二)", "工作目标"),
        ("task", "二/(一)/1", "深化审批改革"),
        ("task", "二/(一)/2", "推进政务公开"),
        ("task", "二/(二)", "加强组织领导"),
        ("task", "三/(一)", "加强宣传"),
    ]
    assert [u.task_id for u in units] == ["doc-F01", "doc-F02", "doc-T001", "doc-T002", "doc-T003", "doc-T004"]
    assert units[2].headings == ["重点任务", "依法履行政府职能"]


def test_framing_part_whose_children_are_not_framing_titles_is_one_unit():
    text = "一、基本原则\n(一)坚持党的领导。加强领导。\n(二)坚持问题导向。补短板。\n二、主要任务\n(一)强化执法。严格执法。\n"
    units = units_of(text)
    assert [(u.kind, u.path) for u in units] == [("framing", "一"), ("task", "二/(一)")]
    assert "坚持问题导向" in units[0].text


def test_framing_titles_are_data_driven():
    assert is_framing_title("指导思想")
    assert is_framing_title("总体目标和要求")
    assert not is_framing_title("工作要求")
    assert not is_framing_title("依法全面履行政府职能")


def test_assignment_clause_covers_measures_since_the_previous_one():
    task = units_of(PLAN)[2]
    assert [m.text for m in task.measures] == [
        "清理审批事项,压减办理时限。",
        "推行网上审批(牵头单位:县政务服务中心)。",
        "清理中介服务(牵头单位:县编办)。",
        "建立目录(牵头单位:县人社局)。",
    ]
    assert [m.units_raw for m in task.measures] == [
        ["牵头单位:县政务服务中心"],
        ["牵头单位:县政务服务中心"],
        ["牵头单位:县编办"],
        ["牵头单位:县人社局"],
    ]


def test_responsibility_line_of_its_own_covers_the_task():
    task = units_of(PLAN)[3]
    assert [m.text for m in task.measures] == ["公开预决算信息。"]
    assert task.measures[0].units_raw == ["责任单位:县财政局、县政府办"]


def test_clause_after_the_sentence_end_joins_the_previous_measure():
    text = "1.保障经费。要保障执法经费。(牵头单位:县财政局)。依法处理违法行为(牵头单位:县公安局)。"
    measures = split_measures(text, text.index("要保障"), len(text))
    assert [(text[s:e], units) for s, e, units in measures] == [
        ("要保障执法经费。(牵头单位:县财政局)。", ["牵头单位:县财政局"]),
        ("依法处理违法行为(牵头单位:县公安局)。", ["牵头单位:县公安局"]),
    ]


def test_fullwidth_brackets_and_colon_and_inline_lead():
    text = "2.推进公开。公开信息。【责任单位：县政府办】完善平台(县数据局牵头)。"
    measures = split_measures(text, text.index("公开信息"), len(text))
    assert [units for _, _, units in measures] == [["责任单位：县政府办"], ["县数据局牵头"]]


def test_parenthetical_that_is_not_an_assignment_is_kept_as_text():
    text = "1.贯彻方案。落实《方案》(以下简称《方案》)精神。"
    start = text.index("落实")
    assert split_measures(text, start, len(text)) == [(start, len(text), [])]


def test_no_units_is_not_assigned_not_an_error():
    task = units_of("一、任务\n1.加强学法。每年举办两次讲座。\n")[0]
    assert [m.units_raw for m in task.measures] == [[]]


def test_spans_round_trip_into_clean_and_original_text():
    units = units_of(PLAN)
    for unit in units:
        assert PLAN[unit.span[0] : unit.span[1]] == unit.text
        assert PLAN[unit.raw_span[0] : unit.raw_span[1]] == unit.text
        for measure in unit.measures:
            assert PLAN[measure.span[0] : measure.span[1]] == measure.text


def test_cut_off_capture_is_flagged():
    units = units_of("一、任务\n1.加强学法。每年举办两次讲座。\n2.规范执法。严格落实行政执法公示制")
    assert units[-1].flags == ["cut_off"]
    assert units[0].flags == []


def test_inferred_heading_is_flagged_on_its_tasks():
    text = "一、工作\n(一)甲\n1.一项。\n(二)乙\n2.二项。\n发挥法律顾问作用\n3.三项。\n(四)丁\n4.四项。\n"
    units = units_of(text)
    assert [(u.path, u.flags) for u in units] == [
        ("一/(一)/1", []),
        ("一/(二)/2", []),
        ("一/(三)/3", ["number_inferred"]),
        ("一/(四)/4", []),
    ]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("一二、()1234.。(牵头单位:市局)责任单位:\n 甲乙指导思想")), max_size=300))
def test_units_never_crash_and_spans_round_trip(text):
    for unit in units_of(text):
        assert text[unit.span[0] : unit.span[1]] == unit.text
        for measure in unit.measures:
            assert text[measure.span[0] : measure.span[1]] == measure.text
            assert unit.span[0] <= measure.span[0] <= measure.span[1] <= unit.span[1]
