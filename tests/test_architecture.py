"""The package's layers: which folder may import which, no cycles, thin notebooks (imports parsed with ast)."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping

import networkx as nx
import pytest

from analysis import config
from analysis.corpus.cache import imported_modules, package_modules

LAYERS = ("core", "parse", "annotate", "corpus", "compare", "publish")
# What each folder may import besides itself and the top-level ``config``.
ALLOWED: Mapping[str, frozenset[str]] = {
    "core": frozenset(),
    "parse": frozenset({"core"}),
    "annotate": frozenset({"core"}),
    "corpus": frozenset({"core", "parse", "annotate"}),
    "compare": frozenset({"core"}),
    "publish": frozenset({"core", "compare"}),
}
# The one stage list runs the annotate stages after the parse stages.
EXCEPTIONS: Mapping[str, frozenset[str]] = {"parse.pipeline": frozenset({"annotate"})}
NOTEBOOK_IMPORTS = ("analysis.compare", "analysis.publish", "analysis.corpus.evaluate")


def folder(module: str) -> str:
    """The layer a module belongs to (``""`` for the top-level modules: cli, config, __main__)."""
    head = module.split(".")[0]
    return head if head in LAYERS else ""


def layer_violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import edge that breaks the layering rules, as readable lines."""
    problems = []
    for module, targets in sorted(graph.items()):
        home = folder(module)
        for target in sorted(targets):
            if target == "cli" and module != "__main__":
                problems.append(f"{module} imports cli (nothing may)")
            if not home or target == "config":
                continue
            there = folder(target)
            if not there:
                problems.append(f"{module} ({home}) imports top-level {target}")
            elif there != home and there not in ALLOWED[home] | EXCEPTIONS.get(module, frozenset()):
                problems.append(f"{module} ({home}) imports {target} ({there})")
            elif home == "annotate" and target == "parse.pipeline":
                problems.append(f"{module} imports the stage list parse.pipeline")
    return problems


def cycles(graph: Mapping[str, set[str]], *, by_folder: bool = False) -> list[list[str]]:
    """Import cycles between modules, or between folders (top-level modules left out)."""
    edges = nx.DiGraph()
    for module, targets in graph.items():
        for target in targets:
            a, b = (folder(module), folder(target)) if by_folder else (module, target)
            if a and b and a != b:
                edges.add_edge(a, b)
    return [sorted(component) for component in nx.strongly_connected_components(edges) if len(component) > 1]


def package_graph() -> dict[str, set[str]]:
    modules = package_modules(config.PACKAGE_DIR)
    return {name: imported_modules(path, name, modules, with_parents=False) - {name} for name, path in modules.items()}


def test_the_package_follows_the_layering_rules() -> None:
    assert layer_violations(package_graph()) == []


def test_no_import_cycle_between_modules_or_folders() -> None:
    graph = package_graph()
    assert cycles(graph) == []
    assert cycles(graph, by_folder=True) == []


def test_the_rules_catch_a_crafted_violation_and_a_cycle() -> None:
    crafted = {
        "core.text": {"parse.read"},  # core reaching up
        "compare.coverage": {"annotate.themes", "core.codebook"},  # analysis reaching into a stage
        "annotate.units": {"parse.pipeline", "core.text"},  # a stage importing the stage list
        "publish.plots": {"cli"},
        "parse.read": {"core.text"},
    }
    assert sorted(layer_violations(crafted)) == [
        "annotate.units (annotate) imports parse.pipeline (parse)",
        "compare.coverage (compare) imports annotate.themes (annotate)",
        "core.text (core) imports parse.read (parse)",
        "publish.plots (publish) imports top-level cli",
        "publish.plots imports cli (nothing may)",
    ]
    assert cycles(crafted) == [["core.text", "parse.read"]]
    assert cycles(crafted, by_folder=True) == [["core", "parse"]]
    allowed = {"parse.pipeline": {"annotate.units"}, "annotate.units": {"core.text"}, "compare.duties": {"core.schema"}}
    assert layer_violations(allowed) == [] and cycles(allowed, by_folder=True) == []


@pytest.mark.parametrize("notebook", sorted(config.NOTEBOOKS_DIR.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_import_only_compare_publish_and_evaluate(notebook) -> None:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    imported = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analysis"):
                imported += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                imported += [alias.name for alias in node.names if alias.name.startswith("analysis")]
    assert imported, f"{notebook.name} imports nothing from the package"
    outside = [name for name in imported if not name.startswith(NOTEBOOK_IMPORTS)]
    assert outside == [], f"{notebook.name} imports {outside}"
