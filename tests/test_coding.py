"""The build's theme coder: fitted once, cached on disk, same codes either way; gold, override and model sources."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pandas as pd
import pytest

from analysis.annotate.review import task_text_hash
from analysis.annotate.theme_inference import apply_gold
from analysis.annotate.themes import ThemeClassifier
from analysis.core.codebook import PREDICTION_COLUMNS, Codebook, check_tasks_frame
from analysis.core.errors import InputError
from analysis.corpus import coding
from analysis.corpus.coding import ThemeCoder, as_classifier_input, classifier_columns, fit_coder
from test_themes import make_tasks, write_codebook


def test_cached_classifier_codes_exactly_like_a_fresh_fit(tmp_path, monkeypatch):
    monkeypatch.setattr(coding.config, "CACHE_DIR", tmp_path)
    coding._default_coder.cache_clear()
    first = ThemeCoder.from_project()  # fits and writes the cache
    # The classifier, and beside it the cross-fitted ones (one per gold document).
    assert len(list(tmp_path.glob("theme_classifier-*-crossfit.pkl"))) == 1
    assert len(list(tmp_path.glob("theme_classifier-*.pkl"))) == 2
    coding._default_coder.cache_clear()
    loaded = ThemeCoder.from_project()  # reads the cache
    coding._default_coder.cache_clear()
    assert isinstance(loaded.cross_fitted, coding.LazyClassifiers)
    assert sorted(loaded.cross_fitted) == sorted(first.cross_fitted)
    tasks = pd.DataFrame(
        {
            "doc_id": ["x", "x", "x"],
            "task_id": ["x-T001", "x-T002", "x-F01"],
            "kind": ["task", "task", "framing"],
            "path": ["一/1", "一/2", "二"],
            "headings": ["健全依法决策机制", "依法有效化解社会矛盾纠纷", ""],
            "title": ["严格决策程序", "加强行政复议", "指导思想"],
            "text": [
                "重大行政决策严格履行公众参与、专家论证、风险评估、合法性审查和集体讨论决定程序。",
                "畅通行政复议渠道,提高办案质量,行政复议纠错率保持合理水平。",
                "深入贯彻习近平法治思想。",
            ],
        }
    )
    fresh, cached = first.code(tasks), loaded.code(tasks)
    pd.testing.assert_frame_equal(fresh, cached)
    assert loaded.code_rows(tasks.to_dict("records")) == cached.to_dict("records")
    assert loaded.cross_fitted._models is None  # a document without gold codes never loads them
    assert list(fresh["task_id"]) == ["x-T001", "x-T002"]  # framing units are not coded
    assert list(fresh["theme"]) == ["decisions", "disputes"]


def test_tasks_table_headings_become_lists():
    table = pd.DataFrame(
        {
            "doc_id": ["d"],
            "task_id": ["d-T001"],
            "kind": ["task"],
            "path": ["一/1"],
            "headings": ["主要任务 > 依法全面履行政府职能"],
            "title": [""],
            "text": ["清理审批事项。"],
        }
    )
    assert as_classifier_input(table).loc[0, "headings"] == ["主要任务", "依法全面履行政府职能"]


# --------------------------------------------------------------------------- source of the codes


@pytest.fixture(scope="module")
def small_coder(tmp_path_factory):
    """A coder fitted on the three hand-written documents of test_themes (small codebook)."""
    codebook = Codebook.load(write_codebook(tmp_path_factory.mktemp("codebook") / "codebook.csv"))
    tasks, gold = make_tasks()
    return fit_coder(tasks, gold, codebook), tasks, gold


def test_gold_tasks_keep_their_hand_code_and_a_cross_fitted_model_code(small_coder):
    coder, tasks, gold = small_coder
    coded = coder.code(tasks).set_index("task_id")
    real = tasks[tasks["kind"] == "task"].set_index("task_id")
    assert (coded["theme_source"] == "gold").all()
    assert (coded["theme_confidence"] == 1.0).all()
    hand = gold.set_index(["doc_id", "path"])
    for task_id, row in real.iterrows():
        assert coded.loc[task_id, "theme"] == hand.loc[(row["doc_id"], row["path"]), "theme"]
    # theme_model comes from the model fitted without the task's document: it never saw the task.
    for doc_id, model in coder.cross_fitted.items():
        assert model.n_gold_ == int((gold["doc_id"] != doc_id).sum())
        own = real[real["doc_id"] == doc_id].reset_index()
        expected = model.predict(own).set_index("task_id")
        assert coded.loc[expected.index, "theme_model"].tolist() == expected["theme"].tolist()
        assert coded.loc[expected.index, "theme_model_confidence"].tolist() == expected["theme_confidence"].tolist()
    assert set(coder.cross_fitted) == set(gold["doc_id"])


def _oversight_override(task: pd.Series) -> pd.DataFrame:
    """A coder's override of ``task`` to ``oversight``."""
    return pd.DataFrame(
        [
            {
                "task_id": task["task_id"],
                "doc_id": task["doc_id"],  # the task's identity: overrides attach by it, never by position
                "path": task["path"],
                "text_hash": task_text_hash(task["text"]),
                "theme": "oversight",
                "subtheme": "",
                "note": "",
                "coder": "王五",
                "coded_at": "t",
            }
        ]
    )


