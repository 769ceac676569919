"""Tasks stage: tasks vs framing, titles, measures and unit clauses, spans."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
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


# --------------------------------------------------------------------------- assignment clauses in real layouts


def clauses_of(text: str, start_word: str) -> list[list[str]]:
    return [units for _, _, units in split_measures(text, text.index(start_word), len(text))]


def test_clause_with_nested_brackets():
    text = "1.优化职能。推进机构改革。〔责任单位:各县(市、区)交通运输局、局属各单位、法规科〕\n2.下一项。"
    end = text.index("\n2.")
    measures = split_measures(text, text.index("推进"), end)
    assert [units for _, _, units in measures] == [["责任单位:各县(市、区)交通运输局、局属各单位、法规科"]]


def test_unlabelled_clause_with_nested_brackets_and_trailing_verb():
    text = "1.推进均衡发展。完成基础设施建设。(县数据局、各乡(镇)政府牵头)"
    assert clauses_of(text, "完成") == [["县数据局、各乡(镇)政府牵头"]]


def test_lead_and_responsible_in_one_bracket_with_either_separator():
    text = "3.规范备案。编制备案事项清单。(牵头单位:县政府办公室;责任单位:县司法局等有关部门)"
    assert clauses_of(text, "编制") == [["牵头单位:县政府办公室;责任单位:县司法局等有关部门"]]


def test_bracket_left_open_by_the_end_of_the_capture_is_a_clause():
    text = "5.深化投资审批改革。简化报建手续。(牵头单位:县审批局、县发改局;责任单位:县"
    assert clauses_of(text, "简化") == [["牵头单位:县审批局、县发改局;责任单位:县"]]
    # Left open in the middle of a text, a bracket is just text.
    text2 = text + "\n6.下一项任务。"
    measures = split_measures(text2, text2.index("简化"), text2.index("\n6."))
    assert [units for _, _, units in measures] == [[]]


def test_two_clause_lines_after_the_task_cover_the_same_sentences():
    text = "1.落实权力清单。建立配套制度。强化执行。\n  牵头单位:县政府办、县编办\n  配合单位:县直各部门\n"
    assert clauses_of(text, "建立") == [
        ["牵头单位:县政府办、县编办", "配合单位:县直各部门"],
        ["牵头单位:县政府办、县编办", "配合单位:县直各部门"],
    ]


def test_two_bracket_clauses_in_one_sentence_both_count():
    text = "1.加强审计。开展专项审计(牵头单位:县审计局)(配合单位:县财政局)。"
    assert clauses_of(text, "开展") == [["牵头单位:县审计局", "配合单位:县财政局"]]


def test_role_lines_of_a_task_decomposition():
    text = (
        "1. 地区生产总值增长7%以上。\n\n牵头负责领导:张某某。\n\n牵头责任单位:县发改委。\n\n"
        "协同责任单位:县经信局、县商务局等,各乡、镇政府。\n\n2. 下一项。"
    )
    task = units_of(text)[0]
    clauses = [c for m in task.measures for c in m.units_raw]
    assert "牵头负责领导:张某某。" not in clauses  # a person, not a unit assignment
    assert task.measures[0].units_raw == ["牵头责任单位:县发改委。", "协同责任单位:县经信局、县商务局等,各乡、镇政府。"]


def test_labels_split_by_line_wrap_spaces_in_flattened_pdf_text():
    text = "1.加强学习。将学习纳入培训内容。 〔牵头单 位:县政府办公室、县司法 局;责任单位:县 政府各部门〕 2.下一项。"
    measures = split_measures(text, text.index("将学习"), text.index(" 2.下一项"))
    assert measures[0][2] == ["牵头单 位:县政府办公室、县司法 局;责任单位:县 政府各部门"]


def test_deadline_line_is_not_a_unit_clause():
    text = "(一)推进PPP规范运行。加强项目监管。\n责任单位:区发改局、区财政局(第一责任单位为牵头单位,下同)\n时限要求:持续推进\n"
    clauses = [c for _, _, units in split_measures(text, text.index("加强"), len(text)) for c in units]
    assert set(clauses) == {"责任单位:区发改局、区财政局(第一责任单位为牵头单位,下同)"}


# --------------------------------------------------------------------------- flattened tables


PIPE_TABLE = (
    "某县2022年政务公开工作任务分解表\n"
    "序号 | 工作任务 | 责任单位 | 完成时限 |\n"
    "1.推进决策公开,公布重大行政决策事项目录。 | 县司法局、县政府办公室 | 6月底前 |\n"
    "2.加强政策解读,主要负责同志带头解读。 | 县政府办公室牵头,各乡镇、街道配合 | |\n"
    "3.优化政务服务,推进一网通办。 | 县数据局 | 持续推进 |\n"
)

LINE_TABLE = (
    "某县2023年政务公开重点任务\n\n工作任务\n\n具体要求\n\n牵头单位\n\n完成时限\n\n"
    "1.做好规划公开\n\n公开本县国民经济和社会发展规划纲要及各专项规划。\n\n县发改局\n\n年底前\n\n"
    "2.做好财政信息公开\n\n公开部门预算、决算及相关报表。\n\n县财政局、各乡镇\n\n9月底前\n"
)


def test_table_header_is_found_in_either_layout():
    from analysis.parse.tasks import find_table_headers

    (pipe,) = find_table_headers(PIPE_TABLE)
    assert pipe.trailing == (("责任单位", "units"), ("完成时限", "deadline"))
    (lines,) = find_table_headers(LINE_TABLE)
    assert lines.trailing == (("牵头单位", "units"), ("完成时限", "deadline"))


def test_pipe_table_rows_take_units_from_their_cells():
    tasks = units_of(PIPE_TABLE)
    assert [t.path for t in tasks] == ["1", "2", "3"]
    assert [t.measures[0].units_raw for t in tasks] == [
        ["责任单位:县司法局、县政府办公室"],
        ["责任单位:县政府办公室牵头,各乡镇、街道配合"],
        ["责任单位:县数据局"],
    ]
    # The unit and deadline cells are not sentences of the task.
    assert all("县数据局" not in m.text and "持续推进" not in m.text for m in tasks[2].measures)


def test_one_cell_per_line_table_rows():
    tasks = units_of(LINE_TABLE)
    assert [t.measures[-1].units_raw for t in tasks] == [["牵头单位:县发改局"], ["牵头单位:县财政局、各乡镇"]]
    assert [m.text for m in tasks[1].measures] == ["公开部门预算、决算及相关报表。"]


def test_row_cut_before_its_cells_takes_no_units():
    from analysis.parse.tasks import find_table_headers, table_row

    text = LINE_TABLE + "\n3.做好政策解读\n\n围绕重大政策及时发布解读材料,回应社会关切"
    header = find_table_headers(text)[0]
    start = text.index("做好政策解读")
    assert table_row(text, start, len(text), header) is None  # title and text only: no unit cell yet
    # Only the unit cell came through: it is matched from the start of the row.
    cut = text + "。\n\n县政府办公室"
    (_content, cells) = table_row(cut, start, len(cut), header)
    assert [(term, kind, cut[s:e]) for term, kind, (s, e) in cells] == [("牵头单位", "units", "县政府办公室")]


@pytest.mark.parametrize(
    "bracketed, clause",
    [
        ("【责任单位:县司法局】", "责任单位:县司法局"),
        ("[牵头单位:县司法局;配合单位:县财政局]", "牵头单位:县司法局;配合单位:县财政局"),
        ("（牵头单位：县司法局，完成时限：2022年6月底前）", "牵头单位：县司法局，完成时限：2022年6月底前"),
        ("(县司法局牵头,县财政局等部门参与)", "县司法局牵头,县财政局等部门参与"),
        ("(县司法局负责,各乡镇配合实施)", "县司法局负责,各乡镇配合实施"),
    ],
)
def test_every_bracket_form_holds_a_clause(bracketed, clause):
    text = "1.规范执法。推行执法公示制度。" + bracketed + "\n2.下一项。"
    measures = split_measures(text, text.index("推行"), text.index("\n2."))
    assert [units for _, _, units in measures] == [[clause]]


def test_aside_in_brackets_is_not_a_clause():
    text = "1.规范执法。推行行政执法公示制度(以下简称三项制度),全面落实。\n"
    assert clauses_of(text, "推行") == [[]]


def test_grouping_cell_and_its_one_row_in_one_item():
    from analysis.parse.tasks import find_table_headers, table_row

    text = "工作任务 | 具体要求 | 责任部门 |\n一、做好财政公开。 | 1.公开本单位预算决算。 | 财务股 |\n"
    header = find_table_headers(text)[0]
    start = text.index("做好")
    _, cells = table_row(text, start, len(text), header)
    assert [text[s:e] for _, _, (s, e) in cells] == ["财务股"]
    two_rows = text + "2.更新网站栏目。 | 办公室 |\n"
    assert table_row(two_rows, start, len(two_rows), header) is None


# Fast paths against the definitions they replace.  The alphabet holds every bracket, both
# colons, sentence ends, role words and plain characters, so spans with and without a mark occur.
_CLAUSE_ALPHABET = st.sampled_from(
    [
        *"()（）[]【】〔〕［］:：。;!?\n 、,，市县局办aZ09",
        *("牵头单位", "责任单位", "牵头", "负责", "配合", "落实", "单位", "部门", "推进工作"),
    ]
)
_BRACKETED = st.tuples(
    st.sampled_from(list("(（[【〔［")),
    st.sampled_from(["", "市局", "市局、县办", "牵头单位:市局", "责任单位："]),
    st.sampled_from(["", "牵头", "负责落实", "配合"]),
    st.sampled_from([*"()）]】〕］", ""]),
).map("".join)
_CLAUSE_TEXTS = st.lists(st.one_of(_CLAUSE_ALPHABET, _BRACKETED), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(_CLAUSE_TEXTS, st.data())
def test_find_clauses_screen_changes_no_answer(text, data):
    from analysis.parse.tasks import _find_marked_clauses, find_clauses

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert find_clauses(text, start, end) == _find_marked_clauses(text, start, end)


def _has_content_by_definition(sentence: str) -> bool:
    import re

    from analysis.parse.tasks import _find_marked_clauses

    kept, cursor = [], 0
    for clause in _find_marked_clauses(sentence, 0, len(sentence)):
        kept.append(sentence[cursor : clause.start])
        cursor = clause.end
    kept.append(sentence[cursor:])
    return re.search(r"[\u4e00-\u9fffA-Za-z0-9]", "".join(kept)) is not None


@settings(max_examples=400, deadline=None)
@given(_CLAUSE_TEXTS)
def test_has_content_matches_its_definition(sentence):
    from analysis.parse.tasks import _has_content

    assert _has_content(sentence) == _has_content_by_definition(sentence)


@settings(max_examples=400, deadline=None)
@given(_CLAUSE_TEXTS, _CLAUSE_TEXTS, _CLAUSE_TEXTS)
def test_has_content_in_a_span_as_in_its_slice(before, sentence, after):
    from analysis.parse.tasks import _has_content_in

    text = before + sentence + after
    assert _has_content_in(text, len(before), len(before) + len(sentence)) == _has_content_by_definition(sentence)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*"。!?！？\n甲,", "。\n", "\n\n"]), max_size=20).map("".join), st.data())
def test_sentence_end_search_as_the_definition(text, data):
    from analysis.parse.tasks import _SENTENCE_END_FAST, SENTENCE_END

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    fast, slow = _SENTENCE_END_FAST.search(text, start, end), SENTENCE_END.search(text, start, end)
    assert (fast and fast.span()) == (slow and slow.span())


def _header_pieces() -> list[str]:
    from analysis.parse.tasks import table_columns

    terms = sorted(table_columns())[::3]
    return [*terms, *(t[:1] + " " + t[1:] for t in terms[:5]), *"|\n \t\u3000\xa0甲:", "| ", "\n|"]


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_header_cells_as_the_cell_pattern_finds_them(data):
    from analysis.parse.tasks import _header_cell_pattern, _header_cells

    text = "".join(data.draw(st.lists(st.sampled_from(_header_pieces()), max_size=16)))
    expected = [(m.start(), m.end(), m.group("term")) for m in _header_cell_pattern().finditer(text)]
    assert [(c.start, c.end, c.term) for c in _header_cells(text)] == expected


def _split_measures_by_definition(text: str, start: int, end: int) -> list[tuple[int, int, list[str]]]:
    """split_measures as first written: a fresh sentence-end search at every step, slices stripped."""
    from analysis.parse.tasks import SENTENCE_END, _add_sentence, _assign_clauses, _find_marked_clauses

    clauses = _find_marked_clauses(text, start, end)
    clause_at = {c.start: c for c in clauses}
    sentences: list[list] = []
    cursor = position = start
    next_clause = 0
    while position < end:
        clause = clause_at.get(position)
        if clause:
            position = clause.end
            if sentences and not text[cursor : clause.start].strip():
                while position < end and text[position] in "。.;;":
                    position += 1
                if not clause.own_line:
                    sentences[-1][1] = position
                cursor = position
            continue
        match = SENTENCE_END.search(text, position, end)
        while next_clause < len(clauses) and clauses[next_clause].start < position:
            next_clause += 1
        inside = clauses[next_clause] if next_clause < len(clauses) else None
        if inside and (not match or inside.start < match.start()):
            position = inside.start
            if position == cursor and not sentences:
                position = inside.end
            elif text[cursor:position].strip():
                position = inside.end
            continue
        sentence_end = match.end() if match else end
        _add_sentence(text, sentences, cursor, sentence_end)
        cursor = position = sentence_end
    if cursor < end:
        _add_sentence(text, sentences, cursor, end)
    _assign_clauses(sentences, clauses)
    return [(s, e, units) for s, e, units in sentences]


@settings(max_examples=600, deadline=None)
@given(_CLAUSE_TEXTS, st.data())
def test_split_measures_as_first_written(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert split_measures(text, start, end) == _split_measures_by_definition(text, start, end)


def _find_clauses_sorting_and_merging(text: str, start: int, end: int) -> list:
    """_find_marked_clauses as first written: every clause found, then sorted and merged."""
    from analysis.parse.tasks import ASSIGNMENT_LINE, Clause, _bracket_pairs, _is_bracket_clause, _is_cut_clause

    found = []
    pairs, unclosed = _bracket_pairs(text, start, end)
    covered_until = -1
    for open_at, close_at in pairs:
        if open_at < covered_until:
            continue
        if _is_bracket_clause(text, open_at + 1, close_at):
            found.append(Clause(open_at, close_at + 1, text[open_at + 1 : close_at].strip(), False))
            covered_until = close_at + 1
    if unclosed and not text[end:].strip():
        open_at = unclosed[0]
        if open_at >= covered_until and _is_cut_clause(text, open_at + 1, end):
            found.append(Clause(open_at, end, text[open_at + 1 : end].strip(), False))
    for match in ASSIGNMENT_LINE.finditer(text, start, end):
        found.append(Clause(match.start(), match.end(), match.group("clause").strip(), True))
    found.sort(key=lambda clause: (clause.start, -clause.end))
    merged: list = []
    for clause in found:
        if merged and clause.start < merged[-1].end:
            continue
        merged.append(clause)
    return merged


@settings(max_examples=1000, deadline=None)
@given(_CLAUSE_TEXTS, st.data())
def test_bracketed_clauses_alone_need_no_sorting(text, data):
    from analysis.parse.tasks import _find_marked_clauses

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert _find_marked_clauses(text, start, end) == _find_clauses_sorting_and_merging(text, start, end)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.booleans(), st.sampled_from(["", "指导思想", "甲", "乙"])), max_size=25)
)
def test_tree_paths_titles_and_flags_as_walking_up_each_chain(spec):
    from analysis.core.models import Heading
    from analysis.parse.structure import heading_parents
    from analysis.parse.tasks import _tree

    headings = [
        Heading(level, str(i), f"k{i}", title, (i, i + 1), (i, i), i, inferred)
        for i, (level, inferred, title) in enumerate(spec)
    ]
    parents = heading_parents(headings)
    tree = _tree(headings)
    assert tree.parents == parents
    for index in range(len(headings)):
        chain, current = [], index
        while current is not None:
            chain.append(current)
            current = parents[current]
        chain.reverse()
        assert tree.paths[index] == "/".join(headings[i].number_key for i in chain)
        assert tree.titles[index] == [headings[i].title for i in chain[:-1]]
        assert tree.inferred[index] == any(headings[i].inferred for i in chain)
        assert tree.children[index] == [i for i, p in enumerate(parents) if p == index]


def test_spans_into_the_original_are_the_aligned_texts_own():
    # extract_tasks reads raw spans from the origin map directly: the same as AlignedText.original_span
    from analysis.core.text import Edit, apply_edits

    original = "前言\n" + PLAN.replace("。", "。 ").replace("(牵头", " (牵头")
    edits = [Edit(i, i + 1, "") for i, ch in enumerate(original) if ch == " "] + [Edit(0, 2, "标题文字")]
    aligned = apply_edits(AlignedText.identity(original), edits)
    units = extract_tasks("doc", aligned, parse_structure(aligned.text))
    assert sum(len(u.measures) for u in units) >= 7
    for unit in units:
        assert unit.raw_span == aligned.original_span(*unit.span)
        for measure in unit.measures:
            assert measure.raw_span == aligned.original_span(*measure.span)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(st.sampled_from([*"甲乙a1。!?！？;\n\r\t ,、", "。。", "\n\n", " 。"]), max_size=30).map("".join),
    st.data(),
)
def test_spans_without_clause_marks_split_as_first_written(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert split_measures(text, start, end) == _split_measures_by_definition(text, start, end)


@dataclasses.dataclass(frozen=True)
class _GeneratedClause:
    """Clause as the dataclass decorator writes it (its generated frozen ``__init__``): the reference."""

    start: int
    end: int
    text: str
    own_line: bool


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 99), st.integers(0, 99), st.text(max_size=6), st.booleans(), st.booleans())
def test_clause_init_matches_generated_dataclass(start, end, text, own_line, by_keyword):
    from analysis.parse.tasks import Clause

    values = {"start": start, "end": end, "text": text, "own_line": own_line}
    clause = Clause(**values) if by_keyword else Clause(*values.values())
    reference = _GeneratedClause(**values)
    assert [f.name for f in dataclasses.fields(Clause)] == list(values)
    assert list(vars(clause).items()) == list(vars(reference).items())
    assert repr(clause) == repr(reference).replace("_GeneratedClause(", "Clause(", 1)
    assert clause == Clause(*values.values()) and hash(clause) == hash(Clause(*values.values()))
    assert pickle.loads(pickle.dumps(clause)) == clause
    with pytest.raises(dataclasses.FrozenInstanceError):
        clause.start = 1  # type: ignore[misc]
