"""Structure on the layout families real captures show (texts written for these tests).

Each test is one family of issue 11 / issue 15: flattened PDF text, flattened
task tables, partial captures, Q&A pages, enumerations inside a task, damaged
numbering, long numbering.  The texts are invented plans of the genre.
"""

from __future__ import annotations

import pytest

from analysis.core.models import KIND_TASK
from analysis.parse.pipeline import parse_decoded
from analysis.parse.read import DecodedText
from analysis.parse.structure import has_task_table, heading_parents, lost_line_breaks, parse_structure, table_cells


def keys(text: str) -> list[tuple[int, str]]:
    return [(h.level, h.number_key) for h in parse_structure(text)]


def paths_of(text: str) -> list[str]:
    """Task paths after the whole text pipeline (clean, repair, structure, tasks)."""
    doc = parse_decoded(DecodedText(text, "utf-8", "txt"), doc_id="t", source_path="t.txt")
    return [unit.path for unit in doc.items if unit.kind == KIND_TASK]


def parsed(text: str):
    return parse_decoded(DecodedText(text, "utf-8", "txt"), doc_id="t", source_path="t.txt")


# --------------------------------------------------------------------------- flattened PDF text

FLATTENED_PLAN = (
    "青山市人民政府办公室 关于印发青山市 2022 年法治政府建设 工作要点的通知 各县(区)人民政府,市政府各部门: "
    "《青山市 2022 年法治政府建设工作要点》已经市政府同意, 现印发给你们,请认真贯彻执行。 青山市人民政府办公室 "
    "2022 年 3 月 8 日 青山市 2022 年法治政府建设工作要点 为全面推进依法行政,加快建设法治 政府,结合我市实际,"
    "制定本工作要点。 一、加强党对法治政府建设的领导 1.认真学习贯彻习近平法治思想,将其纳入各级 政府常务会议"
    "学习内容。〔牵头单位:市司法局;责任单位:市政府各部门〕 2.落实党政主要负责人履行推进法治建设第一责任人 职责,"
    "年底前开展一次述法。〔牵头单位:市委组织部〕 二、深化行政执法体制改革 3.推进综合行政执法改革,整合 执法队伍。"
    "〔牵头单位:市委编办、市司法局〕 4.全面推行行政执法三项制度。〔牵头单 位:市司法局〕"
)


def test_flattened_pdf_line_is_split_into_sections_and_items():
    assert keys(FLATTENED_PLAN) == [(1, "一"), (3, "1"), (3, "2"), (1, "二"), (3, "3"), (3, "4")]
    assert paths_of(FLATTENED_PLAN) == ["一/1", "一/2", "二/3", "二/4"]


def test_flattened_items_keep_their_assignment_brackets_and_lose_wrap_spaces():
    doc = parsed(FLATTENED_PLAN)
    last = doc.tasks[-1]
    assert last.text == "全面推行行政执法三项制度。〔牵头单位:市司法局〕"
    assert doc.tasks[0].text.startswith("认真学习贯彻习近平法治思想,将其纳入各级政府常务会议学习内容。")
    assert any(r.kind == "line_wrap_space" for r in doc.repairs)


def test_spaced_numbers_in_a_flattened_line_are_not_items():
    # "2022 年", "3 月" and "100 周年" carry a space before the unit but are no item numbers.
    headings = parse_structure(FLATTENED_PLAN)
    assert all(h.number_key not in {"2022", "3 "} for h in headings)
    assert [h.number for h in headings if h.level == 3] == ["1.", "2.", "3.", "4."]


