"""Evidence beyond a task's words (纲要 headings, document genre, siblings) and the calibration measures.

Texts are written here, in the family of the genre; the reference tables are the project's own
(they are the knowledge under test) or small ones written here for the validation checks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.annotate.theme_evidence import (
    TEMPERATURE_BOUNDS,
    StructuralEvidence,
    compact,
    expected_calibration_error,
    fit_temperature,
    log_softmax,
    pool_siblings,
    reliability_table,
)
from analysis.annotate.themes import LAYERS, ThemeClassifier, review_order
from analysis.core.codebook import LEVEL1_CODES, Codebook
from analysis.core.errors import ReferenceDataError
from analysis.core.segment import normalise
from analysis.corpus.coding import as_classifier_input
from analysis.corpus.rows import task_rows
from analysis.parse.pipeline import parse_document
from test_themes import make_tasks, write_codebook

# A 政务公开 task table as such tables come: no title line, numbered groups and rows, units after the text.
OPEN_GOVERNMENT_TABLE = """\
一、围绕稳定经济运行抓好主动公开
(一)做好重点项目信息公开
1.按季度发布本单位重点项目推进情况,同步做好数据解读。责任科室:综合科
2.在门户网站开设项目进展栏目,每月更新一次。责任科室:办公室
二、围绕群众关切做好解读回应
(二)加强政策解读
3.出台涉及群众切身利益的文件时,同步发布图文解读,做到应解读尽解读。责任科室:法规科
4.对网民在留言栏目提出的问题,五个工作日内予以答复。责任科室:办公室
(三)规范依申请公开办理
5.完善依申请公开受理、登记、答复流程,严格按照法定时限办理。责任科室:办公室
"""

# A 法治政府建设 plan of the 2021 纲要 family, one section of which concerns 放管服.
PLAN_2022 = """\
某市2022年法治政府建设工作要点

