"""Errors that name the file and the problem.

A bad document raises :class:`InputError`; the build catches it, records it in
the run report and goes on with the other documents.
"""

from __future__ import annotations

from pathlib import Path


class AnalysisError(Exception):
    """Base class for the project's own errors."""


class InputError(AnalysisError):
    """A document or input file that cannot be processed (names file and problem)."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{problem}")


class ManifestError(InputError):
    """A corpus manifest that is malformed or names files that cannot be used."""


class ReferenceDataError(AnalysisError):
    """A reference table (codebook, aliases, crosswalk, ...) that fails its schema."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