def test_text_that_lost_every_line_break_is_still_split_and_reported():
    lines = [
        "某县2021年依法行政工作计划",
        "为全面推进依法行政,加快建设法治政府,根据上级部署和年度工作要求,结合本县实际,制定本计划。",
        "一、主要任务",
        "(一)推进政务公开。建立公开清单,按季度更新目录。",
        "(二)规范行政执法。落实三项制度,开展案卷评查。",
        "(三)加强复议应诉。提高办案质量,落实负责人出庭。",
        "二、保障措施",
        "(一)加强组织领导。各单位主要负责人要亲自部署。",
        "(二)强化督促检查。年底前开展一次专项督查,督查结果纳入年度绩效考核。",
    ]
    run_together = "".join(lines)
    assert len(run_together) >= 200  # one long line, as a capture that lost its breaks
    assert keys(run_together) == [(1, "一"), (2, "(一)"), (2, "(二)"), (2, "(三)"), (1, "二"), (2, "(一)"), (2, "(二)")]
    doc = parsed(run_together)
    assert [t.path for t in doc.tasks] == ["一/(一)", "一/(二)", "一/(三)", "二/(一)", "二/(二)"]
    assert any("line breaks" in p["problem"] for p in doc.problems)


# --------------------------------------------------------------------------- flattened task tables

PIPE_TABLE = (
    "附件\n"
    "序号 | 工作任务 | 具体要求 | 责任单位 | 完成时限 |\n"
    "一、推进政务公开。 | (一)做好规划信息公开。 | 1 | 公开本级发展规划及其解读材料。 | 市发展改革委 | 6月底前 |\n"
    "2 | 建立规划公开专栏,集中发布各类规划。 | 市政府办公室 | 持续推进 | |\n"
    "(二)做好财政信息公开。 | 3 | 公开预算决算及三公经费。 | 市财政局 | 年底前 |\n"
    "二、强化政策解读。 | 4.对重大政策开展图文解读。 | 各有关部门 | 年底前 |\n"
)


def test_pipe_table_rows_are_tasks_and_grouping_cells_are_headings():
    assert has_task_table(PIPE_TABLE)
    assert keys(PIPE_TABLE) == [(1, "一"), (2, "(一)"), (3, "1"), (3, "2"), (2, "(二)"), (3, "3"), (1, "二"), (3, "4")]
    assert paths_of(PIPE_TABLE) == ["一/(一)/1", "一/(一)/2", "一/(二)/3", "二/4"]


def test_table_row_text_keeps_its_cells():
    doc = parsed(PIPE_TABLE)
    first = doc.tasks[0]
    assert first.text.startswith("公开本级发展规划及其解读材料。")
    assert table_cells(first.text) == ["公开本级发展规划及其解读材料。", "市发展改革委", "6月底前"]
    assert table_cells(doc.tasks[1].text) == ["建立规划公开专栏,集中发布各类规划。", "市政府办公室", "持续推进"]


CELL_PER_LINE_TABLE = (
    "2021年政务公开重点工作任务分工\n\n"
    "工作任务\n\n具体要求\n\n责任单位\n\n时限要求\n\n"
    "一、深化重点领域信息公开\n\n"
    "(一)做好规划公开\n\n"
    "1\n\n    公开本地区国民经济和社会发展规划纲要及专项规划\n\n规划科\n\n年底前\n\n"
    "2\n\n    在门户网站设立规划专题,集中展示各类规划。\n\n办公室、信息中心\n\n年底前\n\n"
    "(二)做好财政公开\n\n"
    "3\n\n    公开部门预算决算。\n\n财务科\n\n8月底前\n"
)


def test_table_with_one_cell_per_line():
    assert keys(CELL_PER_LINE_TABLE) == [(1, "一"), (2, "(一)"), (3, "1"), (3, "2"), (2, "(二)"), (3, "3")]
    doc = parsed(CELL_PER_LINE_TABLE)
    assert [t.path for t in doc.tasks] == ["一/(一)/1", "一/(一)/2", "一/(二)/3"]
    assert table_cells(doc.tasks[1].text) == ["在门户网站设立规划专题,集中展示各类规划。", "办公室、信息中心", "年底前"]


