"""Display labels as data: ``reference/labels.csv`` (kind, key, label_zh, label_en, note).

Every label a table, figure or export shows for a coded value — administrative
levels, heading levels, target types, assignment statuses, evaluation methods
and scores, special keys (``uncoded``, ``not_assigned`` …), document types,
纲要 sections, figure captions — is one row of that file, so adding a target
type or an admin level is a CSV edit.  Column headers are not here: they are
the ``header_zh`` / ``header_en`` columns of the data dictionary
(:func:`column_header`).

The file is validated when it is loaded: known kinds only, no duplicate
(kind, key), no empty label; for kinds whose keys the project defines
elsewhere (target types in :data:`analysis.core.models.TARGET_TYPES`, document
types in ``reference/doc_types.csv``) a missing label raises and a label no
key uses is logged as a warning.  Asking for a key that has no label raises
:class:`UnknownLabelError` naming the kind, the key and the file to edit.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core.errors import AnalysisError, ReferenceDataError
from analysis.core.models import TARGET_TYPES
from analysis.core.reference import TableSchema, read_csv_strict, reference_path

log = logging.getLogger(__name__)

LABELS_FILE = "labels.csv"
DOC_TYPES_FILE = "doc_type_vocabulary.csv"  # the controlled document types
LANGS: tuple[str, ...] = ("zh", "en")

LABEL_KINDS: frozenset[str] = frozenset(
    {
        "admin_level",  # documents.admin_level
        "heading_level",  # sections.level (0 = 第…部分, 1 = 一、 … 5 = ①)
        "target_type",  # targets.type
        "assignment",  # compare.duties.assignment_status
        "special",  # keys the comparisons add: uncoded, not_assigned, generic_only, none, unknown, not_applicable
        "method",  # theme evaluation methods
        "score",  # theme evaluation scores
        "series",  # series in profile figures (this plan, corpus mean …)
        "reform_stage",  # agencies as written / after the 2018 reform
        "doc_type",  # documents.doc_type (controlled vocabulary, reference/doc_types.csv)
        "gangyao_2015",  # sections of the 2015 national Outline
        "gangyao_2021",  # sections of the 2021 national Outline
        "table",  # captions of the exported comparison tables (key = file slug)
        "ui",  # fixed figure text: caption parts, axis and colour-bar titles that are no column
    }
)
"""The kinds of label the file may hold."""

LABELS_SCHEMA = TableSchema(
    required=("kind", "key", "label_zh", "label_en"),
    optional=("note",),
    unique=(("kind", "key"),),
    allowed={"kind": LABEL_KINDS},
)

BilingualLabels = dict[Hashable, dict[str, str]]
"""``{key: {"zh": ..., "en": ...}}``."""


class UnknownLabelError(AnalysisError, KeyError):
    """A key has no label of the kind asked for (names the kind, the key and the file to edit)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is "zh" or "en", else raise."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return lang


