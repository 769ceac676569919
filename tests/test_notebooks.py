"""Every notebook runs headless against a corpus built from data/raw, and writes its figures.

The corpus is built into a temporary folder (``build_corpus(out_dir=...)``) and
the notebooks get that folder and a temporary figures folder as papermill
parameters, so nothing in the checkout is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from analysis import config
from analysis.compare.labels import doc_slug
from analysis.publish.notebooks import NotebookError, execute, numbered_notebooks, run_all

# Figures every notebook must write on the project corpus (the "_en" twins too, where listed).
BILINGUAL_FIGURES = {
    "01": [
        "01_documents_by_year_level",
        "01_documents_by_type",
        "01_tasks_per_document",
        "01_structure_depth",
        "01_repairs_per_document",
    ],
    "02": [
        "02_coverage_level1_count",
        "02_coverage_level1_share",
        "02_coverage_level2_count",
        "02_coverage_level2_share",
        "02_theme_profiles",
        "02_themes_covered",
        "02_gangyao_2015",
        "02_gangyao_2021",
    ],
    "03": ["03_assigned_task_share", "03_agencies_hhi", "03_category_theme", "03_agency_pairs", "03_reform_agencies"],
    "04": [
        "04_target_density_by_doc",
        "04_target_density_by_theme",
        "04_target_type_mix",
        "04_share_100pct",
        "04_deadlines",
    ],
    "05": ["05_doc_similarity_tokens", "05_doc_similarity_chars", "05_clusters_vs_themes"],
    "06": ["06_scores_level1", "06_scores_level2", "06_confusion_level1", "06_accuracy_per_document"],
}
# Views with nothing to show on the seeds: no file, a sentence in the notebook instead
# (no year has two plans with tasks besides 2017; no two plans share a near-identical task).
NOTHING_TO_SHOW = {"02_theme_coverage": "02_emphasis_by_year", "05_text_reuse": "05_shared_task_pairs"}
PROPER_NAME_FIGURES = {"03_agency_pairs_en"}  # agency names are proper names, kept as written
CJK = re.compile(r"[\u3400-\u9fff]")
PROFILE_FIGURES = ["theme_profile", "assignment", "target_types"]  # 07_<doc>_<name>, one set per document


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from analysis.corpus.build import build_corpus

    out = tmp_path_factory.mktemp("processed")
    result = build_corpus(out_dir=out, progress=False, jobs=2)
    assert result.ok, result.failed
    return out


@pytest.mark.slow
def test_every_notebook_runs_and_writes_its_figures(corpus, tmp_path):
    figures, executed = tmp_path / "figures", tmp_path / "executed"
    checkout_figures = set(config.FIGURES_DIR.glob("*")) if config.FIGURES_DIR.is_dir() else set()
    written = run_all(
        out_dir=executed, processed_dir=corpus, figures_dir=figures, jobs=2, extra_parameters={"HIERARCHY": "restrict"}
    )  # the full "auto" search is for `make`

    from analysis.core.store import read_table

    doc_ids = list(read_table("documents", corpus)["doc_id"])
    notebooks = numbered_notebooks()
    per_document = [n for n in notebooks if n.name.startswith("07_")]
    assert len(written) == len(notebooks) - len(per_document) + len(per_document) * len(doc_ids)
    for path in written:
        notebook = nbformat.read(path, as_version=4)
        errors = [
            o
            for cell in notebook.cells
            if cell.cell_type == "code"
            for o in cell.get("outputs", [])
            if o.get("output_type") == "error"
        ]
        assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"

    expected = [name + suffix for names in BILINGUAL_FIGURES.values() for name in names for suffix in ("", "_en")]
    expected += [
        f"07_{doc_slug(d)}_{name}{suffix}" for d in doc_ids for name in PROFILE_FIGURES for suffix in ("", "_en")
    ]
    missing = [
        f"{name}.{ext}"
        for name in expected
        for ext in ("png", "pdf", "csv")
        if not (figures / f"{name}.{ext}").is_file()
    ]
    assert not missing, missing
    after = set(config.FIGURES_DIR.glob("*")) if config.FIGURES_DIR.is_dir() else set()
    assert not {
        p for p in after - checkout_figures if p.name.startswith(("01_", "02_", "03_", "04_", "05_", "06_", "07_"))
    }
    # The CSV beside a figure holds the plotted data: one row per plan, the 纲要 reference row, the margin row.
    coverage = (figures / "02_coverage_level1_share.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(coverage) == 1 + len(doc_ids) + 2
    # A view with nothing to show writes no file and says so in its notebook.
    for notebook, figure in NOTHING_TO_SHOW.items():
        assert not (figures / f"{figure}.png").exists()
        text = (executed / f"{notebook}.ipynb").read_text(encoding="utf-8")
        assert f"**{figure}**" in text and "no figure is written" in text.replace("未生成图", "no figure is written")
    # English figures hold no Chinese (agency names, which are proper names, excepted).
    from pypdf import PdfReader

    for pdf in sorted(figures.glob("*_en.pdf")):
        if pdf.stem in PROPER_NAME_FIGURES:
            continue
        text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert not CJK.search(text), f"{pdf.name}: {CJK.findall(text)[:10]}"
    # Notebooks committed without outputs.
    for notebook in notebooks:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), notebook.name


def test_committed_notebooks_declare_the_folder_parameters():
    import papermill

    for notebook in numbered_notebooks():
        declared = papermill.inspect_notebook(str(notebook))
        assert {"LANG", "PROCESSED_DIR", "FIGURES_DIR"} <= set(declared), notebook.name
        first = nbformat.read(notebook, as_version=4).cells[0]
        assert first.cell_type == "markdown" and "**Question.**" in first.source, notebook.name


KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def test_a_failing_notebook_is_named_with_its_cell(tmp_path):
    notebook = nbformat.v4.new_notebook(metadata=KERNELSPEC)
    params = nbformat.v4.new_code_cell('LANG = "zh"\nPROCESSED_DIR = None\nFIGURES_DIR = None')
    params.metadata["tags"] = ["parameters"]
    notebook.cells = [params, nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0  # boom")]
    path = tmp_path / "09_broken.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(NotebookError, match=r"09_broken\.ipynb: cell \d+ \('1 / 0  # boom'\).*ZeroDivisionError"):
        execute(path, tmp_path / "out" / path.name, {"LANG": "zh"})


def test_a_notebook_without_the_folder_parameters_is_refused(tmp_path):
    notebook = nbformat.v4.new_notebook(metadata=KERNELSPEC)
    params = nbformat.v4.new_code_cell('LANG = "zh"')
    params.metadata["tags"] = ["parameters"]
    notebook.cells = [params]
    path = tmp_path / "08_incomplete.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(NotebookError, match="08_incomplete.ipynb.*PROCESSED_DIR, FIGURES_DIR"):
        execute(path, tmp_path / "out.ipynb", {})