def test_other_documents_are_coded_by_the_model_and_overrides_win_over_gold(small_coder):
    coder, tasks, _ = small_coder
    unseen = pd.DataFrame(
        {
            "doc_id": ["new_2022"] * 2,
            "task_id": ["new_2022-T001", "new_2022-T002"],
            "kind": ["task", "task"],
            "path": ["一/1", "一/2"],
            "headings": ["依法有效化解社会矛盾纠纷", "依法有效化解社会矛盾纠纷"],
            "title": ["加强行政复议", "做好行政应诉"],
            "text": ["依法办理行政复议案件,提高复议决定质量。", "落实行政机关负责人出庭应诉制度。"],
        }
    )
    coded = coder.code(unseen)
    assert set(coded["theme_source"]) <= {"model", "rule"}
    assert coded["theme_model"].tolist() == coded["theme"].tolist()
    assert coded["theme_model_confidence"].tolist() == coded["theme_confidence"].tolist()
    first = tasks[tasks["kind"] == "task"].iloc[0]
    overrides = _oversight_override(first)
    with_override = ThemeCoder(coder.classifier, coder.codebook, overrides, coder.gold, coder.cross_fitted)
    row = with_override.code(tasks).set_index("task_id").loc[first["task_id"]]
    assert (row["theme"], row["theme_source"]) == ("oversight", "override")
    assert row["theme_model"] == coder.code(tasks).set_index("task_id").loc[first["task_id"], "theme_model"]


def test_classifiers_fitted_together_share_their_folds_and_code_like_separate_fits(small_coder, monkeypatch):
    coder, tasks, gold = small_coder
    alone = ThemeClassifier(coder.codebook).fit(tasks, gold)
    coded = coder.classifier.predict(tasks)
    pd.testing.assert_frame_equal(coded, alone.predict(tasks), check_exact=True)
    assert (coder.classifier.hierarchy_, coder.classifier.temperature_) == (alone.hierarchy_, alone.temperature_)
    for doc_id, model in coder.cross_fitted.items():
        separate = ThemeClassifier(coder.codebook).fit(tasks, gold[gold["doc_id"] != doc_id])
        pd.testing.assert_frame_equal(model.predict(tasks), separate.predict(tasks), check_exact=True)
    # Three documents: all (1), all but one (3), all but two (3) — not 1 + 3 + 3 * (2 + 1).
    fits = []
    monkeypatch.setattr(ThemeClassifier, "_fit_new_models", lambda self, labelled: fits.append(len(labelled)))
    monkeypatch.setattr(ThemeClassifier, "_out_of_fold", lambda self, labelled, shared=None: [])
    shared: dict = {}
    ThemeClassifier(coder.codebook).fit(tasks, gold, shared=shared)
    ThemeClassifier(coder.codebook).fit(tasks, gold, shared=shared)
    assert len(fits) == 1 and len(shared) == 1


