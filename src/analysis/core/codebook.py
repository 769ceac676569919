"""The theme codebook and the hand-coded gold: validated reference objects shared by every layer.

:class:`Codebook` holds the two-level taxonomy (level 1 follows the national
纲要); :func:`load_gold` reads the hand codes.  Both are validated on load.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from analysis import config
from analysis.core.errors import InputError, ReferenceDataError
from analysis.core.models import KIND_TASK, THEME_COLUMNS
from analysis.core.reference import TableSchema, read_csv_strict, read_rows_strict, reference_path
from analysis.core.segment import normalise

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


CODEBOOK_PATH = reference_path("codebook.csv")


# The ten level-1 themes (the 法治政府建设实施纲要's chapters, 2015 and 2021
# editions merged), in display order.  Fixed: the codebook must define exactly these.
LEVEL1_CODES: tuple[str, ...] = (
    "functions",
    "rulemaking",
    "decisions",
    "enforcement",
    "emergency",
    "disputes",
    "oversight",
    "digital",
    "capacity",
    "organisation",
)


CODEBOOK_COLUMNS: tuple[str, ...] = (
    "level",
    "code",
    "parent",
    "label_zh",
    "label_en",
    "scope_zh",
    "scope_en",
    "keywords",
    "gangyao_2015",
    "gangyao_2021",
)


GOLD_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "path",
    "number",
    "title",
    "theme",
    "subtheme",
    "secondary_theme",
    "secondary_subtheme",
    "hard",
    "note",
    "coder",
)


TASK_COLUMNS: tuple[str, ...] = ("doc_id", "task_id", "kind", "path", "headings", "title", "text")
OPTIONAL_TASK_COLUMNS: tuple[str, ...] = ("doc_title",)
"""Classifier input used when present (the document's title: evidence of its genre), else empty."""


PREDICTION_COLUMNS: tuple[str, ...] = ("task_id", *THEME_COLUMNS)


OVERRIDE_COLUMNS: tuple[str, ...] = ("task_id", "theme", "subtheme", "note", "coder", "coded_at")


HIERARCHIES: tuple[str, ...] = ("restrict", "combine", "derive")  # preference order on ties


_CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


_KEYWORD_SEPARATORS = re.compile(r"[;；]")


_TRUE_VALUES = frozenset({"1", "true", "yes", "y", "x", "是", "√"})


class CodebookCodeError(ValueError):
    """A theme/subtheme pair that the codebook does not allow."""


def split_keywords(value: str) -> tuple[str, ...]:
    """``"行政复议;复议；应诉"`` -> ``("行政复议", "复议", "应诉")`` (order kept, no repeats)."""
    seen: dict[str, None] = {}
    for keyword in _KEYWORD_SEPARATORS.split(value or ""):
        keyword = normalise(keyword.strip())
        if keyword:
            seen.setdefault(keyword, None)
    return tuple(seen)


class _CodebookRow(NamedTuple):
    """One row of the codebook (:data:`CODEBOOK_COLUMNS`)."""

    level: str
    code: str
    parent: str
    label_zh: str
    label_en: str
    scope_zh: str
    scope_en: str
    keywords: str
    gangyao_2015: str
    gangyao_2021: str


def _check_codebook_row(row: Mapping[str, str]) -> str | None:
    code, level, parent = row["code"].strip(), row["level"].strip(), row.get("parent", "").strip()
    if code and not _CODE_PATTERN.match(code):
        return f"code {code!r} must be letters, digits, '_', '.' or '-'"
    if level == "2" and not parent:
        return f"level-2 code {code!r} has no parent"
    if level == "1" and parent:
        return f"level-1 code {code!r} must not have a parent (got {parent!r})"
    return None


CODEBOOK_SCHEMA = TableSchema(
    required=("level", "code", "label_zh", "label_en"),
    optional=tuple(c for c in CODEBOOK_COLUMNS if c not in ("level", "code", "label_zh", "label_en")),
    unique=(("code",),),
    allowed={"level": frozenset({"1", "2"})},
    checks=(_check_codebook_row,),
)


class Codebook:
    """The validated two-level theme codebook.

    ``version`` identifies the exact file content (``sha256:`` + 12 hex digits):
    results computed with different codebooks can be told apart, and the
    version is stored with predictions and evaluation reports.
    """

    def __init__(self, rows: Sequence[Mapping[str, str]], path: str | Path, sha256: str) -> None:
        """``rows``: the codebook's rows, file order, as mappings with every :data:`CODEBOOK_COLUMNS` column."""
        self.path = Path(path)
        self.sha256 = sha256
        self._rows = tuple(_CodebookRow(**{c: row[c] for c in CODEBOOK_COLUMNS}) for row in rows)
        self._by_code = {row.code: row for row in self._rows}
        self._children: dict[str, list[str]] = {code: [] for code in LEVEL1_CODES}
        for row in self._rows:
            if row.level == "2":
                self._children[row.parent].append(row.code)
        self._keywords = {row.code: split_keywords(row.keywords) for row in self._rows}

    def __reduce__(self) -> tuple:
        """Pickle as (rows as plain dicts, path, sha256): the indexes are rebuilt on load, and loading needs no pandas."""
        return (Codebook, ([row._asdict() for row in self._rows], self.path, self.sha256))

    @classmethod
    def load(cls, path: str | Path | None = None) -> Codebook:
        """Read and validate ``codebook.csv`` (raises :class:`ReferenceDataError`)."""
        path = Path(path) if path is not None else CODEBOOK_PATH
        table = read_rows_strict(path, CODEBOOK_SCHEMA)
        missing = [c for c in CODEBOOK_COLUMNS if table and c not in table[0]]
        if missing:
            raise ReferenceDataError(path, f"missing column(s): {', '.join(missing)}")
        level1 = [row["code"] for row in table if row["level"] == "1"]
        absent = [c for c in LEVEL1_CODES if c not in level1]
        extra = [c for c in level1 if c not in LEVEL1_CODES]
        if absent or extra:
            raise ReferenceDataError(
                path,
                "level-1 codes must be exactly "
                + ", ".join(LEVEL1_CODES)
                + (f"; missing: {', '.join(absent)}" if absent else "")
                + (f"; not allowed: {', '.join(extra)}" if extra else ""),
            )
        problems = [
            f"row {i + 2}: parent {row['parent']!r} of {row['code']!r} is not a level-1 code"
            for i, row in enumerate(table)
            if row["level"] == "2" and row["parent"] not in LEVEL1_CODES
        ]
        if problems:
            raise ReferenceDataError(path, "; ".join(problems))
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        codebook = cls(table, path, sha256)
        codebook._warn_shared_keywords()
        return codebook

    def _warn_shared_keywords(self) -> None:
        owners: dict[str, list[str]] = {}
        for code in self.level2_codes:
            for keyword in self._keywords[code]:
                owners.setdefault(keyword, []).append(code)
        shared = {k: v for k, v in owners.items() if len(v) > 1}
        if shared:
            sample = "; ".join(f"{k}: {'/'.join(v)}" for k, v in list(shared.items())[:10])
            log.warning("%s: %d keyword(s) listed under several subthemes (%s)", self.path, len(shared), sample)

    @property
    def version(self) -> str:
        return f"sha256:{self.sha256[:12]}"

    @property
    def level1(self) -> pd.DataFrame:
        """Level-1 rows in the fixed :data:`LEVEL1_CODES` order."""
        return self._frame(LEVEL1_CODES)

    @property
    def level2(self) -> pd.DataFrame:
        """Level-2 rows grouped by parent (level-1 order), file order within a parent."""
        return self._frame(self.level2_codes)

    def _frame(self, codes: Sequence[str]) -> pd.DataFrame:
        """The rows of ``codes``, in that order, as a table (the codebook's columns, text)."""
        import pandas as pd  # tables for the comparisons; coding tasks needs none (start-up time)

        rows = [self._by_code[code] for code in codes]
        return pd.DataFrame({c: [getattr(row, c) for row in rows] for c in CODEBOOK_COLUMNS}, dtype=str)

    @property
    def level2_codes(self) -> list[str]:
        return [child for code in LEVEL1_CODES for child in self._children[code]]

    @property
    def codes(self) -> list[str]:
        return list(LEVEL1_CODES) + self.level2_codes

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def _row(self, code: str) -> Any:
        try:
            return self._by_code[code]
        except KeyError:
            raise CodebookCodeError(f"unknown code {code!r} (codebook {self.path.name})") from None

    def level(self, code: str) -> int:
        return int(self._row(code).level)

    def label(self, code: str, lang: str = "zh") -> str:
        """Label of ``code`` in ``lang`` ("zh" or "en")."""
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
        return getattr(self._row(code), f"label_{lang}")

    def scope(self, code: str, lang: str = "zh") -> str:
        return getattr(self._row(code), f"scope_{lang}")

    def parent(self, code: str) -> str | None:
        """Parent level-1 code of a subtheme; None for a level-1 code."""
        return self._row(code).parent or None

    def children(self, code: str) -> list[str]:
        """Subthemes of a level-1 code (empty for a level-2 code)."""
        self._row(code)
        return list(self._children.get(code, []))

    def keywords(self, code: str) -> tuple[str, ...]:
        """The code's own keywords (normalised, file order)."""
        self._row(code)
        return self._keywords[code]

    def validate_codes(self, theme: str, subtheme: str = "") -> None:
        """Raise :class:`CodebookCodeError` unless ``theme``/``subtheme`` is a valid pair.

        ``theme`` must be a level-1 code; ``subtheme`` (may be empty) a level-2
        code whose parent is ``theme``.
        """
        if theme not in LEVEL1_CODES:
            raise CodebookCodeError(
                f"unknown theme {theme!r}" if theme not in self else f"theme {theme!r} is a level-2 code"
            )
        if not subtheme:
            return
        if subtheme not in self:
            raise CodebookCodeError(f"unknown subtheme {subtheme!r}")
        if self.level(subtheme) != 2:
            raise CodebookCodeError(f"subtheme {subtheme!r} is a level-1 code")
        if self.parent(subtheme) != theme:
            raise CodebookCodeError(
                f"subtheme {subtheme!r} belongs to {self.parent(subtheme)!r}, not to theme {theme!r}"
            )

    def to_table(self) -> pd.DataFrame:
        """The codebook for figures and papers: one row per code, level 1 then its subthemes."""
        import pandas as pd  # a table for figures and papers (start-up time)

        rows = []
        for theme in LEVEL1_CODES:
            for code in [theme] + self._children[theme]:
                row = self._by_code[code]
                rows.append(
                    {
                        "level": int(row.level),
                        "theme": theme,
                        "code": code,
                        "label_zh": row.label_zh,
                        "label_en": row.label_en,
                        "scope_zh": row.scope_zh,
                        "scope_en": row.scope_en,
                        "keywords": "；".join(self._keywords[code]),
                        "n_keywords": len(self._keywords[code]),
                        "gangyao_2015": row.gangyao_2015,
                        "gangyao_2021": row.gangyao_2021,
                    }
                )
        table = pd.DataFrame(rows)
        table.attrs["codebook_version"] = self.version
        return table


def _truthy(value: str) -> bool:
    return str(value).strip().lower() in _TRUE_VALUES


def load_gold(path: str | Path | None = None, codebook: Codebook | None = None) -> pd.DataFrame:
    """Read the gold annotations and check every code against the codebook.

    Raises :class:`ReferenceDataError` naming the file and the row of a
    missing column, a repeated ``doc_id + path`` or an invalid code.
    """
    path = Path(path) if path is not None else config.THEMES_GOLD_PATH
    codebook = codebook or Codebook.load()
    schema = TableSchema(
        required=("doc_id", "path", "theme"),
        optional=tuple(c for c in GOLD_COLUMNS if c not in ("doc_id", "path", "theme")),
        unique=(("doc_id", "path"),),
    )
    gold = check_gold_frame(read_csv_strict(path, schema), codebook, path)
    gold.attrs["path"] = str(path)
    return gold


def check_gold_frame(gold: pd.DataFrame, codebook: Codebook, path: str | Path = "gold DataFrame") -> pd.DataFrame:
    """Gold rows with every :data:`GOLD_COLUMNS` column; raises on an invalid code (row named)."""
    gold = _with_gold_columns(gold)
    hard = gold["hard"]
    # Object first: filling a float column (all empty cells) with "" is deprecated in pandas.
    gold = gold.astype(object).fillna("").astype(str).apply(lambda col: col.str.strip())
    gold["hard"] = hard.map(lambda v: v if isinstance(v, (bool, np.bool_)) else _truthy(v if v == v else ""))
    problems = []
    for i, row in zip(gold.index, gold.to_dict("records"), strict=True):
        for theme_column, sub_column in (("theme", "subtheme"), ("secondary_theme", "secondary_subtheme")):
            if theme_column == "secondary_theme" and not row[theme_column] and not row[sub_column]:
                continue
            try:
                codebook.validate_codes(row[theme_column], row[sub_column])
            except CodebookCodeError as error:
                problems.append(f"row {i + 2} ({row['doc_id']} {row['path']}): {error}")
    if problems:
        raise ReferenceDataError(
            path, "; ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
        )
    return gold


def _with_gold_columns(gold: pd.DataFrame) -> pd.DataFrame:
    """A copy with every :data:`GOLD_COLUMNS` column (absent optional ones empty)."""
    gold = gold.copy()
    for column in GOLD_COLUMNS:
        if column not in gold.columns:
            gold[column] = ""
    return gold[list(GOLD_COLUMNS)].reset_index(drop=True)


def check_tasks_frame(tasks: pd.DataFrame, what: str = "tasks DataFrame") -> pd.DataFrame:
    """The task rows (kind == "task") with the columns the classifier needs (:data:`TASK_COLUMNS` + optional ones)."""
    missing = [c for c in TASK_COLUMNS if c not in tasks.columns]
    if missing:
        raise InputError(what, f"missing column(s): {', '.join(missing)}")
    optional = [c for c in OPTIONAL_TASK_COLUMNS if c in tasks.columns]
    frame = tasks.loc[tasks["kind"] == KIND_TASK, [*TASK_COLUMNS, *optional]].copy()
    for column in OPTIONAL_TASK_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame["headings"] = frame["headings"].map(as_heading_list)
    for column in ("doc_id", "task_id", "path", "title", "text", *OPTIONAL_TASK_COLUMNS):
        frame[column] = frame[column].fillna("").astype(str)
    duplicated = frame["task_id"].duplicated()
    if duplicated.any():
        raise InputError(what, f"duplicate task_id(s): {', '.join(frame.loc[duplicated, 'task_id'][:5])}")
    return frame.reset_index(drop=True)


class TaskColumns:
    """Classifier input as plain lists, one per column, without pandas (the per-document path of ``extract``).

    Holds what :func:`check_tasks_frame` gives, column by column; ``len`` is the number of rows.
    """

    def __init__(self, columns: dict[str, list[Any]]) -> None:
        self.columns = columns

    def __getitem__(self, name: str) -> list[Any]:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns["task_id"])


