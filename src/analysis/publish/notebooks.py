"""Run the numbered notebooks headless (``python -m analysis notebooks``).

Every ``NN_name.ipynb`` in the notebooks folder is executed with papermill in
order; a notebook whose parameters cell defines ``doc_id`` (the jurisdiction
profile) runs once per document of the processed ``documents`` table.  The
executed copies go to a build folder (default ``notebooks/executed/``), so the
committed notebooks stay free of outputs.

Parameters passed to every notebook (each notebook's tagged ``parameters``
cell declares the ones it uses, defaulting to ``None`` = the
:mod:`analysis.config` location):

* ``PROCESSED_DIR`` — processed tables to read;
* ``FIGURES_DIR`` — where :func:`analysis.plots.save_figure` writes;
* ``ANNOTATIONS_DIR`` — gold annotations (classifier evaluation);
* ``LANG`` — language of the main figures ("zh"; an English variant is
  saved beside each, suffix ``_en``).

A failing notebook raises :class:`NotebookError` naming the notebook, the
cell and the error; :func:`main` turns that into a non-zero exit status.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis import config
from analysis.core.errors import AnalysisError

if TYPE_CHECKING:  # annotations only: pandas is not imported when the CLI starts
    import pandas as pd

log = logging.getLogger(__name__)

NOTEBOOK_PATTERN = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.ipynb$")
PER_DOCUMENT_PARAMETER = "doc_id"
REQUIRED_PARAMETERS = ("LANG", "PROCESSED_DIR", "FIGURES_DIR")
"""Every numbered notebook must declare these (else it could read or write the wrong folders)."""
EXECUTED_DIRNAME = "executed"
LANGS = ("zh", "en")


class NotebookError(AnalysisError):
    """A notebook failed while running (names the notebook, the cell and the error)."""


def numbered_notebooks(notebooks_dir: Path | None = None) -> list[Path]:
    """The ``NN_name.ipynb`` notebooks of ``notebooks_dir``, in number order."""
    folder = Path(notebooks_dir) if notebooks_dir is not None else config.NOTEBOOKS_DIR
    if not folder.is_dir():
        raise NotebookError(f"{folder}: notebooks folder not found")
    found = sorted(p for p in folder.iterdir() if p.is_file() and NOTEBOOK_PATTERN.match(p.name))
    if not found:
        raise NotebookError(f"{folder}: no numbered notebooks (NN_name.ipynb)")
    return found


def notebook_parameters(path: Path) -> set[str]:
    """Names declared in the notebook's ``parameters`` cell."""
    import papermill

    try:
        return set(papermill.inspect_notebook(str(path)))
    except (ValueError, OSError) as error:  # e.g. no kernelspec in the metadata, unreadable JSON
        raise NotebookError(f"{path.name}: cannot read its parameters: {error}") from error


def document_ids(processed_dir: Path | None = None) -> list[str]:
    """doc_ids of the processed ``documents`` table, in table order."""
    from analysis.core.store import read_table

    folder = Path(processed_dir) if processed_dir is not None else config.PROCESSED_DIR
    return [str(d) for d in read_table("documents", folder)["doc_id"]]


def _describe_failure(notebook: Path, error: Any) -> str:
    """``notebook: cell N (first line of its source): ErrorName: message``."""
    source = (getattr(error, "source", "") or "").strip().splitlines()
    first = source[0] if source else ""
    cell = getattr(error, "cell_index", None)
    where = f"cell {cell}" if cell is not None else "a cell"
    return (
        f"{notebook.name}: {where} ({first[:80]!r}) failed: {getattr(error, 'ename', type(error).__name__)}: "
        f"{getattr(error, 'evalue', error)}"
    )


def execute(notebook: Path, output: Path, parameters: dict[str, Any], kernel: str = "python3") -> Path:
    """Execute one notebook with papermill; raise :class:`NotebookError` if a cell fails."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    declared = notebook_parameters(notebook)
    undeclared = [name for name in REQUIRED_PARAMETERS if name not in declared]
    if undeclared:
        raise NotebookError(
            f"{notebook.name}: the cell tagged 'parameters' does not declare {', '.join(undeclared)} "
            "(one `NAME = value  # comment` per line)"
        )
    passed = {k: v for k, v in parameters.items() if k in declared}
    log.info("running %s -> %s %s", notebook.name, output, passed)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=passed,
            kernel_name=kernel,
            cwd=str(notebook.parent),
            progress_bar=False,
            log_output=False,
        )
    except PapermillExecutionError as error:
        raise NotebookError(_describe_failure(notebook, error) + f" (executed copy: {output})") from error
    return output


def run_all(
    notebooks_dir: Path | None = None,
    out_dir: Path | None = None,
    kernel: str = "python3",
    *,
    processed_dir: Path | None = None,
    figures_dir: Path | None = None,
    annotations_dir: Path | None = None,
    lang: str = "zh",
    only: Sequence[str] = (),
    extra_parameters: dict[str, Any] | None = None,
    jobs: int = 1,
) -> list[Path]:
    """Execute every numbered notebook in order; per-document notebooks once per document.

    ``only``: run just the notebooks whose name starts with one of these
    prefixes (e.g. ``["02", "07"]``).  ``extra_parameters`` are passed to the
    notebooks that declare them.  ``jobs`` > 1 runs that many notebooks at
    once (each in its own kernel; notebooks do not depend on each other).
    Returns the executed copies, in run order.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    from analysis.compare.labels import doc_slug

    notebooks = numbered_notebooks(notebooks_dir)
    if only:
        notebooks = [n for n in notebooks if n.name.startswith(tuple(only))]
        if not notebooks:
            raise NotebookError(f"no notebook matches {list(only)}")
    out = Path(out_dir) if out_dir is not None else notebooks[0].parent / EXECUTED_DIRNAME
    parameters: dict[str, Any] = {
        "PROCESSED_DIR": str(processed_dir) if processed_dir is not None else None,
        "FIGURES_DIR": str(figures_dir) if figures_dir is not None else None,
        "ANNOTATIONS_DIR": str(annotations_dir) if annotations_dir is not None else None,
        "LANG": lang,
    }
    parameters = {k: v for k, v in parameters.items() if v is not None}
    parameters.update(extra_parameters or {})
    runs: list[tuple[Path, Path, dict[str, Any]]] = []
    for notebook in notebooks:
        if PER_DOCUMENT_PARAMETER in notebook_parameters(notebook):
            for doc_id in document_ids(processed_dir):
                target = out / f"{notebook.stem}__{doc_slug(doc_id)}.ipynb"
                runs.append((notebook, target, {**parameters, PER_DOCUMENT_PARAMETER: doc_id}))
        else:
            runs.append((notebook, out / notebook.name, parameters))
    if jobs <= 1:
        return [execute(notebook, target, params, kernel) for notebook, target, params in runs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(execute, notebook, target, params, kernel) for notebook, target, params in runs]
        return [future.result() for future in futures]  # the first failure (in run order) raises


