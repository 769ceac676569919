"""Structure stage on texts written for the tests (numbering habits, damage)."""

from __future__ import annotations

import dataclasses
import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.models import Heading
from analysis.parse import structure
from analysis.parse.structure import (
    chinese_numeral_value,
    content_end,
    heading_parents,
    parse_structure,
    to_chinese_numeral,
)


def keys(text: str) -> list[tuple[int, str]]:
    return [(h.level, h.number_key) for h in parse_structure(text)]


def test_chinese_numerals_round_trip():
    for value in [1, 2, 9, 10, 11, 19, 20, 21, 35, 99, 100, 105, 120]:
        assert chinese_numeral_value(to_chinese_numeral(value)) == value
    assert chinese_numeral_value("十二") == 12
    assert chinese_numeral_value("二十") == 20
    assert chinese_numeral_value("甲") is None


def test_all_five_levels_and_their_variants():
    text = (
        "一、主要任务\n"
        "(一)深化改革\n"
        "1、推进审批改革。全面清理审批事项。\n"
        "(1)清理中介服务。\n"
        "①公布清单。\n"
        "②动态调整。\n"
        "(2)规范收费。\n"
        "2.加强监管。完善监管制度。\n"
        "二、保障措施\n"
        "(一)加强领导\n"
        "1.落实责任。明确分工。\n"
    )
    assert keys(text) == [
        (1, "一"),
        (2, "(一)"),
        (3, "1"),
        (4, "(1)"),
        (5, "①"),
        (5, "②"),
        (4, "(2)"),
        (3, "2"),
        (1, "二"),
        (2, "(一)"),
        (3, "1"),
    ]


def test_fullwidth_parentheses_and_indentation():
    text = "一、总体要求\n    （一）指导思想\n  深入贯彻落实。\n二、重点任务\n\t（一）强化执法\n   1．规范执法。严格程序。\n"
    assert keys(text) == [(1, "一"), (2, "(一)"), (1, "二"), (2, "(一)"), (3, "1")]


def test_heading_with_text_on_the_same_line_gets_a_title():
    text = "二、基本原则\n(一)坚持党的领导。各单位要加强对法治建设的领导。\n(二)坚持以人民为中心。坚持法治为了人民。\n"
    headings = parse_structure(text)
    assert [h.title for h in headings] == ["基本原则", "坚持党的领导", "坚持以人民为中心"]


def test_items_that_begin_mid_line_continue_the_sequence():
    text = "一、任务\n1.健全制度。建立清单。2.规范执法。推行公示制度。3.强化监督。\n"
    assert keys(text) == [(1, "一"), (3, "1"), (3, "2"), (3, "3")]


def test_items_whose_text_starts_with_a_number():
    text = "一、任务\n1.2017年底前完成清理。\n2、2018年起全面推行。\n3.5倍的增长不是条目。\n3、100%公开。\n"
    assert keys(text) == [(1, "一"), (3, "1"), (3, "2"), (3, "3")]
    assert parse_structure(text)[1].title == "2017年底前完成清理"


def test_mid_line_number_that_breaks_the_sequence_is_text():
    text = "一、任务\n1.健全制度。全年完成5.项目清理。\n2.规范执法。\n"
    assert keys(text) == [(1, "一"), (3, "1"), (3, "2")]


def test_numbers_that_are_not_headings():
    text = "一、目标\n1.控制排放。PM2.5浓度下降。\n2.5倍的增长不是条目。\n2020年完成。\n2.完成清理。\n"
    assert keys(text) == [(1, "一"), (3, "1"), (3, "2")]
    assert parse_structure(text)[-1].title == "完成清理"


def test_numbering_that_runs_across_sections():
    text = "一、甲\n1.第一项。\n2.第二项。\n二、乙\n3.第三项。\n4.第四项。\n"
    headings = parse_structure(text)
    parents = heading_parents(headings)
    assert [
        (h.number_key, headings[p].number_key if p is not None else None)
        for h, p in zip(headings, parents, strict=False)
    ] == [
        ("一", None),
        ("1", "一"),
        ("2", "一"),
        ("二", None),
        ("3", "二"),
        ("4", "二"),
    ]


