"""A browsable report: one static HTML site under ``reports/`` that opens from disk.

``python -m analysis report`` writes

* ``index.html`` — what the corpus holds and links to everything below;
* ``comparison.html`` — interactive plan × theme, plan × assignment and plan ×
  target-type matrices (Plotly heatmaps); clicking a cell lists the tasks
  behind it with their text, document, path and a link to their source span;
* ``documents/<doc>.html`` — each document's text as captured, every task's
  span an anchor (``#task-<task_id>``) highlighted when linked to (CSS
  ``:target``, no script needed);
* ``notebooks/<name>.html`` — the executed notebooks rendered (nbconvert).

Plotly's JavaScript ships beside the pages (``assets/plotly.min.js``), so the
site needs no network and no server.  The per-cell task lists are computed
here, in Python; the only hand-written script looks a clicked cell up.
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.compare.duties import assignment_status
from analysis.compare.labels import UNCODED, document_labels, select_tasks, theme_labels
from analysis.core.codebook import Codebook
from analysis.core.labels import labels

log = logging.getLogger(__name__)

ASSETS_DIRNAME = "assets"
PLOTLY_FILENAME = "plotly.min.js"
DOCUMENTS_DIRNAME = "documents"
NOTEBOOKS_DIRNAME = "notebooks"

_PAGE_CSS = """
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       margin: 1.5em auto; max-width: 72em; padding: 0 1em; color: #222; line-height: 1.5; }
nav a { margin-right: 1em; }
table.tasks { border-collapse: collapse; width: 100%; margin-top: .5em; }
table.tasks th, table.tasks td { border-bottom: 1px solid #ddd; padding: .3em .5em; text-align: left;
       vertical-align: top; }
table.tasks th { background: #f0f0f0; }
.note { color: #555; font-size: .95em; }
pre.source { white-space: pre-wrap; font-family: inherit; font-size: 1em; }
pre.source .task:target { background: #ffe08a; outline: 2px solid #E69F00; }
"""


@dataclass(frozen=True)
class MatrixView:
    """One clickable matrix: rows = plans, columns = categories, a list of task ids per cell."""

    key: str
    title: str
    note: str
    row_keys: list[str]
    row_labels: list[str]
    column_keys: list[str]
    column_labels: list[str]
    cells: dict[tuple[str, str], list[str]]
    """(row key, column key) -> task ids (a task may repeat for targets: one per target)."""
    counts_what: str = "tasks"


def _page(title: str, body: str, *, depth: int = 0, scripts: Sequence[str] = ()) -> str:
    """A complete HTML page; ``depth`` = folders below the site root (for relative links)."""
    up = "../" * depth
    script_tags = "".join(f'<script src="{up}{html.escape(s)}"></script>\n' for s in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="zh-Hans">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_PAGE_CSS}</style>\n{script_tags}</head>\n<body>\n"
        f'<nav><a href="{up}index.html">Index</a><a href="{up}comparison.html">Comparison</a></nav>\n'
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def doc_page_name(doc_id: str) -> str:
    """File name of a document's page (``doc_id`` made safe for a file name)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(doc_id)) + ".html"


def task_anchor(task_id: str) -> str:
    """Fragment id of a task's span in its document page."""
    return "task-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", str(task_id))


def document_page(doc_id: str, title: str, text: str | None, tasks: pd.DataFrame) -> str:
    """A document's captured text with each task's raw span an anchor (highlighted when targeted)."""
    if text is None:
        body = '<p class="note">The source text of this document was not available when the report was built.</p>'
        return _page(title, body, depth=1)
    spans = sorted(
        (int(r.raw_span_start), int(r.raw_span_end), str(r.task_id))
        for r in tasks.itertuples()
        if pd.notna(r.raw_span_start) and pd.notna(r.raw_span_end)
    )
    parts: list[str] = []
    position = 0
    for start, end, task_id in spans:
        if start < position or end > len(text) or end <= start:  # overlapping or out of range: not anchored
            log.warning("document %s: task %s span %d-%d not anchored", doc_id, task_id, start, end)
            continue
        parts.append(html.escape(text[position:start]))
        parts.append(f'<span class="task" id="{task_anchor(task_id)}">{html.escape(text[start:end])}</span>')
        position = end
    parts.append(html.escape(text[position:]))
    body = f'<p class="note">Document <code>{html.escape(doc_id)}</code>, as captured.</p>\n'
    body += '<pre class="source">' + "".join(parts) + "</pre>"
    return _page(title, body, depth=1)


def _task_records(tasks: pd.DataFrame, doc_labels: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """What the task list shows for each task id (text, document, path, link to its span)."""
    records = {}
    for row in tasks.itertuples():
        doc_id = str(row.doc_id)
        records[str(row.task_id)] = {
            "doc": doc_labels.get(doc_id, doc_id),
            "path": "" if pd.isna(row.path) else str(row.path),
            "text": "" if pd.isna(row.text) else str(row.text),
            "link": f"{DOCUMENTS_DIRNAME}/{doc_page_name(doc_id)}#{task_anchor(str(row.task_id))}",
        }
    return records


def _heatmap_div(view: MatrixView) -> str:
    """A Plotly heatmap of the view's cell counts; each cell carries its key for the click handler."""
    import plotly.graph_objects as go

    z = [[len(view.cells.get((r, c), [])) for c in view.column_keys] for r in view.row_keys]
    keys = [[f"{r}\t{c}" for c in view.column_keys] for r in view.row_keys]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=view.column_labels,
            y=view.row_labels,
            customdata=keys,
            colorscale="Viridis",
            texttemplate="%{z}",
            hovertemplate="%{y}<br>%{x}<br>%{z} " + view.counts_what + "<extra></extra>",
            colorbar={"title": {"text": view.counts_what}},
        )
    )
    figure.update_layout(
        height=max(320, 60 + 34 * len(view.row_keys)),
        margin={"l": 160, "r": 20, "t": 20, "b": 120},
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"type": "category", "tickangle": 0},
    )
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"view-{view.key}")