一、健全政府机构职能体系
1.深入推进“放管服”改革。全面实行行政许可事项清单管理,推行告知承诺制。
二、健全突发事件应对体系
2.完善突发事件应对制度。修订市级应急预案,每年至少组织一次综合应急演练。
三、健全法治政府建设科技保障体系
3.加快推进信息化平台建设。建成全市统一的行政执法监督平台,实现执法数据互联互通。
四、加强党的领导,完善法治政府建设推进机制
4.落实第一责任人职责。党政主要负责人年底前专题听取法治政府建设情况汇报。
"""


@pytest.fixture(scope="module")
def evidence() -> StructuralEvidence:
    return StructuralEvidence.load(LEVEL1_CODES)


def test_compact_ignores_punctuation_and_width():
    assert compact("深入推进“放管服”改革") == compact("深入推进放管服改革")
    assert compact("(一)健全 依法决策机制。") == "一健全依法决策机制"


def test_innermost_heading_with_a_gangyao_phrasing_decides(evidence):
    assert evidence.heading_theme(["主要任务", "健全突发事件应对体系"])[0] == "emergency"
    # 2015 chapter outside, a measure of the enforcement chapter inside: the inner heading wins.
    assert evidence.heading_theme(["依法全面履行政府职能", "深化行政执法体制改革"])[0] == "enforcement"
    # The longer phrasing wins over a shorter one it contains.
    theme, phrase = evidence.heading_theme(["健全行政权力制约和监督体系,促进行政权力规范透明运行"])
    assert theme == "oversight" and phrase == compact("健全行政权力制约和监督体系")
    assert evidence.heading_theme(["主要任务", "重点工作"]) is None
    assert evidence.heading_theme([]) is None


def test_genre_from_the_title(evidence):
    assert evidence.genre("关于印发2022年政务公开工作要点的通知", []).theme == "oversight"
    assert evidence.genre("某区深化“放管服”改革优化营商环境重点任务分工方案", []).theme == "functions"
    assert evidence.genre("某市2023年数字政府建设工作要点", []).theme == "digital"
    assert evidence.genre("某区人民政府2024年重大行政决策事项目录", []).theme == "decisions"
    assert evidence.genre("某市2021年法治政府建设工作要点", []) is None


def test_genre_from_most_headings_when_the_title_is_missing(evidence):
    strings = ["围绕群众关切深化政务公开", "做好财政信息公开", "加强政策发布解读", "规范依申请公开办理"]
    assert evidence.genre("", strings).theme == "oversight"
    # One 放管服 section in a rule-of-law plan does not make it a 放管服 plan.
    plan = ["深入推进放管服改革", "健全依法决策机制", "完善行政执法程序", "加强行政复议工作"]
    assert evidence.genre("", plan) is None


def _heading_theme_spelled_out(evidence: StructuralEvidence, headings: list[str]) -> tuple[str, str] | None:
    for heading in reversed(headings):
        text = compact(heading)
        for phrase, theme in evidence.phrases if text else []:
            if phrase in text:
                return theme, phrase
    return None


def _genre_counts_spelled_out(evidence: StructuralEvidence, strings: list[str]) -> dict[str, int]:
    distinct = [normalise(s) for s in dict.fromkeys(s for s in strings if s)]
    return {genre.name: sum(1 for s in distinct if genre.pattern.search(s)) for genre in evidence.genres}


def test_remembered_answers_are_the_answers(evidence, monkeypatch: pytest.MonkeyPatch):
    import pickle

    from analysis.annotate import theme_evidence

    paths = [
        ["主要任务", "健全突发事件应对体系"],
        ["依法全面履行政府职能", "深化行政执法体制改革"],
        ["主要任务"],
        [],
        [""],
    ]
    strings = [
        "围绕群众关切深化政务公开",
        "做好财政信息公开",
        "",
        "深入推进放管服改革",
        "ＡＢ数字政府",
        "做好财政信息公开",
    ]
    fresh = pickle.loads(pickle.dumps(evidence))
    for limit in (100_000, 1):  # remembered, and forgotten after every answer
        monkeypatch.setattr(theme_evidence, "_MEMO_LIMIT", limit)
        for _ in range(2):
            for path in paths:
                assert fresh.heading_theme(path) == _heading_theme_spelled_out(evidence, path)
            for first in range(len(strings)):
                counts = _genre_counts_spelled_out(evidence, strings[first:])
                best = max(evidence.genres, key=lambda g: counts[g.name])
                n, distinct = counts[best.name], len({s for s in strings[first:] if s})
                expected = best if distinct and n >= 2 and n >= 0.5 * distinct else None
                assert fresh.genre("", strings[first:]) == expected
    assert "_memo" in fresh.__dict__ and "_memo" not in pickle.loads(pickle.dumps(fresh)).__dict__


def test_reference_tables_are_validated(tmp_path: Path):
    headings = tmp_path / "headings.csv"
    genres = tmp_path / "genres.csv"
    headings.write_text("phrase,theme,edition,kind\n健全依法决策机制,decisions,2015,measure\n", encoding="utf-8")
    genres.write_text("genre,pattern,theme\n政务公开,政务公开(,oversight\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="does not compile"):
        StructuralEvidence.load(LEVEL1_CODES, headings, genres)
    genres.write_text("genre,pattern,theme\n政务公开,政务公开,transparency\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="theme='transparency'"):
        StructuralEvidence.load(LEVEL1_CODES, headings, genres)
    headings.write_text("phrase,theme,edition,kind\n健全依法决策机制,decisions,2019,measure\n", encoding="utf-8")
    genres.write_text("genre,pattern,theme\n政务公开,政务公开,oversight\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="edition='2019'"):
        StructuralEvidence.load(LEVEL1_CODES, headings, genres)


def test_pooling_moves_siblings_toward_their_mean():
    scores = log_softmax(np.array([[3.0, 0.0], [0.0, 0.0], [0.0, 3.0], [0.0, 3.0]]))
    pooled = pool_siblings(scores, ["a", "a", "", "b"], share=0.5)
    mean = scores[:2].mean(axis=0)
    assert np.allclose(pooled[0], 0.5 * scores[0] + 0.5 * mean)
    assert pooled[1, 0] > pooled[1, 1]  # the unsure sibling now leans the way of the sure one
    assert np.array_equal(pooled[2:], scores[2:])  # no group, and a group of one, stay as they were
    assert np.array_equal(pool_siblings(scores, ["a", "a", "", "b"], share=0.0), scores)


def pooled_group_by_group(log_probabilities: np.ndarray, groups: list[str], share: float) -> np.ndarray:
    """The pooling spelled out: each group of two or more rows toward its mean, one group at a time."""
    pooled = log_probabilities.copy()
    members: dict[str, list[int]] = {}
    for row, group in enumerate(groups):
        if group:
            members.setdefault(group, []).append(row)
    for rows in members.values():
        if len(rows) > 1:
            mean = log_probabilities[rows].mean(axis=0)
            pooled[rows] = (1 - share) * log_probabilities[rows] + share * mean
    return pooled


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["", "a", "b", "c\x1fd", "e"]), min_size=1, max_size=60),
    st.sampled_from([0.25, 0.5, 1.0]),
    st.integers(0, 2**32 - 1),
)
def test_pooling_equals_the_group_by_group_definition(groups: list[str], share: float, seed: int):
    # Large groups and values of very different sizes: the sums must add the rows in the same order.
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(len(groups), 6)) * rng.choice([1e-9, 1.0, 1e9], size=(len(groups), 6))
    assert np.array_equal(pool_siblings(scores, groups, share), pooled_group_by_group(scores, groups, share))


def test_temperature_softens_overconfident_and_sharpens_timid_scores():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    right = rng.random(400) < 0.7  # 70 % right
    predicted = np.where(right, labels, 1 - labels)
    one_hot = np.eye(2)[predicted]
    assert fit_temperature(one_hot * 8.0, labels) > 1.0  # claims ~100 %, is right 70 %
    assert fit_temperature(one_hot * 0.2, labels) < 1.0  # claims ~55 %, is right 70 %
    low, high = TEMPERATURE_BOUNDS
    perfect = np.eye(2)[labels] * 5.0
    assert fit_temperature(perfect, labels) == pytest.approx(low, rel=1e-3)  # never right to sharpen without limit
    assert fit_temperature(np.zeros((0, 2)), np.array([], dtype=int)) == 1.0
    assert high > 1.0


def test_reliability_table_and_calibration_error():
    confidence = [0.95, 0.95, 0.95, 0.95, 0.55, 0.55]
    correct = [True, True, True, False, True, False]
    table = reliability_table(confidence, correct, n_bins=10)
    assert table["bin"].tolist() == [5, 9]
    assert table.set_index("bin").loc[9, ["n", "accuracy"]].tolist() == [4, 0.75]
    assert table.set_index("bin").loc[5, "gap"] == pytest.approx(0.5 - 0.55)
    expected = (4 * abs(0.75 - 0.95) + 2 * abs(0.5 - 0.55)) / 6
    assert expected_calibration_error(confidence, correct) == pytest.approx(expected)
    assert expected_calibration_error([1.0, 1.0], [True, True]) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        reliability_table([0.5], [True, False])


def _parsed_tasks(tmp_path: Path, name: str, text: str, **metadata: str) -> pd.DataFrame:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    doc = parse_document(path, path.stem, dict(metadata))
    return as_classifier_input(pd.DataFrame(task_rows(doc)))


@pytest.fixture
def fitted(tmp_path: Path) -> ThemeClassifier:
    codebook = Codebook.load(write_codebook(tmp_path / "codebook.csv"))
    tasks, gold = make_tasks()
    return ThemeClassifier(codebook).fit(tasks, gold)


def test_a_task_table_without_title_is_coded_by_its_genre(tmp_path: Path, fitted: ThemeClassifier):
    tasks = _parsed_tasks(tmp_path, "open_table.txt", OPEN_GOVERNMENT_TABLE)
    assert len(tasks) == 5
    coded = fitted.predict(tasks)
    assert set(coded["theme"]) == {"oversight"}
    assert coded["theme_evidence"].str.contains("genre 政务公开→oversight").all()
    without = fitted.predict(tasks, layers=[layer for layer in LAYERS if layer != "genre"])
    assert not without["theme_evidence"].str.contains("genre").any()


def test_gangyao_headings_of_a_2021_plan_reach_the_codes_they_name(tmp_path: Path, fitted: ThemeClassifier):
    tasks = _parsed_tasks(tmp_path, "plan_2022.txt", PLAN_2022, issued="2022-03-01")
    coded = fitted.predict(tasks).set_index("task_id")
    assert coded["theme"].tolist()[1:] == ["emergency", "digital", "organisation"]
    assert "纲要 heading 健全政府机构职能体系→functions" in coded["theme_evidence"].iloc[0]
    assert "纲要 heading 健全突发事件应对体系→emergency" in coded["theme_evidence"].iloc[1]
    # Confidence is a probability, and the genre of a rule-of-law plan is not guessed from one section.
    assert coded["theme_confidence"].between(0, 1).all()
    assert not coded["theme_evidence"].str.contains("genre").any()


def test_unknown_layer_is_refused(fitted: ThemeClassifier):
    tasks, _ = make_tasks()
    with pytest.raises(ValueError, match="unknown evidence layer"):
        fitted.predict(tasks, layers=["headings", "astrology"])


def test_review_order_puts_the_likeliest_errors_first_and_skips_hand_codes():
    predictions = pd.DataFrame(
        {
            "task_id": ["a", "b", "c", "d", "e"],
            "theme_confidence": [0.9, 0.3, 1.0, 0.6, 1.0],
            "theme_source": ["model", "rule", "gold", "model", "override"],
        }
    )
    ordered = review_order(predictions)
    assert ordered["task_id"].tolist() == ["b", "d", "a"]
    assert ordered["error_probability"].tolist() == pytest.approx([0.7, 0.4, 0.1])