def _known_keys(path: Path) -> dict[str, set[str]]:
    """Keys the project defines outside labels.csv, per kind (checked against the labels on load)."""
    known: dict[str, set[str]] = {"target_type": set(TARGET_TYPES)}
    doc_types = path.parent / DOC_TYPES_FILE
    if doc_types.is_file():
        table = pd.read_csv(doc_types, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if "doc_type" in table.columns:
            known["doc_type"] = {v.strip() for v in table["doc_type"] if v.strip()}
    return known


def load_labels(path: str | Path | None = None) -> pd.DataFrame:
    """``labels.csv`` validated (see the module docstring); default: the packaged file."""
    return _load(str(Path(path) if path is not None else reference_path(LABELS_FILE)))


@functools.lru_cache(maxsize=4)
def _load(path_text: str) -> pd.DataFrame:
    path = Path(path_text)
    table = read_csv_strict(path, LABELS_SCHEMA)
    for kind, keys in _known_keys(path).items():
        defined = set(table.loc[table["kind"] == kind, "key"])
        missing = sorted(keys - defined)
        if missing:
            raise ReferenceDataError(path, f"no {kind!r} label for key(s) {missing}: add a row for each")
        unused = sorted(defined - keys)
        if unused:
            log.warning("%s: %s label(s) for key(s) no table uses: %s", path.name, kind, ", ".join(unused))
    return table


def labels(kind: str, *, key_type: type = str, path: str | Path | None = None) -> BilingualLabels:
    """``{key: {"zh": ..., "en": ...}}`` of one kind, in file order (``key_type=int`` for numeric keys)."""
    if kind not in LABEL_KINDS:
        raise ValueError(f"unknown label kind {kind!r}; kinds are {sorted(LABEL_KINDS)}")
    rows = load_labels(path)
    rows = rows[rows["kind"] == kind]
    return {key_type(r.key): {"zh": r.label_zh, "en": r.label_en} for r in rows.itertuples()}


def label_keys(kind: str, *, path: str | Path | None = None) -> list[str]:
    """The keys of one kind, in file order."""
    return [str(key) for key in labels(kind, path=path)]


def label(kind: str, key: Any, lang: str, *, path: str | Path | None = None) -> str:
    """The ``lang`` label of ``key``; a key without a label raises :class:`UnknownLabelError`."""
    check_lang(lang)
    table = labels(kind, key_type=type(key) if isinstance(key, int) else str, path=path)
    lookup = key if isinstance(key, int) else str(key)
    if lookup not in table:
        raise UnknownLabelError(
            f"no {kind!r} label for {key!r}: add a row 'kind={kind},key={key},label_zh=…,label_en=…' "
            f"to reference/{LABELS_FILE}"
        )
    return table[lookup][lang]


def require_labels(kind: str, keys: Iterable[Any], *, path: str | Path | None = None) -> BilingualLabels:
    """The labels of ``kind``, after checking that every key in ``keys`` has one (else raise, naming them all)."""
    table = labels(kind, path=path)
    unknown = sorted({str(k) for k in keys if not pd.isna(k) and str(k) not in table})
    if unknown:
        raise UnknownLabelError(
            f"no {kind!r} label for {unknown}: add a row per key (kind={kind}) to reference/{LABELS_FILE}"
        )
    return table


def ui_text(key: str, lang: str) -> str:
    """A fixed figure text (kind ``ui``), e.g. ``ui_text("source_prefix", "en") -> "Source: "``."""
    return label("ui", key, lang)


def label_map(kind: str, lang: str, *, path: str | Path | None = None) -> Mapping[str, str]:
    """``{key: label}`` of one kind in one language."""
    check_lang(lang)
    return {str(key): names[lang] for key, names in labels(kind, path=path).items()}


COMPARISONS_TABLE = "comparisons"
"""Data-dictionary table that defines the columns of the comparison tables (exports and figures)."""


def column_header(column: str, lang: str, table: str | None = None) -> str:
    """Header of a column from the data dictionary (``header_zh`` / ``header_en``).

    Looked up as (``table``, column) first, then among the comparison columns,
    then in any table that has the column; a column the dictionary does not
    know raises :class:`UnknownLabelError`.
    """
    from analysis.core.schema import data_dictionary

    check_lang(lang)
    dictionary = data_dictionary()
    rows = dictionary[dictionary["column"] == column]
    for candidate in (table, COMPARISONS_TABLE):
        chosen = rows[rows["table"] == candidate]
        if len(chosen):
            return str(chosen.iloc[0][f"header_{lang}"])
    if len(rows):
        return str(rows.iloc[0][f"header_{lang}"])
    raise UnknownLabelError(
        f"column {column!r} has no header: add a row (table {table or COMPARISONS_TABLE}, column {column}, dtype, "
        "description, header_en, header_zh) to reference/data_dictionary.csv"
    )


def column_description(column: str, table: str | None = None) -> str:
    """What a column means (data dictionary ``description``), found like :func:`column_header`."""
    from analysis.core.schema import data_dictionary

    dictionary = data_dictionary()
    rows = dictionary[dictionary["column"] == column]
    for candidate in (table, COMPARISONS_TABLE):
        chosen = rows[rows["table"] == candidate]
        if len(chosen):
            return str(chosen.iloc[0]["description"])
    return str(rows.iloc[0]["description"]) if len(rows) else ""