def test_lost_subsection_number_is_recovered_from_the_heading_line():
    text = (
        "二、重点工作\n(一)规范执法\n1.推行公示。\n2.全过程记录。\n"
        "(二)加强复议\n3.提高效率。\n"
        "发挥法律顾问作用\n4.积极应诉。\n5.聘请顾问。\n"
        "(四)加强研究\n6.开展课题。\n"
    )
    headings = parse_structure(text)
    inferred = [h for h in headings if h.inferred]
    assert len(inferred) == 1
    lost = inferred[0]
    assert (lost.level, lost.number_key, lost.number, lost.title) == (2, "(三)", "", "发挥法律顾问作用")
    parents = heading_parents(headings)
    children = [headings[i].number_key for i, p in enumerate(parents) if p is not None and headings[p] is lost]
    assert children == ["4", "5"]


def test_item_spans_end_at_the_next_item_and_before_the_signature():
    text = "一、任务\n1.第一项。内容。\n2.第二项。内容。\n\n某某市人民政府办公室\n2019年3月5日\n(此件公开发布)\n"
    headings = parse_structure(text)
    last = headings[-1]
    assert text[last.span[0] : last.span[1]] == "2.第二项。内容。"
    assert text[headings[1].span[0] : headings[1].span[1]] == "1.第一项。内容。"


def test_content_end_keeps_body_lines_that_merely_mention_bodies():
    text = "1.第一项。\n由市司法局负责,按期完成。\n"
    assert content_end(text, 0) == len(text)


def test_articles_and_parts():
    text = (
        "第一部分 总则\n第一条 为规范执法,制定本细则。\n第二条 本细则适用于全市。\n第二部分 任务\n第三条 严格执法。\n"
    )
    assert keys(text) == [(0, "第一部分"), (3, "第一条"), (3, "第二条"), (0, "第二部分"), (3, "第三条")]


def test_document_without_numbering_has_no_headings():
    assert parse_structure("关于做好法治政府建设工作的通知\n各单位要认真落实。\n") == []


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("一二三十、()（）1234567890.。;①② \n\t甲乙丙丁法治政府第条部分责任单位:")),
        max_size=300,
    )
)
def test_structure_never_crashes_and_spans_are_sane(text):
    headings = parse_structure(text)
    previous = -1
    for heading in headings:
        start, end = heading.span
        assert 0 <= start <= end <= len(text)
        assert start >= previous
        previous = start
        assert heading.number_span[0] == start
        assert start <= heading.body_start <= max(end, heading.body_start)
    assert len(heading_parents(headings)) == len(headings)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_structure_never_crashes_on_arbitrary_unicode(text):
    for heading in parse_structure(text):
        assert 0 <= heading.span[0] <= heading.span[1] <= len(text)


def test_no_number_style_starts_outside_the_first_character_screen():
    from analysis.parse.structure import NUMBER_FIRST_CHARACTERS, NUMBER_STYLES, TABLE_ROW_NUMBER

    tails = ("一、", "1.", "(1)", "十二条", "①", "2021年", " ", "|")
    patterns = [style.pattern for style in (*NUMBER_STYLES, TABLE_ROW_NUMBER)]
    for code in range(0x10000):
        first = chr(code)
        if first in NUMBER_FIRST_CHARACTERS or 0xD800 <= code <= 0xDFFF:
            continue
        for tail in tails:
            assert all(p.match(first + tail) is None for p in patterns), first


# --------------------------------------------------------------------------- fast paths against their definitions

_STRUCTURE_ALPHABET = st.sampled_from(list("。;!?)）]】〕| \t\n\u3000一二十(（1２2.、①第章甲乙"))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=_STRUCTURE_ALPHABET, max_size=60))
def test_lines_equal_the_spans_between_newlines(text):
    spans, start = [], 0
    for match in re.finditer(r"\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    assert list(structure._lines(text)) == spans


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=_STRUCTURE_ALPHABET, max_size=60), st.integers(0, 10))
def test_boundaries_before_a_number_are_the_boundaries_a_number_follows(text, pos):
    pos = min(pos, len(text))
    every = {m.end() for m in structure.MIDLINE_BOUNDARY.finditer(text, pos, len(text))}
    expected = {end for end in every if end < len(text) and text[end] in structure.NUMBER_FIRST_CHARACTERS}
    assert {m.end() for m in structure._BOUNDARY_BEFORE_NUMBER.finditer(text, pos, len(text))} == expected