# ---------------------------------------------------------------------------
# Helpers the notebooks call


def figure_variants(lang: str, english_too: bool = True) -> list[tuple[str, str]]:
    """``(lang, name suffix)`` of each figure version: the main language unsuffixed,
    and (``english_too``) English beside Chinese as ``_en``."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return [(lang, "")] + ([("en", "_en")] if lang == "zh" and english_too else [])


def save_variants(
    draw: Callable[[str], tuple[Any, pd.DataFrame]],
    name: str,
    lang: str = "zh",
    figures_dir: Path | str | None = None,
    *,
    english_too: bool = True,
    **save_kwargs: Any,
) -> dict[str, dict[str, Path]]:
    """Draw a figure in each language of :func:`figure_variants` and save it.

    ``draw(lang)`` returns ``(fig, data)`` (an :mod:`analysis.plots` function
    call).  The main-language figure stays open so the notebook shows it; the
    other versions are closed after saving.  Returns ``{name: paths}``; a view
    with nothing to show writes no file and says so in the notebook
    (:func:`say_nothing_to_show`), returning ``{}``.
    """
    import matplotlib.pyplot as plt

    from analysis.publish.plots import NothingToShowError, save_figure

    saved = {}
    for variant, suffix in figure_variants(lang, english_too):
        fig, data = draw(variant)
        try:
            saved[name + suffix] = save_figure(
                fig,
                data,
                name + suffix,
                out_dir=Path(figures_dir) if figures_dir is not None else None,
                lang=variant,
                **save_kwargs,
            )
        except NothingToShowError:
            plt.close(fig)
            say_nothing_to_show(name, lang)
            return {}
        if suffix:
            plt.close(fig)
    return saved


def say_nothing_to_show(name: str, lang: str = "zh", reason: str | None = None) -> str:
    """Tell the notebook reader (Markdown output) that a view has nothing to show; return the text said."""
    from analysis.core.labels import label

    text = f"**{name}**: {reason or label('ui', 'nothing_to_show_note', 'en')}; no figure is written."
    if lang == "zh":
        text = f"**{name}**:{reason or label('ui', 'nothing_to_show_note', 'zh')};未生成图。"
    log.info(text)
    try:
        from IPython.display import Markdown, display

        display(Markdown(text))
    except ImportError:  # outside Jupyter the log line says it
        pass
    return text


def with_legend_title(drawn: tuple[Any, pd.DataFrame], lang: str, zh: str, en: str) -> tuple[Any, pd.DataFrame]:
    """``drawn`` (a plot function's ``(fig, data)``) with its legend titled ``zh``/``en`` in ``lang``.

    For legends whose column has no title in ``reference/labels.csv`` (kind ``ui``).
    """
    fig, data = drawn
    legend = fig.axes[0].get_legend() if fig.axes else None
    if legend is not None:
        legend.set_title(zh if lang == "zh" else en, prop=legend.get_title().get_fontproperties())
    return fig, data


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m analysis notebooks``: run every notebook; exit 1 naming the one that failed."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis notebooks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``notebooks`` command's options (for the CLI's sub-parser)."""
    parser.add_argument("--notebooks-dir", help=f"folder of the numbered notebooks (default {config.NOTEBOOKS_DIR})")
    parser.add_argument("--out", help="folder for the executed copies (default notebooks/executed)")
    parser.add_argument("--processed", help=f"processed tables (default {config.PROCESSED_DIR})")
    parser.add_argument("--figures", help=f"figure folder (default {config.FIGURES_DIR})")
    parser.add_argument("--annotations", help=f"gold annotations folder (default {config.ANNOTATIONS_DIR})")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3)")
    parser.add_argument("--lang", default="zh", choices=LANGS, help="language of the main figures")
    parser.add_argument("--only", nargs="*", default=[], metavar="NN", help="run only notebooks starting with these")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once (default 1)")


def run_from_args(args: argparse.Namespace) -> int:
    """Run with parsed :func:`add_arguments` options; print each executed copy."""

    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    try:
        written = run_all(
            path(args.notebooks_dir),
            path(args.out),
            args.kernel,
            processed_dir=path(args.processed),
            figures_dir=path(args.figures),
            annotations_dir=path(args.annotations),
            lang=args.lang,
            only=args.only,
            jobs=args.jobs,
        )
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for notebook in written:
        print(notebook)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