_CLICK_SCRIPT = """
const CELLS = %(cells)s;
const TASKS = %(tasks)s;
function showCell(view, key, row, column) {
  const ids = (CELLS[view] || {})[key] || [];
  const box = document.getElementById('tasks-' + view);
  box.replaceChildren();
  const caption = document.createElement('p');
  caption.className = 'cell-caption';
  caption.textContent = ids.length + ' item(s): ' + row + ' × ' + column;
  box.appendChild(caption);
  if (!ids.length) return;
  const table = document.createElement('table');
  table.className = 'tasks';
  const head = table.insertRow();
  const withTargets = ids.some((id) => TASKS[id].target !== undefined);
  const names = ['Document', 'Path', 'Task'].concat(withTargets ? ['Target'] : [], ['Source']);
  for (const name of names) {
    const th = document.createElement('th'); th.textContent = name; head.appendChild(th);
  }
  for (const id of ids) {
    const task = TASKS[id];
    const tr = table.insertRow();
    tr.dataset.taskId = id;
    const values = [task.doc, task.path, task.text].concat(withTargets ? [task.target || ''] : []);
    for (const value of values) { tr.insertCell().textContent = value; }
    const link = document.createElement('a');
    link.href = task.link; link.textContent = 'source'; link.className = 'source-link';
    tr.insertCell().appendChild(link);
  }
  box.appendChild(table);
}
for (const view of Object.keys(CELLS)) {
  const plot = document.getElementById('view-' + view);
  plot.on('plotly_click', (event) => {
    const point = event.points[0];
    showCell(view, point.customdata, point.y, point.x);
  });
}
"""


def _view_section(view: MatrixView) -> str:
    return (
        f'<section class="view" id="section-{view.key}">\n<h2>{html.escape(view.title)}</h2>\n'
        f'<p class="note">{html.escape(view.note)} Click a cell to list what it counts.</p>\n'
        f"{_heatmap_div(view)}\n"
        f'<div class="cell-tasks" id="tasks-{view.key}"><p class="note">No cell selected.</p></div>\n</section>\n'
    )


