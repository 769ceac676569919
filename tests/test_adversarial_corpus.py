"""The five seeds plus one adversarial file of each kind: built in under a minute, one clear problem per bad file."""

from __future__ import annotations

import shutil
import time

import pandas as pd
import pytest

from adversarial_inputs import (
    PLAN,
    deep_html,
    docx_with_paragraphs,
    pdf_with_pages,
    plan_with_foreign_lines,
    plan_with_task,
    quadratic_inputs,
)
from analysis import config
from analysis.core.schema import TABLE_NAMES
from analysis.corpus import rows
from analysis.corpus.build import build_corpus
from analysis.corpus.coding import ThemeCoder
from analysis.parse.manifest import load_manifest
from analysis.parse.pipeline import process_document
from test_seeds import EXPECTED_TASKS

# Refused by a limit, each with one error naming it.
REFUSED = {
    "deep.html": "nested deeper than the limit of 500 levels",
    "bomb.docx": "more than 100,000 paragraphs",
    "long.pdf": "PDF has 2,001 pages, over the limit of 2,000",
}


@pytest.mark.slow
def test_seeds_plus_adversarial_files_build_in_under_a_minute(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    shutil.copytree(config.RAW_DIR, raw)
    seeds = pd.read_csv(raw / "manifest.csv", dtype=str, keep_default_na=False)
    files = {
        "deep.html": deep_html(1000),
        "bomb.docx": docx_with_paragraphs(200_001),
        "long.pdf": pdf_with_pages(2001),
        "foreign_lines.txt": plan_with_foreign_lines(),
        "formulas.txt": plan_with_task("=cmd|' /C calc'!A0 推进政务公开。(牵头单位:@县政府办公室)"),
        "one_line.txt": PLAN.replace("\n", "").encode("utf-8"),  # a capture that lost its line breaks
        "bad_date.txt": PLAN.encode("utf-8"),
        "backward_period.txt": PLAN.encode("utf-8"),
        **quadratic_inputs(),
    }
    extra_rows = []
    for name, data in files.items():
        (raw / name).write_bytes(data)
        extra_rows.append({"doc_id": name.replace(".", "_"), "file": name})
    extra_rows[list(files).index("bad_date.txt")]["issued"] = "2020-13-45"
    extra_rows[list(files).index("backward_period.txt")].update(period_start="2022", period_end="2020")
    manifest = raw / "manifest.csv"
    pd.concat([seeds, pd.DataFrame(extra_rows)], ignore_index=True).fillna("").to_csv(manifest, index=False)

    # A generous budget for real plans is far above what these inputs may take; the test keeps it short.
    monkeypatch.setattr(config, "DOCUMENT_SECONDS", 5.0)
    ThemeCoder.from_project()  # the classifier is fitted once and cached on disk: not part of a corpus build
    started = time.monotonic()
    result = build_corpus(manifest, raw, tmp_path / "out", jobs=2, progress=False, use_cache=False)
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"build took {elapsed:.0f} s"

    # The seeds are complete: every table holds exactly the rows the pipeline gives each seed on its own.
    entries, _ = load_manifest(config.MANIFEST_PATH, config.RAW_DIR)
    documents = result.table("documents").set_index("doc_id")
    assert {doc_id: documents.loc[doc_id, "n_tasks"] for doc_id in EXPECTED_TASKS} == EXPECTED_TASKS
    for entry in entries:
        alone = rows.document_tables(process_document(entry.path, entry.doc_id, entry.metadata))
        for name in TABLE_NAMES:
            table = result.table(name)
            assert (table["doc_id"] == entry.doc_id).sum() == len(rows.table_dicts(alone[name])), (entry.doc_id, name)

    # One clear problem row per bad file; the files that are not bad are built.
    problems = result.table("problems")
    errors = problems[problems["severity"] == "error"]
    assert errors["doc_id"].is_unique
    by_file = {row["doc_id"]: row for row in errors.to_dict("records")}
    for name, message in REFUSED.items():
        row = by_file[name.replace(".", "_")]
        assert message in row["problem"] and row["file"].endswith(name) and row["manifest_row"] > 6
    assert "issued '2020-13-45' is not a real date" in by_file["bad_date_txt"]["problem"]
    assert "period ends (2020) before it starts (2022)" in by_file["backward_period_txt"]["problem"]
    for name in quadratic_inputs():  # linear now, or stopped by the budget: never a hang, never a crash
        doc_id = name.replace(".", "_")
        assert doc_id in documents.index or by_file[doc_id]["problem"].startswith("too slow")
    for doc_id in ("foreign_lines_txt", "formulas_txt", "one_line_txt"):
        assert doc_id in documents.index
    repairs = result.table("repairs")
    assert (repairs.loc[repairs["doc_id"] == "foreign_lines_txt", "kind"] == "decoding").sum() == 2
    assert not set(result.failed) & set(EXPECTED_TASKS)
