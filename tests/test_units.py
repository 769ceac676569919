"""Tests for the units stage (analysis.units) on hand-written inputs."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import config
from analysis.annotate.agencies import AgencyNormaliser
from analysis.annotate.unit_names import split_units
from analysis.annotate.units import UnitMention, find_inline_assignments, parse_assignment, task_units
from analysis.compare.duties import agency_pairs, duty_metrics
from analysis.core.errors import ReferenceDataError
from analysis.core.models import Measure, Task

FIXTURES = Path(__file__).parent / "fixtures" / "units"
RAW_DIR = Path(__file__).resolve().parents[1] / "data" / "raw"


@pytest.fixture(scope="module")
def normaliser() -> AgencyNormaliser:
    return AgencyNormaliser()


def names(mentions: list[UnitMention]) -> list[str]:
    return [m.raw for m in mentions]


def roles(mentions: list[UnitMention]) -> list[str]:
    return [m.role for m in mentions]


# --------------------------------------------------------------------------- splitting


@pytest.mark.parametrize(
    "clause, expected",
    [
        ("责任单位:县财政局、县审计局", ["县财政局", "县审计局"]),
        ("责任单位:县财政局,县审计局", ["县财政局", "县审计局"]),
        ("责任单位：县财政局，县审计局", ["县财政局", "县审计局"]),  # full-width punctuation
        ("责任单位:县财政局;县审计局", ["县财政局", "县审计局"]),
        ("责任单位:县财政局和县审计局", ["县财政局", "县审计局"]),
        ("责任单位:县财政局及县审计局", ["县财政局", "县审计局"]),
        ("责任单位:县财政局与县审计局", ["县财政局", "县审计局"]),
        ("责任单位:县财政局以及县审计局", ["县财政局", "县审计局"]),
        ("责任单位:县财政局 县审计局", ["县财政局", "县审计局"]),
        ("责任单位:县财政局等", ["县财政局"]),
    ],
)
def test_every_separator_splits(clause: str, expected: list[str]) -> None:
    assert names(parse_assignment(clause)) == expected


def test_and_inside_agency_names_is_not_a_separator() -> None:
    clause = "配合单位:县发展和改革局、县人力资源和社会保障局、县文化和旅游局与县住房和城乡建设局"
    assert names(parse_assignment(clause)) == [
        "县发展和改革局",
        "县人力资源和社会保障局",
        "县文化和旅游局",
        "县住房和城乡建设局",
    ]


def test_written_order_is_kept() -> None:
    clause = "牵头单位:区审计局、区财政局、区司法局、区信访局"
    assert names(parse_assignment(clause)) == ["区审计局", "区财政局", "区司法局", "区信访局"]


def test_nested_parentheses_do_not_split() -> None:
    clause = "责任单位:区委党校(区行政学校(分校))、各镇(街道、开发区)人民政府"
    assert names(parse_assignment(clause)) == ["区委党校(区行政学校(分校))", "各镇(街道、开发区)人民政府"]


def test_clause_wrapped_in_brackets_and_trailing_punctuation() -> None:
    assert names(parse_assignment("(牵头单位:州司法局)。")) == ["州司法局"]
    assert names(parse_assignment("【责任单位：州审计局】")) == ["州审计局"]


def test_x_and_related_departments_gives_agency_plus_generic(normaliser: AgencyNormaliser) -> None:
    mentions = parse_assignment("牵头单位:县卫健局及相关部门")
    assert names(mentions) == ["县卫健局", "相关部门"]
    assert roles(mentions) == ["lead", "lead"]
    first, second = (normaliser.normalise(m.raw) for m in mentions)
    assert (first["canonical"], first["generic"]) == ("卫生健康委员会", False)
    assert (second["generic"], second["match"], second["category"]) == (True, "generic", "generic")


def test_x_etc_departments_names_only_x() -> None:
    # "X and other departments": what follows 等 is not a unit of its own (annotation convention).
    assert names(parse_assignment("责任单位:县公安局等有关部门")) == ["县公安局"]
    assert names(parse_assignment("配合单位:县民政局、县卫健局等单位,各乡镇人民政府")) == [
        "县民政局",
        "县卫健局",
        "各乡镇人民政府",
    ]


def test_split_units_helper() -> None:
    assert split_units("盟司法局、盟财政局和盟审计局") == ["盟司法局", "盟财政局", "盟审计局"]


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize(
    "label, role",
    [
        ("牵头单位", "lead"),
        ("牵头部门", "lead"),
        ("牵头", "lead"),
        ("责任单位", "responsible"),
        ("责任部门", "responsible"),
        ("主办", "responsible"),
        ("主责", "responsible"),
        ("配合单位", "support"),
        ("协办", "support"),
        ("参与", "support"),
        ("配合", "support"),
        ("牽頭單位", "lead"),
        ("責任單位", "responsible"),  # traditional characters
    ],
)
def test_role_from_label(label: str, role: str) -> None:
    assert parse_assignment(f"{label}:县民政局") == [UnitMention("县民政局", role)]


def test_several_labels_in_one_clause() -> None:
    mentions = parse_assignment("主办:区司法局;协办:区财政局、区人社局")
    assert mentions == [
        UnitMention("区司法局", "responsible"),
        UnitMention("区财政局", "support"),
        UnitMention("区人社局", "support"),
    ]


def test_deadline_and_person_labels_are_not_units() -> None:
    mentions = parse_assignment("牵头单位:区审计局;配合单位:区财政局;完成时限:2021年6月底;责任领导:王某某")
    assert mentions == [UnitMention("区审计局", "lead"), UnitMention("区财政局", "support")]


def test_first_listed_is_lead_note() -> None:
    mentions = parse_assignment("责任单位:县应急局、县公安局、县消防救援大队,排在第一位的为牵头单位")
    assert names(mentions) == ["县应急局", "县公安局", "县消防救援大队"]
    assert roles(mentions) == ["lead", "responsible", "responsible"]


def test_label_without_colon_in_damaged_text() -> None:
    assert parse_assignment("牵头单位县统计局") == [UnitMention("县统计局", "lead")]


def test_clause_without_label_uses_verbs() -> None:
    mentions = parse_assignment("县司法局、县财政局牵头,各乡镇人民政府按职责分工负责")
    assert mentions == [
        UnitMention("县司法局", "lead"),
        UnitMention("县财政局", "lead"),
        UnitMention("各乡镇人民政府", "responsible"),
    ]


def test_clause_without_label_or_verb_defaults_to_responsible() -> None:
    assert roles(parse_assignment("县司法局、县财政局")) == ["responsible", "responsible"]


def test_unknown_label_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="analysis.units"):
        mentions = parse_assignment("督办单位:县政府督查室")
    assert mentions == [UnitMention("县政府督查室", "responsible")]
    assert "督办单位" in caplog.text


# --------------------------------------------------------------------------- families seen in real captures


@pytest.mark.parametrize(
    "clause, expected",
    [
        ("责任单位:州财政局,各县、市人民政府", ["州财政局", "各县、市人民政府"]),
        ("配合单位:县教育局、县人社局,各乡镇、街道", ["县教育局", "县人社局", "各乡镇、街道"]),
        ("协同责任单位:市水务局、市农业局等,各县、市、区政府。", ["市水务局", "市农业局", "各县、市、区政府"]),
        # Two collectives in a row stay two: each starts with 各.
        ("责任单位:各乡镇人民政府、各街道办事处", ["各乡镇人民政府", "各街道办事处"]),
    ],
)
def test_collective_units_with_inner_enumeration_stay_whole(clause: str, expected: list[str]) -> None:
    assert names(parse_assignment(clause)) == expected


@pytest.mark.parametrize(
    "clause, role",
    [
        ("协同责任单位:县水利局", "support"),
        ("牵头责任单位:县水利局", "lead"),
        ("协助落实单位:县水利局", "support"),
        ("第一责任部门:县水利局", "responsible"),
        ("協同責任單位:縣水利局", "support"),  # traditional characters
    ],
)
def test_composed_labels_take_the_role_of_their_words(clause: str, role: str) -> None:
    assert roles(parse_assignment(clause)) == [role]


def test_aside_with_a_colon_inside_a_list_is_not_a_label() -> None:
    assert names(parse_assignment("责任单位:县民政局、各乡镇人民政府(备注:含园区)")) == [
        "县民政局",
        "各乡镇人民政府(备注:含园区)",
    ]


def test_person_role_lines_name_no_unit() -> None:
    assert parse_assignment("牵头负责领导:张某某。") == []
    assert parse_assignment("分管负责人:李某") == []
    assert names(parse_assignment("牵头单位:县发改局;责任领导:王某某")) == ["县发改局"]


def test_first_responsible_unit_is_lead_note_with_same_below() -> None:
    mentions = parse_assignment("责任单位:区商务局、区财政局(第一责任单位为牵头单位,下同)")
    assert mentions == [UnitMention("区商务局", "lead"), UnitMention("区财政局", "responsible")]


def test_line_wrap_spaces_inside_labels_and_names() -> None:
    mentions = parse_assignment("牵头单 位:县政府办公室、县司法 局;责任单位:县 政府各部门,各乡镇人民政府")
    assert names(mentions) == ["县政府办公室", "县司法 局", "县 政府各部门", "各乡镇人民政府"]
    assert roles(mentions) == ["lead", "lead", "responsible", "responsible"]
    # A space between two complete names still separates them.
    assert names(parse_assignment("责任单位:县财政局 县审计局")) == ["县财政局", "县审计局"]


def test_line_wrap_space_normalises_to_the_agency(normaliser: AgencyNormaliser) -> None:
    info = normaliser.normalise("县司法 局")
    assert (info["raw"], info["name"], info["canonical"]) == ("县司法 局", "司法局", "司法局")


def test_lead_then_responsible_verb_pair_is_lead() -> None:
    assert parse_assignment("县市场监管局牵头负责") == [UnitMention("县市场监管局", "lead")]
    assert parse_assignment("县直各部门负责落实") == [UnitMention("县直各部门", "responsible")]


def test_unlabelled_clause_keeps_only_unit_names() -> None:
    assert names(parse_assignment("县民政局、有序推进")) == ["县民政局"]
    assert names(parse_assignment("县民政局、市")) == ["县民政局"]  # a bare level word is no unit


@pytest.mark.parametrize(
    "clause, expected",
    [
        # Cut inside the second label's list: the cut name goes, the complete ones stay.
        ("牵头单位:县商务局、县发改局;责任单位:县", ["县商务局", "县发改局"]),
        # No label and no verb: complete names before the cut one stay.
        ("县政府办公室、县", ["县政府办公室"]),
        # The verb of the second group is cut: its names have no visible role.
        ("县住建局牵头,县交通局等各有关", ["县住建局"]),
        # A capture may also end right after a complete name (a clause line has no final 。).
        ("牵头单位:县审批局;配合单位:县住建局", ["县审批局", "县住建局"]),
    ],
)
def test_clause_cut_by_the_end_of_the_capture(clause: str, expected: list[str]) -> None:
    assert names(parse_assignment(clause, cut=True)) == expected


def test_cut_clause_at_the_end_of_a_cut_task(normaliser: AgencyNormaliser) -> None:
    clause = "牵头单位:县商务局;责任单位:县发展"
    task = _task([("优化办事流程。(" + clause, [clause])])
    task.flags.append("cut_off")
    rows = task_units(task, normaliser, jurisdiction=None)
    assert [(r["raw"], r["role"], r["source"]) for r in rows] == [("县商务局", "lead", "clause_cut")]
    # The same clause in a task that is not cut keeps every name.
    whole = task_units(_task([("优化办事流程。(" + clause + ")", [clause])]), normaliser, jurisdiction=None)
    assert [r["raw"] for r in whole] == ["县商务局", "县发展"]


def test_adverbs_before_the_role_verb_in_any_order() -> None:
    mentions = parse_assignment("责任单位:区政府办公室、各有关部门,各街道办事处按职责分工分别负责。")
    assert names(mentions) == ["区政府办公室", "各有关部门", "各街道办事处"]


def test_table_cell_separator_is_a_clause_boundary_inline() -> None:
    assert find_inline_assignments("按月更新门户网站栏目。 | 综合股牵头,各业务股室配合 |") == [
        UnitMention("综合股", "lead"),
        UnitMention("各业务股室", "support"),
    ]


def test_directly_subordinate_units_are_generic(normaliser: AgencyNormaliser) -> None:
    assert normaliser.normalise("局直各单位")["canonical"] == "内设机构和直属单位(泛指)"


def test_table_cell_clause_with_verbs() -> None:
    mentions = parse_assignment("责任部门:办公室牵头,各科室配合")
    assert mentions == [UnitMention("办公室", "lead"), UnitMention("各科室", "support")]


# --------------------------------------------------------------------------- inline


def test_inline_you_x_lead_y_support() -> None:
    mentions = find_inline_assignments("建立重大决策合法性审查机制,由区司法局牵头,区直各部门配合。")
    assert mentions == [UnitMention("区司法局", "lead"), UnitMention("区直各部门", "support")]


def test_inline_lead_then_responsible_by_duty() -> None:
    mentions = find_inline_assignments("州政府办公室牵头,各有关部门按职责分工负责。")
    assert mentions == [UnitMention("州政府办公室", "lead"), UnitMention("各有关部门", "responsible")]


def test_inline_huitong() -> None:
    mentions = find_inline_assignments("局法规科会同人事科、办公室制定年度学法计划。")
    assert mentions == [
        UnitMention("局法规科", "lead"),
        UnitMention("人事科", "support"),
        UnitMention("办公室", "support"),
    ]


def test_inline_ignores_people_and_prepositions() -> None:
    assert find_inline_assignments("各单位主要负责人要履行第一责任人职责,对本级人民政府负责。") == []
    assert find_inline_assignments("实行行政执法责任制,明确执法人员责任。") == []


def test_inline_skips_labelled_clause_inside_sentence() -> None:
    assert find_inline_assignments("加强审计监督(牵头单位:县审计局)。") == []


# --------------------------------------------------------------------------- normalising


@pytest.mark.parametrize(
    "raw, name, canonical, category",
    [
        ("宜昌市司法局", "司法局", "司法局", "legal_affairs_justice"),
        ("某某县人社局", "人社局", "人力资源和社会保障局", "human_resources"),
        ("浙江省市场监管局", "市场监管局", "市场监督管理局", "market_regulation"),
        ("榆林市横山区发展和改革局", "发展和改革局", "发展和改革委员会", "development_reform"),
        ("中共某某县委组织部", "组织部", "党委组织部", "organisation_staffing"),
        ("某某市委办公室", "市委办公室", "党委办公室", "general_office"),
        ("市市场监管局", "市场监管局", "市场监督管理局", "market_regulation"),
        ("市场监督管理局", "市场监督管理局", "市场监督管理局", "market_regulation"),
        ("县政府国资委", "国资委", "国有资产监督管理委员会", "finance"),
        ("省司法厅", "司法厅", "司法局", "legal_affairs_justice"),
        ("司法部", "司法部", "司法局", "legal_affairs_justice"),
        ("区委依法治区办", "依法治区办", "全面依法治理委员会办公室", "legal_affairs_justice"),
        ("委政策法规处", "政策法规处", "政策法规机构", "internal_office"),
    ],
)
def test_prefix_stripping_and_aliases(normaliser, raw, name, canonical, category) -> None:
    result = normaliser.normalise(raw)
    assert (result["name"], result["canonical"], result["category"]) == (name, canonical, category)
    assert result["raw"] == raw
    assert result["generic"] is False


def test_match_kinds(normaliser: AgencyNormaliser) -> None:
    assert normaliser.normalise("县司法局")["match"] == "exact"
    assert normaliser.normalise("县人社局")["match"] == "alias"
    assert normaliser.normalise("某某市某某区人民法院第三人民法庭")["match"] == "pattern"
    assert normaliser.normalise("各有关部门")["match"] == "generic"


def test_jurisdiction_prefix_without_level_suffix(normaliser: AgencyNormaliser) -> None:
    result = normaliser.normalise("桃源镇人民政府", jurisdiction="桃源镇")
    assert result["canonical"] == "人民政府"
    assert normaliser.normalise("甘肃工信委")["canonical"] == "工业和信息化委员会"


def test_a_jurisdiction_without_a_token_of_two_characters_is_no_jurisdiction(normaliser: AgencyNormaliser) -> None:
    """A manifest jurisdiction such as 县 (every part shorter than two characters) once made normalising an
    unmatched name loop for ever: an empty token was found at the start of every name and stripped, in vain."""

    from analysis.corpus.engine import Budget, ItemFailure, run_guarded

    cases = [
        (name, jurisdiction)
        for jurisdiction in ("县", "(/)", "市 县")
        for name in ("档案甲乙", "县档案甲乙丙", "县司法局")
    ]
    # Under the documents' own time budget: the old code does not return, it fails as "too slow".
    results = run_guarded(lambda _: [normaliser.normalise(n, jurisdiction=j) for n, j in cases], 0, None, Budget(20))
    assert not isinstance(results, ItemFailure), results
    assert results == [normaliser.normalise(name) for name, _ in cases]


def test_traditional_characters(normaliser: AgencyNormaliser) -> None:
    result = normaliser.normalise("臺中縣環境保護局")
    assert result["canonical"] == "环境保护局"
    assert result["raw"] == "臺中縣環境保護局"


def test_parenthetical_second_name(normaliser: AgencyNormaliser) -> None:
    assert normaliser.normalise("县司法局(县委依法治县办)")["canonical"] == "司法局"
    assert normaliser.normalise("区委党校(区行政学校)")["canonical"] == "党校(行政学院)"


@pytest.mark.parametrize(
    "raw, label",
    [
        ("各有关部门", "有关部门(泛指)"),
        ("区直有关部门单位", "有关部门(泛指)"),
        ("县直各部门", "本级各部门(泛指)"),
        ("县政府各部门(单位)", "本级各部门(泛指)"),
        ("各县(市、区)人民政府", "下级政府(泛指)"),
        ("乡镇人民政府", "下级政府(泛指)"),
        ("各意见建议承办单位", "承办单位(泛指)"),
        ("区直各执法部门单位", "执法部门(泛指)"),
        ("局属各单位", "内设机构和直属单位(泛指)"),
        ("各县区司法局", "下级政府及其部门(泛指)"),
    ],
)
def test_generic_units(normaliser, raw, label) -> None:
    result = normaliser.normalise(raw)
    assert (result["generic"], result["canonical"], result["successor"], result["category"]) == (
        True,
        label,
        label,
        "generic",
    )


def test_reform_crosswalk(normaliser: AgencyNormaliser) -> None:
    before = normaliser.normalise("某某市政府法制办")  # as named in a 2017 plan
    after = normaliser.normalise("某某市司法局")  # as named in a 2020 plan
    assert before["canonical"] == "政府法制办公室" and after["canonical"] == "司法局"
    assert before["successor"] == after["successor"] == "司法局"
    assert normaliser.normalise("县工商局")["successor"] == "市场监督管理局"
    assert normaliser.normalise("县安监局")["successor"] == "应急管理局"
    assert normaliser.normalise("县物价局")["successor"] == "发展和改革委员会"  # the primary row
    assert normaliser.normalise("县纪委监察局")["successor"] == "纪委监委"
    # a chain: 卫生局 (2013) -> 卫计委 (2018) -> 卫生健康委员会
    assert normaliser.normalise("县卫生局")["successor"] == "卫生健康委员会"
    assert normaliser.normalise("县财政局")["successor"] == "财政局"


def test_unmatched_is_kept_and_reported(normaliser_fresh: AgencyNormaliser) -> None:
    result = normaliser_fresh.normalise("某某县星河湾水库管理站")
    assert result["match"] == "unmatched"
    assert result["category"] == "unclassified"
    assert result["name"] == "星河湾水库管理站"
    assert result["canonical"] == "星河湾水库管理站"
    normaliser_fresh.normalise("某某县星河湾水库管理站")
    report = normaliser_fresh.unmatched_report()
    assert report.to_dict("records") == [{"name": "星河湾水库管理站", "n": 2}]


@pytest.fixture
def normaliser_fresh() -> AgencyNormaliser:
    return AgencyNormaliser()


def test_unused_aliases_are_warned(normaliser_fresh: AgencyNormaliser, caplog) -> None:
    normaliser_fresh.normalise("县司法局")
    with caplog.at_level(logging.WARNING):
        unused = normaliser_fresh.unused_aliases()
    assert "司法局" not in unused and "司法厅" in unused
    assert normaliser_fresh.used_aliases_["司法局"] == 1
    assert "never used" in caplog.text


# --------------------------------------------------------------------------- reference validation


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    for name in (
        "agencies.csv",
        "agency_categories.csv",
        "reform_crosswalk.csv",
        "generic_units.csv",
        "unit_roles.csv",
        "place_names.csv",
    ):
        shutil.copy(config.REFERENCE_DIR / name, tmp_path / name)
    return tmp_path


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def test_reference_copy_loads(reference_copy: Path) -> None:
    assert AgencyNormaliser(reference_copy).normalise("县司法局")["canonical"] == "司法局"


def test_duplicate_alias_raises(reference_copy: Path) -> None:
    _append(reference_copy / "agencies.csv", "司法局,政府法制办公室,legal_affairs_justice,exact,")
    with pytest.raises(ReferenceDataError, match=r"agencies\.csv.*duplicate alias '司法局'"):
        AgencyNormaliser(reference_copy)


def test_unknown_category_raises(reference_copy: Path) -> None:
    _append(reference_copy / "agencies.csv", "水土保持局,水土保持局,soil_conservation,exact,")
    with pytest.raises(ReferenceDataError, match="soil_conservation"):
        AgencyNormaliser(reference_copy)


def test_crosswalk_target_must_be_canonical(reference_copy: Path) -> None:
    _append(reference_copy / "reform_crosswalk.csv", "环境保护局,环境部,no,test,2018,,test source")
    with pytest.raises(ReferenceDataError, match="环境部"):
        AgencyNormaliser(reference_copy)


def test_crosswalk_needs_one_primary(reference_copy: Path) -> None:
    _append(reference_copy / "reform_crosswalk.csv", "环境保护局,应急管理局,yes,test,2018,,test source")
    with pytest.raises(ReferenceDataError, match="exactly one primary"):
        AgencyNormaliser(reference_copy)


def test_bad_regex_raises(reference_copy: Path) -> None:
    _append(reference_copy / "generic_units.csv", "各(有关部门,坏的模式,")
    with pytest.raises(ReferenceDataError, match="generic_units.csv.*regular expression"):
        AgencyNormaliser(reference_copy)


def test_missing_table_raises(reference_copy: Path) -> None:
    (reference_copy / "place_names.csv").unlink()
    with pytest.raises(ReferenceDataError, match="place_names.csv: file not found"):
        AgencyNormaliser(reference_copy)


# --------------------------------------------------------------------------- task_units


def _task(measures: list[tuple[str, list[str]]], task_id: str = "d1-T001") -> Task:
    return Task(
        doc_id="d1",
        task_id=task_id,
        kind="task",
        seq=1,
        number="1.",
        path="一/1",
        level=3,
        headings=[],
        title="",
        text="".join(t for t, _ in measures),
        span=(0, 1),
        raw_span=(0, 1),
        measures=[
            Measure(i, text, (0, len(text)), (0, len(text)), clauses) for i, (text, clauses) in enumerate(measures)
        ],
    )


def test_task_units_rows(normaliser: AgencyNormaliser) -> None:
    task = _task(
        [
            ("清理规范性文件(牵头单位:县司法局、县政府办)。", ["牵头单位:县司法局、县政府办"]),
            ("由县审计局牵头,县财政局配合,开展专项审计。", []),
            ("加强培训。", []),
        ]
    )
    rows = task_units(task, normaliser, jurisdiction="某某县")
    assert [(r["measure_index"], r["canonical"], r["role"], r["source"]) for r in rows] == [
        (0, "司法局", "lead", "clause"),
        (0, "政府办公室", "lead", "clause"),
        (1, "审计局", "lead", "inline"),
        (1, "财政局", "support", "inline"),
    ]
    assert [r["unit_order"] for r in rows] == [0, 1, 2, 3]
    assert {"raw", "name", "successor", "category", "generic", "match"} <= set(rows[0])


def test_task_without_units_gives_no_rows(normaliser: AgencyNormaliser) -> None:
    assert task_units(_task([("加强法治宣传教育。", [])]), normaliser, jurisdiction=None) == []


# --------------------------------------------------------------------------- metrics


def _units_frame(rows: list[tuple]) -> pd.DataFrame:
    columns = ["doc_id", "task_id", "measure_index", "unit_order", "canonical", "role", "generic", "match"]
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture
def small_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    # Doc A: 4 tasks (+1 framing). T1: 司法局 (lead) + 财政局; T2: 司法局 + generic;
    # T3: 审计局 + an unmatched name; T4: nothing.  Framing F1 names 纪委监委 (ignored).
    units = _units_frame(
        [
            ("A", "A-T001", 0, 0, "司法局", "lead", False, "exact"),
            ("A", "A-T001", 0, 1, "财政局", "support", False, "exact"),
            ("A", "A-T002", 0, 0, "司法局", "responsible", False, "alias"),
            ("A", "A-T002", 1, 1, "有关部门(泛指)", "responsible", True, "generic"),
            ("A", "A-T003", 0, 0, "审计局", "lead", False, "exact"),
            ("A", "A-T003", 0, 1, "水库管理站", "support", False, "unmatched"),
            ("A", "A-F01", 0, 0, "纪委监委", "lead", False, "alias"),
        ]
    )
    tasks = pd.DataFrame(
        [("A", f"A-T00{i}", "task") for i in range(1, 5)]
        + [("A", "A-F01", "framing")]
        + [("B", "B-T001", "task"), ("B", "B-T002", "task")],
        columns=["doc_id", "task_id", "kind"],
    )
    documents = pd.DataFrame({"doc_id": ["A", "B"], "jurisdiction_zh": ["甲市", "乙县"]})
    return units, tasks, documents


def test_duty_metrics_by_hand(small_tables) -> None:
    units, tasks, documents = small_tables
    metrics = duty_metrics(units, tasks, documents).set_index("doc_id")
    a = metrics.loc["A"]
    assert a["n_tasks"] == 4
    assert a["n_tasks_assigned"] == 3
    assert a["assigned_task_share"] == pytest.approx(0.75)
    assert a["assignment_status"] == "assigned"
    # agencies: 司法局 (2 tasks), 财政局 (1), 审计局 (1), 水库管理站 (1, unmatched but named)
    assert a["n_agencies"] == 4
    assert a["tasks_per_agency"] == pytest.approx(5 / 4)
    assert a["lead_agency"] == "司法局"
    assert a["lead_agency_share"] == pytest.approx(2 / 3)
    # HHI: shares 2/5, 1/5, 1/5, 1/5 -> 4/25 + 3 * 1/25 = 7/25
    assert a["hhi"] == pytest.approx(0.28)
    assert a["n_generic_mentions"] == 1
    assert a["n_unmatched"] == 1


def test_document_without_units_is_not_assigned(small_tables) -> None:
    units, tasks, documents = small_tables
    b = duty_metrics(units, tasks, documents).set_index("doc_id").loc["B"]
    assert b["assignment_status"] == "not assigned"
    assert (b["n_tasks"], b["n_tasks_assigned"], b["n_agencies"]) == (2, 0, 0)
    assert b["assigned_task_share"] == 0
    assert pd.isna(b["hhi"]) and pd.isna(b["lead_agency"])


def test_duty_metrics_with_empty_units_table(small_tables) -> None:
    _, tasks, documents = small_tables
    metrics = duty_metrics(pd.DataFrame(), tasks, documents)
    assert list(metrics["assignment_status"]) == ["not assigned", "not assigned"]


def test_agency_pairs(small_tables) -> None:
    units, _, _ = small_tables
    extra = _units_frame(
        [
            ("A", "A-T004", 0, 0, "财政局", "lead", False, "exact"),
            ("A", "A-T004", 0, 1, "司法局", "support", False, "exact"),
        ]
    )
    pairs = agency_pairs(pd.concat([units, extra], ignore_index=True))
    assert list(pairs.columns) == ["doc_id", "agency_a", "agency_b", "n_shared_tasks"]
    # T1 and T4 share 司法局+财政局; T3 has 审计局+水库管理站; T2's generic unit and the framing unit F01
    # are no agencies/tasks to pair (F01 has one agency only).
    assert pairs.to_dict("records") == [
        {"doc_id": "A", "agency_a": "司法局", "agency_b": "财政局", "n_shared_tasks": 2},
        {"doc_id": "A", "agency_a": "审计局", "agency_b": "水库管理站", "n_shared_tasks": 1},
    ]
    assert all(pairs["agency_a"] < pairs["agency_b"])


# --------------------------------------------------------------------------- corpus checks

SEED_CLAUSE = re.compile(r"[(（]\s*((?:牵头|责任|配合|协办)(?:单位|部门)\s*[:：][^()（）]*)[)）]")


def test_every_named_agency_in_the_seed_clauses_is_matched(normaliser: AgencyNormaliser) -> None:
    files = sorted(RAW_DIR.glob("*.txt"))
    if not files:
        pytest.skip("seed documents not present in data/raw")
    results = []
    for path in files:
        for clause in SEED_CLAUSE.findall(path.read_text(encoding="utf-8")):
            for mention in parse_assignment(clause):
                results.append((path.name, mention.raw, normaliser.normalise(mention.raw)))
    assert len(results) > 50  # the clause regex found the assignments
    unmatched = [(f, raw) for f, raw, r in results if r["match"] == "unmatched"]
    rate = 1 - len(unmatched) / len(results)
    logging.getLogger(__name__).info("seed clauses: %d units, match rate %.3f", len(results), rate)
    assert unmatched == []


def _heldout() -> list[tuple[str, str]]:
    lines = (FIXTURES / "heldout_units.txt").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line.strip() and not line.startswith("#")]


def test_heldout_unit_names_match(normaliser: AgencyNormaliser) -> None:
    cases = _heldout()
    assert len(cases) >= 60
    wrong = [
        (raw, want, normaliser.normalise(raw)["canonical"])
        for raw, want in cases
        if normaliser.normalise(raw)["canonical"] != want or normaliser.normalise(raw)["match"] == "unmatched"
    ]
    rate = 1 - len(wrong) / len(cases)
    assert rate >= 0.95, wrong


def test_traditional_capture_keeps_names_as_written(tmp_path: Path) -> None:
    from analysis.parse.pipeline import process_document

    path = tmp_path / "trad.txt"
    path.write_text(
        "某區2021年營商環境行動方案\n一、提升服務\n"
        "1.推廣電子證照應用,實現高頻事項全覆蓋。(責任單位:區司法局、區數據局)\n"
        "2.深化審批改革。(區審批局牽頭,各街道配合)\n",
        encoding="utf-8",
    )
    doc = process_document(path)
    rows = [(u["raw"], u["name"], u["role"]) for task in doc.tasks for u in task.extra["units"]]
    assert rows == [
        ("區司法局", "司法局", "responsible"),
        ("區數據局", "数据局", "responsible"),
        ("區審批局", "审批局", "lead"),
        ("各街道", "各街道", "support"),
    ]


def test_first_is_lead_note_holds_for_the_tasks_below(tmp_path: Path) -> None:
    from analysis.parse.pipeline import process_document

    path = tmp_path / "measures.txt"
    path.write_text(
        "某区优化营商环境若干措施\n一、降低门槛\n"
        "(一)清理不合理限制。全面清理招投标壁垒。\n责任单位:区商务局、区财政局(第一责任单位为牵头单位,下同)\n"
        "(二)规范涉企收费。公布收费目录清单。\n责任单位:区发改局、区市场监管局\n"
        "(三)压缩办理时间。推行承诺制。\n牵头单位:区审批局;配合单位:区住建局\n",
        encoding="utf-8",
    )
    doc = process_document(path)
    assert [[(u["raw"], u["role"]) for u in task.extra["units"]] for task in doc.tasks] == [
        [("区商务局", "lead"), ("区财政局", "responsible")],
        [("区发改局", "lead"), ("区市场监管局", "responsible")],
        [("区审批局", "lead"), ("区住建局", "support")],  # explicit roles are kept
    ]


# --------------------------------------------------------------------------- speed-ups keep the output (issue 13)


def _reference_boundaries(text: str) -> tuple[list[int], list[int]]:
    """The per-character arrays the inline search used before bisection (the specification)."""
    stops = set(",;。:!?\n|")
    n = len(text)
    previous, last = [-1] * (n + 1), -1
    for i in range(n + 1):
        previous[i] = last
        if i < n and (text[i] in stops or text[i] in "()"):
            last = i
    following, first = [n] * (n + 1), n
    for i in range(n - 1, -1, -1):
        if text[i] in stops:
            first = i
        following[i] = first
    return previous, following


def _reference_mask(text: str, label_starts: list[int]) -> str:
    """Every bracket holding a label start blanked to 。, character by character (the specification)."""
    stack, masked = [], [False] * len(text)
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            open_at = stack.pop()
            if any(open_at < s < i for s in label_starts):
                masked[open_at : i + 1] = [True] * (i + 1 - open_at)
    return "".join("。" if m else ch for ch, m in zip(text, masked, strict=True))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "县水利局负责",
        "(县水利局牵头),县农业局配合;县林业局。",
        "甲(乙(丙)丁)戊|己\n(庚",
        ")))(((",
        "由县交通局牵头。会同县公安局,县城管局",
    ],
)
def test_boundaries_by_bisection_match_the_per_character_arrays(text: str) -> None:
    from analysis.annotate.units import _Boundaries

    previous, following = _reference_boundaries(text)
    found = _Boundaries(text)
    assert [found.previous(i) for i in range(len(text) + 1)] == previous
    assert [found.following(i) for i in range(len(text) + 1)] == following


@pytest.mark.parametrize(
    "text",
    [
        "推进档案数字化(牵头单位:县档案馆)并按季度通报",
        "推进档案数字化(牵头单位:县档案馆(县史志办))并通报(每季度一次)",
        "外层(说明(责任单位:县档案馆)说明)之后(配合单位:县财政局)",
        "未闭合(牵头单位:县档案馆",
        "没有标签(县档案馆)的括号",
        "多余的右括号)(责任单位:县档案馆))",
    ],
)
def test_masking_labelled_brackets_matches_the_character_walk(text: str) -> None:
    from analysis.annotate.units import _mask_labelled_brackets, default_roles

    roles = default_roles()
    starts = [m.start() for m in roles.label_pattern.finditer(text)]
    assert _mask_labelled_brackets(text, roles) == _reference_mask(text, starts)


def test_remembered_clauses_give_fresh_lists_and_warn_every_time(caplog: pytest.LogCaptureFixture) -> None:
    clause = "督查单位:县档案馆、县史志办"  # an unknown label, warned about at each call
    with caplog.at_level(logging.WARNING):
        first = parse_assignment(clause)
        first.append(UnitMention("不该出现", "lead"))
        second = parse_assignment(clause)
    assert second == [UnitMention("县档案馆", "responsible"), UnitMention("县史志办", "responsible")]
    assert sum("督查单位" in record.getMessage() for record in caplog.records) == 2


def test_long_clauses_and_sentences_are_parsed_without_the_memo() -> None:
    from analysis.annotate import units

    filler = "加强档案管理," * (units.MEMO_MAX_CHARS // 7 + 1)
    clause = "牵头单位:" + "、".join(f"县{n}局" for n in "甲乙丙丁") + ";" + filler
    sentence = filler + "由县档案馆牵头,县史志办配合"
    assert len(clause) > units.MEMO_MAX_CHARS and len(sentence) > units.MEMO_MAX_CHARS
    roles = units.default_roles()
    assert parse_assignment(clause) == list(units._parse_assignment(clause, False, None, roles=roles)[0])
    assert find_inline_assignments(sentence) == [UnitMention("县档案馆", "lead"), UnitMention("县史志办", "support")]
    assert find_inline_assignments(sentence[: len(filler) + 5]) == []  # no role verb at all


def test_standing_note_per_clause() -> None:
    from analysis.annotate.units import standing_note

    noted = _task([("甲", ["责任单位:县档案馆、县史志办(第一责任单位为牵头单位,下同)"])])
    plain = _task([("甲", ["责任单位:县档案馆、县史志办"])])
    for _ in range(2):
        assert standing_note(noted) == "lead"
        assert standing_note(plain) is None


@pytest.mark.parametrize("text", ["", "县档案馆", "(县档案馆(分馆))", "县档案馆)(", "((县档案馆)"])
def test_parenthesis_helpers_match_the_character_walk(text: str) -> None:
    from analysis.annotate.unit_names import _depth_map, bracket_partners

    stack, partners, depth, depths = [], {}, 0, []
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            partners[stack.pop()] = i
        if ch == ")":
            depth = max(0, depth - 1)
        depths.append(depth)
        if ch == "(":
            depth += 1
    assert bracket_partners(text) == partners
    assert _depth_map(text) == depths


@pytest.mark.parametrize("text", ["县档案馆", "【县档案馆】", "〔2020〕", "县　档案馆", "［县档案馆］〈甲〉"])
def test_punctuation_is_folded_with_or_without_bracket_variants(text: str) -> None:
    import unicodedata

    from analysis.annotate.unit_names import _BRACKETS, normalise_punctuation

    assert normalise_punctuation(text) == unicodedata.normalize("NFKC", text).translate(_BRACKETS)


def test_short_text_memo_remembers_short_texts_only() -> None:
    from analysis.annotate import units

    calls: list[str] = []

    def parse(text: str, flag: bool) -> tuple[str, bool]:
        calls.append(text)
        return text, flag

    memo = units._short_text_memo(parse)
    short, long = "县档案馆", "县" * (units.MEMO_MAX_CHARS + 1)
    assert memo(short, True) == memo(short, True) == (short, True)
    assert memo(long, False) == memo(long, False) == (long, False)
    assert calls == [short, long, long]


@pytest.mark.parametrize(
    "piece", ["县档案馆", "县档案馆和县史志办", "县档案馆会同县史志办", "县档案馆牵头", "各乡镇(街道)等单位"]
)
def test_remembered_list_items_split_as_before(piece: str) -> None:
    from analysis.annotate.units import _split_with_verb, default_roles

    roles = default_roles()
    assert list(roles.list_items(piece)) == _split_with_verb(piece, roles)


@pytest.mark.parametrize(
    "piece, expected",
    [
        ("县档案馆", [("县档案馆", "、")]),  # no soft separator: the short path
        ("县发展和改革局", [("县发展和改革局", "、")]),  # 和 inside a name
        ("县档案馆和县史志办", [("县档案馆", "soft"), ("县史志办", "、")]),
        ("县档案馆等单位", [("县档案馆", "、")]),
    ],
)
def test_soft_separators_split_only_after_a_unit(piece: str, expected: list[tuple[str, str]]) -> None:
    from analysis.annotate.unit_names import _split_soft

    assert _split_soft(piece, "、") == expected


def test_counted_lookup_counts_like_normalise(normaliser_fresh: AgencyNormaliser) -> None:
    reference = AgencyNormaliser()
    for name in ("县司法局", "县档案馆甲乙", "县司法局"):
        assert dict(normaliser_fresh.counted(name, None)) == reference.normalise(name)
    assert normaliser_fresh.used_aliases_ == reference.used_aliases_
    assert normaliser_fresh.unmatched_ == reference.unmatched_
    first = normaliser_fresh.normalise("县司法局")
    first["canonical"] = "改过"
    assert normaliser_fresh.normalise("县司法局")["canonical"] == "司法局"  # a copy, the memory untouched


@pytest.mark.parametrize(
    "name", ["县司法局", "縣司法局", "区发展和改革局", "區發展和改革局", "市政府(辦公室)", "ABC局"]
)
def test_names_without_convertible_characters_skip_opencc(name: str) -> None:
    from opencc import OpenCC

    from analysis.core.hanzi import simplify_text

    assert simplify_text(name) == OpenCC("t2s").convert(name)  # the screen inside simplify_text changes nothing


def test_verbatim_tasks_keep_names_as_written_without_lookups(tmp_path: Path) -> None:
    from analysis.annotate.units import _verbatim, _written_forms
    from analysis.parse.pipeline import parse_document

    path = tmp_path / "plan.txt"
    path.write_text(
        "某县工作要点\n一、加强档案工作\n1.推进档案数字化。(牵头单位:县档案馆)\n2.規範檔案查閱。(牽頭單位:縣檔案館)\n",
        encoding="utf-8",
    )
    doc = parse_document(path)
    plain, converted = doc.tasks
    assert _verbatim(plain.text, plain.span[0], doc)
    assert not _verbatim(converted.text, converted.span[0], doc)  # traditional characters in the capture
    assert _written_forms(plain, doc) is None  # names stay as read
    written = _written_forms(converted, doc)
    assert written is not None and written("县档案馆") == "縣檔案館"


def test_agency_alias_rows_are_checked_in_one_pass(reference_copy: Path) -> None:
    _append(reference_copy / "agencies.csv", "局,司法局,legal_affairs_justice,exact,")
    _append(reference_copy / "agencies.csv", "司法(局,司法局,legal_affairs_justice,pattern,")
    with pytest.raises(ReferenceDataError) as raised:
        AgencyNormaliser(reference_copy)
    assert "shorter than 2 characters" in str(raised.value)
    assert "not a valid regular expression" in str(raised.value)


def test_remembered_segments_give_the_mentions_of_the_list() -> None:
    from analysis.annotate.units import _mentions_from_list, default_roles

    roles = default_roles()
    for segment in ("县档案馆、县史志办", "县档案馆牵头,县史志办配合", "县档案馆和县"):
        for labelled, cut in ((True, False), (False, False), (True, True)):
            remembered = roles.list_mentions(segment, "support", labelled, cut)
            assert list(remembered) == _mentions_from_list(segment, "support", roles, labelled=labelled, cut=cut)


def test_name_memo_is_bounded_and_forgetting_changes_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import analysis.annotate.agencies as agencies

    normaliser = AgencyNormaliser()
    names = ["县司法局", "市财政局", "区教育局", "县人民政府办公室", "市公安局"]
    first = [normaliser.normalise(name) for name in names]
    monkeypatch.setattr(agencies, "NAME_MEMO_SIZE", 2)
    bounded = AgencyNormaliser()
    again = [bounded.normalise(name) for name in names + names]
    assert len(bounded._cache) <= 2
    assert again == first + first


# --------------------------------------------------------------------------- fast paths against their definitions

_CLAUSES = [
    "牵头单位:县司法局;责任单位:县财政局、县审计局",
    "牵头单位:县司法局、县政府办",
    "责任单位:县档案馆、县史志办(第一责任单位为牵头单位,下同)",
    "督查单位:县档案馆",  # an unknown label: warned
    "县财政局牵头,县审计局配合",
    "责任单位:县司法局、县财政局",
    "",
]
_SENTENCES = [
    "加强档案管理。",
    "由县审计局牵头,县财政局配合,开展审计。",
    "县司法局会同县档案馆推进。",
    "(牵头单位:县档案馆)",
]


def _reference_task_units(task: Task, normaliser: AgencyNormaliser, jurisdiction: str | None, first_is_lead):
    """task_units as first written: every measure parses its clauses and its sentence itself."""
    from analysis.annotate.unit_names import clean_unit_name
    from analysis.annotate.units import _cut_clause, _without_clauses, default_roles

    rows = []
    cut_clause = _cut_clause(task)
    for measure in task.measures:
        mentions = []
        for clause in measure.units_raw:
            cut = clause == cut_clause
            parsed = parse_assignment(clause, cut=cut, first_is_lead=first_is_lead)
            mentions += [(m, "clause_cut" if cut else "clause") for m in parsed]
        inline = find_inline_assignments(_without_clauses(measure.text, measure.units_raw), default_roles())
        mentions += [(m, "inline") for m in inline]
        seen: set[str] = set()
        for mention, source in mentions:
            key = clean_unit_name(mention.raw)
            if not key or key in seen:
                continue
            seen.add(key)
            info = normaliser.normalise(mention.raw, jurisdiction=jurisdiction)
            rows.append(
                {
                    **info,
                    "role": mention.role,
                    "measure_index": measure.index,
                    "unit_order": len(rows),
                    "source": source,
                }
            )
    return rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    measures=st.lists(
        st.tuples(st.sampled_from(_SENTENCES), st.lists(st.sampled_from(_CLAUSES), max_size=2)), max_size=5
    ),
    repeat=st.booleans(),
    cut=st.booleans(),
    first_is_lead=st.sampled_from([None, "lead"]),
)
def test_task_units_parses_shared_clauses_once_with_the_same_rows(measures, repeat, cut, first_is_lead) -> None:
    if repeat and measures:  # consecutive measures sharing their clauses, as the tasks stage writes them
        measures = [(text, list(measures[0][1])) for text, _ in measures]
    task = _task([(text + "".join(f"({c})" for c in clauses), clauses) for text, clauses in measures])
    if cut and task.measures and task.measures[-1].units_raw:
        task.flags.append("cut_off")
        task.text = task.text.rstrip(")")
    fast, slow = AgencyNormaliser(), AgencyNormaliser()
    rows = task_units(task, fast, jurisdiction="某某县", first_is_lead=first_is_lead)
    assert rows == _reference_task_units(task, slow, "某某县", first_is_lead)
    assert fast.used_aliases_ == slow.used_aliases_ and fast.unmatched_ == slow.unmatched_


class _ReferenceWrittenForms:
    """The written-form lookup as first written (a class keeping its cursor), for the test below."""

    def __init__(self, task: Task, document) -> None:
        from analysis.annotate.unit_names import normalise_punctuation

        self.text = normalise_punctuation(task.text)
        self.document, self.offset, self.cursor = document, task.span[0], 0

    def __call__(self, name: str) -> str:
        at = self.text.find(name, self.cursor)
        if at < 0:
            at = self.text.find(name)
            if at < 0:
                return name
        self.cursor = at + len(name)
        start, end = self.document.aligned.original_span(self.offset + at, self.offset + at + len(name))
        original = self.document.original_text[start:end]
        return original if len(original) == len(name) else name


def test_written_forms_follow_the_cursor_like_the_reference(tmp_path: Path) -> None:
    from analysis.annotate.units import _written_forms
    from analysis.parse.pipeline import parse_document

    path = tmp_path / "plan.txt"
    path.write_text(
        "某县工作要点\n一、加强档案工作\n"
        "1.規範檔案查閱，縣檔案館負責。推进数字化。（牽頭單位：縣檔案館；責任單位：县档案馆、县史志办）\n",
        encoding="utf-8",
    )
    doc = parse_document(path)
    (task,) = doc.tasks
    written, reference = _written_forms(task, doc), _ReferenceWrittenForms(task, doc)
    assert written is not None
    for name in ["县档案馆", "县档案馆", "县档案馆", "县史志办", "县档案馆", "不在此处", "档案", "县档案馆"]:
        assert written(name) == reference(name)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_text_a_note_matches_passes_its_screen(data) -> None:
    from analysis.annotate.units import default_roles
    from analysis.core.text import may_match

    pattern, _, required = data.draw(st.sampled_from(default_roles().screened_notes))
    text = data.draw(st.from_regex(pattern))
    if pattern.search(text) is not None:
        assert may_match(required, text), (pattern.pattern, text, required)


@pytest.mark.parametrize(
    "clause",
    [
        "责任单位:县档案馆(第一责任单位为牵头单位,下同)",
        "责任单位:县档案馆(第一责任单位为牵头单位)",
        "责任单位:县档案馆(第一責任單位為牽頭單位,下同)",
        "责任单位:县档案馆(第一责任单位为牵头单位,㊦同)",  # ㊦ folds to 下
        "责任单位:县档案馆,下同",
        "牵头单位:县档案馆",
    ],
)
def test_standing_note_screen_answers_like_the_full_search(clause: str) -> None:
    from analysis.annotate.unit_names import normalise_punctuation
    from analysis.annotate.units import _standing_note_role, default_roles

    roles = default_roles()
    text = normalise_punctuation(clause)
    expected = next(
        (role for pattern, role in roles.notes if (m := pattern.search(text)) and "下同" in m.group()), None
    )
    assert _standing_note_role(clause, roles=roles) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="县档案馆由牵头配合负责会同(牵头单位:)。,;【】", max_size=40))
def test_inline_search_checks_for_a_verb_before_masking(sentence: str) -> None:
    from analysis.annotate.unit_names import normalise_punctuation
    from analysis.annotate.units import _find_inline_assignments, _mask_labelled_brackets, default_roles

    roles = default_roles()
    masked = _mask_labelled_brackets(normalise_punctuation(sentence), roles)
    found = _find_inline_assignments(sentence, roles=roles)
    if not roles.verb_pattern.search(masked):
        assert found == ()  # what the check after masking answered


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["各县", "全市", "市", "区政府", "县档案馆", "乡镇", "街道办事处", "各"]),
            st.sampled_from(["、", ",", ""]),
        ),
        max_size=6,
    )
)
def test_collectives_are_joined_as_without_the_screen(pieces) -> None:
    """The screen returns a list without 各/全 as it is: no piece of it opens a collective (the loop's only join)."""
    from analysis.annotate.unit_names import EDGE_PUNCT, _join_collectives, collective_parts

    if not any("各" in piece or "全" in piece for piece, _ in pieces):
        assert _join_collectives(pieces) == pieces
        heads = [collective_parts().fullmatch(piece.strip(EDGE_PUNCT)) for piece, _ in pieces]
        assert not any(head and head.group("all") for head in heads)


def _reference_split_with_separators(text: str) -> list[tuple[str, str]]:
    """split_with_separators as first written: a depth map always, each piece stripped twice."""
    from analysis.annotate.unit_names import _HARD_SEPARATOR, EDGE_PUNCT, _depth_map, _join_collectives, _split_soft

    depth = _depth_map(text)
    pieces: list[tuple[str, str]] = []
    start = 0
    for match in _HARD_SEPARATOR.finditer(text):
        i = match.start()
        if depth[i] == 0:
            pieces.append((text[start:i], match.group()))
            start = i + 1
    pieces.append((text[start:], ""))
    out: list[tuple[str, str]] = []
    for piece, separator in _join_collectives(pieces):
        out.extend(_split_soft(piece, separator))
    return [(p.strip(EDGE_PUNCT), s) for p, s in out if p.strip(EDGE_PUNCT)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["县档案馆", "县史志办", "各县", "市", "区政府", "和", "等", "、", ",", ";", "(", ")", " ", "。", "牵头"]
        ),
        max_size=12,
    )
)
def test_unit_lists_split_like_the_first_definition(parts: list[str]) -> None:
    from analysis.annotate.unit_names import split_with_separators

    text = "".join(parts)
    assert split_with_separators(text) == _reference_split_with_separators(text)