_LINE_ALPHABET = st.sampled_from([*"。;!?)）]】〕| \t\n\u3000\x0b\x85一二1(（.、甲", "  ", "|\u3000\t"])


@settings(max_examples=1000, deadline=None)
@given(st.lists(_LINE_ALPHABET, max_size=40).map("".join), st.data())
def test_midline_boundaries_from_the_whole_text_are_the_lines_own(text, data):
    in_text = [m.span() for m in structure._BOUNDARY_IN_TEXT.finditer(text)]
    for line_start, line_end in structure._lines(text):
        pos = data.draw(st.integers(line_start, line_end))
        first = next((i for i, (start, _) in enumerate(in_text) if start >= line_start), len(in_text))
        expected = {m.end() for m in structure._BOUNDARY_BEFORE_NUMBER.finditer(text, pos, line_end)}
        assert structure._midline_boundaries(text, pos, line_end, in_text, first) == expected


@settings(max_examples=500, deadline=None)
@given(st.lists(_LINE_ALPHABET, max_size=30).map("".join))
def test_cells_and_notes_as_the_regexes_give_them(line):
    line = line.replace("\n", "") + "(部门)" * line.count("!")
    if not ("|" in line or "\t" in line or "  " in line):  # has_task_table's one-cell lines
        assert structure._CELL_SPLIT.split(line) == [line]
    for cell in structure._CELL_SPLIT.split(line):
        assert structure._without_note(cell) == structure._HEADER_NOTE.sub("", cell)


def test_is_blank_as_strip_for_every_character():
    # heading_title and split_measures ask whether text[a:b].strip() is empty without the slice
    from analysis.core.text import is_blank

    for code in range(0x110000):
        ch = chr(code)
        assert is_blank(f"a{ch}b", 1, 2) == (ch.strip() == ""), hex(code)


def test_each_style_matches_only_from_its_first_characters():
    # _match_number tries, at a character, only the styles listed for it in _STYLE_FIRST_CHARACTERS
    tails = ("一、", "、", ".", "1.", "(1)", ")", "）", "十二条", "条", "部分", "①", "2021年", " 甲", "|")
    for style in structure.NUMBER_STYLES:
        allowed = structure._STYLE_FIRST_CHARACTERS[style.name]
        for first in structure.NUMBER_FIRST_CHARACTERS:
            for tail in tails:
                if first not in allowed:
                    assert style.pattern.match(first + tail) is None, (style.name, first + tail)


def _match_number_trying_every_style(text, pos, line_end, table=False):
    """The definition: every style in order, then the table-row number."""
    if pos >= line_end or text[pos] not in structure.NUMBER_FIRST_CHARACTERS:
        return None
    for style in structure.NUMBER_STYLES:
        match = style.pattern.match(text, pos, line_end)
        if match and match.end() < line_end:
            return style, match
    if table:
        match = structure.TABLE_ROW_NUMBER.pattern.match(text, pos, line_end)
        if match:
            return structure.TABLE_ROW_NUMBER, match
    return None


_NUMBER_ALPHABET = st.sampled_from(
    [*"第一二十百〇零(（)）1２0.．、①⑳条章部分篇 \t|年甲", "2017年", "部分", "十二", "(一)", "（3）"]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_NUMBER_ALPHABET, max_size=12).map("".join), st.booleans())
def test_match_number_tries_the_styles_every_style_would_give(text, table):
    got = structure._match_number(text, 0, len(text), table)
    expected = _match_number_trying_every_style(text, 0, len(text), table)
    assert (got and (got[0], got[1].span())) == (expected and (expected[0], expected[1].span()))