def check_task_rows(tasks: Sequence[Mapping[str, Any]], what: str = "tasks") -> TaskColumns:
    """:func:`check_tasks_frame` for rows as mappings: the task rows' classifier columns, same values, no pandas."""
    rows = [row for row in tasks if row["kind"] == KIND_TASK]
    missing = [c for c in TASK_COLUMNS if rows and c not in rows[0]]
    if missing:
        raise InputError(what, f"missing column(s): {', '.join(missing)}")
    columns: dict[str, list[Any]] = {"kind": [row["kind"] for row in rows]}
    columns["headings"] = [as_heading_list(row["headings"]) for row in rows]
    for column in ("doc_id", "task_id", "path", "title", "text", *OPTIONAL_TASK_COLUMNS):
        columns[column] = ["" if _is_missing(v) else str(v) for v in (row.get(column) for row in rows)]
    return checked_task_columns(columns, what)


def checked_task_columns(columns: dict[str, list[Any]], what: str = "tasks") -> TaskColumns:
    """The classifier's columns as :class:`TaskColumns`, once no ``task_id`` is seen twice (else InputError)."""
    seen: set[str] = set()
    duplicated = [t for t in columns["task_id"] if t in seen or seen.add(t)]  # type: ignore[func-returns-value]
    if duplicated:
        raise InputError(what, f"duplicate task_id(s): {', '.join(duplicated[:5])}")
    return TaskColumns(columns)


