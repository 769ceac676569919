"""Clean stage: furniture removal that spares the body, whitespace normalisation, spans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import config
from analysis.core.errors import ReferenceDataError
from analysis.core.text import AlignedText, CharacterMap, apply_edits, fold, required_literals
from analysis.parse.clean import (
    _ONE_FOR_ONE,
    FURNITURE_LINE_MAX,
    _normalise,
    classify_line,
    clean,
    load_furniture_patterns,
    normalise_characters,
)
from analysis.parse.read import read_document
from analysis.parse.simplify import to_simplified
from helpers import assert_origin_consistent

FIXTURES = Path(__file__).parent / "fixtures" / "text"


def run_clean(text: str) -> tuple[AlignedText, list[dict]]:
    return clean(AlignedText.identity(text))


# --------------------------------------------------------------------------- web capture


@pytest.fixture(scope="module")
def web_capture() -> tuple[str, AlignedText, list[dict]]:
    original = (FIXTURES / "yichang_2019_web_capture.txt").read_text(encoding="utf-8")
    cleaned, removed = run_clean(original)
    return original, cleaned, removed


def test_web_furniture_removed(web_capture):
    _, cleaned, _ = web_capture
    for furniture in (
        "网站首页",
        "设为首页",
        "您的位置",
        "发布日期",
        "浏览次数",
        "字体",
        "打印本页",
        "关闭窗口",
        "相关链接",
        "关于做好2019年普法工作的通知",
        "网站地图",
        "ICP",
        "技术支持",
        "0717-1234567",
    ):
        assert furniture not in cleaned.text, furniture


def test_web_body_kept(web_capture):
    _, cleaned, _ = web_capture
    lines = cleaned.text.split("\n")
    assert lines[0] == "宜昌市人民政府办公室关于印发宜昌市2019年法治政府建设工作要点的通知"
    assert "各县市区人民政府,宜昌高新区管委会,市政府各部门:" in lines
    assert "宜昌市人民政府办公室" in lines and "2019年3月10日" in lines
    # a body line that mentions an address is not furniture
    assert "(二)完善便民服务。市民可到市民服务中心(地址:沿江大道1号)办理公证事项。(责任单位:市司法局)" in lines
    assert lines[-1] == "1.全面推行行政执法公示制度,执法决定公开率达到100%。(责任单位:市直各执法部门)"


def test_removed_blocks_point_into_original(web_capture):
    original, _, removed = web_capture
    kinds = [block["kind"] for block in removed]
    assert "footer" in kinds and "breadcrumb" in kinds and "print_close" in kinds
    for block in removed:
        a, b = block["raw_span"]
        assert 0 <= a < b <= len(original)
    footer = [b for b in removed if b["kind"] == "footer"][-1]
    a, b = footer["raw_span"]
    assert "鄂ICP备05001234号" in original[a:b]


def test_cleaned_body_maps_back_to_original(web_capture):
    original, cleaned, _ = web_capture
    start = cleaned.text.index("(一)落实第一责任人职责")
    a, b = cleaned.original_span(start, start + len("(一)落实第一责任人职责"))
    assert original[a:b] == "（一）落实第一责任人职责"
    assert_origin_consistent(cleaned)


# --------------------------------------------------------------------------- furniture rules


def test_edge_patterns_need_support():
    # a contact-like line and a bulleted line at the end, with no page furniture around them
    text = "一、工作任务\n加强执法监督。\n联系地址:市司法局三楼 电话:1234567\n· 市司法局牵头"
    cleaned, removed = run_clean(text)
    assert cleaned.text == text
    assert removed == []


def test_contact_line_inside_body_survives_even_with_footer_below():
    text = (
        "一、受理渠道\n投诉地址:市政务服务中心 电话:12345\n二、工作要求\n按时办结。\n"
        "版权所有:某市人民政府 浙ICP备11111111号"
    )
    cleaned, _ = run_clean(text)
    assert "投诉地址:市政务服务中心 电话:12345" in cleaned.text
    assert "ICP" not in cleaned.text


def test_print_close_with_lost_brackets_and_share_lines():
    text = "三、保障措施\n加强宣传。\n某市司法局\n2021年3月1日\n打印】 【关闭\n分享\n返回列表"
    cleaned, removed = run_clean(text)
    assert cleaned.text == "三、保障措施\n加强宣传。\n某市司法局\n2021年3月1日"
    assert [b["kind"] for b in removed] == ["print_close"]


def test_link_list_under_more_heading_in_the_middle():
    text = "正文第一段。\n通知公告 更多>>\n· 关于开展普法的通知\n· 关于...\n正文第二段。"
    cleaned, _ = run_clean(text)
    assert cleaned.text == "正文第一段。\n正文第二段。"


def test_stray_file_name_at_end():
    text = "四、组织实施\n各单位抓好落实。\n某省司法厅关于印发法治建设工作要点的通知.pdf"
    cleaned, removed = run_clean(text)
    assert cleaned.text == "四、组织实施\n各单位抓好落实。"
    assert removed[0]["kind"] == "file_name"


def test_view_counter_needs_its_shape():
    text = "发布时间:2022-01-05 09:30\n全年政府网站访问量达到120万人次。\n浏览量:88"
    cleaned, _ = run_clean(text)
    assert cleaned.text == "全年政府网站访问量达到120万人次。"


def test_word_font_in_body_survives():
    text = "规范公文格式,统一使用仿宋字体。\n公文标题使用小标宋字体"
    assert run_clean(text)[0].text == text


# --------------------------------------------------------------------------- whitespace


def test_whitespace_and_fullwidth_normalised():
    text = "　　（一）加强领导：各单位，要落实；\u00a0责任。  \n\n\n\n\t二、要求\u3000\u3000明确 \t 分工  \n"
    cleaned, removed = run_clean(text)
    assert cleaned.text == "(一)加强领导:各单位,要落实; 责任。\n\n二、要求 明确 分工"
    assert removed == []
    assert_origin_consistent(cleaned)


def test_zero_width_characters_dropped():
    cleaned, _ = run_clean("法治\u200b政府\ufeff建设")
    assert cleaned.text == "法治政府建设"
    a, b = cleaned.original_span(2, 4)
    assert "法治\u200b政府\ufeff建设"[a:b] == "政府"


def test_traditional_capture_through_simplify_and_clean():
    original = "設為首頁 加入收藏\n法治政府建設實施方案\n責任單位：市司法局\n【打印】【關閉】"
    simplified, _ = to_simplified(AlignedText.identity(original))
    cleaned, _ = clean(simplified)
    assert cleaned.text == "法治政府建设实施方案\n责任单位:市司法局"
    start = cleaned.text.index("责任单位")
    a, b = cleaned.original_span(start, start + 4)
    assert original[a:b] == "責任單位"


# --------------------------------------------------------------------------- reference table


def test_shipped_patterns_load():
    patterns = load_furniture_patterns()
    assert {p.position for p in patterns} == {"anywhere", "edge"}


@pytest.mark.parametrize(
    "row, problem",
    [
        ("bad,nav,anywhere,yes,(unclosed,x", "does not compile"),
        ("bad,nav,somewhere,yes,abc,x", "position"),
    ],
)
def test_invalid_pattern_table(tmp_path, row, problem):
    path = tmp_path / "furniture_patterns.csv"
    path.write_text("pattern_id,kind,position,standalone,regex,note\n" + row + "\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=problem):
        load_furniture_patterns(path)


# --------------------------------------------------------------------------- properties

_ALPHABET = list(
    "法治政府建设打印关闭分享更多>>·地址电话:ICP备号浏览量 \t\n\u3000\u00a0（）：，1234567890.pdf【】|首页"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=120))
def test_clean_never_breaks_the_origin_map(text):
    cleaned, removed = run_clean(text)
    assert_origin_consistent(cleaned)
    assert "\u3000" not in cleaned.text and "\u00a0" not in cleaned.text
    for block in removed:
        a, b = block["raw_span"]
        assert 0 <= a <= b <= len(text)


# --------------------------------------------------------------------------- seed regression


TIANMEN = config.RAW_DIR / "tianmen_2017_implementation_plan.txt"


@pytest.mark.skipif(not TIANMEN.exists(), reason="seed corpus not present")
def test_seed_tianmen_furniture_gone_body_kept():
    simplified, _ = to_simplified(AlignedText.identity(read_document(TIANMEN).text))
    cleaned, _ = clean(simplified)
    for furniture in ("设为首页", "当前位置", "发布时间", "字体显示", "更多>>", "ICP", "版权声明", "技术支持", "打印"):
        assert furniture not in cleaned.text
    assert "1.深化行政审批制度改革。" in cleaned.text
    assert "36.加强政府法制机构建设。" in cleaned.text
    assert "各乡镇(场、街道)" in cleaned.text


def test_breadcrumb_worded_as_the_place_you_are_removed():
    text = "您所在的位置:政务公开 > 工作报告\n\n2021年某区法治政府建设情况报告\n\n2021年,某区坚持依法行政。\n"
    cleaned, removed = clean(AlignedText.identity(text))
    assert cleaned.text == "2021年某区法治政府建设情况报告\n\n2021年,某区坚持依法行政。"
    assert [block["kind"] for block in removed] == ["breadcrumb"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("法治（一）１２：，。ＡＢ \u00a0\u3000\u2003\u200b\ufeff\u00ad\x0b\x0c\t\n"),
        max_size=80,
    )
)
def test_fast_character_pass_equals_the_edit_by_edit_definition(text):
    aligned = AlignedText.identity(text)
    expected = apply_edits(aligned, normalise_characters(text))
    result = _normalise(aligned)
    assert result.text == expected.text
    assert list(result.origin_start) == list(expected.origin_start)
    assert list(result.origin_end) == list(expected.origin_end)


def test_one_for_one_substitution_keeps_origins_and_refuses_a_length_change():
    aligned = apply_edits(AlignedText.identity("甲\u200b乙丙"), [])
    substituted = aligned.substituted("丁戊己庚")
    assert substituted.text == "丁戊己庚"
    assert list(substituted.origin_start) == list(aligned.origin_start)
    with pytest.raises(ValueError, match="changed the length"):
        aligned.substituted("丁戊")


# --------------------------------------------------------------------------- the furniture screen


def _classify_slowly(content, patterns):
    """The definition the screen must reproduce: every pattern searched, in table order."""
    if not content or len(content) > FURNITURE_LINE_MAX:
        return None
    return next((p for p in patterns if p.regex.search(content)), None)


@pytest.mark.parametrize("pattern", load_furniture_patterns(), ids=lambda p: p.pattern_id)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_line_a_shipped_pattern_matches_holds_one_of_each_group_it_requires(pattern, data):
    """The screen's premise on generated matches: a group missing from the folded line means no match."""
    required = required_literals(pattern.regex, fold_case=True)
    text = data.draw(st.from_regex(pattern.regex))
    if required is not None and pattern.regex.search(text) is not None:
        assert all(any(word in fold(text) for word in group) for group in required), (text, required)


