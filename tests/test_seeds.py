"""Regression tests on the five seed documents (expected values read off the texts).

The numbers below come from the issue and from reading the documents by
hand; they guard the pipeline's behaviour on real captures.  The pipeline
itself contains nothing specific to these files.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from analysis import config
from analysis.core.models import KIND_FRAMING
from analysis.parse.manifest import load_manifest
from analysis.parse.pipeline import parse_document

EXPECTED_TASKS = {
    "tianmen_2017": 36,
    "xihe_2018": 22,
    "linyi_2020": 26,
    "gansu_miit_2017": 28,
    "luohe_culture_2021": 19,
}
EXPECTED_FRAMING = {
    "tianmen_2017": ["总体目标和要求"],
    "xihe_2018": ["总体要求"],
    "linyi_2020": [],
    "gansu_miit_2017": ["指导思想", "工作目标", "基本原则"],
    "luohe_culture_2021": ["指导思想", "基本原则", "创建目标"],
}


@pytest.fixture(scope="module")
def seeds():
    entries, problems = load_manifest(config.MANIFEST_PATH, config.RAW_DIR)
    assert problems == []
    return {e.doc_id: parse_document(e.path, e.doc_id, e.metadata) for e in entries}


def test_task_counts(seeds):
    assert {doc_id: len(doc.tasks) for doc_id, doc in seeds.items()} == EXPECTED_TASKS


def test_framing_units(seeds):
    framing = {d: [u.title for u in doc.items if u.kind == KIND_FRAMING] for d, doc in seeds.items()}
    assert framing == EXPECTED_FRAMING


def test_tianmen_task_one_measures_and_units(seeds):
    task = seeds["tianmen_2017"].tasks[0]
    assert (task.path, task.title) == ("二/(一)/1", "深化行政审批制度改革")
    assert task.headings == ["主要任务和具体措施", "依法全面履行政府职能"]
    assert [m.units_raw for m in task.measures] == [
        ["牵头单位:市政务服务中心"],
        ["牵头单位:市政务服务中心"],
        ["牵头单位:市编办"],
        ["牵头单位:市人社局"],
    ]
    assert task.measures[0].text.startswith("全面清理行政审批事项")
    assert task.measures[3].text.startswith("建立职业资格目录")


def test_tianmen_tasks_are_numbered_one_to_thirty_six(seeds):
    assert [t.number.rstrip(".、") for t in seeds["tianmen_2017"].tasks] == [str(i) for i in range(1, 37)]
    assert seeds["tianmen_2017"].tasks[-1].path == "三/36"


def test_signature_and_web_furniture_are_not_part_of_the_last_task(seeds):
    last = seeds["tianmen_2017"].tasks[-1]
    assert last.text.endswith("(牵头单位:市委组织部、市编办、市财政局、市人社局)。")
    gansu_last = seeds["gansu_miit_2017"].tasks[-1]
    assert not gansu_last.text.endswith(".pdf")
    assert seeds["xihe_2018"].tasks[-1].text.endswith("实现考核日常化、标准化、公正化。")
    assert seeds["linyi_2020"].tasks[-1].measures[-1].units_raw == ["责任单位:市司法局"]


def test_xihe_lost_heading_number_is_recovered_and_recorded(seeds):
    doc = seeds["xihe_2018"]
    recovered = [t for t in doc.tasks if t.path.startswith("二/(四)/")]
    assert [t.path for t in recovered] == ["二/(四)/13", "二/(四)/14", "二/(四)/15"]
    assert all("number_inferred" in t.flags for t in recovered)
    assert recovered[0].headings == ["重点工作", "强化政府法律顾问作用"]
    assert [r.after for r in doc.repairs if r.kind == "heading_number"] == ["(四)"]
    assert all(not t.measures or all(m.units_raw == [] for m in t.measures) for t in doc.tasks)


def test_gansu_sections_without_items_are_tasks(seeds):
    paths = [t.path for t in seeds["gansu_miit_2017"].tasks]
    assert paths[:2] == ["二/(一)", "二/(二)/1"]
    assert "二/(四)" in paths
    assert paths[-4:] == ["三/(一)", "三/(二)", "三/(三)", "三/(四)"]


def test_luohe_steps_and_requirements_are_tasks(seeds):
    paths = [t.path for t in seeds["luohe_culture_2021"].tasks]
    assert paths[:3] == ["四/(一)/1", "四/(一)/2", "四/(一)/3"]
    assert paths[12:] == ["五/(一)", "五/(二)", "五/(三)", "五/(四)", "五/(五)", "六/(一)", "六/(二)"]


def _fold(text: str) -> str:
    """Compare captures with cleaned text: width, spaces and repairs folded away."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s年月日〔〕号—-]", "", text)


def test_spans_round_trip_in_cleaned_and_original_text(seeds):
    for doc in seeds.values():
        for unit in doc.items:
            assert doc.text[unit.span[0] : unit.span[1]] == unit.text
            assert _fold(doc.original_text[unit.raw_span[0] : unit.raw_span[1]]) == _fold(unit.text)
            for measure in unit.measures:
                assert doc.text[measure.span[0] : measure.span[1]] == measure.text
                assert _fold(doc.original_text[measure.raw_span[0] : measure.raw_span[1]]) == _fold(measure.text)


def test_repairs_of_lost_characters(seeds):
    tianmen = seeds["tianmen_2017"]
    afters = {r.after for r in tianmen.repairs}
    assert "天办发〔2017〕11号" in afters
    assert any("2016—2020" in a for a in afters)
    assert "2017年6月9日" in afters
    for repair in tianmen.repairs:
        if repair.kind != "heading_number":
            assert tianmen.original_text[repair.raw_span[0] : repair.raw_span[1]] == repair.before
    xihe_afters = {r.after for r in seeds["xihe_2018"].repairs}
    assert "2018年5月23日" in xihe_afters
    assert any("阜委发〔2017〕7号" in a for a in xihe_afters)


def test_metadata_extracted_from_text_agrees_with_manifest(seeds):
    tianmen = seeds["tianmen_2017"].extracted_metadata
    assert tianmen["doc_number"] == "天办发〔2017〕11号"
    assert tianmen["issued"] == "2017-06-09"
    assert (tianmen["period_start"], tianmen["period_end"]) == (2016, 2020)
    linyi = seeds["linyi_2020"].extracted_metadata
    assert linyi["doc_number"] == "临政办字〔2020〕86号"
    assert linyi["issued"] == "2020-07-17"
    assert linyi["doc_type"] == "工作计划"