def test_remembered_number_keys_are_the_worked_out_ones():
    for style in (*structure.NUMBER_STYLES, structure.TABLE_ROW_NUMBER):
        for value in (*range(1, 1200), 1999, 2000, 2001, 9999, 10000, 123456):
            assert structure.number_key(style, value) == structure._number_key(style, value)
            assert structure.number_key(style, value) == structure._number_key(style, value)  # from the memo


def _has_task_table_splitting_every_line(text, labels):
    """The definition: every line of at most HEADER_LINE_MAX split into cells."""
    standalone = set()
    for line in text.split("\n"):
        if len(line) > structure.HEADER_LINE_MAX:
            continue
        cells = {structure._HEADER_NOTE.sub("", cell) for cell in structure._CELL_SPLIT.split(line.strip()) if cell}
        if len(cells & labels) >= structure.TABLE_HEADER_MIN:
            return True
        if len(cells) == 1 and cells <= labels:
            standalone |= cells
            if len(standalone) >= structure.TABLE_HEADER_MIN:
                return True
    return False


_TABLE_ALPHABET = st.sampled_from(
    [
        "责任单位",
        "工作任务",
        "序号",
        "完成时限",
        "任务",
        "(部门)",
        "（注）",
        "|",
        "\t",
        " ",
        "  ",
        "\n",
        "\u3000",
        "甲",
        "。",
    ]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_TABLE_ALPHABET, max_size=25).map("".join))
def test_task_table_found_as_splitting_every_line_finds_it(text):
    labels = structure.table_header_labels()
    assert structure.has_task_table(text) == _has_task_table_splitting_every_line(text, labels)


class _SequencerScanningTheStack:
    """The numbering state as first written: the parent scope found by scanning the whole stack."""

    def __init__(self):
        self.stack, self.last_in_parent, self.last_global = [], {}, {}

    def parent_scope(self, level):
        scope = []
        for index, (lvl, _, value) in enumerate(self.stack):
            if lvl < level:
                scope += [index, value]
        return tuple(scope)

    def expected(self, style):
        local = self.last_in_parent.get(self.parent_scope(style.level), {}).get(style.name, 0) + 1
        return local, self.last_global.get(style.name, 0) + 1

    def accept(self, style, value):
        while self.stack and self.stack[-1][0] >= style.level:
            self.stack.pop()
        self.last_in_parent.setdefault(self.parent_scope(style.level), {})[style.name] = value
        self.last_global[style.name] = value
        self.stack.append((style.level, style.name, value))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(structure.NUMBER_STYLES), st.integers(1, 6), st.booleans()), max_size=40))
def test_sequencer_expects_what_scanning_the_stack_expects(steps):
    fast, slow = structure._Sequencer(), _SequencerScanningTheStack()
    for style, value, accept in steps:
        assert fast.expected(style) == slow.expected(style)
        if accept:
            fast.accept(style, value)
            slow.accept(style, value)
    for style in structure.NUMBER_STYLES:
        assert fast.expected(style) == slow.expected(style)


def _heading_title_splitting(text, body_start, end):
    """heading_title as first written: the first sentence cut off with _SENTENCE_STOP.split."""
    from analysis.core.text import is_blank

    line_end = text.find("\n", body_start, end)
    line_end = end if line_end == -1 else line_end
    cell_end = text.find("|", body_start, line_end)
    line_end = line_end if cell_end == -1 else cell_end
    line = text[body_start:line_end].strip()
    if not line:
        return ""
    has_more = not is_blank(text, line_end, end)
    if has_more and line[-1] not in structure.TERMINAL_PUNCTUATION + ",,、" and len(line) <= 30:
        return line
    sentence = structure._SENTENCE_STOP.split(line, maxsplit=1)[0]
    closes = len(sentence) < len(line) and line[len(sentence)] == "。"
    if closes and 0 < len(sentence.strip()) <= structure.SHORT_TITLE_MAX and not structure._COMMA.search(sentence):
        return sentence.strip()
    if not has_more and len(line) <= 30 and line[-1] not in structure.TERMINAL_PUNCTUATION:
        return line
    spaced = re.match(r"([^\s。;;!?！？,,:：]{2,30}) ", line)
    if spaced and len(line) > 30:
        return spaced.group(1)
    return ""


