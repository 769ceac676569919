"""Metadata on the capture families of issue 11 (texts written for these tests).

Title in 《》 on the first line, inside a notice (also in a flattened line), or
only in the first sentence; the year from the title, the period, the issue
date, the document number or the opening sentence, with its source; document
numbers labelled, in square brackets, opening or closing the title line, or
with lost brackets; ``doc_type`` as a controlled vocabulary with the written
ending kept in ``doc_type_raw``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.core.errors import ReferenceDataError
from analysis.core.text import AlignedText
from analysis.parse.clean import clean
from analysis.parse.metadata import (
    DOC_TYPE_OTHER,
    YEAR_SOURCES,
    classify_doc_type_raw,
    controlled_doc_type,
    doc_type_vocabulary,
    extract_metadata,
    load_doc_type_cues,
    load_doc_types,
    merge_metadata,
    resolve_year,
)
from analysis.parse.repair import repair


def meta_of(text: str) -> dict:
    """Metadata as the pipeline extracts it: from the cleaned, repaired text and the page-meta lines removed."""
    cleaned, furniture = clean(AlignedText.identity(text))
    repaired, _ = repair(cleaned)
    return extract_metadata(repaired.text, page_meta=[block["text"] for block in furniture])


# --------------------------------------------------------------------------- titles


def test_title_in_quotes_on_the_first_line():
    text = (
        "《松江市法治政府建设实施方案(2021-2025年)》\n\n发布时间:2022-04-11 09:30\n\n松发〔2021〕17号\n\n一、总体要求\n"
    )
    meta = meta_of(text)
    assert meta["title"] == "松江市法治政府建设实施方案(2021-2025年)"
    assert (meta["doc_type"], meta["doc_type_raw"]) == ("实施方案", "实施方案")
    assert meta["doc_number"] == "松发〔2021〕17号"
    assert meta["published"] == "2022-04-11"
    # A plan period: the year of issue, here known from the document number (published later).
    assert (meta["year"], meta["year_source"]) == (2021, "issued")


def test_title_only_in_the_first_sentence_of_a_news_reprint():
    text = (
        "近日,省委、省政府印发了《江北省法治政府建设实施方案(2021—2025年)》,要求各地认真贯彻落实。\n"
        "方案主要内容如下。\n一、总体要求\n"
    )
    meta = meta_of(text)
    assert meta["title"] == "江北省法治政府建设实施方案(2021—2025年)"
    assert meta["doc_type"] == "实施方案"
    assert (meta["period_start"], meta["period_end"]) == (2021, 2025)
    assert (meta["year"], meta["year_source"]) == (2021, "period")


def test_notice_title_inside_a_flattened_pdf_line():
    text = (
        "河口市人民政府办公室 关于印发河口市 2023 年法治政府建设 工作计划的通知 各区人民政府,市政府各部门: "
        "《河口市 2023 年法治政府建设工作计划》已经市政府同意,现印发 给你们,请认真贯彻执行。 河口市人民政府办公室 "
        "2023 年 4 月 6 日 河口市 2023 年法治政府建设工作计划 为深入推进依法行政, 加快建设法治政府,制定本计划。 "
        "一、加强组织领导 1.落实第一责任人职责。"
    )
    meta = meta_of(text)
    assert meta["title"] == "河口市2023年法治政府建设工作计划"
    assert (meta["doc_type"], meta["year"], meta["year_source"]) == ("工作计划", 2023, "title")


def test_a_cited_notice_is_not_the_title():
    text = (
        "各县市区人民政府:\n根据《省政府办公厅关于印发2022年政务公开工作要点的通知》要求,结合我市实际,"
        "制定了全市政务公开任务清单,现印发给你们。\n2022年6月1日\n"
    )
    meta = meta_of(text)
    assert meta["title"] is None
    assert meta["issued"] == "2022-06-01"
    assert (meta["year"], meta["year_source"]) == (2022, "issued")


def test_a_breadcrumb_naming_a_type_is_not_a_title():
    text = "工作报告\n首页 > 政务公开 > 工作报告\n2021年青岭区法治政府建设情况报告\n2021年,青岭区坚持依法行政。\n"
    meta = meta_of(text)
    assert meta["title"] == "2021年青岭区法治政府建设情况报告"
    assert (meta["doc_type"], meta["year"]) == ("情况报告", 2021)


def test_own_notice_without_a_wrapped_plan_is_the_title():
    text = "【重点工作分解】东湖市人民政府关于2021年市政府重点工作及责任分解的通知\n各县区人民政府:\n"
    meta = meta_of(text)
    assert meta["title"] == "东湖市人民政府关于2021年市政府重点工作及责任分解的通知"
    assert meta["doc_type"] == DOC_TYPE_OTHER
    assert (meta["year"], meta["year_source"]) == (2021, "title")


# --------------------------------------------------------------------------- years


@pytest.mark.parametrize(
    "text, year, source",
    [
        # A report without a title: the year its opening sentence speaks of.
        (
            "2020年,在市委、市政府的正确领导下,我县全面推进依法行政,取得明显成效。现将有关情况报告如下:\n一、主要做法\n",
            2020,
            "text",
        ),
        # A statistics report that opens with a heading.
        ("一、案件办理情况\n2023年新受理行政复议案件96件,同比增长21.5%,已办结88件。\n二、案件类型\n", 2023, "text"),
        # A disclosure report naming its year in the first sentence.
        ("根据《条例》规定,县政府编制了2019年度政府信息公开工作报告,现予公布。全文包括总体情况等。\n", 2019, "text"),
        # A plan with no title, issue date or period: the first year its body names.
        (
            "以新发展理念为指导,持续优化营商环境,推动审批服务提质增效,为高质量发展提供支撑。\n"
            "1.精简审批事项。全面梳理行政许可事项,2021年6月底前公布市县两级清单。\n",
            2021,
            "text",
        ),
    ],
)
def test_year_from_the_opening_text(text, year, source):
    meta = meta_of(text)
    assert (meta["year"], meta["year_source"]) == (year, source)


def test_report_year_is_the_year_reported_on_not_the_issue_year():
    text = (
        "2019年,我区坚持以习近平法治思想为指导,扎实推进法治政府建设。现将工作情况报告如下:\n"
        "一、主要工作\n(一)依法履职。\n某区人民政府\n2020年2月3日\n"
    )
    meta = meta_of(text)
    assert meta["issued"] == "2020-02-03"
    assert (meta["doc_type"], meta["year"], meta["year_source"]) == ("情况报告", 2019, "text")


def test_plan_year_from_labelled_issue_date():
    text = "成文日期: 2022-03-15\n发文字号: 南府办发〔2022〕9号\n关于印发南岭县法治政府建设规划(2021—2025年)的通知\n"
    meta = meta_of(text)
    assert meta["issued"] == "2022-03-15"
    assert (meta["year"], meta["year_source"]) == (2022, "issued")
    assert (meta["doc_type"], meta["period_start"]) == ("规划", 2021)


def test_publication_date_on_a_site_line_is_the_last_resort():
    text = "关于加快推进法治政府建设的实施意见\n\n青河县政府 www.example.gov.cn 2016-05-04 10:00\n\n各乡镇人民政府:\n"
    meta = meta_of(text)
    assert meta["published"] == "2016-05-04"
    assert (meta["year"], meta["year_source"]) == (2016, "issued")


def test_no_year_when_the_text_names_none():
    meta = meta_of("(三)加强执法监督。完善执法监督制度。\n8.推行执法公示。\n")
    assert (meta["year"], meta["year_source"]) == (None, None)


def test_resolve_year_order_and_sources():
    assert resolve_year({"title": "某县2020年度工作安排", "issued": "2019-12-30"}) == (2020, "title")
    assert resolve_year({"title": "某县规划(2021—2025年)", "issued": "2022-01-05", "period_start": 2021}) == (
        2022,
        "issued",
    )
    assert resolve_year({"doc_number": "某发〔2018〕3号", "published": "2019-02-01"}) == (2018, "issued")
    assert resolve_year({"period_start": 2016}) == (2016, "period")
    assert resolve_year({"doc_type": "情况报告", "opening_year": 2017, "issued": "2018-03-01"}) == (2017, "text")
    assert resolve_year({"opening_year": 2017, "issued": "2018-03-01"}) == (2018, "issued")
    assert set(YEAR_SOURCES) == {"title", "period", "issued", "text"}


def test_merge_recomputes_the_year_from_the_manifest():
    text = "某县法治政府建设实施方案(2021—2025年)\n一、总体要求\n"
    extracted = meta_of(text)
    assert (extracted["year"], extracted["year_source"]) == (2021, "period")
    merged, _ = merge_metadata({"issued": "2022-02-10"}, extracted)
    assert (merged["year"], merged["year_source"]) == (2022, "issued")


# --------------------------------------------------------------------------- document numbers


@pytest.mark.parametrize(
    "line, number",
    [
        ("发文字号:北交发〔2021〕45号", "北交发〔2021〕45号"),
        ("发文字号 | 西政发〔2024〕12号 | 制发机构 |", "西政发〔2024〕12号"),
        ("发文字号东卫发〔2020〕7号", "东卫发〔2020〕7号"),
        ("【字号】川府办函〔2019〕21号", "川府办函〔2019〕21号"),
        ("文号: 南府办函〔2023〕4号 发布日期: 2023-05-26", "南府办函〔2023〕4号"),
        ("    新交发 [2022] 88号关于印发《新城市交通运输局法治建设方案》的通知", "新交发〔2022〕88号"),
        ("林州市人民政府关于优化营商环境的实施意见(林政〔2018〕56号)", "林政〔2018〕56号"),
        ("林县发20194", "林县发〔2019〕4号"),
        ("发文字号:青政发〔2020〕第8号", "青政发〔2020〕8号"),
    ],
)
def test_document_number_forms(line, number):
    meta = meta_of(f"{line}\n各乡镇人民政府:\n现将有关事项通知如下。\n")
    assert meta["doc_number"] == number


def test_numbers_cited_in_the_body_are_not_the_documents():
    text = "关于做好执法工作的通知\n各单位:\n根据《某省实施意见》(某政发〔2020〕3号)要求,现通知如下。\n"
    assert meta_of(text)["doc_number"] is None


# --------------------------------------------------------------------------- document types


@pytest.mark.parametrize(
    "title, doc_type, raw",
    [
        ("某区2021年法治政府建设年度报告", "情况报告", "年度报告"),
        ("某镇人民政府关于2022年度法治政府建设情况的报告", "情况报告", "情况的报告"),
        ("某县2020年上半年法治政府建设工作总结", "情况报告", "工作总结"),
        ("某省人民政府关于2019年法治政府建设工作的报告", "情况报告", "工作的报告"),
        ("某县2021年法治政府建设情况", "情况报告", "建设情况"),
        ("某市2021年政务公开重点工作任务分工", "分工方案", "工作任务分工"),
        ("深化放管服改革2021年重点任务分工方案", "分工方案", "任务分工方案"),
        ("某区深化营商环境建设行动方案", "实施方案", "行动方案"),
        ("某县法治政府建设工作方案", "实施方案", "工作方案"),
        ("某市创建全国法治政府建设示范市实施方案", "创建方案", "实施方案"),
        ("某县2020年度法治政府建设重点工作安排", "工作安排", "工作安排"),
        ("某市法治市场监管建设实施纲要(2021—2025年)", "规划", "实施纲要"),
        ("关于加快推进法治政府建设的意见", "实施意见", "意见"),
        ("某市行政执法公示办法", DOC_TYPE_OTHER, "办法"),
    ],
)
def test_titles_map_to_the_controlled_vocabulary(title, doc_type, raw):
    assert classify_doc_type_raw(title) == (doc_type, raw)
    assert doc_type in doc_type_vocabulary()


def test_every_rule_and_cue_uses_the_vocabulary():
    vocabulary = doc_type_vocabulary()
    assert {rule.doc_type for rule in load_doc_types()} <= vocabulary
    assert {cue.doc_type for cue in load_doc_type_cues()} <= vocabulary
    assert DOC_TYPE_OTHER in vocabulary


def test_a_title_with_an_unknown_ending_is_other():
    meta = meta_of("某市关于开展执法检查的通知\n各单位:\n")
    assert (meta["doc_type"], meta["doc_type_raw"]) == (DOC_TYPE_OTHER, None)


@pytest.mark.parametrize(
    "opening, doc_type, raw",
    [
        ("为深入推进依法行政,加快建设法治政府,结合自治区实际,制定本方案。\n一、总体要求\n", "实施方案", "方案"),
        ("为做好今年的依法行政工作,结合本县实际,制定本工作要点。\n一、重点任务\n", "工作要点", "工作要点"),
        ("2018年,全县各级行政机关全面推进依法行政。现将有关情况报告如下:\n一、主要工作\n", "情况报告", "情况报告"),
    ],
)
def test_type_from_the_opening_text_when_no_title(opening, doc_type, raw):
    meta = meta_of(opening)
    assert meta["title"] is None
    assert (meta["doc_type"], meta["doc_type_raw"]) == (doc_type, raw)


def test_no_type_without_title_or_cue():
    meta = meta_of("以习近平新时代中国特色社会主义思想为指导,全面推进依法行政工作,不断提升治理能力。\n1.精简审批。\n")
    assert (meta["doc_type"], meta["doc_type_raw"]) == (None, None)


def test_manifest_type_outside_the_vocabulary_is_mapped_and_kept_raw():
    extracted = meta_of("某县法治政府建设实施方案\n一、总体要求\n")
    merged, disagreements = merge_metadata({"doc_type": "工作方案"}, extracted)
    assert disagreements == []  # 工作方案 is an implementation plan
    assert (merged["doc_type"], merged["doc_type_raw"]) == ("实施方案", "工作方案")
    merged, _ = merge_metadata({"doc_type": "请示"}, extracted)
    assert (merged["doc_type"], merged["doc_type_raw"]) == (DOC_TYPE_OTHER, "请示")
    assert controlled_doc_type("情况报告") == "情况报告"


def test_doc_types_with_a_type_outside_the_vocabulary_are_refused(tmp_path):
    path = tmp_path / "doc_types.csv"
    path.write_text("doc_type,precedence,pattern,note\n工作方案,10,方案$,not a vocabulary label\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="doc_type_vocabulary"):
        load_doc_types(path)


def test_documents_table_carries_year_source_and_raw_type():
    from analysis.core.schema import conform
    from analysis.corpus.rows import document_rows
    from analysis.parse.pipeline import parse_decoded
    from analysis.parse.read import DecodedText

    text = "某区2022年度法治政府建设年度报告\n2022年,某区坚持依法行政。\n一、主要工作\n(一)依法履职。\n"
    doc = parse_decoded(DecodedText(text, "utf-8", "txt"), doc_id="r", source_path="r.txt")
    row = conform(pd.DataFrame([document_rows(doc)]), "documents").iloc[0]
    assert (row["doc_type"], row["doc_type_raw"], row["year"], row["year_source"]) == (
        "情况报告",
        "年度报告",
        2022,
        "title",
    )


@pytest.mark.parametrize(
    "opening",
    [
        "根据省政府办公厅关于印发2022年政务公开工作要点的通知要求,结合我县实际,现将有关任务分解如下,请抓好落实。\n",
        "为贯彻落实国务院印发《法治政府建设实施纲要(2021—2025年)》的部署,结合本市实际,推进依法行政。\n",
    ],
)
def test_a_plan_cited_without_quotes_in_the_opening_is_not_the_title(opening):
    assert meta_of(opening + "一、主要任务\n")["title"] is None


def test_period_written_with_two_years_each_marked():
    meta = meta_of("某县法治政府建设规划(2021年—2025年)\n一、总体要求\n")
    assert (meta["period_start"], meta["period_end"]) == (2021, 2025)
    assert (meta["year"], meta["year_source"]) == (2021, "period")


@pytest.mark.parametrize("label", ["附件:", "附件2:", "标题 | ", "文件:"])
def test_a_label_before_the_title_line_is_not_part_of_it(label):
    meta = meta_of(f"各乡镇人民政府:\n{label}某县2022年政务公开任务分解责任清单\n一、公开规划\n")
    assert meta["title"] == "某县2022年政务公开任务分解责任清单"
    assert (meta["doc_type"], meta["year"]) == ("分工方案", 2022)