BAR_LINE_TABLE = "\n|\n".join(
    [
        "工作任务",
        "具体要求",
        "责任单位",
        "一、围绕发展大局抓好公开",
        "(一)以公开促进项目建设",
        "1",
        "做好重点项目批准和实施信息公开。",
        "县发改委、县住建局",
        "2",
        "做好招商引资政策信息公开。",
        "县商务局",
        "(二)以公开保障民生",
        "3",
        "做好教育、医疗领域信息公开。",
        "县教育局,县卫健委",
    ]
)


def test_table_with_bars_on_lines_of_their_own():
    assert paths_of(BAR_LINE_TABLE) == ["一/(一)/1", "一/(一)/2", "一/(二)/3"]
    doc = parsed(BAR_LINE_TABLE)
    assert doc.tasks[0].text.startswith("做好重点项目批准和实施信息公开。")
    assert table_cells(doc.tasks[0].text) == ["做好重点项目批准和实施信息公开。", "县发改委、县住建局"]


def test_lone_numbers_outside_a_table_are_not_rows():
    text = "一、任务\n1.规范执法。\n\n2\n\n页码之后的正文。\n2.强化监督。\n"
    assert not has_task_table(text)
    assert keys(text) == [(1, "一"), (3, "1"), (3, "2")]
    assert parse_structure(text)[-1].title == "强化监督"


def test_a_date_alone_on_a_line_of_a_table_page_is_not_a_row():
    text = "工作任务\n责任单位\n2021910\n一、公开\n1\n公开规划。\n规划科\n"
    assert keys(text) == [(1, "一"), (3, "1")]


# --------------------------------------------------------------------------- partial captures


def test_capture_starting_inside_a_section():
    text = (
        "(上接第二版)\n"
        "(四)加强行政复议工作\n"
        "12.畅通复议渠道。完善受理机制。\n"
        "13.提高办案质量。\n"
        "五、强化监督\n"
        "(一)自觉接受监督\n"
        "14.认真办理建议提案。\n"
    )
    assert keys(text) == [(2, "(四)"), (3, "12"), (3, "13"), (1, "五"), (2, "(一)"), (3, "14")]
    assert paths_of(text) == ["(四)/12", "(四)/13", "五/(一)/14"]


def test_capture_opening_with_a_late_section_number():
    text = "(七)推进应急管理法治化。各部门要修订应急预案。\n(八)加强基层治理。建立网格。\n"
    assert keys(text) == [(2, "(七)"), (2, "(八)")]


def test_late_first_number_needs_confirmation_or_the_opening():
    # A stray "38、" deep in a body, not followed by 39, is no item.
    text = "一、任务\n1.完善制度。\n说明。\n\n\n其他事项见下。\n38、本条不是条目\n2.加强培训。\n"
    assert keys(text) == [(1, "一"), (3, "1"), (3, "2")]


def test_repeated_heading_number_starts_a_new_section():
    text = "一、基本情况\n(一)报备情况\n全年报备12件。\n二、主要成效\n(一)制度完善\n修订办法。\n二、下一步工作\n继续加强审查。\n"
    assert keys(text) == [(1, "一"), (2, "(一)"), (1, "二"), (2, "(一)"), (1, "二")]
    assert paths_of(text) == ["一/(一)", "二/(一)", "二"]


def test_question_and_answer_page():
    text = (
        "问:这项方案出台的背景是什么?\n"
        "答:为落实上级部署,我县制定了方案。\n"
        "问:方案有哪些主要措施?\n"
        "答:(一)提升执法人员素质\n"
        "(二)规范执法行为\n"
        "(三)强化执法监督\n"
        "问:有哪些保障措施?\n"
        "答:(一)加强组织领导。各部门要明确分工。\n"
        "(二)强化督促检查。\n"
    )
    assert [key for _, key in keys(text)] == ["(一)", "(二)", "(三)", "(一)", "(二)"]
    doc = parsed(text)
    assert [t.text.split("\n")[0] for t in doc.tasks][:3] == ["提升执法人员素质", "规范执法行为", "强化执法监督"]


