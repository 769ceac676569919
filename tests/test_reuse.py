"""Text reuse: document similarity, cross-jurisdiction task pairs, clusters (hand-built tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.compare import reuse

APPROVAL = "深化行政审批制度改革，全面推行权力清单、责任清单和负面清单制度，实行动态管理。"
APPROVAL_EDITED = "深化行政审批制度改革，全面推行权力清单、责任清单、负面清单制度并实行动态管理。"
REVIEW = "健全行政复议案件审理机制，推行实地调查、听证和专家论证等审理方式。"
TRAINING = "加强对领导干部和执法人员的法治培训，每年举办专题讲座不少于两次。"
WEATHER = "今日晴转多云，东南风三级，气温摄氏二十度上下。"


def _documents(*doc_ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": list(doc_ids),
            "jurisdiction": [f"{d}市" for d in doc_ids],
            "jurisdiction_en": [d.title() for d in doc_ids],
            "issued_year": pd.array([2018] * len(doc_ids), dtype="Int64"),
        }
    )


def _tasks(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """rows: (doc_id, text, theme); seq and ids in the given order per document."""
    counter: dict[str, int] = {}
    records = []
    for doc_id, text, theme in rows:
        counter[doc_id] = counter.get(doc_id, 0) + 1
        n = counter[doc_id]
        records.append(
            {
                "doc_id": doc_id,
                "task_id": f"{doc_id}-T{n:03d}",
                "kind": "task",
                "seq": n,
                "path": f"一/{n}",
                "text": text,
                "theme": theme,
            }
        )
    return pd.DataFrame(records)


@pytest.mark.parametrize("method", reuse.METHODS)
def test_identical_documents_score_one_and_unrelated_ones_zero(method):
    documents = _documents("a", "b", "c", "d")
    tasks = _tasks(
        [
            ("a", APPROVAL, "functions"),
            ("a", REVIEW, "disputes"),
            ("b", APPROVAL, "functions"),
            ("b", REVIEW, "disputes"),
            ("c", WEATHER, ""),
        ]
    )
    similarity = reuse.document_similarity(tasks, documents, method=method)
    assert list(similarity.index) == ["a", "b", "c", "d"]
    assert similarity.loc["a", "b"] == pytest.approx(1.0, abs=1e-5)
    assert similarity.loc["a", "c"] == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(similarity.to_numpy()[:3, :3], similarity.to_numpy()[:3, :3].T)
    assert similarity.loc["d"].isna().all()  # no task text: nothing to compare


def test_partly_shared_wording_lies_between():
    documents = _documents("a", "b", "c")
    tasks = _tasks([("a", APPROVAL + REVIEW, ""), ("b", APPROVAL_EDITED + TRAINING, ""), ("c", WEATHER, "")])
    similarity = reuse.document_similarity(tasks, documents, method="chars")
    assert 0.2 < similarity.loc["a", "b"] < 0.9
    assert similarity.loc["a", "b"] > similarity.loc["a", "c"]


def test_task_pairs_only_across_documents_and_above_threshold():
    documents = _documents("a", "b")
    tasks = _tasks(
        [
            ("a", APPROVAL, ""),
            ("a", APPROVAL, ""),  # same text twice in one plan: not reuse
            ("a", REVIEW, ""),
            ("b", APPROVAL_EDITED, ""),
            ("b", TRAINING, ""),
        ]
    )
    pairs = reuse.task_pairs(tasks, documents, threshold=0.5)
    assert set(zip(pairs["task_id_a"], pairs["task_id_b"], strict=False)) == {
        ("a-T001", "b-T001"),
        ("a-T002", "b-T001"),
    }
    assert (pairs["doc_id_a"] != pairs["doc_id_b"]).all()
    assert pairs["similarity"].between(0.5, 1.0).all()
    assert pairs.loc[0, "text_a"] == APPROVAL and pairs.loc[0, "text_b"] == APPROVAL_EDITED
    assert pairs.loc[0, "doc_label_a"] == "a市 2018" and pairs.loc[0, "path_b"] == "一/1"
    assert pairs.attrs["n_pairs_above_threshold"] == 2
    strict = reuse.task_pairs(tasks, documents, threshold=0.99)
    assert strict.empty and list(strict.columns) == list(reuse.PAIR_COLUMNS)


def test_task_pairs_sorted_capped_and_independent_of_block_size():
    documents = _documents("a", "b", "c")
    tasks = _tasks(
        [
            ("a", APPROVAL, ""),
            ("a", REVIEW, ""),
            ("a", TRAINING, ""),
            ("b", APPROVAL, ""),
            ("b", REVIEW + "完善复议决定书网上公开。", ""),
            ("c", APPROVAL_EDITED, ""),
            ("c", TRAINING, ""),
            ("c", WEATHER, ""),
        ]
    )
    whole = reuse.task_pairs(tasks, documents, threshold=0.3)
    blocked = reuse.task_pairs(tasks, documents, threshold=0.3, max_block_cells=8)  # one row at a time
    pd.testing.assert_frame_equal(whole, blocked)
    assert whole["similarity"].is_monotonic_decreasing
    assert whole.loc[0, "similarity"] == pytest.approx(1.0)
    capped = reuse.task_pairs(tasks, documents, threshold=0.3, max_pairs=2)
    pd.testing.assert_frame_equal(capped, whole.head(2))
    assert capped.attrs["n_pairs_above_threshold"] == len(whole)


def test_pair_counts_is_symmetric():
    documents = _documents("a", "b", "c")
    pairs = pd.DataFrame({"doc_id_a": ["a", "a", "b"], "doc_id_b": ["b", "b", "c"]})
    counts = reuse.pair_counts(pairs, documents)
    assert counts.loc["a", "b"] == counts.loc["b", "a"] == 2
    assert counts.loc["c", "b"] == 1 and counts.loc["a", "c"] == 0


def _three_topics() -> pd.DataFrame:
    topics = {
        "disputes": [
            "健全行政复议案件审理机制，提高行政复议办案质量。",
            "推进行政复议规范化建设，加强行政复议案件审理。",
            "完善行政复议案件审理程序，公开行政复议决定。",
            "加强行政复议工作，提高行政复议案件审理质量。",
        ],
        "capacity": [
            "加强领导干部法治培训，组织领导干部学法考试。",
            "完善领导干部学法制度，开展领导干部法治培训。",
            "组织领导干部参加法治培训和学法考试。",
            "领导干部带头学法，定期举办法治培训。",
        ],
        "enforcement": [
            "严格落实行政执法公示制度和执法全过程记录制度。",
            "推行行政执法公示，规范执法全过程记录。",
            "落实行政执法公示和重大执法决定法制审核。",
            "完善执法全过程记录和行政执法公示制度。",
        ],
    }
    rows = []
    for i in range(4):  # interleave topics and documents
        for theme, texts in topics.items():
            rows.append(("a" if i % 2 == 0 else "b", texts[i], theme))
    return _tasks(rows)


@pytest.mark.parametrize("method", reuse.METHODS)
def test_clusters_are_deterministic_and_numbered_by_first_task(method):
    tasks = _three_topics()
    first = reuse.task_clusters(tasks, n_clusters=3, method=method)
    second = reuse.task_clusters(tasks.sample(frac=1, random_state=7).sort_index(), n_clusters=3, method=method)
    pd.testing.assert_frame_equal(first, second)
    assert first["cluster"].tolist()[:3] == [0, 1, 2]
    assert set(first["cluster_size"]) == {4}


def test_clusters_recover_clearly_separate_topics_and_match_the_taxonomy():
    tasks = _three_topics()
    clusters = reuse.task_clusters(tasks, n_clusters=3, method="tokens")
    comparison = reuse.clusters_vs_taxonomy(clusters, tasks)
    assert comparison.adjusted_rand == pytest.approx(1.0)
    assert comparison.crosstab.to_numpy().sum() == 12
    assert sorted(comparison.crosstab.max(axis=1).tolist()) == [4, 4, 4]
    assert list(comparison.crosstab.columns) == ["enforcement", "disputes", "capacity"]  # codebook order


def test_clusters_vs_taxonomy_leaves_out_uncoded_tasks_and_scores_chance_low():
    tasks = _three_topics()
    clusters = reuse.task_clusters(tasks, n_clusters=3, method="tokens")
    shuffled = tasks.assign(theme=["disputes", "disputes", "capacity", "enforcement"] * 3)
    shuffled.loc[0, "theme"] = None
    comparison = reuse.clusters_vs_taxonomy(clusters, shuffled)
    assert comparison.n_tasks == 11
    assert comparison.adjusted_rand < 0.5


def test_default_cluster_count_never_exceeds_distinct_texts():
    tasks = _tasks([("a", APPROVAL, "functions"), ("b", APPROVAL, "functions"), ("b", REVIEW, "disputes")])
    clusters = reuse.task_clusters(tasks)
    assert clusters["cluster"].nunique() == 2
    assert clusters.loc[0, "cluster"] == clusters.loc[1, "cluster"]


def test_unknown_method_and_unknown_documents_raise():
    with pytest.raises(ValueError, match="method"):
        reuse.make_vectorizer("words")
    with pytest.raises(ValueError, match="not in the documents table"):
        reuse.document_similarity(_tasks([("z", APPROVAL, "")]), _documents("a"))