def comparison_page(views: Sequence[MatrixView], records: Mapping[str, Mapping[str, str]], intro: str) -> str:
    """The interactive comparison page (Plotly heatmaps + the cell-to-tasks lists)."""
    cells = {v.key: {f"{r}\t{c}": ids for (r, c), ids in v.cells.items() if ids} for v in views}
    used = {i for v in cells.values() for ids in v.values() for i in ids}
    payload = {
        "cells": json.dumps(cells, ensure_ascii=False),
        "tasks": json.dumps({k: dict(v) for k, v in records.items() if k in used}, ensure_ascii=False),
    }
    # A JSON literal inside <script>: "</" would end the element early.
    script = (_CLICK_SCRIPT % payload).replace("</", "<\\/")
    body = f'<p class="note">{html.escape(intro)}</p>\n' + "".join(_view_section(v) for v in views)
    body += f"<script>{script}</script>"
    return _page("Comparison of plans", body, scripts=[f"{ASSETS_DIRNAME}/{PLOTLY_FILENAME}"])


def write_plotly_js(out_dir: Path) -> Path:
    """Plotly's JavaScript (from the installed Python package) beside the pages."""
    from plotly.offline import get_plotlyjs

    path = out_dir / ASSETS_DIRNAME / PLOTLY_FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(get_plotlyjs(), encoding="utf-8")
    return path