def test_report_section_holding_a_statistics_table_is_a_task():
    text = (
        "一、案件办理情况\n2023年共受理复议案件85件,同比增长12%。\n"
        "二、案件类型\n申请事项 | 行政处罚 | 信息公开 | 行政强制\n件数 | 40 | 25 | 20\n"
        "三、下一步工作\n继续规范办案。\n"
    )
    assert paths_of(text) == ["一", "二", "三"]


def test_capture_ending_inside_a_task_keeps_the_cut_item():
    text = "一、任务\n1.健全制度。完善清单。\n2.加快完"
    assert paths_of(text) == ["一/1", "一/2"]
    assert "cut_off" in parsed(text).tasks[-1].flags


# --------------------------------------------------------------------------- run-in headings and enumerations


def test_item_title_followed_by_its_first_subitem_on_the_same_line():
    text = "一、减少审批\n1.深化商事制度改革。(1)推行多证合一。整合证照。(2)推行全程电子化。(3)放开名称登记。\n2.清理中介服务。\n"
    assert keys(text) == [(1, "一"), (3, "1"), (4, "(1)"), (4, "(2)"), (4, "(3)"), (3, "2")]
    assert paths_of(text) == ["一/1/(1)", "一/1/(2)", "一/1/(3)", "一/2"]


def test_enumerations_inside_a_task_stay_inside_it():
    text = (
        "一、主要任务\n"
        "1.加强队伍建设。一是开展业务培训,二是组织旁听庭审,三是落实持证上岗。\n"
        "2.强化监督。第一,公开执法信息;第二,开展案卷评查。其一、其二均需落实。\n"
    )
    assert keys(text) == [(1, "一"), (3, "1"), (3, "2")]
    assert "三是落实持证上岗" in parsed(text).tasks[0].text


# --------------------------------------------------------------------------- long numbering


def test_item_numbers_past_999_follow_on():
    items = "".join(f"{n}.第{n}项任务内容。\n" for n in range(995, 1003))
    text = "一、任务清单\n" + items
    headings = parse_structure(text)
    assert [h.number_key for h in headings[1:]] == [str(n) for n in range(995, 1003)]
    parents = heading_parents(headings)
    assert all(parents[i] == 0 for i in range(1, len(headings)))


def test_chinese_section_numbers_past_one_hundred():
    sections = "".join(f"{n}、第{n}部分内容。\n" for n in ["九十九", "一百", "一百零一"])
    assert [k for _, k in keys("九十八、前文。\n" + sections)] == ["九十八", "九十九", "一百", "一百零一"]


@pytest.mark.parametrize("year_line", ["2021 年工作总体安排如下。", "3 月底前完成。"])
def test_a_spaced_out_date_at_a_line_start_is_no_item(year_line):
    text = f"一、任务\n1.完成清理。\n{year_line}\n2.加强培训。\n"
    assert keys(text) == [(1, "一"), (3, "1"), (3, "2")]


def test_tab_separated_table_and_numbers_with_their_own_cell():
    text = (
        "序号\t工作任务\t责任单位\t完成时限\n"
        "一、规范执法\n"
        "1\t推行执法公示制度。\t县司法局\t6月底前\n"
        "2\t开展执法案卷评查。\t县司法局、各执法部门\t年底前\n"
        "二、强化监督\n"
        "3. | 办理人大代表建议。 | 县政府办公室 | 持续推进 |\n"
    )
    assert paths_of(text) == ["一/1", "一/2", "二/3"]
    doc = parsed(text)
    assert table_cells(doc.tasks[0].text) == ["推行执法公示制度。", "县司法局", "6月底前"]
    assert doc.tasks[2].text.startswith("办理人大代表建议。")


