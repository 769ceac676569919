"""Project set-up checks: dependency lists agree, the raw data is immutable input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        names |= {_name(r) for r in extra}
    return names


def _environment_names() -> set[str]:
    names: set[str] = set()
    for line in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*-\s+([A-Za-z0-9_.\-\[\]]+)", line)
        if match and match.group(1) not in ("pip", "conda-forge"):
            names.add(_name(match.group(1)))
    return names - {"python"}


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    assert _environment_names() == _pyproject_names()


def test_nothing_reads_the_shared_folder():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("src", "notebooks", "tests", "benchmarks", "scripts")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".ipynb", ".sh"}
        and path.name != "test_project.py"
        and "../shared" in path.read_text(encoding="utf-8", errors="ignore")
    ]
    assert offenders == []


def test_manifest_lists_every_raw_document():
    import pandas as pd

    manifest = pd.read_csv(ROOT / "data/raw/manifest.csv", dtype=str, keep_default_na=False)
    files = {p.name for p in (ROOT / "data/raw").iterdir() if p.name != "manifest.csv"}
    assert set(manifest["file"]) == files
    assert manifest["doc_id"].is_unique


@pytest.mark.parametrize("target", ["all", "test", "setup", "build", "notebooks", "exports", "bench", "fonts"])
def test_makefile_documents_its_targets(target):
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^{target}:.*## ", makefile, re.M), f"make {target} lacks a ## description"