def _package_copy(tmp_path, monkeypatch):
    """A copy of the package's sources and reference data that ``config`` points at."""
    package = tmp_path / "analysis"
    shutil.copytree(coding.config.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(coding.config, "PACKAGE_DIR", package)
    monkeypatch.setattr(coding.config, "REFERENCE_DIR", package / "reference")
    monkeypatch.setattr(coding.config, "CACHE_DIR", tmp_path / "cache")
    return package


def test_classifier_key_changes_with_the_modules_the_fit_imports_only(tmp_path, monkeypatch):
    package = _package_copy(tmp_path, monkeypatch)
    before = coding.classifier_key()
    for outside in ("publish/plots.py", "cli.py", "corpus/build.py", "compare/coverage.py"):
        with (package / outside).open("a", encoding="utf-8") as handle:
            handle.write("\n# an edit the classifier does not depend on\n")
        assert coding.classifier_key() == before, outside
    for inside in ("annotate/themes.py", "core/segment.py", "parse/tasks.py", "corpus/coding.py"):
        source = package / inside
        text = source.read_text(encoding="utf-8")
        source.write_text(text + "\n# an edit the classifier depends on\n", encoding="utf-8")
        assert coding.classifier_key() != before, inside
        source.write_text(text, encoding="utf-8")
    assert coding.classifier_key() == before
    (package / "reference" / "codebook.csv").write_bytes(b"")
    assert coding.classifier_key() != before


def test_classifier_key_remembers_the_import_graph_until_a_source_changes(tmp_path, monkeypatch):
    package = _package_copy(tmp_path, monkeypatch)
    parsed = []
    real = coding.reachable_modules
    monkeypatch.setattr(coding, "reachable_modules", lambda *args: parsed.append(1) or real(*args))
    first = coding.classifier_key()
    assert coding.classifier_key() == first and len(parsed) == 1  # the graph read back from the cache folder
    (package / "annotate" / "themes.py").write_text("from analysis.publish import plots\n", encoding="utf-8")
    changed = coding.classifier_key()
    assert len(parsed) == 2 and changed != first  # a changed source: the graph worked out again
    (package / "publish" / "plots.py").write_text("# now part of the classifier's code\n", encoding="utf-8")
    assert coding.classifier_key() != changed
    (tmp_path / "cache" / "classifier_modules.json").write_text("{not json", encoding="utf-8")
    assert coding.classifier_key() != changed and len(parsed) == 4  # a damaged memo is worked out again


def _with_unseen_document(tasks: pd.DataFrame) -> pd.DataFrame:
    """The gold documents' tasks and a document without hand codes, headings joined as the tasks table holds them."""
    unseen = pd.DataFrame(
        {
            "doc_id": ["new_2022"] * 3,
            "task_id": ["new_2022-T001", "new_2022-T002", "new_2022-F01"],
            "kind": ["task", "task", "framing"],
            "path": ["一/1", "一/2", "二"],
            "headings": [["依法有效化解社会矛盾纠纷"], ["依法有效化解社会矛盾纠纷", "出庭应诉"], []],
            "title": ["加强行政复议", "做好行政应诉", "工作要求"],
            "text": ["依法办理行政复议案件,提高复议决定质量。", "落实行政机关负责人出庭应诉制度。", "加强领导。"],
        }
    )
    table = pd.concat([tasks, unseen], ignore_index=True)
    table["headings"] = [" > ".join(h) for h in table["headings"]]  # as the tasks table holds them
    return table


def test_table_codes_equal_the_frames_definition(small_coder):
    """`code` (columns inside) gives what the classifier input frame, coded group by group, gives."""
    coder, tasks, gold = small_coder
    table = _with_unseen_document(tasks).sample(frac=1.0, random_state=3)  # documents' tasks interleaved
    frame = as_classifier_input(table[table["kind"] == "task"])
    held_out = frame["doc_id"].isin(list(coder.cross_fitted))
    parts = [coder.classifier.predict(frame[~held_out])]
    parts += [coder.cross_fitted[str(d)].predict(rows) for d, rows in frame[held_out].groupby("doc_id", sort=False)]
    expected = pd.concat(parts, ignore_index=True).set_index("task_id").loc[frame["task_id"]].reset_index()
    expected = apply_gold(expected, frame, gold, coder.codebook)[list(PREDICTION_COLUMNS)]
    assert held_out.any() and (~held_out).any() and (expected["theme_source"] == "gold").any()
    pd.testing.assert_frame_equal(coder.code(table), expected)
    unseen = table[~table["doc_id"].isin(list(coder.cross_fitted))]
    pd.testing.assert_frame_equal(coder.code(unseen), coder.classifier.predict(as_classifier_input(unseen)))


def test_classifier_columns_equal_the_checked_classifier_input():
    table = pd.DataFrame(
        {
            "doc_id": ["d", "d", None, "e"],
            "task_id": ["d-T001", "d-F01", "d-T002", "e-T001"],
            "kind": ["task", "framing", "task", "task"],
            "path": ["一/1", "二", "一/2", "1"],
            "headings": ["主要任务 > 依法全面履行政府职能", "", " 主要任务 >  > 复议 ", ["要点", 3]],
            "title": ["", "指导思想", float("nan"), "复议"],
            "text": ["清理审批事项。", "深入贯彻。", "加强复议。", None],
            "doc_title": ["某县工作要点", "某县工作要点", pd.NA, "某市规划"],
        }
    )
    table = table.astype({"title": "string", "doc_title": "string[pyarrow]"})
    for tasks in (table, table.drop(columns=["doc_title"]), table[table["kind"] == "task"]):
        expected = check_tasks_frame(as_classifier_input(tasks[tasks["kind"] == "task"]))
        columns = classifier_columns(tasks)
        assert {c: columns[c] for c in expected.columns} == {c: expected[c].tolist() for c in expected.columns}
    with pytest.raises(InputError, match="duplicate task_id"):
        classifier_columns(pd.concat([table, table]))


def test_rows_are_coded_like_the_table_with_gold_cross_fitting_and_overrides(small_coder):
    """`code_rows` (extract's path, no pandas) gives what `code` gives, value for value."""
    coder, tasks, gold = small_coder
    table = _with_unseen_document(tasks)
    rows = table.to_dict("records")

    def as_rows(frame: pd.DataFrame) -> list[dict]:
        return [{c: coding._plain(v) for c, v in row.items()} for row in frame.to_dict("records")]

    assert {"gold", "model"} <= {row["theme_source"] for row in coder.code_rows(rows)}
    assert coder.code_rows(rows) == as_rows(coder.code(table))
    cached = replace(coder, gold=None, gold_rows=gold.to_dict("records"))  # as loaded from the cache
    assert cached.code_rows(rows) == as_rows(coder.code(table))
    assert as_rows(cached.code(table)) == as_rows(coder.code(table))
    first = tasks[tasks["kind"] == "task"].iloc[0]
    overridden = replace(cached, overrides=_oversight_override(first))
    coded = {row["task_id"]: row for row in overridden.code_rows(rows)}
    assert (coded[first["task_id"]]["theme"], coded[first["task_id"]]["theme_source"]) == ("oversight", "override")
    assert overridden.code_rows(rows) == as_rows(overridden.code(table))