def test_bracketed_reference_inside_a_long_paragraph_is_no_heading():
    paragraph = "依照条例第十条(三)项规定," + "各部门应当依法公开行政执法信息,接受社会监督," * 10 + "并按要求报送。"
    text = f"一、任务\n(一)公开执法信息\n(二)规范执法程序。{paragraph}\n(三)加强监督。\n"
    assert [k for _, k in keys(text)] == ["一", "(一)", "(二)", "(三)"]
    assert parse_structure(text)[2].span[1] > text.index("并按要求报送")


def test_first_lost_number_is_still_recovered_when_numbering_follows():
    text = "二、主要任务\n规范行政执法\n内容一。\n(二)加强复议\n内容二。\n(三)强化监督\n内容三。\n"
    headings = parse_structure(text)
    assert [(h.number_key, h.inferred) for h in headings] == [
        ("二", False),
        ("(一)", True),
        ("(二)", False),
        ("(三)", False),
    ]


def test_a_plan_and_the_same_plan_without_line_breaks_give_the_same_tasks():
    plan = "\n".join(
        [
            "某区2022年法治政府建设工作要点",
            "为推进依法行政,结合我区实际,制定本要点。",
            "一、总体要求",
            "坚持以习近平法治思想为指导,全面推进依法行政,提高治理能力和水平,为全区发展提供法治保障。",
            "二、重点工作",
            "(一)规范行政执法",
            "1.推行执法公示制度。按季度公开执法信息",
            "2.开展案卷评查。评查结果纳入考核,合格率达到100%",
            "3.加强执法培训。组织全员轮训",
            "(二)强化复议应诉",
            "4.提高复议质量。按期办结率达到95%",
            "5.落实出庭应诉制度。负责人出庭应诉率不低于90%",
            "某区人民政府办公室",
        ]
    )
    expected = ["二/(一)/1", "二/(一)/2", "二/(一)/3", "二/(二)/4", "二/(二)/5"]  # 一、总体要求 is framing
    assert paths_of(plan) == expected
    spaced, glued = plan.replace("\n", " "), plan.replace("\n", "")
    assert paths_of(spaced) == expected
    # Glued to its text, the title 总体要求 is no longer recognisable: 一 becomes a task, the rest stays.
    assert paths_of(glued) == ["一", *expected]
    for joined in (spaced, glued):
        assert any("line breaks" in p["problem"] for p in parsed(joined).problems)


def test_furniture_words_inside_a_run_together_document_do_not_delete_it():
    body = "一、主要任务" + "".join(
        f"({n})第{n}项任务。各单位要明确责任分工,细化工作措施,落实到位,按期完成各项工作。" for n in "一二三四五六七八"
    )
    assert len(body) > 300
    text = "设为首页 加入收藏 网站地图 联系我们" + body + "浏览次数:12 版权所有"
    assert len(parsed(text).tasks) == 8


def test_enumeration_comma_inside_run_together_text_is_no_section():
    text = (
        "某县依法行政工作方案为推进依法行政,坚持统一、规范、高效的原则,结合本县实际,制定本方案。"
        "加强执法队伍建设,开展统一、集中的业务培训,持续提升执法人员素质和执法水平,确保各项工作落到实处。"
        * 2
        + "二、保障措施 (一)加强领导。明确分工。(二)强化督查。年底前开展专项督查。"
    )
    assert lost_line_breaks(text)
    assert "一" not in [k for _, k in keys(text)]


def test_table_header_cells_with_a_bracketed_note_and_other_columns():
    text = "序号 | 工作任务 | 牵头单位(部门) | 完成期限 | 备注\n1 | 公开执法信息。 | 县司法局 | 年底前 | \n2 | 开展案卷评查。 | 县司法局 | 持续推进 | \n"
    assert has_task_table(text)
    assert paths_of(text) == ["1", "2"]
    assert not has_task_table("责任单位:县司法局\n完成时限:年底前\n")
