"""Comparisons between plans: pure functions over the processed tables.

Every function takes the processed tables (DataFrames with the columns of
``reference/data_dictionary.csv``) and returns a DataFrame; the notebooks plot
them and :func:`export_comparison_tables` writes them for papers.  Only
``kind == "task"`` rows of ``tasks`` count (framing units are not tasks).

Conventions

* Documents keep the order of the ``documents`` table (manifest order), and
  every document appears in every per-document result, also one with no task,
  unit or target (with zeros, NaN shares, or "not assigned").
* Display labels of a document are ``jurisdiction + issued_year`` in Chinese
  (``doc_label_zh``) and English (``doc_label_en``), made unique with the
  ``doc_id`` when two plans share them (:func:`document_labels`).
* Tasks without a theme code are counted under :data:`UNCODED`, never dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import config
from analysis.core import labels as reference_labels
from analysis.core.codebook import Codebook
from analysis.core.models import KIND_TASK
from analysis.core.schema import TABLE_NAMES
from analysis.core.store import read_table

log = logging.getLogger(__name__)


UNCODED = "uncoded"
"""Theme key for tasks the classifier left without a code."""


NOT_ASSIGNED = "not_assigned"
"""Category key for tasks naming no responsible unit at all."""


GENERIC_ONLY = "generic_only"
"""Category key for tasks naming only generic units (各有关部门 …)."""


NO_COUNTERPART = "none"
"""纲要 section key for codes with no counterpart in that edition."""


GANGYAO_EDITIONS = (2015, 2021)


def special_labels() -> dict[Hashable, dict[str, str]]:
    """Display labels of the special keys above (``reference/labels.csv``, kind ``special``)."""
    return dict(reference_labels.labels("special"))


_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def load_tables(
    processed_dir: Path | str | None = None, names: tuple[str, ...] = TABLE_NAMES
) -> dict[str, pd.DataFrame]:
    """The processed tables (``build`` output) by name, read with :func:`analysis.store.read_table`."""
    folder = Path(processed_dir) if processed_dir is not None else config.PROCESSED_DIR
    return {name: read_table(name, folder) for name in names}


def select_tasks(tasks: pd.DataFrame) -> pd.DataFrame:
    """The tasks proper (``kind == "task"``), framing units left out."""
    return tasks[tasks["kind"] == KIND_TASK]


def doc_slug(doc_id: str) -> str:
    """``doc_id`` as a file-name slug for figure names (``Gansu.MIIT-2017`` -> ``gansu_miit_2017``)."""
    slug = _SLUG_JUNK.sub("_", str(doc_id).lower()).strip("_")
    if not slug:
        raise ValueError(f"doc_id {doc_id!r} has no ASCII letters or digits to name files with")
    return slug


def _year_text(value: Any) -> str:
    return "" if pd.isna(value) else str(int(value))


def document_labels(documents: pd.DataFrame) -> pd.DataFrame:
    """``doc_id, jurisdiction, issued_year, doc_label_zh, doc_label_en`` for every document.

    A label is the jurisdiction and the year (``天门市 2017`` / ``Tianmen 2017``);
    without a jurisdiction the doc_id stands in; labels shared by several
    documents get `` · doc_id`` appended so every row stays distinguishable.
    """
    frame = documents[["doc_id", "jurisdiction", "jurisdiction_en", "issued_year"]].copy()
    labels = pd.DataFrame({"doc_id": frame["doc_id"].astype(str)})
    for lang, column in (("zh", "jurisdiction"), ("en", "jurisdiction_en")):
        names = (
            frame[column]
            .where(frame[column].notna() & (frame[column].astype(str).str.strip() != ""), frame["doc_id"])
            .astype(str)
        )
        years = frame["issued_year"].map(_year_text)
        label = (names + " " + years).str.strip()
        shared = label.duplicated(keep=False)
        labels[f"doc_label_{lang}"] = label.where(~shared, label + " · " + frame["doc_id"].astype(str))
    labels.insert(1, "jurisdiction", frame["jurisdiction"].to_numpy())
    labels.insert(2, "issued_year", frame["issued_year"].to_numpy())
    return labels.reset_index(drop=True)


def doc_label_map(documents: pd.DataFrame) -> dict[Hashable, dict[str, str]]:
    """``{doc_id: {"zh": label, "en": label}}`` for :mod:`analysis.plots` (``row_labels=``)."""
    labels = document_labels(documents)
    return {row.doc_id: {"zh": row.doc_label_zh, "en": row.doc_label_en} for row in labels.itertuples()}


def with_doc_labels(frame: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the document's jurisdiction, year and labels right after ``doc_id``."""
    labels = document_labels(documents)
    base = frame.drop(columns=[c for c in labels.columns if c != "doc_id" and c in frame.columns])
    merged = base.merge(labels, on="doc_id", how="left", validate="many_to_one")
    first = ["doc_id", "jurisdiction", "issued_year", "doc_label_zh", "doc_label_en"]
    return merged[first + [c for c in merged.columns if c not in first]]