_LINE_PIECES = st.sampled_from(
    [
        "设为首页",
        "加入收藏",
        "当前位置",
        ">",
        ">>",
        "首页",
        "今天是",
        "2017年7月28日",
        "打印",
        "【关闭】",
        "分享到",
        ":",
        "微信",
        "更多",
        "...",
        "·",
        "•",
        "版权所有",
        "Copyright",
        "COPYRIGHT",
        "©",
        "(c) 2019",
        "ICP备12003344号",
        "icp",
        "\u0130CP",
        "公网安备",
        "主办单位",
        "技术支持",
        "地址",
        "电话",
        "浏览量",
        "253",
        "字体",
        "大",
        "中",
        "小",
        "发布时间",
        "2020-07-20",
        "来源",
        "作者",
        "责任编辑",
        "王某",
        "上一篇",
        "相关链接",
        "扫一扫",
        ".pdf",
        ".PDF",
        "|",
        "-",
        "=",
        " ",
        "法治政府建设",
        "。",
        "\u017f",
        "网站地图",
        "联系我们",
        "编辑",
        "x",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_LINE_PIECES, max_size=12))
def test_screened_classification_equals_searching_every_pattern(pieces):
    line = "".join(pieces).strip()
    patterns = load_furniture_patterns()
    assert classify_line(line, patterns) == _classify_slowly(line, patterns)


