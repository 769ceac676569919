"""Metadata stage on invented documents, and merging with the manifest."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import config
from analysis.core.errors import ReferenceDataError
from analysis.core.text import AlignedText
from analysis.parse.clean import clean
from analysis.parse.metadata import (
    classify_doc_type,
    extract_metadata,
    extract_period,
    load_doc_types,
    merge_metadata,
    place_units,
)
from analysis.parse.read import read_document
from analysis.parse.repair import repair
from analysis.parse.simplify import to_simplified

YICHANG_NOTICE = """宜昌市人民政府办公室关于印发《宜昌市法治政府建设实施方案(2021—2025年)》的通知
宜府办发〔2021〕15号
各县市区人民政府,市政府各部门:
现将《宜昌市法治政府建设实施方案(2021—2025年)》印发给你们,请认真贯彻执行。
宜昌市人民政府办公室
2021年4月2日
宜昌市法治政府建设实施方案
(2021—2025年)
为贯彻落实《湖北省法治政府建设实施方案(2021—2025年)》(鄂发〔2021〕20号),制定本方案。
一、总体要求
(一)指导思想。
"""

YUELU_REPORT = """长沙市岳麓区2019年法治政府建设工作报告
2019年,在区委的坚强领导下,我区法治政府建设取得新成效。
一、主要工作
(一)依法全面履行政府职能。全年取消行政审批事项12项。
二、存在的问题
三、2020年工作安排
长沙市岳麓区人民政府
2020年1月15日
"""


def test_notice_with_quoted_plan():
    meta = extract_metadata(YICHANG_NOTICE)
    assert meta == {
        "title": "宜昌市法治政府建设实施方案(2021—2025年)",
        "issuer": "宜昌市人民政府办公室",
        "doc_number": "宜府办发〔2021〕15号",  # the cited 鄂发〔2021〕20号 is another document's
        "issued": "2021-04-02",
        "period_start": 2021,
        "period_end": 2025,
        "doc_type": "实施方案",
        "jurisdiction": "宜昌市",
        "doc_type_raw": "实施方案",
        "published": None,
        "opening_year": None,  # both opening sentences name only cited plans' years
        "body_year": None,
        "year": 2021,  # a plan period in the title: the year of issue
        "year_source": "issued",
    }


def test_work_report_of_a_district():
    meta = extract_metadata(YUELU_REPORT)
    assert meta["title"] == "长沙市岳麓区2019年法治政府建设工作报告"
    assert (meta["doc_type"], meta["doc_type_raw"]) == ("情况报告", "工作报告")
    assert (meta["year"], meta["year_source"]) == (2019, "title")  # the year reported on, not the 2020 signature
    assert (meta["period_start"], meta["period_end"]) == (2019, 2019)
    assert meta["issuer"] == "长沙市岳麓区人民政府"
    assert meta["issued"] == "2020-01-15"
    assert meta["jurisdiction"] == "长沙市岳麓区"
    assert meta["doc_number"] is None


def test_notice_without_quotes_and_two_issuers():
    text = (
        "中共嘉兴市委办公室 嘉兴市人民政府办公室关于印发2022年嘉兴市法治政府建设工作要点的通知\n"
        "各县(市、区)党委和人民政府:\n经同意,现印发给你们。\n"
        "中共嘉兴市委办公室 嘉兴市人民政府办公室\n2022年3月8日\n"
    )
    meta = extract_metadata(text)
    assert meta["title"] == "2022年嘉兴市法治政府建设工作要点"
    assert meta["issuer"] == "中共嘉兴市委办公室;嘉兴市人民政府办公室"
    assert meta["doc_type"] == "工作要点"
    assert meta["jurisdiction"] == "嘉兴市"
    assert (meta["period_start"], meta["period_end"], meta["issued"]) == (2022, 2022, "2022-03-08")


def test_title_wrapped_over_two_lines_and_issue_line():
    text = "关于印发《某县法治政府建设\n示范创建活动实施方案》的通知\n各乡镇人民政府:\n(2021年6月30日印发)\n"
    meta = extract_metadata(text)
    assert meta["title"] == "某县法治政府建设示范创建活动实施方案"
    assert meta["doc_type"] == "创建方案"
    assert meta["issued"] == "2021-06-30"
    assert meta["issuer"] is None
    assert meta["jurisdiction"] == "某县"


def test_title_from_forwarding_sentence_and_office_in_title():
    text = "局属各单位:\n现将《许昌市司法局2023年法治机关建设工作计划》印发你们,请遵照执行。\n2023年2月20日\n一、目标\n"
    meta = extract_metadata(text)
    assert meta["title"] == "许昌市司法局2023年法治机关建设工作计划"
    assert meta["issuer"] == "许昌市司法局"
    assert meta["issued"] == "2023-02-20"
    assert meta["doc_type"] == "工作计划"


def test_range_of_a_cited_plan_bounds_the_period():
    title = "贯彻落实《浙江省法治政府建设规划(2021-2025年)》实施细则"
    assert extract_period(title, issued_year=2022) == (2022, 2025)
    assert extract_period(title) == (None, 2025)
    assert classify_doc_type(title) == "实施细则"


@pytest.mark.parametrize(
    "title, expected",
    [
        ("某市法治政府建设情况报告", "情况报告"),
        ("关于2020年法治政府建设工作情况的报告", "情况报告"),
        ("某市创建全国法治政府建设示范市实施方案", "创建方案"),
        ("某市法治政府建设实施方案(2016—2020年)", "实施方案"),
        ("关于加快建设法治政府的实施意见", "实施意见"),
        ("某区2021年依法行政工作要点", "工作要点"),
        ("某区法治宣传教育第八个五年规划", "规划"),
        ("某市法治政府建设的通知", None),
    ],
)
def test_doc_type_rules(title, expected):
    assert classify_doc_type(title) == expected


def test_place_units():
    assert place_units("阜城市高新区管委会办公室") == ["阜城市", "高新区"]
    assert place_units("中共某省委办公厅") == ["某省"]
    assert place_units("市委办公室、市政府办公室") == []
    assert place_units("全市法治政府建设") == []


@pytest.mark.parametrize(
    "first_line, title, doc_type, period, issuer",
    [
        ("2023年青山县法治政府建设工作要点", "2023年青山县法治政府建设工作要点", "工作要点", (2023, 2023), None),
        (
            "青山县人民政府关于2020年法治政府建设情况的报告",
            "青山县人民政府关于2020年法治政府建设情况的报告",
            "情况报告",
            (2020, 2020),
            "青山县人民政府",
        ),
    ],
)
def test_standalone_title_line(first_line, title, doc_type, period, issuer):
    text = f"{first_line}\n1.加强组织领导。\n(一)落实责任。\n"
    meta = extract_metadata(text)
    assert meta["title"] == title
    assert meta["doc_type"] == doc_type
    assert (meta["period_start"], meta["period_end"]) == period
    assert meta["issuer"] == issuer
    assert meta["jurisdiction"] == "青山县"


def test_doc_types_table_validated(tmp_path):
    path = tmp_path / "doc_types.csv"
    path.write_text("doc_type,precedence,pattern,note\n方案,10,方案$,x\n计划,10,计划$,y\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="precedence"):
        load_doc_types(path)


# --------------------------------------------------------------------------- merging


def test_manifest_wins_and_disagreements_are_normalised():
    manifest = {
        "doc_id": "yichang_2021",
        "title_zh": "宜昌市法治政府建设实施方案(2021-2025年)",  # hyphen instead of dash: same title
        "issuer_zh": "宜昌市人民政府办公室",
        "doc_number": "宜府办发[2021]15号",  # other bracket style: same number
        "issued": "2021/4/2",  # other date format: same date
        "period_start": "2021",
        "period_end": "2025",
        "doc_type": "工作要点",  # a real disagreement
        "jurisdiction_zh": "",
    }
    extracted = extract_metadata(YICHANG_NOTICE)
    merged, disagreements = merge_metadata(manifest, extracted)
    assert disagreements == [{"field": "doc_type", "manifest": "工作要点", "extracted": "实施方案"}]
    assert merged["doc_type"] == "工作要点"
    assert merged["title_zh"] == manifest["title_zh"]
    assert merged["issued"] == "2021-04-02"
    assert merged["period_start"] == 2021 and merged["period_end"] == 2025
    assert merged["jurisdiction_zh"] == "宜昌市"  # empty in the manifest: filled from the text
    assert merged["doc_id"] == "yichang_2021"


def test_merge_adds_missing_fields_and_compares_places():
    manifest = {"jurisdiction_zh": "岳麓区(长沙市)", "issued": "2020-01-16"}
    merged, disagreements = merge_metadata(manifest, extract_metadata(YUELU_REPORT))
    assert merged["title"] == "长沙市岳麓区2019年法治政府建设工作报告"
    assert disagreements == [{"field": "issued", "manifest": "2020-01-16", "extracted": "2020-01-15"}]


# --------------------------------------------------------------------------- seed regression


@pytest.mark.skipif(not config.MANIFEST_PATH.exists(), reason="seed corpus not present")
def test_seed_metadata_agrees_with_manifest():
    with open(config.MANIFEST_PATH, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        text = read_document(config.RAW_DIR / row["file"]).text
        simplified, _ = to_simplified(AlignedText.identity(text))
        repaired, _ = repair(clean(simplified)[0])
        _, disagreements = merge_metadata(row, extract_metadata(repaired.text))
        assert disagreements == [], row["doc_id"]


# --------------------------------------------------------------------------- screens against the regexes they skip

_DATE_ALPHABET = st.sampled_from(
    [*"0123456789〇○零一二三四五六七八九十月日号 ()[]〔〕—-~至到印发布签市人民政府办公室。,;:", "2019", "二〇一九"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_DATE_ALPHABET, max_size=30).map("".join))
def test_dates_and_years_need_nian(text):
    # arabic_dates, _find_signature and _single_years skip lines without 年: none of their patterns matches there
    from analysis.parse import metadata

    assert metadata._CN_DATE.search(text) is None
    assert metadata._ORGS_THEN_DATE.match(text) is None
    assert metadata._DATE_LINE.match(text) is None
    assert metadata._SINGLE_YEAR_ALONE.search(text) is None


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from([*"关于印发转的通知方案市局《》。", "关于印发", "的通知", "通知"]), max_size=12).map(
        "".join
    )
)
def test_a_notice_title_holds_guanyu_and_ends_with_de_tongzhi(text):
    from analysis.parse import metadata

    if metadata._NOTICE_TITLE.match(text):
        assert "关于" in text and text.endswith("的通知")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("《》<>〈〉甲乙")), max_size=20))
def test_quote_depths_as_counted_character_by_character(text):
    from analysis.parse import metadata

    assert metadata._quote_depths(text) == metadata._quote_depths_by_character(text)


# --------------------------------------------------------------------------- fast paths against their definitions


def _normalise_text_by_character(value: str) -> str:
    """The first-written normalisation: fullwidth ASCII mapped character by character."""
    import re

    from analysis.parse.metadata import _DASHES

    value = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in value)
    value = re.sub(r"\s+", "", value)
    value = value.replace("<", "《").replace(">", "》").replace("〈", "《").replace("〉", "》")
    return _DASHES.sub("-", value)


def _title_stem_by_depths(title: str) -> str:
    from analysis.parse.metadata import _TRAILING_PERIOD, _quote_depths_by_character

    depths = _quote_depths_by_character(title)
    outside = "".join(ch for ch, depth in zip(title, depths, strict=False) if depth == 0)
    return _TRAILING_PERIOD.sub("", outside).strip()


@settings(max_examples=1000, deadline=None)
@given(
    st.text(max_size=40)
    | st.lists(
        st.sampled_from([*"《》<>〈〉（）()—–-\uff01\uff5e\uff10\uff21\u3000 甲", "(2016—2020年)", "实施方案"])
    ).map("".join)
)
def test_normalised_text_and_title_stem_as_first_written(text):
    from analysis.parse.metadata import _normalise_text, title_stem

    assert _normalise_text(text) == _normalise_text_by_character(text)
    assert title_stem(text) == _title_stem_by_depths(text)


def test_fullwidth_table_covers_exactly_the_fullwidth_ascii_block():
    from analysis.parse.metadata import _normalise_text

    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        assert _normalise_text(ch) == _normalise_text_by_character(ch), hex(code)


def _notice_title_joining_every_window(head):
    """_find_notice_title as first written: every run of 1..MAX_TITLE_LINES lines joined and tried."""
    from analysis.parse.metadata import _NOTICE_TITLE, MAX_TITLE_LENGTH, MAX_TITLE_LINES

    best = None
    whole = "".join(head)
    if "关于" not in whole or "的通知" not in whole:
        return None
    for size in range(1, MAX_TITLE_LINES + 1):
        for start in range(len(head) - size + 1):
            joined = "".join(head[start : start + size])
            if len(joined) > MAX_TITLE_LENGTH * 2 or not joined.endswith("的通知"):
                continue
            match = _NOTICE_TITLE.match(joined)
            if match and (best is None or start < best[0]):
                best = (start, match)
    return best[1] if best else None


_HEAD_LINES = st.sampled_from(
    [
        "某市人民政府关于印发",
        "法治政府建设实施方案的通知",
        "的通知",
        "知",
        "通知",
        "的通",
        "关于",
        "甲",
        "关于印发《方案》的通知",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_HEAD_LINES, min_size=1, max_size=7))
def test_notice_title_found_as_joining_every_window(head):
    from analysis.parse.metadata import _find_notice_title

    fast, slow = _find_notice_title(head), _notice_title_joining_every_window(head)
    assert (fast and (fast.string, fast.span(), fast.groupdict())) == (
        slow and (slow.string, slow.span(), slow.groupdict())
    )
