"""End-to-end tests on realistic documents the pipeline was not written against.

Each fixture in ``tests/fixtures/unseen/`` is a document of the genre written
for these tests (invented places; web captures, a report, traditional
characters in Big5, an HTML page and the same page saved as .txt, a damaged
capture, an unnumbered 实施细则).  Next to it, ``<name>.expected.json`` holds
the values read off the document by hand: task paths, framing titles, titles,
responsible-unit clauses, units, targets, metadata, flags and strings that
must not survive cleaning.  ``exercises`` in each file says what the document
tests.  Nothing here was copied from the pipeline's output.

Conventions of the expectation files:

* paths use the project's normalised numbers (``二/(一)/1``, ``二/(一)/2/(1)/①``);
* texts are the cleaned, simplified analysis text (full-width ASCII -> ASCII);
* ``units``: the distinct unit rows of a task, projected on the keys given,
  in order of first appearance;
* ``targets``: each expected target must be found among the task's targets
  (same type, its text containing ``contains``, same value when given);
* ``not_targets``: strings no target text of the task may contain.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from analysis.core.models import KIND_FRAMING, ParsedDocument, Task
from analysis.parse.pipeline import annotate_document, default_normaliser, parse_document

FIXTURES = Path(__file__).parent / "fixtures" / "unseen"
EXPECTATION_FILES = sorted(FIXTURES.glob("*.expected.json"))
PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHECKED_FLAGS = {"number_inferred", "cut_off"}


def _load(path: Path) -> dict[str, Any]:
    expected = json.loads(path.read_text(encoding="utf-8"))
    expected["_path"] = FIXTURES / expected["file"]
    return expected


EXPECTATIONS = [_load(p) for p in EXPECTATION_FILES]
IDS = [e["file"] for e in EXPECTATIONS]


@functools.cache
def parsed(file_name: str, doc_id: str) -> ParsedDocument:
    """Parse and annotate one fixture once per test session."""
    doc = parse_document(FIXTURES / file_name, doc_id)
    return annotate_document(doc, default_normaliser())


def doc_of(expected: dict[str, Any]) -> ParsedDocument:
    return parsed(expected["file"], expected["doc_id"])


def task_by_path(doc: ParsedDocument, path: str) -> Task:
    matches = [t for t in doc.tasks if t.path == path]
    assert matches, f"no task with path {path!r}; task paths are {[t.path for t in doc.tasks]}"
    assert len(matches) == 1, f"{len(matches)} tasks share the path {path!r}"
    return matches[0]


def test_fixture_set_is_complete():
    """Every document has an expectation file and every expectation names an existing document."""
    documents = {p.name for p in FIXTURES.iterdir() if not p.name.endswith(".expected.json")}
    assert documents == {e["file"] for e in EXPECTATIONS}
    assert len(EXPECTATIONS) >= 6
    for expected in EXPECTATIONS:
        text = expected["_path"].read_bytes()
        assert len(text) > 0


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_task_count_and_paths(expected):
    doc = doc_of(expected)
    assert [t.path for t in doc.tasks] == expected["task_paths"]
    assert len(doc.tasks) == expected["n_tasks"]
    assert [t.task_id for t in doc.tasks] == [f"{expected['doc_id']}-T{n:03d}" for n in range(1, len(doc.tasks) + 1)]


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_framing_units(expected):
    doc = doc_of(expected)
    framing = [u for u in doc.items if u.kind == KIND_FRAMING]
    assert [u.title for u in framing] == expected["framing_titles"]
    assert all(not u.measures for u in framing)


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_titles_and_enclosing_headings(expected):
    doc = doc_of(expected)
    titles = {path: task_by_path(doc, path).title for path in expected["task_titles"]}
    assert titles == expected["task_titles"]
    headings = {path: task_by_path(doc, path).headings for path in expected["task_headings"]}
    assert headings == expected["task_headings"]


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_measures(expected):
    doc = doc_of(expected)
    counts = {path: len(task_by_path(doc, path).measures) for path in expected.get("n_measures", {})}
    assert counts == expected.get("n_measures", {})
    for path, literals in expected.get("measures_contain", {}).items():
        measures = [m.text for m in task_by_path(doc, path).measures]
        for literal in literals:
            assert any(literal in m for m in measures), f"{path}: no measure contains {literal!r}: {measures}"
    for path, literals in expected.get("task_text_not_contains", {}).items():
        text = task_by_path(doc, path).text
        for literal in literals:
            assert literal not in text, f"{path}: task text runs into the next item ({literal!r}): {text!r}"


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_measure_unit_clauses(expected):
    doc = doc_of(expected)
    actual = {path: [m.units_raw for m in task_by_path(doc, path).measures] for path in expected["measures_units_raw"]}
    assert actual == expected["measures_units_raw"]


def _distinct_projection(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for row in rows:
        projected = {k: row.get(k) for k in keys}
        if projected not in seen:
            seen.append(projected)
    return seen


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_responsible_units(expected):
    doc = doc_of(expected)
    for task in doc.tasks:
        assert "units" in task.extra, f"{task.task_id}: annotate_document left no units"
        for row in task.extra["units"]:
            assert row["role"] in ("lead", "responsible", "support"), row
            assert 0 <= row["measure_index"] < len(task.measures), row
    for path, wanted in expected["units"].items():
        keys = list(dict.fromkeys(k for entry in wanted for k in entry))
        rows = task_by_path(doc, path).extra["units"]
        assert _distinct_projection(rows, keys) == wanted, f"{path}: units {rows}"


def _matches(target: dict[str, Any], wanted: dict[str, Any]) -> bool:
    if target["type"] != wanted["type"] or wanted["contains"] not in target["text"]:
        return False
    if "value" in wanted:
        return target["value"] is not None and math.isclose(target["value"], wanted["value"])
    return True


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_targets(expected):
    doc = doc_of(expected)
    for path, wanted_list in expected["targets"].items():
        targets = task_by_path(doc, path).extra["targets"]
        found = [(t["text"], t["type"], t["value"]) for t in targets]
        for wanted in wanted_list:
            assert any(_matches(t, wanted) for t in targets), f"{path}: expected {wanted}, found {found}"
    for path, literals in expected.get("not_targets", {}).items():
        targets = task_by_path(doc, path).extra["targets"]
        for literal in literals:
            # Figures of past work may be kept, but only as reported figures, never as commitments.
            hits = [(t["text"], t["type"]) for t in targets if literal in t["text"] and t["stance"] == "commitment"]
            assert not hits, f"{path}: {literal!r} is not a commitment but was taken as one: {hits}"


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_metadata(expected):
    doc = doc_of(expected)
    actual = {field: doc.metadata.get(field) for field in expected["metadata"]}
    assert actual == expected["metadata"]


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_encoding_and_format(expected):
    doc = doc_of(expected)
    assert doc.encoding in expected["encodings"]
    assert doc.metadata["source_format"] == expected["source_format"]
    if "min_simplified_chars" in expected:
        assert doc.metadata["n_simplified_chars"] >= expected["min_simplified_chars"]


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_furniture_and_preamble_stay_out(expected):
    doc = doc_of(expected)
    for literal in expected["absent_from_text"]:
        assert literal not in doc.text, f"{literal!r} survived cleaning"
        for unit in doc.items:
            assert literal not in unit.text, f"{unit.task_id} contains {literal!r}"
    for literal in expected["absent_from_tasks"]:
        for unit in doc.items:
            assert literal not in unit.text, f"{unit.task_id} contains {literal!r}: {unit.text[-80:]!r}"


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_flags(expected):
    doc = doc_of(expected)
    actual = {t.path: sorted(CHECKED_FLAGS & set(t.flags)) for t in doc.tasks}
    wanted = {t.path: sorted(expected["flags"].get(t.path, [])) for t in doc.tasks}
    assert actual == wanted
    if doc.tasks:
        assert ("cut_off" in doc.tasks[-1].flags) is expected["cut_off_last"]


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_repairs_and_problems(expected):
    doc = doc_of(expected)
    kinds = {r.kind for r in doc.repairs}
    assert set(expected["repair_kinds"]) <= kinds, f"repairs made: {[(r.kind, r.before, r.after) for r in doc.repairs]}"
    for repair in doc.repairs:
        assert 0 <= repair.raw_span[0] <= repair.raw_span[1] <= len(doc.original_text)
    for wanted in expected["problems_contain"]:
        assert any(p["stage"] == wanted["stage"] and wanted["contains"] in p["problem"] for p in doc.problems), (
            f"no {wanted} among {doc.problems}"
        )


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_spans_round_trip(expected):
    doc = doc_of(expected)
    n_original = len(doc.original_text)
    for unit in doc.items:
        assert doc.text[unit.span[0] : unit.span[1]] == unit.text, unit.task_id
        assert 0 <= unit.raw_span[0] <= unit.raw_span[1] <= n_original, unit.task_id
        for measure in unit.measures:
            assert doc.text[measure.span[0] : measure.span[1]] == measure.text, (unit.task_id, measure.index)
            assert unit.span[0] <= measure.span[0] <= measure.span[1] <= unit.span[1], (unit.task_id, measure.index)
            assert 0 <= measure.raw_span[0] <= measure.raw_span[1] <= n_original
            assert unit.raw_span[0] <= measure.raw_span[0] and measure.raw_span[1] <= unit.raw_span[1]
        for target in unit.extra.get("targets", []):
            assert doc.text[target["span_start"] : target["span_end"]] == target["text"], (unit.task_id, target)


def test_html_page_saved_as_txt_gives_the_same_tasks():
    """The .html capture and the same page saved as GBK .txt must agree task by task."""
    pairs = [e for e in EXPECTATIONS if "same_as" in e]
    assert pairs, "no fixture declares same_as"
    for expected in pairs:
        other = next(e for e in EXPECTATIONS if e["file"] == expected["same_as"])
        mine, theirs = doc_of(expected), doc_of(other)
        assert [(u.kind, u.path, u.title, u.text) for u in mine.items] == [
            (u.kind, u.path, u.title, u.text) for u in theirs.items
        ]
        assert [[m.units_raw for m in u.measures] for u in mine.tasks] == [
            [m.units_raw for m in u.measures] for u in theirs.tasks
        ]


def _extract(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT / "src"), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "analysis", "extract", str(path), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=PROJECT_ROOT,
        env=env,
        timeout=600,
    )


def _check_json_lines(stdout: str, expected: dict[str, Any]) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert records, "extract wrote nothing"
    document, units = records[0], records[1:]
    assert document["record"] == "document"
    assert document["doc_id"] == expected["doc_id"]
    assert document["n_tasks"] == expected["n_tasks"]
    assert all(r["record"] == "task" for r in units)
    assert [r["path"] for r in units if r["kind"] == "task"] == expected["task_paths"]
    assert [r["title"] for r in units if r["kind"] == "framing"] == expected["framing_titles"]
    for field, value in expected["metadata"].items():
        assert document[field] == value, field
    for record in units:
        if record["kind"] == "task":
            assert isinstance(record["units"], list) and isinstance(record["targets"], list)
    return records


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=IDS)
def test_cli_extract_json_lines(expected):
    result = _extract(expected["_path"], "--doc-id", expected["doc_id"], "--no-themes")
    assert result.returncode == 0, result.stderr
    _check_json_lines(result.stdout, expected)


def test_cli_extract_with_themes():
    """The default command (themes coded) on an unseen web capture."""
    expected = next(e for e in EXPECTATIONS if e["file"] == "heyu_county_2022_work_points.txt")
    result = _extract(expected["_path"], "--doc-id", expected["doc_id"])
    assert result.returncode == 0, result.stderr
    records = _check_json_lines(result.stdout, expected)
    for record in records[1:]:
        if record["kind"] == "task":
            assert record.get("theme"), f"{record['task_id']} has no theme"