def test_screened_classification_equals_searching_every_pattern_on_the_web_capture(web_capture):
    original, _, _ = web_capture
    patterns = load_furniture_patterns()
    lines = [line.strip() for line in _normalise(AlignedText.identity(original)).text.splitlines()]
    assert [classify_line(line, patterns) for line in lines] == [_classify_slowly(line, patterns) for line in lines]
    assert sum(_classify_slowly(line, patterns) is not None for line in lines) >= 10  # the test sees furniture


@settings(max_examples=500, deadline=None)
@given(
    st.text(max_size=60)
    | st.text(alphabet=st.sampled_from(list("法（）：，１ＡＺ～\u3000\u00a0\x0b𠀀😀 ")), max_size=60)
)
def test_character_map_translates_as_str_translate(text):
    table = CharacterMap(_ONE_FOR_ONE)
    assert table.translate(text) == text.translate(_ONE_FOR_ONE)


def test_character_map_takes_lone_surrogates_and_refuses_what_is_not_one_bmp_character_for_one():
    assert CharacterMap(_ONE_FOR_ONE).translate("\ud800（\udfff") == "\ud800(\udfff"
    for table in ({0x20000: "a"}, {ord("a"): "bc"}, {ord("a"): "\U00020000"}, {0xD800: "a"}):
        with pytest.raises(ValueError, match="one-for-one BMP"):
            CharacterMap(table)


