"""System tools some tests need (Chromium + chromedriver, XeLaTeX + ctex, LibreOffice).

``make system-deps`` (scripts/install_system_deps.sh) installs them.  Outside CI
a test whose tool is missing is skipped; in CI (``CI=true``) it fails, so a
missing tool can never pass silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_tools(*names: str) -> None:
    """Skip (or, in CI, fail) the calling test unless every executable in ``names`` is on the PATH."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        message = f"system tool(s) {', '.join(missing)} not installed: run `make system-deps`"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


def require_latex_package(name: str) -> None:
    """Skip (or fail in CI) unless ``kpsewhich`` finds the LaTeX package ``name`` (e.g. ``ctex.sty``)."""
    require_tools("kpsewhich")
    found = subprocess.run(["kpsewhich", name], capture_output=True, text=True, check=False).stdout.strip()
    if not found:
        message = f"LaTeX package {name} not installed: run `make system-deps`"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
