"""Codebook validation, classifier behaviour, baselines, overrides and LODO evaluation.

Everything runs on a small codebook and tasks written here (not the project's
codebook or gold files, which other people edit).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.annotate.theme_evaluation import KeywordBaseline, MajorityBaseline, evaluate_lodo, heading_baseline
from analysis.annotate.themes import KeywordMatcher, ThemeClassifier, apply_overrides
from analysis.core.codebook import LEVEL1_CODES, PREDICTION_COLUMNS, Codebook, CodebookCodeError, join_gold, load_gold
from analysis.core.errors import InputError, ReferenceDataError

HEADER = [
    "level",
    "code",
    "parent",
    "label_zh",
    "label_en",
    "scope_zh",
    "scope_en",
    "keywords",
    "gangyao_2015",
    "gangyao_2021",
]

LEVEL1_ROWS = {
    "functions": (
        "依法全面履行政府职能",
        "Government functions",
        "简政放权、权责清单、市场监管",
        "简政放权;权力清单;责任清单;营商环境",
    ),
    "rulemaking": ("完善依法行政制度体系", "Rule-making", "规章与规范性文件的制定和审查", "规范性文件;立法"),
    "decisions": (
        "推进行政决策科学化、民主化、法治化",
        "Decision-making",
        "重大行政决策程序和法律顾问",
        "重大行政决策;决策",
    ),
    "enforcement": ("坚持严格规范公正文明执法", "Enforcement", "行政执法体制与程序", "行政执法;执法"),
    "emergency": ("健全突发事件应对体系", "Emergency", "突发事件依法处置", "突发事件;应急"),
    "disputes": ("依法有效化解社会矛盾纠纷", "Disputes", "复议、应诉、调解、信访", "矛盾纠纷"),
    "oversight": ("强化对行政权力的制约和监督", "Oversight", "各类监督与政务公开", "监督;问责"),
    "digital": ("健全法治政府建设科技保障体系", "Digital", "信息化平台与数据共享", "信息化;数字政府"),
    "capacity": ("全面提高政府工作人员法治思维和依法行政能力", "Capacity", "学法、培训、考试", "学法;培训"),
    "organisation": ("组织保障和落实机制", "Organisation", "领导、考核、督察、报告", "组织领导;考核"),
}
LEVEL2_ROWS = [
    (
        "reconsideration",
        "disputes",
        "行政复议",
        "Administrative reconsideration",
        "行政复议案件办理与体制改革",
        "行政复议;复议;复议决定",
    ),
    (
        "litigation",
        "disputes",
        "行政应诉",
        "Administrative litigation",
        "行政应诉与负责人出庭",
        "行政应诉;出庭应诉;败诉",
    ),
    (
        "mediation",
        "disputes",
        "调解与信访",
        "Mediation and petitions",
        "人民调解、行政调解、信访",
        "调解;信访;人民调解",
    ),
    (
        "normative_documents",
        "rulemaking",
        "规范性文件管理",
        "Normative documents",
        "规范性文件合法性审核和备案审查",
        "规范性文件;合法性审核;备案审查;清理",
    ),
    ("legislation", "rulemaking", "立法", "Legislation", "地方立法和规章", "立法计划;规章;地方性法规"),
    (
        "three_systems",
        "enforcement",
        "行政执法三项制度",
        "Three enforcement systems",
        "执法公示、全过程记录、法制审核",
        "执法公示;全过程记录;法制审核;三项制度",
    ),
    ("discretion", "enforcement", "裁量基准", "Discretion", "行政裁量权基准", "裁量权;裁量基准"),
    (
        "decision_procedure",
        "decisions",
        "重大行政决策程序",
        "Decision procedure",
        "公众参与、专家论证、风险评估",
        "公众参与;专家论证;风险评估;集体讨论决定",
    ),
    ("legal_advisers", "decisions", "法律顾问", "Legal advisers", "政府法律顾问和公职律师", "法律顾问;公职律师"),
    ("study", "capacity", "学法与培训", "Study and training", "领导干部学法和法治培训", "学法;法治培训;考试"),
]


def codebook_rows(level2=LEVEL2_ROWS, level1=LEVEL1_ROWS) -> list[list[str]]:
    rows = [["1", code, "", zh, en, scope, en, kw, "", ""] for code, (zh, en, scope, kw) in level1.items()]
    rows += [["2", code, parent, zh, en, scope, en, kw, "", ""] for code, parent, zh, en, scope, kw in level2]
    return rows


def write_codebook(path: Path, rows: list[list[str]] | None = None, header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(codebook_rows() if rows is None else rows)
    return path


@pytest.fixture
def codebook(tmp_path: Path) -> Codebook:
    return Codebook.load(write_codebook(tmp_path / "codebook.csv"))


# Three documents of tasks; (path, headings, title, text, theme, subtheme).
DOCUMENTS = {
    "alpha_2017": [
        (
            "三/(一)/1",
            ["主要任务", "依法有效化解社会矛盾纠纷"],
            "加强行政复议工作",
            "加强行政复议工作。依法受理行政复议申请，提高复议案件办理质量，纠正违法或不当的行政行为。",
            "disputes",
            "reconsideration",
        ),
        (
            "三/(一)/2",
            ["主要任务", "依法有效化解社会矛盾纠纷"],
            "做好行政应诉工作",
            "做好行政应诉工作。落实行政机关负责人出庭应诉制度，降低行政诉讼败诉率。",
            "disputes",
            "litigation",
        ),
        (
            "三/(一)/3",
            ["主要任务", "依法有效化解社会矛盾纠纷"],
            "完善调解机制",
            "完善人民调解、行政调解联动机制，依法处理信访事项，把矛盾纠纷化解在基层。",
            "disputes",
            "mediation",
        ),
        (
            "三/(二)/1",
            ["主要任务", "完善依法行政制度体系"],
            "加强规范性文件监督管理",
            "加强规范性文件监督管理。严格落实合法性审核和备案审查制度，定期开展规范性文件清理。",
            "rulemaking",
            "normative_documents",
        ),
        (
            "三/(二)/2",
            ["主要任务", "完善依法行政制度体系"],
            "提高立法质量",
            "编制年度立法计划，做好政府规章起草工作，提高地方立法质量。",
            "rulemaking",
            "legislation",
        ),
        (
            "三/(三)/1",
            ["主要任务", "坚持严格规范公正文明执法"],
            "全面推行行政执法三项制度",
            "全面推行执法公示、执法全过程记录、重大执法决定法制审核三项制度。",
            "enforcement",
            "three_systems",
        ),
        (
            "三/(三)/2",
            ["主要任务", "坚持严格规范公正文明执法"],
            "规范行政裁量权",
            "细化量化行政裁量权基准，规范执法自由裁量。",
            "enforcement",
            "discretion",
        ),
    ],
    "beta_2019": [
        (
            "二/1",
            ["推进行政决策科学化、民主化、法治化"],
            "健全重大行政决策程序",
            "健全重大行政决策程序。把公众参与、专家论证、风险评估、合法性审查、集体讨论决定作为法定程序。",
            "decisions",
            "decision_procedure",
        ),
        (
            "二/2",
            ["推进行政决策科学化、民主化、法治化"],
            "发挥法律顾问作用",
            "全面建立政府法律顾问和公职律师制度，发挥法律顾问在决策中的作用。",
            "decisions",
            "legal_advisers",
        ),
        (
            "三/1",
            ["依法有效化解社会矛盾纠纷"],
            "推进行政复议规范化建设",
            "推进行政复议规范化建设，畅通复议渠道，公开行政复议决定书。",
            "disputes",
            "reconsideration",
        ),
        (
            "三/2",
            ["依法有效化解社会矛盾纠纷"],
            "健全行政应诉制度",
            "健全行政应诉制度，支持法院依法受理行政案件，提高负责人出庭应诉比例。",
            "disputes",
            "litigation",
        ),
        (
            "四/1",
            ["完善依法行政制度体系"],
            "严格规范性文件审核",
            "严格执行规范性文件合法性审核，未经审核不得发布，及时报送备案审查。",
            "rulemaking",
            "normative_documents",
        ),
        (
            "五/1",
            ["坚持严格规范公正文明执法"],
            "落实执法公示制度",
            "落实行政执法公示制度，推行执法全过程记录，重大执法决定必须经过法制审核。",
            "enforcement",
            "three_systems",
        ),
        (
            "六/1",
            ["全面提高政府工作人员法治思维和依法行政能力"],
            "加强领导干部学法",
            "建立领导干部学法制度，组织法治培训和依法行政能力考试。",
            "capacity",
            "study",
        ),
    ],
    "gamma_2021": [
        (
            "一/(一)",
            ["依法有效化解社会矛盾纠纷"],
            "深化行政复议体制改革",
            "深化行政复议体制改革，整合复议职责，提升行政复议公信力。",
            "disputes",
            "reconsideration",
        ),
        (
            "一/(二)",
            ["依法有效化解社会矛盾纠纷"],
            "加强人民调解",
            "加强人民调解组织建设，推进行政调解，规范信访工作秩序。",
            "disputes",
            "mediation",
        ),
        (
            "二/(一)",
            ["健全依法行政制度体系"],
            "规范性文件清理",
            "开展规范性文件专项清理，建立规范性文件备案审查衔接机制。",
            "rulemaking",
            "normative_documents",
        ),
        (
            "三/(一)",
            ["健全行政执法工作体系"],
            "推进三项制度",
            "深入推进行政执法三项制度，执法公示、全过程记录、法制审核全面落实。",
            "enforcement",
            "three_systems",
        ),
        (
            "三/(二)",
            ["健全行政执法工作体系"],
            "完善裁量基准",
            "完善行政裁量权基准制度，防止执法畸轻畸重。",
            "enforcement",
            "discretion",
        ),
        (
            "四/(一)",
            ["健全行政决策制度体系"],
            "严格决策程序",
            "严格落实重大行政决策程序，决策前开展风险评估和专家论证，广泛听取公众意见。",
            "decisions",
            "decision_procedure",
        ),
        (
            "五/(一)",
            ["加强学法用法"],
            "领导干部学法",
            "落实领导干部学法制度，每年组织法治培训，开展法律知识考试。",
            "capacity",
            "study",
        ),
    ],
}


def make_tasks(documents=DOCUMENTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    task_rows, gold_rows = [], []
    for doc_id, items in documents.items():
        task_rows.append(
            {
                "doc_id": doc_id,
                "task_id": f"{doc_id}-F01",
                "kind": "framing",
                "path": "一",
                "headings": [],
                "title": "指导思想",
                "text": "以习近平新时代中国特色社会主义思想为指导。",
            }
        )
        for n, (path, headings, title, text, theme, subtheme) in enumerate(items, start=1):
            task_rows.append(
                {
                    "doc_id": doc_id,
                    "task_id": f"{doc_id}-T{n:03d}",
                    "kind": "task",
                    "path": path,
                    "headings": headings,
                    "title": title,
                    "text": text,
                }
            )
            gold_rows.append({"doc_id": doc_id, "path": path, "title": title, "theme": theme, "subtheme": subtheme})
    return pd.DataFrame(task_rows), pd.DataFrame(gold_rows)


# ------------------------------------------------------------------ codebook


def test_codebook_loads_and_answers(codebook: Codebook) -> None:
    assert list(codebook.level1["code"]) == list(LEVEL1_CODES)
    assert codebook.parent("litigation") == "disputes"
    assert codebook.parent("disputes") is None
    assert codebook.children("disputes") == ["reconsideration", "litigation", "mediation"]
    assert codebook.children("emergency") == []
    assert codebook.label("reconsideration", "zh") == "行政复议"
    assert codebook.label("reconsideration", "en") == "Administrative reconsideration"
    assert codebook.keywords("reconsideration") == ("行政复议", "复议", "复议决定")
    assert codebook.version.startswith("sha256:") and len(codebook.version) == len("sha256:") + 12
    table = codebook.to_table()
    assert len(table) == 10 + len(LEVEL2_ROWS)
    assert table.loc[table["code"] == "mediation", "theme"].item() == "disputes"
    # level 1 row first, then its children
    disputes_rows = table[table["theme"] == "disputes"]["code"].tolist()
    assert disputes_rows == ["disputes", "reconsideration", "litigation", "mediation"]


def test_codebook_version_follows_content(tmp_path: Path) -> None:
    first = Codebook.load(write_codebook(tmp_path / "a.csv"))
    rows = codebook_rows()
    rows[-1][7] += ";述法"
    second = Codebook.load(write_codebook(tmp_path / "b.csv", rows))
    again = Codebook.load(write_codebook(tmp_path / "c.csv"))
    assert first.version != second.version
    assert first.version == again.version


def test_validate_codes(codebook: Codebook) -> None:
    codebook.validate_codes("disputes", "litigation")
    codebook.validate_codes("emergency", "")
    with pytest.raises(CodebookCodeError, match="unknown theme 'dispute'"):
        codebook.validate_codes("dispute", "")
    with pytest.raises(CodebookCodeError, match="belongs to 'disputes'"):
        codebook.validate_codes("enforcement", "litigation")
    with pytest.raises(CodebookCodeError, match="level-2 code"):
        codebook.validate_codes("litigation", "")
    with pytest.raises(CodebookCodeError, match="unknown subtheme"):
        codebook.validate_codes("disputes", "arbitration")


def test_duplicate_code_names_file_and_row(tmp_path: Path) -> None:
    rows = codebook_rows()
    rows.append(["2", "litigation", "disputes", "重复", "dup", "", "", "", "", ""])
    path = write_codebook(tmp_path / "dup.csv", rows)
    with pytest.raises(ReferenceDataError) as error:
        Codebook.load(path)
    assert str(path) in str(error.value)
    assert f"row {len(rows) + 1}" in str(error.value) and "litigation" in str(error.value)


def test_unknown_parent_rejected(tmp_path: Path) -> None:
    rows = codebook_rows()
    rows.append(["2", "arbitration", "dispute", "仲裁", "Arbitration", "", "", "仲裁", "", ""])
    with pytest.raises(ReferenceDataError, match=r"row \d+: parent 'dispute' of 'arbitration' is not a level-1"):
        Codebook.load(write_codebook(tmp_path / "parent.csv", rows))


def test_level2_parent_that_is_level2_rejected(tmp_path: Path) -> None:
    rows = codebook_rows()
    rows.append(["2", "appeals", "litigation", "上诉", "Appeals", "", "", "", "", ""])
    with pytest.raises(ReferenceDataError, match="parent 'litigation'"):
        Codebook.load(write_codebook(tmp_path / "nested.csv", rows))


def test_missing_column_rejected(tmp_path: Path) -> None:
    header = [c for c in HEADER if c != "keywords"]
    rows = [r[:7] + r[8:] for r in codebook_rows()]
    with pytest.raises(ReferenceDataError, match="missing column.*keywords"):
        Codebook.load(write_codebook(tmp_path / "cols.csv", rows, header))


def test_wrong_level1_set_rejected(tmp_path: Path) -> None:
    level1 = dict(LEVEL1_ROWS)
    level1["transparency"] = level1.pop("digital")
    with pytest.raises(ReferenceDataError, match="missing: digital; not allowed: transparency"):
        Codebook.load(write_codebook(tmp_path / "l1.csv", codebook_rows(level1=level1)))


def test_bad_level_and_missing_parent_rejected(tmp_path: Path) -> None:
    rows = codebook_rows()
    rows.append(["3", "deep", "disputes", "深", "Deep", "", "", "", "", ""])
    with pytest.raises(ReferenceDataError, match="level='3'"):
        Codebook.load(write_codebook(tmp_path / "lvl.csv", rows))
    rows = codebook_rows()
    rows.append(["2", "orphan", "", "孤儿", "Orphan", "", "", "", "", ""])
    with pytest.raises(ReferenceDataError, match="level-2 code 'orphan' has no parent"):
        Codebook.load(write_codebook(tmp_path / "orphan.csv", rows))


def test_load_gold_rejects_inconsistent_codes(tmp_path: Path, codebook: Codebook) -> None:
    path = tmp_path / "gold.csv"
    pd.DataFrame(
        [
            {"doc_id": "a", "path": "一/1", "theme": "disputes", "subtheme": "litigation"},
            {"doc_id": "a", "path": "一/2", "theme": "enforcement", "subtheme": "mediation"},
        ]
    ).to_csv(path, index=False)
    with pytest.raises(ReferenceDataError, match=r"row 3 \(a 一/2\): subtheme 'mediation' belongs to 'disputes'"):
        load_gold(path, codebook)


def test_join_gold_reports_unmatched_rows(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    gold = pd.concat(
        [
            gold,
            pd.DataFrame(
                [
                    {"doc_id": "alpha_2017", "path": "九/9", "theme": "disputes"},
                    {"doc_id": "alpha_2017", "path": "一", "theme": "organisation"},
                ]
            ),
        ]
    )
    labelled, unmatched = join_gold(tasks, gold.fillna(""))
    assert len(labelled) == sum(len(v) for v in DOCUMENTS.values())
    # a path no task has, and a framing unit's path: both reported
    assert sorted(unmatched["path"]) == ["一", "九/9"]


# ------------------------------------------------------------------ classifier


def test_keyword_matcher_counts_longest_match_once(codebook: Codebook) -> None:
    matcher = KeywordMatcher(codebook)
    assert matcher.hits("申请行政复议的，复议机关应当作出复议决定。") == ("行政复议", "复议", "复议决定")
    counts, distinct = matcher.theme_scores("申请行政复议的，复议机关应当作出复议决定。")
    assert counts["disputes"] == 3 and distinct["disputes"] == {"行政复议", "复议", "复议决定"}


def test_classifier_codes_unseen_sentences(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    model = ThemeClassifier(codebook).fit(tasks, gold)
    new = pd.DataFrame(
        [
            {
                "doc_id": "new",
                "task_id": "new-T001",
                "kind": "task",
                "path": "二/(三)",
                "headings": ["重点工作"],
                "title": "提升行政复议质效",
                "text": "提升行政复议质效，依法纠正违法行政行为，发挥复议化解行政争议主渠道作用。",
            },
            {
                "doc_id": "new",
                "task_id": "new-T002",
                "kind": "task",
                "path": "二/(四)",
                "headings": ["重点工作"],
                "title": "规范执法行为",
                "text": "全面落实行政执法公示、执法全过程记录和重大执法决定法制审核制度。",
            },
            {
                "doc_id": "new",
                "task_id": "new-T003",
                "kind": "task",
                "path": "二/(五)",
                "headings": ["重点工作"],
                "title": "严格文件管理",
                "text": "加强规范性文件合法性审核，落实备案审查。",
            },
            {
                "doc_id": "new",
                "task_id": "new-F01",
                "kind": "framing",
                "path": "一",
                "headings": [],
                "title": "工作目标",
                "text": "建成法治政府。",
            },
        ]
    )
    predicted = model.predict(new)
    assert list(predicted.columns) == list(PREDICTION_COLUMNS)
    assert predicted["task_id"].tolist() == ["new-T001", "new-T002", "new-T003"]  # framing not coded
    got = dict(zip(predicted["task_id"], zip(predicted["theme"], predicted["subtheme"], strict=False), strict=False))
    assert got["new-T001"] == ("disputes", "reconsideration")
    assert got["new-T002"] == ("enforcement", "three_systems")
    assert got["new-T003"] == ("rulemaking", "normative_documents")
    row = predicted.iloc[0]
    assert (
        row["theme_label_zh"] == "依法有效化解社会矛盾纠纷"
        and row["subtheme_label_en"] == "Administrative reconsideration"
    )
    assert predicted["theme_confidence"].between(0, 1).all()
    assert set(predicted["theme_source"]) <= {"model", "rule"}
    assert "复议" in row["theme_evidence"]


def test_codebook_examples_cover_codes_without_gold(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    model = ThemeClassifier(codebook).fit(tasks, gold)
    assert "emergency" not in set(gold["theme"])
    new = pd.DataFrame(
        [
            {
                "doc_id": "x",
                "task_id": "x-T001",
                "kind": "task",
                "path": "1",
                "headings": [],
                "title": "健全突发事件应对",
                "text": "依法做好突发事件应急处置，完善应急预案。",
            }
        ]
    )
    assert model.predict(new)["theme"].item() == "emergency"


def test_headings_accept_joined_string_from_tables(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    model = ThemeClassifier(codebook).fit(tasks, gold)
    as_lists = model.predict(tasks)
    joined = tasks.assign(headings=tasks["headings"].map(" > ".join))
    pd.testing.assert_frame_equal(model.predict(joined), as_lists)


def test_fit_is_deterministic_and_order_independent(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    first = ThemeClassifier(codebook).fit(tasks, gold).predict(tasks)
    second = ThemeClassifier(codebook).fit(tasks, gold).predict(tasks)
    pd.testing.assert_frame_equal(first, second)
    shuffled = (
        ThemeClassifier(codebook)
        .fit(tasks.sample(frac=1, random_state=3), gold.sample(frac=1, random_state=5))
        .predict(tasks)
    )
    pd.testing.assert_frame_equal(first, shuffled)


def test_hierarchy_is_consistent_for_every_strategy(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    for strategy in ("restrict", "derive", "combine", "auto"):
        model = ThemeClassifier(codebook, hierarchy=strategy).fit(tasks, gold)
        predicted = model.predict(tasks)
        for theme, subtheme in zip(predicted["theme"], predicted["subtheme"], strict=False):
            if subtheme:
                assert codebook.parent(subtheme) == theme
    auto = ThemeClassifier(codebook).fit(tasks, gold)
    assert auto.hierarchy_ in ("restrict", "derive", "combine")
    assert set(auto.hierarchy_scores_) == {"restrict", "derive", "combine"}


def test_rule_takes_over_when_model_is_unsure(codebook: Codebook) -> None:
    tasks, _gold = make_tasks()
    # Trained on codebook examples only, with a strong regulariser: the model is unsure.
    model = ThemeClassifier(codebook, C=0.01, rule_below=0.99).fit(tasks, None)
    new = pd.DataFrame(
        [
            {
                "doc_id": "x",
                "task_id": "x-T001",
                "kind": "task",
                "path": "1",
                "headings": ["其他"],
                "title": "",
                "text": "做好行政应诉和出庭应诉，减少败诉。",
            }
        ]
    )
    predicted = model.predict(new).iloc[0]
    assert predicted["theme"] == "disputes"
    if predicted["theme_source"] == "rule":
        assert predicted["theme_evidence"].startswith("rule: ") and "出庭应诉" in predicted["theme_evidence"]
    without = model.predict(new, use_rules=False).iloc[0]
    assert without["theme_source"] == "model"


def test_rule_requires_distinct_keywords(codebook: Codebook) -> None:
    model = ThemeClassifier(codebook).fit(*make_tasks())
    assert model._rule_theme("", "做好行政应诉和出庭应诉，减少败诉。")[0] == "disputes"
    assert model._rule_theme("", "加强执法，依法复议。") is None  # 1 vs 1: no clear winner


def test_unfitted_and_bad_input(codebook: Codebook) -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        ThemeClassifier(codebook).predict(make_tasks()[0])
    model = ThemeClassifier(codebook).fit(*make_tasks())
    with pytest.raises(InputError, match="missing column.*headings"):
        model.predict(
            pd.DataFrame(
                {"doc_id": ["a"], "task_id": ["a-T001"], "kind": ["task"], "path": ["1"], "title": [""], "text": ["x"]}
            )
        )


# ------------------------------------------------------------------ baselines


def test_majority_baseline(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    predicted = MajorityBaseline(codebook).fit(tasks, gold).predict(tasks)
    assert set(predicted["theme"]) == {"disputes"}  # 7 of 21 gold tasks
    assert set(predicted["subtheme"]) == {"reconsideration"}  # 3 of the 7


def test_keyword_baseline(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    baseline = KeywordBaseline(codebook).fit(tasks, gold)
    new = pd.DataFrame(
        [
            {
                "doc_id": "x",
                "task_id": "x-T001",
                "kind": "task",
                "path": "1",
                "headings": [],
                "title": "",
                "text": "人民调解和信访工作，调解纠纷。",
            },
            {
                "doc_id": "x",
                "task_id": "x-T002",
                "kind": "task",
                "path": "2",
                "headings": [],
                "title": "",
                "text": "提高行政效能。",
            },  # no keyword -> majority
            {
                "doc_id": "x",
                "task_id": "x-T003",
                "kind": "task",
                "path": "3",
                "headings": [],
                "title": "",
                "text": "推进立法和执法。",
            },  # tie 1:1 -> earlier code (rulemaking before enforcement)
        ]
    )
    predicted = baseline.predict(new)
    assert predicted[["theme", "subtheme"]].values.tolist() == [
        ["disputes", "mediation"],
        ["disputes", "reconsideration"],
        ["rulemaking", "normative_documents"],
    ]


def test_heading_baseline_uses_headings_only(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    baseline = heading_baseline(codebook).fit(tasks, gold)
    new = pd.DataFrame(
        [
            {
                "doc_id": "x",
                "task_id": "x-T001",
                "kind": "task",
                "path": "1",
                "headings": ["坚持严格规范公正文明执法"],
                "title": "做好行政复议",
                "text": "行政复议。",
            },
        ]
    )
    assert baseline.predict(new)["theme"].item() == "enforcement"


# ------------------------------------------------------------------ overrides


def test_apply_overrides_wins(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    predicted = ThemeClassifier(codebook).fit(tasks, gold).predict(tasks)
    overrides = pd.DataFrame(
        [
            {
                "task_id": "alpha_2017-T001",
                "theme": "oversight",
                "subtheme": "",
                "note": "监督复议",
                "coder": "李",
                "coded_at": "2024-01-01T00:00:00+00:00",
            },
            {
                "task_id": "beta_2019-T002",
                "theme": "decisions",
                "subtheme": "",
                "note": "",
                "coder": "王",
                "coded_at": "2024-01-02T00:00:00+00:00",
            },
            {
                "task_id": "gone-T001",
                "theme": "capacity",
                "subtheme": "study",
                "note": "",
                "coder": "王",
                "coded_at": "2024-01-02T00:00:00+00:00",
            },
        ]
    )
    result = apply_overrides(predicted, overrides, codebook)
    first = result.set_index("task_id").loc["alpha_2017-T001"]
    assert (first["theme"], first["subtheme"], first["theme_source"]) == ("oversight", "", "override")
    assert first["theme_confidence"] == 1.0 and first["theme_label_zh"] == "强化对行政权力的制约和监督"
    assert "李" in first["theme_evidence"]
    second = result.set_index("task_id").loc["beta_2019-T002"]
    assert second["subtheme"] == predicted.set_index("task_id").loc["beta_2019-T002", "subtheme"] == "legal_advisers"
    assert result.attrs["unmatched_overrides"] == ["gone-T001"]
    untouched = result["theme_source"] != "override"
    pd.testing.assert_frame_equal(result[untouched], predicted[untouched])
    bad = overrides.assign(subtheme=["study", "", ""])
    with pytest.raises(InputError, match="alpha_2017-T001.*belongs to 'capacity'"):
        apply_overrides(predicted, bad, codebook)


# ------------------------------------------------------------------ evaluation


def test_evaluate_lodo_on_three_documents(codebook: Codebook) -> None:
    tasks, gold = make_tasks()
    report = evaluate_lodo(tasks, gold, codebook)
    scores = report.scores.set_index(["method", "level"])
    n_gold = len(gold)
    assert scores.loc[("model", 1), "n"] == n_gold and scores.loc[("model", 2), "n"] == n_gold
    # every method predicts each gold task exactly once, out of fold
    assert report.predictions.groupby("method").size().eq(n_gold).all()
    assert set(report.hierarchy_by_fold) == set(DOCUMENTS)
    # majority on held-out documents: known answers.  Training on beta+gamma (disputes 4,
    # rulemaking 2, enforcement 3, decisions 3, capacity 2) -> disputes; alpha has 3 disputes of 7.
    majority = report.per_document.set_index(["method", "doc_id", "level"])
    assert majority.loc[("majority", "alpha_2017", 1), "accuracy"] == pytest.approx(3 / 7)
    # training on alpha+gamma: disputes 5 -> beta has 2 disputes of 7
    assert majority.loc[("majority", "beta_2019", 1), "accuracy"] == pytest.approx(2 / 7)
    assert scores.loc[("model", 1), "accuracy"] >= 0.85
    assert scores.loc[("model", 1), "accuracy"] > scores.loc[("majority", 1), "accuracy"]
    conf = report.confusion_level1
    assert conf.values.sum() == n_gold
    assert int(np.trace(conf.values)) == round(scores.loc[("model", 1), "accuracy"] * n_gold)
    per_code = report.per_code[(report.per_code["method"] == "model") & (report.per_code["level"] == 1)]
    assert per_code.set_index("code").loc["disputes", "support"] == 7
    text = report.to_text()
    assert "macro_f1" in text and "disputes" in text
    assert set(report.tables()) >= {"scores", "per_code", "confusion_level1", "confusion_level2"}


def test_evaluate_lodo_needs_two_documents(codebook: Codebook) -> None:
    tasks, gold = make_tasks({"alpha_2017": DOCUMENTS["alpha_2017"]})
    with pytest.raises(ValueError, match="2\\+ documents"):
        evaluate_lodo(tasks, gold, codebook)