# --------------------------------------------------------------------------- lazy classification, space runs


def _find_furniture_classifying_every_line(aligned, patterns):
    """find_furniture as first written: every line classified (by searching every pattern) before the rule."""
    from analysis.core.text import Edit
    from analysis.parse.clean import POSITION_ANYWHERE, _removed_lines

    lines, start = [], 0
    for raw in aligned.text.splitlines(keepends=True):
        lines.append((start, start + len(raw), raw.strip()))
        start += len(raw)
    matches = [_classify_slowly(content, patterns) for _, _, content in lines]
    anywhere = [i for i, m in enumerate(matches) if m is not None and m.position == POSITION_ANYWHERE]
    removed = _removed_lines([content for _, _, content in lines], matches.__getitem__, anywhere)
    edits, blocks, index = [], [], 0
    while index < len(lines):
        if index not in removed:
            index += 1
            continue
        kind, last, probe = matches[index].kind, index, index + 1
        while probe < len(lines) and (not lines[probe][2] or probe in removed):
            if probe in removed:
                if matches[probe].kind != kind:
                    break
                last = probe
            probe += 1
        start, end = lines[index][0], lines[last][1]
        edits.append(Edit(start, end, "", "furniture", kind))
        raw_start, raw_end = aligned.original_span(start, end)
        blocks.append({"kind": kind, "text": aligned.text[start:end].strip(), "raw_span": [raw_start, raw_end]})
        index = last + 1
    return edits, blocks


