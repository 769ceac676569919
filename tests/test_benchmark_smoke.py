"""The synthetic benchmark corpus: labelled, deterministic, and parsed into the tasks it was built with."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level package of the repository, not installed
    sys.path.insert(0, str(ROOT))

from analysis.parse.manifest import load_manifest  # noqa: E402
from analysis.parse.pipeline import parse_document  # noqa: E402
from benchmarks.synthetic import MARKER, harvest, write_corpus  # noqa: E402

N_DOCUMENTS = 20


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("synthetic"), N_DOCUMENTS, seed=7)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_document_is_labelled_synthetic(corpus) -> None:
    rows = read_rows(corpus.manifest_path)
    assert len(rows) == N_DOCUMENTS
    for row in rows:
        assert row["file"].startswith("synthetic_") and row["doc_id"].startswith("synthetic_")
        assert "SYNTHETIC" in row["notes"] and "not a real" in row["notes"]
        first_line = (corpus.raw_dir / row["file"]).read_text(encoding="utf-8").splitlines()[0]
        assert "SYNTHETIC" in first_line
    assert "SYNTHETIC" in MARKER


def test_generation_is_deterministic_for_a_seed(corpus, tmp_path: Path) -> None:
    again = write_corpus(tmp_path / "again", N_DOCUMENTS, seed=7)
    other = write_corpus(tmp_path / "other", 3, seed=8)
    for name in ("manifest.csv", "synthetic_truth.csv", "synthetic_000000.txt", "synthetic_000019.txt"):
        assert (again.raw_dir / name).read_bytes() == (corpus.raw_dir / name).read_bytes()
    # Document i does not depend on how many were generated, but does depend on the seed.
    prefix = write_corpus(tmp_path / "prefix", 3, seed=7)
    assert (prefix.raw_dir / "synthetic_000002.txt").read_bytes() == (
        corpus.raw_dir / "synthetic_000002.txt"
    ).read_bytes()
    assert (other.raw_dir / "synthetic_000000.txt").read_bytes() != (
        corpus.raw_dir / "synthetic_000000.txt"
    ).read_bytes()


def test_the_corpus_varies_numbering_and_noise(tmp_path: Path) -> None:
    truth = read_rows(write_corpus(tmp_path, 200, seed=3).truth_path)
    assert len({row["scheme"] for row in truth}) >= 6
    assert any(row["traditional"] == "True" for row in truth)
    assert any(row["cut_off"] == "True" for row in truth)
    assert any(row["furniture"] == "True" for row in truth)


def test_the_pipeline_finds_the_tasks_the_generator_wrote(corpus) -> None:
    truth = {row["doc_id"]: row for row in read_rows(corpus.truth_path)}
    entries, problems = load_manifest(corpus.manifest_path, corpus.raw_dir)
    assert problems == [] and len(entries) == N_DOCUMENTS
    for entry in entries:
        document = parse_document(entry.path, entry.doc_id, entry.metadata)
        expected = truth[entry.doc_id]
        assert len(document.tasks) == int(expected["n_tasks"]), (entry.doc_id, expected["scheme"])
        assert all(task.text for task in document.tasks)
        assert "合成" in document.text  # the marker survives cleaning (traditional text is simplified)
        if expected["cut_off"] == "True":
            assert "cut_off" in document.tasks[-1].flags


def test_material_comes_from_the_real_corpus_split_by_the_pipeline() -> None:
    pool = harvest()
    assert len(pool.sentences) >= 20 and len(pool.section_titles) >= 3
    assert all(sentence.endswith("。") for sentence in pool.sentences)
    assert not any("牵头单位" in sentence or "责任单位" in sentence for sentence in pool.sentences)


def test_the_first_documents_of_a_written_corpus_are_the_smaller_corpus(corpus, tmp_path: Path) -> None:
    """``benchmarks.run --corpus`` takes a prefix of a big corpus instead of generating a small one."""
    from benchmarks.run import subset_corpus

    subset = subset_corpus(corpus.raw_dir, tmp_path / "subset", 3)
    direct = write_corpus(tmp_path / "direct", 3, seed=7)
    assert (subset.n_documents, subset.n_bytes) == (3, direct.n_bytes)
    assert subset.manifest_path.read_bytes() == direct.manifest_path.read_bytes()
    for name in ("synthetic_000000.txt", "synthetic_000002.txt"):
        assert (subset.raw_dir / name).read_bytes() == (direct.raw_dir / name).read_bytes()
    assert not (subset.raw_dir / "synthetic_000003.txt").exists()
    with pytest.raises(ValueError, match="fewer than 25"):
        subset_corpus(corpus.raw_dir, tmp_path / "too_many", 25)


def test_the_headline_is_the_median_of_paired_ratios() -> None:
    from benchmarks.run import headline

    def pair(build: float, jieba: float, error: str | None = None) -> dict[str, dict[str, object]]:
        return {"build1": {"seconds": build, "error": error}, "jieba1": {"seconds": jieba}}

    # Ratios 1.2, 0.9, 1.0: the median pair decides, not the median times (9.5 / 10.0 would say 0.95).
    result = headline([pair(12.0, 10.0), pair(9.0, 10.0), pair(9.5, 9.5), pair(1.0, 10.0, error="build failed")])
    assert result["n_pairs"] == 3
    assert result["ratio"] == 1.0
    assert (result["ratio_min"], result["ratio_max"]) == (0.9, 1.2)
    assert (result["build_seconds"], result["jieba_seconds"]) == (9.5, 10.0)
    assert headline([]) == {}