def add_labels(
    frame: pd.DataFrame, key: str, labels: str | Mapping[Hashable, Mapping[str, str]], base: str | None = None
) -> pd.DataFrame:
    """``frame`` with ``{base}_zh`` / ``{base}_en`` display columns for ``frame[key]``.

    ``labels`` is a kind of ``reference/labels.csv`` (e.g. ``"target_type"``:
    a value without a label raises, naming it) or a ready mapping (a key
    without a label is then shown as written, and logged).  ``base`` defaults
    to ``{key}_label``.
    """
    base = base or f"{key}_label"
    if isinstance(labels, str):
        labels = reference_labels.require_labels(labels, frame[key])
    missing = sorted({str(v) for v in frame[key] if v not in labels})
    if missing:
        log.warning("no display label for %s value(s) %s; shown as written", key, missing)
    frame = frame.copy()
    for lang in ("zh", "en"):
        frame[f"{base}_{lang}"] = [labels[v][lang] if v in labels else str(v) for v in frame[key]]
    return frame


def describe_extreme(
    frame: pd.DataFrame, column: str, label: str = "doc_label_zh", *, largest: bool = True, value_format: str = "{:g}"
) -> str:
    """``"天门市 2017 (36)"``: the row(s) with the largest (or smallest) ``column``, ties all named.

    Rows with a missing value are ignored; ``"none"`` when no row has one.
    Used by the notebooks' written readings so that statements follow the data.
    """
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.notna().sum() == 0:
        return "none"
    best = values.max() if largest else values.min()
    names = frame.loc[values == best, label].astype(str).tolist()
    return f"{', '.join(names)} ({value_format.format(best)})"


def admin_level_label(level: Any, lang: str) -> str:
    """Display name of an ``admin_level`` value ("Unknown" when missing; an unlabelled value raises)."""
    if pd.isna(level) or str(level) == "":
        return reference_labels.label("special", "unknown", lang)
    return reference_labels.label("admin_level", str(level), lang)


def theme_labels(codebook: Codebook, level: int = 1) -> dict[Hashable, dict[str, str]]:
    """``{code: {"zh": ..., "en": ...}}`` for the codes of ``level`` plus :data:`UNCODED`."""
    rows = codebook.level1 if level == 1 else codebook.level2
    labels: dict[Hashable, dict[str, str]] = {
        row.code: {"zh": row.label_zh, "en": row.label_en} for row in rows.itertuples()
    }
    labels[UNCODED] = special_labels()[UNCODED]
    return labels


def _theme_keys(tasks: pd.DataFrame, column: str, codes: list[str]) -> pd.Series:
    """Theme (or subtheme) of each task, :data:`UNCODED` when empty; unknown codes raise."""
    values = tasks[column].astype("string").fillna("").str.strip()
    unknown = sorted(set(values) - set(codes) - {""})
    if unknown:
        raise ValueError(f"tasks.{column} holds code(s) not in the codebook: {unknown}")
    n_uncoded = int((values == "").sum())
    if n_uncoded:
        log.info("%d task(s) without a %s code counted as %r", n_uncoded, column, UNCODED)
    return values.mask(values == "", UNCODED)


_PATH_NUMERAL = re.compile(r"[一二三四五六七八九十百零〇两]+")
_CIRCLED = {chr(0x2460 + i): f"({i + 1})" for i in range(20)}


def path_label_en(path: Any) -> str:
    """A task path with Chinese numerals written as digits, for English figures.

    ``二/(三)/1`` -> ``2/(3)/1``; ``第一部分/①`` -> ``Part 1/(1)``.  The path
    structure (levels joined by ``/``) is kept, so the label still locates the
    task; an empty path stays empty.
    """
    from analysis.core.numerals import chinese_number

    if pd.isna(path):
        return ""
    text = str(path).replace("第", "Part ").replace("部分", "").replace("条", "")
    text = "".join(_CIRCLED.get(ch, ch) for ch in text)
    return _PATH_NUMERAL.sub(lambda m: str(int(chinese_number(m.group(0)))), text)