_DOCUMENT_LINES = st.lists(_LINE_PIECES, max_size=6).map("".join) | st.sampled_from(
    ["", "  ", "推进法治政府建设。", "一、总体要求", "发布时间:2020-07-20 来源:本网", "ΣΑΣ icp", "\u0130CP备1号"]
)


@settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_DOCUMENT_LINES, max_size=14), st.sampled_from(["\n", "\r\n", "\u2028", "\n\n"]))
def test_furniture_found_lazily_as_classifying_every_line(lines, newline):
    from analysis.parse.clean import find_furniture

    aligned = AlignedText.identity(newline.join(lines))
    patterns = load_furniture_patterns()
    assert find_furniture(aligned, patterns) == _find_furniture_classifying_every_line(aligned, patterns)


def test_furniture_found_lazily_as_classifying_every_line_on_the_web_capture(web_capture):
    from analysis.parse.clean import find_furniture

    original, _, _ = web_capture
    aligned = _normalise(AlignedText.identity(original))
    patterns = load_furniture_patterns()
    found = find_furniture(aligned, patterns)
    assert found == _find_furniture_classifying_every_line(aligned, patterns)
    assert len(found[1]) >= 3  # the test sees furniture removed


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from([*" \t\n甲乙。", "  ", "\t\t", " \n"]), max_size=40).map("".join))
def test_space_runs_applied_as_their_edits(text):
    from analysis.core.text import Edit
    from analysis.parse.clean import _collapse_spaces_applied, collapse_spaces

    # an input whose origins are not the identity: a character dropped and one inserted
    aligned = apply_edits(AlignedText.identity("丙" + text), [Edit(0, 1, "丁戊")])
    fast, slow = _collapse_spaces_applied(aligned), apply_edits(aligned, collapse_spaces(aligned.text))
    assert fast.text == slow.text
    assert (fast.origin_start, fast.origin_end, fast.original_length) == (
        slow.origin_start,
        slow.origin_end,
        slow.original_length,
    )


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*"\n\r 甲", "\n\n", "\n\n\n"]), max_size=30).map("".join))
def test_newline_runs_found_as_three_or_more_line_breaks(text):
    from analysis.parse.clean import _NEWLINE_RUN

    expected = [m.span() for m in re.finditer(r"\n{3,}", text)]
    assert [m.span() for m in _NEWLINE_RUN.finditer(text)] == expected
    assert [m.span() for m in _NEWLINE_RUN.finditer(text, 1, len(text) - 1)] == [
        m.span() for m in re.compile(r"\n{3,}").finditer(text, 1, len(text) - 1)
    ]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from([*" \t\n\r甲。", "  ", "\t ", " \n"]), max_size=40).map("".join))
def test_edited_space_runs_found_as_the_runs_collapse_spaces_edits(text):
    from analysis.parse.clean import _BLANK_RUN, _EDITED_BLANK_RUN, collapse_spaces

    edited = {edit.start for edit in collapse_spaces(text)}
    expected = [match.span() for match in _BLANK_RUN.finditer(text) if match.start() in edited]
    assert [match.span() for match in _EDITED_BLANK_RUN.finditer(text)] == expected


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(st.sampled_from([*"aAkK\u0130\u0131\u017f\u03a3\u03c3\u1e9e甲 .'\n", "ΣΑ"]), max_size=20).map("".join),
    st.data(),
)
def test_folding_by_position_folds_every_piece_alike(text, data):
    from analysis.core.text import fold_by_position

    folded = fold_by_position(text)
    if "\u03a3" in text:
        assert folded is None
        return
    assert folded == fold(text)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert folded[start:end] == fold(text[start:end])


def test_every_character_but_sigma_folds_by_itself_to_one():
    from analysis.core.text import fold_by_position

    for code in range(0x110000):
        ch = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        folded = fold_by_position(f"a{ch}b")
        assert (folded is None) == (ch == "\u03a3"), hex(code)
        if folded is not None:
            assert folded[1] == fold(ch), hex(code)