_TITLE_PIECES = st.sampled_from([*"。;!?！？\n|, ,、:甲乙丙", "加强组织领导", "推进依法行政工作" * 3, " 坚持"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_TITLE_PIECES, max_size=20).map("".join), st.data())
def test_heading_title_as_first_written(text, data):
    assert structure.HEADING_LINE_MAX == 30
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert structure.heading_title(text, start, end) == _heading_title_splitting(text, start, end)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from([*"一二十百千零〇①⑳0129", "123456", "十二"]), min_size=1, max_size=4).map("".join))
def test_remembered_number_values_are_the_worked_out_ones(raw):
    style = structure.NUMBER_STYLES[0]
    assert structure.number_value(style, raw) == structure._number_value(raw)
    assert structure.number_value(style, raw) == structure._number_value(raw)  # from the memo


def test_line_prefix_starts_only_with_its_first_characters():
    # _candidates skips LINE_PREFIX on a line starting with another character: it would match nothing
    for code in range(0x10000):
        ch = chr(code)
        if ch in structure._LINE_PREFIX_FIRST or 0xD800 <= code <= 0xDFFF:
            continue
        for rest in ("", ":", " |", "一、"):
            assert structure.LINE_PREFIX.match(ch + rest).end() == 0, hex(code)


@dataclasses.dataclass(frozen=True)
class _GeneratedHeading:
    """Heading as the dataclass decorator writes it (its generated frozen ``__init__``): the reference."""

    level: int
    number: str
    number_key: str
    title: str
    span: tuple[int, int]
    number_span: tuple[int, int]
    body_start: int
    inferred: bool = False


_HEADING_VALUES = st.tuples(
    st.integers(1, 5),
    st.text(max_size=4),
    st.text(max_size=4),
    st.text(max_size=8),
    st.tuples(st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.integers(0, 99), st.integers(0, 99)),
    st.integers(0, 99),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(_HEADING_VALUES, st.booleans(), st.booleans())
def test_heading_init_matches_generated_dataclass(values, by_keyword, default_inferred):
    """Heading's hand-written __init__ gives what the generated frozen one gives: fields, order, repr,
    equality, hash, immutability, pickling and dataclasses.replace."""
    names = [f.name for f in dataclasses.fields(_GeneratedHeading)]
    assert [f.name for f in dataclasses.fields(Heading)] == names
    args = values[:-1] if default_inferred else values
    if by_keyword:
        kwargs = dict(zip(names, args, strict=False))
        heading, reference = Heading(**kwargs), _GeneratedHeading(**kwargs)
    else:
        heading, reference = Heading(*args), _GeneratedHeading(*args)
    assert vars(heading) == vars(reference)
    assert list(vars(heading)) == list(vars(reference))
    assert repr(heading) == repr(reference).replace("_GeneratedHeading(", "Heading(", 1)
    twin = Heading(*values[:-1], values[-1] if not default_inferred else False)
    assert heading == twin and hash(heading) == hash(twin)
    assert dataclasses.astuple(heading) == dataclasses.astuple(reference)
    assert pickle.loads(pickle.dumps(heading)) == heading
    assert dataclasses.replace(heading, level=7) == Heading(7, *args[1:])
    with pytest.raises(dataclasses.FrozenInstanceError):
        heading.level = 9  # type: ignore[misc]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from([*" \t\n甲。一(1①", "  ", "二、", "(三)", "4."]), max_size=40).map("".join), st.data())
def test_spaces_before_a_number_as_the_space_boundaries_a_number_follows(text, data):
    from analysis.parse.structure import _SPACE_BEFORE_NUMBER, NUMBER_FIRST_CHARACTERS, SPACE_BOUNDARY

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    expected = {
        m.end()
        for m in SPACE_BOUNDARY.finditer(text, start, end)
        if m.end() < end and text[m.end()] in NUMBER_FIRST_CHARACTERS
    }
    assert {m.end() for m in _SPACE_BEFORE_NUMBER.finditer(text, start, end)} == expected