_NAME_PARTS = [
    "某某市",
    "臺中",
    "桃源镇",
    "臺中縣",
    "台中县",
    "县",
    "区",
    "司法局",
    "環境保護局",
    "人民政府",
    "(办公室)",
    "档案甲乙",
    "各有关部门",
]


_JURISDICTIONS = [None, "", "某某市", "桃源镇", "台中县", "台中", "臺中", "某某区(某某市)", "甘肃省/司法局", "县司法"]


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.sampled_from(_NAME_PARTS), min_size=1, max_size=4), jurisdiction=st.sampled_from(_JURISDICTIONS)
)
def test_a_name_is_normalised_once_for_the_jurisdictions_it_cannot_meet(parts: list[str], jurisdiction) -> None:
    """The result shared by jurisdictions whose tokens occur in no variant of the name is the one each gives."""
    raw = "".join(parts)
    shared, fresh = AgencyNormaliser(), AgencyNormaliser()
    for other in _JURISDICTIONS:  # the shared result worked out for some other jurisdiction first
        shared._normalise(raw, other)
    assert shared._normalise(raw, jurisdiction) == fresh._normalise_variants(raw, fresh._variants(raw), jurisdiction)


def test_names_counted_in_many_jurisdictions_count_as_before(normaliser_fresh: AgencyNormaliser) -> None:
    reference = AgencyNormaliser()
    names = ["县司法局", "某某市档案甲乙", "臺中縣環境保護局", "桃源镇人民政府", "县司法局"]
    for jurisdiction in _JURISDICTIONS:
        for name in names:
            result, used = reference._normalise_variants(name, reference._variants(name), jurisdiction)
            assert dict(normaliser_fresh.counted(name, jurisdiction)) == result
            if used:
                reference.used_aliases_[used] += 1
            if result["match"] == "unmatched":
                reference.unmatched_[result["name"]] += 1
    assert normaliser_fresh.used_aliases_ == reference.used_aliases_
    assert list(normaliser_fresh.unmatched_.items()) == list(reference.unmatched_.items())
