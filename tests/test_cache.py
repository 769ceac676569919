"""DocumentCache and map_cached: hits, misses, invalidation, damage, atomic writes, pruning."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from analysis import config
from analysis.corpus import cache as cache_module
from analysis.corpus.cache import DocumentCache, map_cached, pipeline_version, version_inputs
from analysis.parse.manifest import ManifestEntry, load_manifest, open_manifest

PLAN = "天门市法治政府建设实施方案\n一、主要任务\n(一)推进政务公开。(牵头单位:市政府办公室)\n"
ROWS = {
    "documents": [{"doc_id": "tianmen", "title": "天门市法治政府建设实施方案", "n_tasks": 1}],
    "tasks": [{"doc_id": "tianmen", "task_id": "tianmen-T001", "text": "推进政务公开。(牵头单位:市政府办公室)"}],
    "problems": [],
}
METADATA = {"jurisdiction": "天门市", "period_start": 2016, "issued": "2017-06-09"}


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "raw" / "tianmen.txt"
    path.parent.mkdir()
    path.write_text(PLAN, encoding="utf-8")
    return path


def test_put_then_get_is_a_hit_and_an_unknown_key_a_miss(tmp_path: Path, plan_file: Path) -> None:
    cache = DocumentCache(tmp_path / "cache", version="v1")
    key = cache.key(plan_file, "tianmen", METADATA)
    assert cache.get(key) is None
    cache.put(key, ROWS)
    assert cache.get(key) == ROWS
    assert cache.stats.as_dict() == {"hits": 1, "misses": 1, "writes": 1, "corrupt": 0}


def test_key_changes_with_content_doc_id_metadata_path_and_version(tmp_path: Path, plan_file: Path) -> None:
    base = DocumentCache(tmp_path / "cache", version="v1")
    key = base.key(plan_file, "tianmen", METADATA)
    assert key == base.key(plan_file, "tianmen", dict(reversed(list(METADATA.items()))))  # order-free
    assert key != DocumentCache(tmp_path / "cache", version="v2").key(plan_file, "tianmen", METADATA)
    assert key != base.key(plan_file, "tianmen_2017", METADATA)
    assert key != base.key(plan_file, "tianmen", {**METADATA, "period_start": 2017})
    moved = plan_file.with_name("tianmen_copy.txt")
    moved.write_bytes(plan_file.read_bytes())
    assert key != base.key(moved, "tianmen", METADATA)  # rows record source_path
    plan_file.write_text(PLAN.replace("政务公开", "政务公开。", 1), encoding="utf-8")
    assert key != base.key(plan_file, "tianmen", METADATA)


def test_new_version_does_not_see_old_entries(tmp_path: Path, plan_file: Path) -> None:
    old = DocumentCache(tmp_path / "cache", version="v1")
    old.put(old.key(plan_file, "tianmen", METADATA), ROWS)
    new = DocumentCache(tmp_path / "cache", version="v2")
    assert new.get(new.key(plan_file, "tianmen", METADATA)) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut off mid-write by another tool
        lambda data: b"",  # empty
        lambda data: b"garbage" + data,  # bad header
        lambda data: data[:20] + bytes(b ^ 0xFF for b in data[20:40]) + data[40:],  # flipped bytes
    ],
)
def test_a_damaged_entry_is_a_logged_miss(tmp_path: Path, plan_file: Path, damage, caplog) -> None:
    cache = DocumentCache(tmp_path / "cache", version="v1")
    key = cache.key(plan_file, "tianmen", METADATA)
    path = cache.put(key, ROWS)
    path.write_bytes(damage(path.read_bytes()))
    with caplog.at_level(logging.WARNING, logger="analysis.cache"):
        assert cache.get(key) is None
    assert cache.stats.corrupt == 1 and cache.stats.misses == 1
    assert str(path) in caplog.text


def test_an_entry_stored_under_another_name_is_a_miss(tmp_path: Path, plan_file: Path) -> None:
    cache = DocumentCache(tmp_path / "cache", version="v1")
    key = cache.key(plan_file, "tianmen", METADATA)
    other = cache.key(plan_file, "other", METADATA)
    cache.path_for(other).parent.mkdir(parents=True, exist_ok=True)
    os.replace(cache.put(key, ROWS), cache.path_for(other))
    assert cache.get(other) is None and cache.stats.corrupt == 1


def test_put_is_atomic_a_failed_write_keeps_the_old_entry(tmp_path: Path, plan_file: Path, monkeypatch) -> None:
    cache = DocumentCache(tmp_path / "cache", version="v1")
    key = cache.key(plan_file, "tianmen", METADATA)
    cache.put(key, ROWS)

    def disk_full(self: Path, data: bytes) -> int:
        self.open("wb").write(data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(OSError):
        cache.put(key, {"documents": [], "tasks": [], "problems": []})
    monkeypatch.undo()
    assert cache.get(key) == ROWS
    assert [p.name for p in cache.path_for(key).parent.iterdir()] == [cache.path_for(key).name]  # no temp left


def test_prune_keeps_only_the_given_keys(tmp_path: Path, plan_file: Path) -> None:
    cache = DocumentCache(tmp_path / "cache", version="v1")
    keys = [cache.key(plan_file, f"doc{i}", METADATA) for i in range(4)]
    for key in keys:
        cache.put(key, ROWS)
    stale_temp = cache.path_for(keys[0]).parent / ".abandoned.tmp"
    stale_temp.write_bytes(b"half")
    os.utime(stale_temp, (0, 0))
    assert cache.prune(keys[:2]) == 2
    assert sorted(cache.keys()) == sorted(keys[:2])
    assert not stale_temp.exists()


def test_malformed_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a cache key"):
        DocumentCache(tmp_path, version="v1").get("../../etc/passwd")


def _count_tasks(entry: ManifestEntry) -> tuple[str, Any, Any]:
    """A stand-in per-document stage: one row per numbered line, or a problem."""
    text = Path(entry.path).read_text(encoding="utf-8")
    if "损坏" in text:
        return entry.doc_id, None, {"doc_id": entry.doc_id, "problem": "damaged"}
    tasks = [line for line in text.splitlines() if line.startswith("(")]
    return entry.doc_id, {"tasks": [{"doc_id": entry.doc_id, "text": t} for t in tasks]}, None


def test_map_cached_parses_only_what_changed_and_keeps_order(tmp_path: Path, monkeypatch) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    entries = []
    for i in range(6):
        path = raw / f"doc{i}.txt"
        path.write_text(PLAN + ("损坏" if i == 4 else "") + f"(二)第{i}项任务。\n", encoding="utf-8")
        entries.append(ManifestEntry(f"doc{i}", path, {"jurisdiction": "天门市"}))
    cache = DocumentCache(tmp_path / "cache", version="v1")
    first = list(map_cached(_count_tasks, entries, cache, progress=False))
    assert [doc_id for doc_id, _, _ in first] == [f"doc{i}" for i in range(6)]
    assert cache.stats.writes == 5  # the damaged document is not cached

    entries[2].path.write_text(PLAN + "(二)改过的任务。\n", encoding="utf-8")
    calls: list[str] = []

    def counting(entry: ManifestEntry):
        calls.append(entry.doc_id)
        return _count_tasks(entry)

    again = DocumentCache(tmp_path / "cache", version="v1")
    second = list(map_cached(counting, entries, again, progress=False))
    assert calls == ["doc2", "doc4"]  # the changed one and the failed one
    assert [doc_id for doc_id, _, _ in second] == [f"doc{i}" for i in range(6)]
    assert second[2][1]["tasks"][-1]["text"] == "(二)改过的任务。"
    assert [s for i, s in enumerate(second) if i != 2] == [f for i, f in enumerate(first) if i != 2]
    assert again.stats.hits == 4
    assert again.prune(again.used_keys) == 1  # doc2's old entry


def test_map_cached_with_a_process_pool_matches_serial(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    entries = []
    for i in range(12):
        path = raw / f"doc{i}.txt"
        path.write_text(PLAN + f"(二)第{i}项任务。\n", encoding="utf-8")
        entries.append(ManifestEntry(f"doc{i}", path, {}))
    serial = list(map_cached(_count_tasks, entries, DocumentCache(tmp_path / "a", version="v1"), progress=False))
    warm = DocumentCache(tmp_path / "b", version="v1")
    list(map_cached(_count_tasks, entries[::2], warm, progress=False))  # half of them cached
    pooled = list(map_cached(_count_tasks, entries, warm, jobs=2, progress=False))
    assert pooled == serial


def test_pipeline_version_covers_code_and_data_but_not_the_theme_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "PER_DOCUMENT_ROOTS", ("pipeline",))
    monkeypatch.setattr(cache_module, "THEME_STAGE_MODULES", frozenset({"themes", "segment"}))
    package = tmp_path / "analysis"
    (package / "reference").mkdir(parents=True)
    sources = {
        "pipeline.py": "from analysis.tasks import extract_tasks\n",
        "tasks.py": "from analysis import models\n",
        "models.py": "",
        "themes.py": "from analysis.segment import tokenize\n",
        "segment.py": "",
    }
    for name, text in sources.items():
        (package / name).write_text(text, encoding="utf-8")
    for name in ("agencies.csv", "codebook.csv", "domain_dictionary.txt", "theme_gold.csv", "README.md"):
        (package / "reference" / name).write_text("a,b\n", encoding="utf-8")
    names = [p.name for p in version_inputs(package)]
    assert names == ["models.py", "pipeline.py", "tasks.py", "agencies.csv"]

    before = pipeline_version(package)
    (package / "reference" / "codebook.csv").write_text("a,b\nc,d\n", encoding="utf-8")
    (package / "themes.py").write_text("# retrained\n", encoding="utf-8")
    assert pipeline_version(package) == before  # re-coding themes needs no re-parse
    (package / "reference" / "agencies.csv").write_text("a,b\n市编办,市委编办\n", encoding="utf-8")
    assert pipeline_version(package) != before

    # A per-document module that starts using the segmenter brings the theme data in.
    (package / "tasks.py").write_text("from analysis import models, segment\n", encoding="utf-8")
    assert "domain_dictionary.txt" in [p.name for p in version_inputs(package)]


def test_the_real_package_version_excludes_the_codebook() -> None:
    names = {p.relative_to(config.PACKAGE_DIR).as_posix() for p in version_inputs()}
    assert {"parse/pipeline.py", "parse/structure.py", "parse/tasks.py", "reference/framing_titles.csv"} <= names
    assert not names & {"reference/codebook.csv", "reference/domain_dictionary.txt", "annotate/themes.py"}
    assert not names & {"core/codebook.py", "core/segment.py"}
    assert (
        len(pipeline_version()) == 64 and cache_module.DocumentCache(Path("/nonexistent")).version == pipeline_version()
    )


def test_editing_a_module_in_a_subfolder_changes_the_version(tmp_path: Path) -> None:
    package = tmp_path / "analysis"
    for folder in ("core", "parse", "annotate", "reference"):
        (package / folder).mkdir(parents=True)
        if folder != "reference":
            (package / folder / "__init__.py").write_text("", encoding="utf-8")
    sources = {
        "parse/pipeline.py": "from analysis.parse import tasks\nfrom ..annotate.units import task_units\n",
        "parse/tasks.py": "from analysis.core.text import AlignedText\n",
        "core/text.py": "",
        "annotate/units.py": "from . import helpers\n",
        "annotate/helpers.py": "",
        "annotate/themes.py": "from analysis.core import segment\n",
        "core/segment.py": "",
    }
    for name, text in sources.items():
        (package / name).write_text(text, encoding="utf-8")
    (package / "reference" / "codebook.csv").write_text("a\n", encoding="utf-8")
    roots = ("parse.pipeline",)
    stage = frozenset({"annotate.themes", "core.segment"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache_module, "PER_DOCUMENT_ROOTS", roots)
        patch.setattr(cache_module, "THEME_STAGE_MODULES", stage)
        reached = cache_module.per_document_modules(package)
        assert reached == {
            "parse",
            "parse.pipeline",
            "parse.tasks",
            "core",
            "core.text",
            "annotate",
            "annotate.units",
        } | {"annotate.helpers"}
        names = [p.relative_to(package).as_posix() for p in version_inputs(package)]
        assert "annotate/helpers.py" in names and "annotate/themes.py" not in names
        before = pipeline_version(package)
        (package / "annotate" / "helpers.py").write_text("X = 1\n", encoding="utf-8")  # two folders down the graph
        edited = pipeline_version(package)
        assert edited != before
        # Moving a module to another folder (same bytes) is a different input too.
        (package / "annotate" / "helpers.py").rename(package / "core" / "helpers.py")
        moved = pipeline_version(package)
        assert moved != edited
        # The theme stage, reached from nowhere per-document, stays out of the key.
        (package / "annotate" / "themes.py").write_text("from analysis.core import segment\nY = 2\n", encoding="utf-8")
        assert pipeline_version(package) == moved


def test_library_version_reads_what_importlib_reports():
    import importlib.metadata

    from analysis.corpus.cache import library_version

    assert library_version("pandas") == importlib.metadata.version("pandas")
    assert library_version("no-such-library-anywhere") == "absent"


def test_map_cached_streams_a_manifest_without_copying_its_entries(tmp_path: Path) -> None:
    """A streamed manifest goes through as it is (read again from its file), with the same outcomes as a list."""
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = ["doc_id,file,jurisdiction\n"]
    for i in range(8):
        (raw / f"doc{i}.txt").write_text(PLAN + f"(二)第{i}项任务。\n", encoding="utf-8")
        lines.append(f"doc{i},doc{i}.txt,天门市\n")
    (raw / "manifest.csv").write_text("".join(lines), encoding="utf-8")
    listed, _ = load_manifest(raw / "manifest.csv", raw)
    expected = list(map_cached(_count_tasks, listed, DocumentCache(tmp_path / "a", version="v1"), progress=False))

    class Streamed:
        """The streamed manifest, counting the passes over it."""

        def __init__(self) -> None:
            self.manifest = open_manifest(raw / "manifest.csv", raw)
            self.iterations = 0

        def __len__(self) -> int:
            return len(self.manifest)

        def __iter__(self):
            self.iterations += 1
            return iter(self.manifest)

    warm = DocumentCache(tmp_path / "b", version="v1")
    list(map_cached(_count_tasks, listed[::3], warm, progress=False))  # a third of them cached
    streamed = Streamed()
    assert list(map_cached(_count_tasks, streamed, warm, jobs=2, progress=False)) == expected
    assert streamed.iterations == 3  # keys, misses, outcomes: each a fresh pass over the file
