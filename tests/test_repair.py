"""Repair stage: lost dashes, brackets, 号 and 年月日 restored only when unambiguous."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import config
from analysis.core.text import AlignedText
from analysis.parse.clean import clean
from analysis.parse.read import read_document
from analysis.parse.repair import find_unrepaired, month_day_splits, repair
from analysis.parse.simplify import to_simplified
from helpers import assert_origin_consistent


def run_repair(text: str):
    return repair(AlignedText.identity(text))


# --------------------------------------------------------------------------- year ranges


@pytest.mark.parametrize(
    "before, after",
    [
        ("湖州市法治政府建设规划(20212025年)", "湖州市法治政府建设规划(2021—2025年)"),
        ("到20192021年期间完成", "到2019—2021年期间完成"),
        ("实施方案\n20212025年)》的通知", "实施方案\n(2021—2025年)》的通知"),
    ],
)
def test_year_range_dash_restored(before, after):
    repaired, repairs = run_repair(before)
    assert repaired.text == after
    assert [r.kind for r in repairs] == ["year_range"]


@pytest.mark.parametrize(
    "text",
    [
        "(20252021年)",  # descending
        "(19001905年)",  # before any plausible plan
        "(20182050年)",  # implausibly long period
        "(2016—2020年)",  # already fine
        "编号123420182022年",  # part of a longer digit run
    ],
)
def test_year_range_left_alone(text):
    repaired, repairs = run_repair(text)
    assert repaired.text == text
    assert repairs == []


def test_descending_range_reported_as_unrepaired():
    suspects = find_unrepaired("规划(20252021年)")
    assert [(s["kind"], s["text"]) for s in suspects] == [("year_range", "20252021年")]


# --------------------------------------------------------------------------- document numbers


@pytest.mark.parametrize(
    "before, after",
    [
        ("(鄂政办发〔201935号)", "(鄂政办发〔2019〕35号)"),  # 〕 lost
        ("京政发〔20198\n", "京政发〔2019〕8号\n"),  # 〕 and 号 lost
        ("宜府办发〔2021〕12\n各县市区", "宜府办发〔2021〕12号\n各县市区"),  # 号 lost
        ("依据湘政发[20203号文件", "依据湘政发[2020]3号文件"),
    ],
)
def test_doc_number_restored(before, after):
    repaired, repairs = run_repair(before)
    assert repaired.text == after
    assert [r.kind for r in repairs] == ["doc_number"]


@pytest.mark.parametrize(
    "text",
    [
        "宜府办发〔2021〕12号",
        "宜府办发〔2021〕11、12号",  # a list of serials: 号 is not missing from 11
        "方案(20162020)",  # parentheses are not document-number brackets
        "京政发〔20191234567号",  # too many digits to split
    ],
)
def test_doc_number_left_alone(text):
    repaired, repairs = run_repair(text)
    assert repaired.text == text
    assert repairs == []


def test_doc_number_without_serial_is_unrepaired():
    text = "宜府办发〔2021\n各县市区"
    assert run_repair(text)[1] == []
    suspects = find_unrepaired(text)
    assert [(s["kind"], s["text"]) for s in suspects] == [("doc_number", "宜府办发〔2021")]


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "before, after",
    [
        ("宜昌市人民政府办公室\n2019310\n", "宜昌市人民政府办公室\n2019年3月10日\n"),
        ("某区司法局\n20191231", "某区司法局\n2019年12月31日"),
        ("某市人民政府办公室 2021428", "某市人民政府办公室 2021年4月28日"),
        ("(2020715印发)", "(2020年7月15日印发)"),
        ("某县人民政府 2019年3月10印发", "某县人民政府 2019年3月10日印发"),
        ("2022年1月5\n", "2022年1月5日\n"),
        ("于20195月8日召开", "于2019年5月8日召开"),
    ],
)
def test_dates_restored(before, after):
    repaired, repairs = run_repair(before)
    assert repaired.text == after
    assert [r.kind for r in repairs] == ["date"]


def test_missing_month_mark_only_when_unique():
    # 2020年1231日 reads only as 12月31日; 2020年115日 reads as 1月15日 or 11月5日
    repaired, repairs = run_repair("2020年1231日")
    assert repaired.text == "2020年12月31日"
    repaired, repairs = run_repair("2020年115日")
    assert repaired.text == "2020年115日"
    assert repairs == []


@pytest.mark.parametrize("digits", ["2019111", "2019112"])
def test_ambiguous_signature_date_left_and_reported(digits):
    text = f"某市司法局\n{digits}\n"
    repaired, repairs = run_repair(text)
    assert repaired.text == text and repairs == []
    suspects = find_unrepaired(text)
    assert len(suspects) == 1
    assert suspects[0]["kind"] == "date" and suspects[0]["text"] == digits
    assert "several dates" in suspects[0]["reason"]


def test_month_day_splits():
    assert month_day_splits("201769") == [(2017, 6, 9)]
    assert month_day_splits("2018523") == [(2018, 5, 23)]
    assert month_day_splits("2017111") == [(2017, 1, 11), (2017, 11, 1)]
    assert month_day_splits("2019230") == []  # neither 2/30 nor 23/0
    assert month_day_splits("20170609") == [(2017, 6, 9)]


def test_digit_run_in_body_is_not_a_date():
    text = "完成2019310个项目的验收。\n全市共有2019310名"
    repaired, repairs = run_repair(text)
    assert repaired.text == text and repairs == []


def test_ordinary_numbers_untouched():
    text = (
        "选取100项高频民生事项,优良天数227天,PM2.5浓度下降到35微克/立方米,"
        "电话:0717-1234567,2020年底完成,12345678\n12345678\n2019年度"
    )
    repaired, repairs = run_repair(text)
    assert repaired.text == text
    assert repairs == []
    assert find_unrepaired(text) == []


# --------------------------------------------------------------------------- records and spans


def test_repairs_point_into_the_original_text():
    original = "　　天办发〔201711\n\n\n关于印发《某市方案\n20162020年)》的通知\n\u00a0某市人民政府办公室\n201769  \n"
    cleaned, _ = clean(AlignedText.identity(original))
    repaired, repairs = repair(cleaned)
    assert repaired.text == (
        "天办发〔2017〕11号\n\n关于印发《某市方案\n(2016—2020年)》的通知\n某市人民政府办公室\n2017年6月9日"
    )
    assert [r.kind for r in repairs] == ["doc_number", "year_range", "date"]
    for record in repairs:
        a, b = record.raw_span
        assert original[a:b] == record.before
    assert repairs[2].after == "2017年6月9日"
    # unchanged characters still map 1:1 to the original
    start = repaired.text.index("某市人民政府办公室")
    a, b = repaired.original_span(start, start + 9)
    assert original[a:b] == "某市人民政府办公室"
    # an inserted character maps to an empty range at its insertion point
    dash = repaired.text.index("—")
    a, b = repaired.original_span(dash, dash + 1)
    assert a == b and original[a - 4 : a + 4] == "20162020"
    assert find_unrepaired(repaired.text) == []


# --------------------------------------------------------------------------- properties

_ALPHABET = list("0123456789年月日号〔〕[]()印发\n 天办发某市司法局人民政府办公室—-")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(_ALPHABET), max_size=80))
def test_repair_never_breaks_the_origin_map(text):
    repaired, repairs = run_repair(text)
    assert_origin_consistent(repaired)
    assert len(repaired.text) >= len(text)  # repairs only insert
    for record in repairs:
        a, b = record.raw_span
        assert text[a:b] == record.before
        assert record.after in repaired.text
    find_unrepaired(repaired.text)


@settings(max_examples=100, deadline=None)
@given(st.integers(2000, 2030), st.integers(1, 12), st.integers(1, 28))
def test_unambiguous_dates_always_restored(year, month, day):
    digits = f"{year}{month}{day}"
    readings = month_day_splits(digits)
    repaired, repairs = run_repair(f"某市司法局\n{digits}")
    if len(readings) == 1:
        assert repaired.text == f"某市司法局\n{year}年{month}月{day}日"
    else:
        assert (year, month, day) in readings and repairs == []


# --------------------------------------------------------------------------- seed regression

XIHE = config.RAW_DIR / "xihe_2018_work_points.txt"


@pytest.mark.skipif(not XIHE.exists(), reason="seed corpus not present")
def test_seed_xihe_repairs():
    original = read_document(XIHE).text
    simplified, _ = to_simplified(AlignedText.identity(original))
    cleaned, _ = clean(simplified)
    _repaired, repairs = repair(cleaned)
    found = {(r.kind, r.before, r.after) for r in repairs}
    assert ("doc_number", "阜委发〔20177号", "阜委发〔2017〕7号") in found
    assert ("year_range", "20172020年", "2017—2020年") in found
    assert ("date", "2018523", "2018年5月23日") in found
    for record in repairs:
        a, b = record.raw_span
        assert original[a:b] == record.before


# --------------------------------------------------------------------------- damage families (issue 11)


@pytest.mark.parametrize(
    "before, after",
    [
        ("严格执(zhí)法,规范执(zhí)法程序。", "严格执法,规范执法程序。"),
        (
            "贵州省人民政府关(guān)于印发(fā)通知\n黔府发(fā)〔2019〕7号",
            "贵州省人民政府关于印发通知\n黔府发〔2019〕7号",
        ),
        ("推进数(shù)据(jù)共享。", "推进数据共享。"),
    ],
)
def test_pinyin_after_characters_removed_and_recorded(before, after):
    repaired, repairs = run_repair(before)
    assert repaired.text == after
    assert {r.kind for r in repairs} <= {"pinyin", "doc_number"}
    pinyin = [r for r in repairs if r.kind == "pinyin"]
    assert all(r.before.startswith("(") and r.after == "" for r in pinyin)
    assert_origin_consistent(repaired)


@pytest.mark.parametrize("text", ["使用手机应用(app)办理。", "《管理办法(试行)》", "开展(一)类检查", "规范("])
def test_parentheses_that_are_not_pinyin_stay(text):
    repaired, repairs = run_repair(text)
    assert repaired.text == text
    assert repairs == []


def test_question_marks_for_lost_indentation_removed():
    text = "??一、总体要求\n??(一)指导思想。坚持依法行政。\n??1.加强学习。\n问:为什么?\n"
    repaired, repairs = run_repair(text)
    assert repaired.text == "一、总体要求\n(一)指导思想。坚持依法行政。\n1.加强学习。\n问:为什么?\n"
    assert [r.kind for r in repairs] == ["lost_indent"] * 3


def test_heading_number_garbled_by_a_one_byte_shift_restored():
    # '　(一)' in GBK is A1A1 A3A8 D2BB A3A9; a decoder one byte off reads '?' for the orphan byte,
    # then the pairs A1A3 / A8D2 / BBA3: '。', 'ㄒ', '唬'.
    garbled = "?" + b"\xa1\xa3\xa8\xd2\xbb\xa3".decode("gbk")
    assert garbled == "?。ㄒ唬"
    text = f"一、总体要求\n {garbled}乱码标题。坚持依法行政。\n"
    repaired, repairs = run_repair(text)
    assert repaired.text == "一、总体要求\n (一)乱码标题。坚持依法行政。\n"
    assert [(r.kind, r.before, r.after) for r in repairs] == [("mojibake", garbled, "(一)")]
    assert_origin_consistent(repaired)


def test_heading_number_of_utf8_read_as_gbk_restored():
    garbled = "（三）加强执法".encode().decode("gbk", errors="ignore")
    repaired, repairs = run_repair(garbled + "\n正文。\n")
    assert repaired.text.startswith("(三)")
    assert [r.kind for r in repairs] == ["mojibake"]


def test_garbled_looking_text_in_a_sentence_is_left_alone():
    text = "正文中提到?。ㄒ唬并非行首。\n"
    assert run_repair(text)[0].text == text


def test_wrap_spaces_of_a_flattened_line_removed():
    line = (
        "为深入推进依法行政,加快建设法治政府,结合本县实际,制定本方案。一、总体要求 坚持以习 近平新时代中国特色社会主义"
        "思想为指导,全面贯彻党的二十大精神,推进法治政府建设。二、主要任务 1.完善依法决策机制,严格落实重大行政决策程序,"
        "健全合法性审 查制度。〔牵头单 位:县司法局〕 2.深化行政执法体制改革,推进综合执法。〔牵头单位:县委编办、县司法 局〕"
        " 3.全面推行行政执法公示制度、执法全过程记录制度、重大执法决定法制审核制度。〔牵头单位:县司法局〕"
    )
    assert len(line) >= 200
    repaired, repairs = run_repair(line)
    assert "习近平" in repaired.text and "牵头单位:县司法局" in repaired.text and "县司法局〕" in repaired.text
    assert "合法性审查" in repaired.text
    assert (
        "一、总体要求 坚持" in repaired.text
    )  # a heading title keeps the space that ends it? no: between two characters
    assert all(r.kind == "line_wrap_space" for r in repairs)
    assert_origin_consistent(repaired)


def test_spaces_in_short_lines_stay():
    text = "中共某县委办公室 某县人民政府办公室\n2021年3月5日\n"
    assert run_repair(text)[0].text == text


def test_bare_document_number_line_gets_its_brackets():
    repaired, repairs = run_repair("关于印发方案的通知\n\n株县发20184\n\n各乡镇:\n")
    assert "株县发〔2018〕4号" in repaired.text
    assert [r.kind for r in repairs] == ["doc_number"]
    # a number inside a sentence is not touched
    assert run_repair("全年办理20184件。\n")[0].text == "全年办理20184件。\n"


# --------------------------------------------------------------------------- fast paths against their definitions

_REPAIR_PIECES = st.sampled_from(
    [
        *"执法(（)）zhíàabü \n\t?发办函字号〔〕年月日0129",
        "(zhí)",
        "(fǎ)",
        "(abc)",
        "株县发",
        "2017",
        "1949",
        "\n  ",
        "?",
    ]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_REPAIR_PIECES, max_size=30).map("".join))
def test_repair_searches_find_what_their_definitions_find(text):
    import re

    from analysis.parse import repair as r

    def spans(matches):
        return [(m.span(), m.groups()) for m in matches]

    assert spans(r._PINYIN_FAST.finditer(text)) == spans(r._PINYIN.finditer(text))
    bare = r.line_matches(r._DOC_NUMBER_BARE_LINE, text, r._BARE_DOC_NUMBER_ANCHOR)
    assert spans(bare) == spans(r._DOC_NUMBER_BARE_LINE.finditer(text))
    for minimum in (1, 3, 8):
        expected = [m.span() for m in re.finditer(r"[^\n]+", text) if m.end() - m.start() >= minimum]
        assert r._long_lines(text, minimum) == expected
    if "?" not in text:
        assert r._LOST_INDENT.search(text) is None


def test_pinyin_and_bare_numbers_seen_by_the_search_test():
    from analysis.parse import repair as r

    assert r._PINYIN_FAST.search("执(zhí)法") and r._PINYIN_FAST.search("(zhí)") is None
    assert r.line_matches(r._DOC_NUMBER_BARE_LINE, "前\n株县发20174\n后", r._BARE_DOC_NUMBER_ANCHOR)


def test_unrepaired_damage_the_same_with_the_scans_remembered_or_not():
    from analysis.parse import repair as r

    text = "到20192021年期间\n办公室 2017069\n20212019年\n" * 3
    repaired, _ = run_repair(text)
    remembered = find_unrepaired(repaired.text)
    r._signature_date_matches.cache_clear()
    r._year_range_matches.cache_clear()
    assert find_unrepaired(repaired.text) == remembered
    assert remembered  # the test sees damage left unrepaired
