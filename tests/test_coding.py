"""The build's theme coder: fitted once, cached on disk, same codes either way."""

from __future__ import annotations

import pandas as pd

from analysis.corpus import coding
from analysis.corpus.coding import ThemeCoder, as_classifier_input


def test_cached_classifier_codes_exactly_like_a_fresh_fit(tmp_path, monkeypatch):
    monkeypatch.setattr(coding.config, "CACHE_DIR", tmp_path)
    coding._default_coder.cache_clear()
    first = ThemeCoder.from_project()  # fits and writes the cache
    assert len(list(tmp_path.glob("theme_classifier-*.pkl"))) == 1
    coding._default_coder.cache_clear()
    loaded = ThemeCoder.from_project()  # reads the cache
    coding._default_coder.cache_clear()
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