def _is_missing(value: Any) -> bool:
    """None or NaN (what ``fillna`` fills)."""
    return value is None or (isinstance(value, float) and value != value)


def as_heading_list(value: Any) -> list[str]:
    """Headings as a list; accepts the tables' ``" > "``-joined string too."""
    if isinstance(value, str):
        return [h.strip() for h in value.split(" > ") if h.strip()]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [str(h) for h in value]


def join_gold(tasks: pd.DataFrame, gold: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gold codes attached to tasks on ``(doc_id, path)``.

    Returns ``(labelled, unmatched)``: labelled task rows (sorted by doc_id,
    path) with ``gold_theme, gold_subtheme, gold_secondary_theme, hard``; and
    the gold rows that match no task (document missing, path changed, or a
    framing unit), which are logged, never dropped silently.
    """
    task_rows = check_tasks_frame(tasks)
    gold = _with_gold_columns(gold)
    for column in ("theme", "subtheme", "secondary_theme", "title"):
        gold[column] = gold[column].fillna("").astype(str)
    keep = gold[["doc_id", "path", "theme", "subtheme", "secondary_theme", "title"]].rename(
        columns={
            "theme": "gold_theme",
            "subtheme": "gold_subtheme",
            "secondary_theme": "gold_secondary_theme",
            "title": "gold_title",
        }
    )
    keep["hard"] = gold["hard"]
    merged = task_rows.merge(keep, on=["doc_id", "path"], how="inner", validate="one_to_one")
    matched_keys = set(zip(merged["doc_id"], merged["path"], strict=False))
    unmatched = gold[[key not in matched_keys for key in zip(gold["doc_id"], gold["path"], strict=False)]]
    if len(unmatched):
        log.warning(
            "%d gold row(s) match no task: %s",
            len(unmatched),
            ", ".join(f"{d} {p}" for d, p in zip(unmatched["doc_id"], unmatched["path"], strict=False))[:500],
        )
    mismatched = [
        f"{r.doc_id} {r.path}"
        for r in merged.itertuples()
        if r.gold_title and normalise(r.gold_title)[:8] not in normalise(r.title + r.text)[:200]
    ]
    if mismatched:
        log.warning(
            "%d gold row(s) whose title differs from the task at that path (structure changed?): %s",
            len(mismatched),
            ", ".join(mismatched[:10]),
        )
    merged = merged.sort_values(["doc_id", "path"], kind="mergesort").reset_index(drop=True)
    return merged, unmatched.reset_index(drop=True)
