"""Test levels, selectable by marker: ``-m unit``, ``-m seeds``, ``-m integration`` (``make test-unit`` …).

A test module's level is set here, in one place, from its file name: the seed
regression tests, the end-to-end tests (build, CLI, notebooks, report,
benchmark smoke), and everything else — unit tests on small texts and frames
written for the test.
"""

from __future__ import annotations

import pytest

SEED_MODULES = frozenset({"test_seeds.py"})
INTEGRATION_MODULES = frozenset(
    {
        "test_build.py",
        "test_notebooks.py",
        "test_unseen_documents.py",
        "test_benchmark_smoke.py",
        "test_engine.py",
        "test_cache.py",
        "test_coding.py",
        "test_report.py",
        "test_robustness.py",
        "test_output_unchanged.py",
    }
)


def level_of(module_name: str) -> str:
    """The level of the tests in a module file."""
    if module_name in SEED_MODULES:
        return "seeds"
    if module_name in INTEGRATION_MODULES:
        return "integration"
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(getattr(pytest.mark, level_of(item.path.name)))