_REMOTE_SCRIPT = re.compile(r"<script[^>]*\ssrc=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.IGNORECASE)
_REMOTE_LINK = re.compile(r"<link[^>]*\shref=\"https?://[^\"]*\"[^>]*>\s*", re.IGNORECASE)


def render_notebook(path: Path) -> str:
    """An executed notebook as one self-contained HTML page (no script or style from the network)."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nbformat.read(str(path), as_version=4))
    # MathJax and require.js come from a CDN: the notebooks use no maths, and the page must open offline.
    body = _REMOTE_SCRIPT.sub("", body)
    return _REMOTE_LINK.sub("", body)


def _cells(frame: pd.DataFrame, row: str, column: str, item: str) -> dict[tuple[str, str], list[str]]:
    """(row value, column value) -> the ``item`` ids of ``frame``'s rows in that cell, in table order."""
    cells: dict[tuple[str, str], list[str]] = {}
    for r, c, i in zip(frame[row].astype(str), frame[column].astype(str), frame[item].astype(str), strict=True):
        cells.setdefault((r, c), []).append(i)
    return cells


def comparison_views(
    tables: Mapping[str, pd.DataFrame], codebook: Codebook, lang: str = "en"
) -> tuple[list[MatrixView], dict[str, dict[str, str]]]:
    """The three clickable matrices (themes, assignment, target types) and the records their cells list."""
    documents, tasks = tables["documents"], select_tasks(tables["tasks"])
    doc_keys = [str(d) for d in documents["doc_id"]]
    doc_labels = document_labels(documents).set_index("doc_id")[f"doc_label_{lang}"].astype(str).to_dict()
    row_labels = [doc_labels[d] for d in doc_keys]
    n_docs = len(doc_keys)
    records = _task_records(tasks, doc_labels)

    themes = theme_labels(codebook, 1)
    theme_of = tasks.assign(theme_key=tasks["theme"].astype("string").fillna("").replace("", UNCODED))
    theme_columns = [c for c in themes if c != UNCODED or (theme_of["theme_key"] == UNCODED).any()]
    views = [
        MatrixView(
            "themes",
            "Plans × level-1 themes" if lang == "en" else "文件 × 一级主题",
            f"Tasks per plan and theme ({n_docs} plans, {len(tasks)} tasks; framing units not counted).",
            doc_keys,
            row_labels,
            [str(c) for c in theme_columns],
            [themes[c][lang] for c in theme_columns],
            _cells(theme_of, "doc_id", "theme_key", "task_id"),
        )
    ]
    status = assignment_status(tables["units"], tables["tasks"])
    assigned = tasks.assign(status=tasks["task_id"].map(status))
    statuses = labels("assignment")
    views.append(
        MatrixView(
            "assignment",
            "Plans × responsible units" if lang == "en" else "文件 × 责任分工",
            f"Tasks per plan by what they say about responsibility ({n_docs} plans).",
            doc_keys,
            row_labels,
            [str(s) for s in statuses],
            [statuses[s][lang] for s in statuses],
            _cells(assigned, "doc_id", "status", "task_id"),
        )
    )
    targets = tables["targets"]
    if "stance" in targets.columns:
        targets = targets[targets["stance"] != "reported"]
    targets = targets.reset_index(drop=True)
    target_ids = [f"{t}#target{i}" for i, t in enumerate(targets["task_id"].astype(str))]
    for target_id, row in zip(target_ids, targets.itertuples(), strict=True):
        base = records.get(str(row.task_id))
        if base is not None:
            records[target_id] = {**base, "target": str(row.text)}
    kinds = labels("target_type")
    views.append(
        MatrixView(
            "targets",
            "Plans × target types" if lang == "en" else "文件 × 量化目标类型",
            f"Quantified targets (commitments) per plan and type ({n_docs} plans, {len(targets)} targets).",
            doc_keys,
            row_labels,
            [str(k) for k in kinds],
            [kinds[k][lang] for k in kinds],
            _cells(targets.assign(item=target_ids), "doc_id", "type", "item"),
            counts_what="targets",
        )
    )
    return views, records


def build_report(
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path | None = None,
    *,
    texts: Mapping[str, str | None] | None = None,
    executed_dir: Path | None = None,
    codebook: Codebook | None = None,
    lang: str = "en",
) -> Path:
    """Write the static report site (see the module docstring) into ``out_dir``; return ``index.html``.

    ``tables``: the processed ``documents``, ``tasks``, ``units`` and
    ``targets``; ``texts``: each document's text as captured (the offsets of
    ``raw_span_*`` index it), keyed by doc_id — missing ones get a page saying
    so; ``executed_dir``: executed notebooks to render (none when missing).
    """
    out = Path(out_dir) if out_dir is not None else config.REPORTS_DIR
    codebook = codebook or Codebook.load()
    texts = texts or {}
    out.mkdir(parents=True, exist_ok=True)
    for stale in (out / DOCUMENTS_DIRNAME, out / NOTEBOOKS_DIRNAME):
        if stale.is_dir():
            shutil.rmtree(stale)
    write_plotly_js(out)

    documents, tasks = tables["documents"], select_tasks(tables["tasks"])
    doc_labels = document_labels(documents).set_index("doc_id")[f"doc_label_{lang}"].astype(str).to_dict()
    views, records = comparison_views(tables, codebook, lang)
    intro = (
        f"{len(documents)} plans, {len(tasks)} tasks. Counts come from the processed tables; each cell lists "
        "the tasks behind it, each task links to its span in the document as captured."
    )
    (out / "comparison.html").write_text(comparison_page(views, records, intro), encoding="utf-8")

    (out / DOCUMENTS_DIRNAME).mkdir()
    doc_links = []
    for doc_id in documents["doc_id"].astype(str):
        page = doc_page_name(doc_id)
        title = doc_labels.get(doc_id, doc_id)
        doc_tasks = tasks[tasks["doc_id"].astype(str) == doc_id]
        (out / DOCUMENTS_DIRNAME / page).write_text(
            document_page(doc_id, title, texts.get(doc_id), doc_tasks), encoding="utf-8"
        )
        doc_links.append(
            f'<li><a href="{DOCUMENTS_DIRNAME}/{page}">{html.escape(title)}</a> ({len(doc_tasks)} tasks)</li>'
        )

    notebook_links = []
    executed = sorted(Path(executed_dir).glob("*.ipynb")) if executed_dir and Path(executed_dir).is_dir() else []
    if executed:
        (out / NOTEBOOKS_DIRNAME).mkdir()
    for notebook in executed:
        target = out / NOTEBOOKS_DIRNAME / f"{notebook.stem}.html"
        target.write_text(render_notebook(notebook), encoding="utf-8")
        notebook_links.append(f'<li><a href="{NOTEBOOKS_DIRNAME}/{target.name}">{html.escape(notebook.stem)}</a></li>')

    body = (
        f'<p class="note">{html.escape(intro)}</p>\n'
        '<h2>Interactive comparison</h2>\n<p><a href="comparison.html">Plans × themes, responsible units and '
        "targets</a>: click a cell to see its tasks.</p>\n"
        "<h2>Notebooks</h2>\n"
        + (
            f"<ul>{''.join(notebook_links)}</ul>"
            if notebook_links
            else '<p class="note">No executed notebooks '
            "were found: run <code>python -m analysis notebooks</code> first.</p>"
        )
        + f"\n<h2>Documents</h2>\n<ul>{''.join(doc_links)}</ul>"
    )
    index = out / "index.html"
    index.write_text(_page("Rule-of-law government plans: report", body), encoding="utf-8")
    log.info("report written to %s", out)
    return index
