"""LaTeX tables that fit the page and compile with XeLaTeX + ctex.

Every table is an ``xltabular`` (``longtable`` that breaks across pages, with
``tabularx``'s ``X`` columns that share the line width): text columns wrap in
``X`` columns, number columns are right-aligned with a fixed width.  A table
whose fixed columns do not fit a portrait page is set in ``landscape``
(``pdflscape``); one too wide even for that is split into parts that repeat
its label column.  Numbers are rounded to the precision stated in the caption
(shares as per cent with one decimal, other decimals two places), missing
numbers print as "n/a".  The file holds only the table; :data:`PREAMBLE` lists
the packages a document needs, and :func:`standalone_document` wraps tables in
a document that compiles with ``xelatex``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.publish.textwidth import display_width

PREAMBLE = r"""\documentclass[UTF8,a4paper,11pt]{ctexart}
\usepackage[a4paper,margin=2.5cm]{geometry}
\usepackage{booktabs,array,xltabular,pdflscape}
"""
"""Packages the exported tables need (ctex for Chinese; compile with xelatex)."""

TEXT_WIDTH_PT = 440.0
"""Portrait text width of :data:`PREAMBLE`'s page (A4, 2.5 cm margins), in points."""
LANDSCAPE_WIDTH_PT = 650.0
"""Text width of a landscape page (the page height minus margins), in points."""
CHAR_PT = 6.0
"""Width of one Latin character at 11 pt (a CJK character counts 2), in points."""
COLUMN_PAD_PT = 12.0
"""Space between columns (2 x tabcolsep)."""
MIN_TEXT_COLUMN_PT = 80.0
"""Narrowest a wrapping text column may get."""
NA_TEXT = "n/a"

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL_RE = re.compile("|".join(re.escape(k) for k in _SPECIALS))


_BREAK_AFTER = re.compile(r"([;/]|\\_)")


def escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped and newlines as spaces."""
    return _SPECIAL_RE.sub(lambda m: _SPECIALS[m.group(0)], str(text)).replace("\r", " ").replace("\n", " ")


def escape_cell(text: str) -> str:
    """:func:`escape`, plus line-break points after ``;``, ``/`` and ``_`` (codes and lists have no spaces)."""
    return _BREAK_AFTER.sub(lambda m: m.group(0) + r"\allowbreak{}", escape(text))


@dataclass(frozen=True)
class ColumnFormat:
    """How one column is set: ``numeric`` columns are right-aligned with ``width_pt``; text wraps."""

    name: str
    header: str
    numeric: bool
    width_pt: float
    decimals: int | None = None
    percent: bool = False
    grouping: bool = True


IDENTIFIER_NUMBER_COLUMNS = ("year", "edition", "period_start", "period_end")
"""Column-name endings of numbers that name something (a year, a 纲要 edition): printed without a thousands comma."""


def format_number(value: object, decimals: int | None, percent: bool, grouping: bool = True) -> str:
    """A rounded number as text: integers as integers, shares as per cent; missing -> "n/a".

    ``grouping`` puts a thousands comma in large quantities (12,345); years and
    editions are names, not quantities (2015, not 2,015).
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return NA_TEXT
    number = float(value)  # type: ignore[arg-type]
    if percent:
        number *= 100
    comma = "," if grouping else ""
    if decimals is None or decimals == 0:
        return f"{number:{comma}.0f}"
    return f"{number:{comma}.{decimals}f}"


def column_formats(
    frame: pd.DataFrame, headers: Mapping[str, str], percent_columns: Collection[str] = ()
) -> list[ColumnFormat]:
    """Alignment, precision and width of every column of ``frame`` (``*_share`` and ``percent_columns``
    hold shares 0-1, printed as per cent)."""
    formats = []
    for column in frame.columns:
        series = frame[column]
        header = str(headers.get(column, column))
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if not numeric:
            formats.append(ColumnFormat(column, header, False, 0.0))
            continue
        percent = column.endswith("_share") or column in percent_columns
        values = pd.to_numeric(series, errors="coerce")
        integral = bool((values.dropna() == values.dropna().round()).all())
        decimals = 1 if percent else (0 if integral else 2)
        grouping = not str(column).endswith(IDENTIFIER_NUMBER_COLUMNS)
        if percent:
            header = f"{header} (%)"
        cells = [format_number(v, decimals, percent, grouping) for v in series]
        longest_word = max((display_width(w) for w in header.split()), default=1) * 1.15  # bold
        chars = max([longest_word, *(len(c) for c in cells)], default=1)
        formats.append(ColumnFormat(column, header, True, chars * CHAR_PT + 2, decimals, percent, grouping))
    return formats


def _text_column_wants(frame: pd.DataFrame, column: str, header: str) -> float:
    """Natural width (points) of a text column: its longest cell, at most a third of a page."""
    widest = max([display_width(header), *(display_width(str(v)) for v in frame[column] if not pd.isna(v))])
    return min(widest * CHAR_PT, TEXT_WIDTH_PT / 3)


def required_width(frame: pd.DataFrame, formats: Sequence[ColumnFormat]) -> float:
    """Width (points) the table needs with text columns at their minimum."""
    total = 0.0
    for fmt in formats:
        if fmt.numeric:
            total += fmt.width_pt
        else:
            total += min(MIN_TEXT_COLUMN_PT, _text_column_wants(frame, fmt.name, fmt.header))
    return total + COLUMN_PAD_PT * len(formats)


def _text_weight(frame: pd.DataFrame, column: str, header: str) -> float:
    """How much room a wrapping column deserves: its mean cell width (at least its header's longest word)."""
    widths = [display_width(str(v)) for v in frame[column] if not pd.isna(v)]
    mean = sum(widths) / len(widths) if widths else 0.0
    return max(mean, *(display_width(w) for w in header.split()), 4.0)


_TOKEN_SPLIT = re.compile(r"[\s;/_]+")


def _longest_token_pt(frame: pd.DataFrame, fmt: ColumnFormat) -> float:
    """Width (points) of the longest unbreakable piece of a text column (a column may not be narrower)."""
    tokens = [t for v in frame[fmt.name] if not pd.isna(v) for t in _TOKEN_SPLIT.split(str(v))]
    tokens += fmt.header.split()
    latin = [display_width(t) for t in tokens if t.isascii()]
    return max([*latin, 2]) * CHAR_PT * 1.15 + 2


def _fixed_width(frame: pd.DataFrame, fmt: ColumnFormat) -> float:
    """Width (points) a non-wrapping column takes (0 for wrapping ``X`` columns)."""
    if fmt.numeric:
        return fmt.width_pt
    natural = _text_column_wants(frame, fmt.name, fmt.header)
    return max(natural, 12) if natural < MIN_TEXT_COLUMN_PT else 0.0


def _column_specs(frame: pd.DataFrame, formats: Sequence[ColumnFormat], page_width_pt: float) -> list[str]:
    r"""Column specifications: fixed right-aligned numbers, short text at its width, long text as
    ``X`` columns sharing the rest in proportion to their mean cell width (tabularx ``\hsize``)."""
    specs: list[str] = []
    wrapping: list[tuple[int, float]] = []
    for fmt in formats:
        if fmt.numeric:
            specs.append(rf">{{\raggedleft\arraybackslash}}p{{{fmt.width_pt:.0f}pt}}")
            continue
        natural = _text_column_wants(frame, fmt.name, fmt.header)
        if natural < MIN_TEXT_COLUMN_PT:  # short labels: no need to wrap
            specs.append(rf">{{\raggedright\arraybackslash}}p{{{max(natural, 12):.0f}pt}}")
            continue
        wrapping.append((len(specs), _text_weight(frame, fmt.name, fmt.header)))
        specs.append("")
    if wrapping:
        fixed = sum(_fixed_width(frame, f) for f in formats) + COLUMN_PAD_PT * len(formats)
        per_column = max((page_width_pt - fixed) / len(wrapping), 1.0)
        total = sum(weight for _, weight in wrapping)
        floors = {p: _longest_token_pt(frame, formats[p]) / per_column for p, _ in wrapping}
        shares = {p: max(len(wrapping) * w / total, floors[p], 0.3) for p, w in wrapping}
        # Give the floors what they need, take it from the widest columns: shares add up to len(wrapping).
        excess = sum(shares.values()) - len(wrapping)
        flexible = {p: v - max(floors[p], 0.3) for p, v in shares.items()}
        room = sum(flexible.values())
        for position in shares:
            if excess > 0 and room > 0:
                shares[position] -= excess * flexible[position] / room
            specs[position] = rf">{{\raggedright\arraybackslash\hsize={shares[position]:.3f}\hsize}}X"
    return specs


def _cell(value: object, fmt: ColumnFormat) -> str:
    if fmt.numeric:
        return format_number(value, fmt.decimals, fmt.percent, fmt.grouping)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return escape_cell(str(value))


def _split_columns(
    frame: pd.DataFrame, formats: list[ColumnFormat], width_pt: float, keep: int
) -> list[list[ColumnFormat]]:
    """Groups of columns that each fit ``width_pt``; every group starts with the first ``keep`` columns."""
    head, rest = formats[:keep], formats[keep:]
    groups: list[list[ColumnFormat]] = []
    current: list[ColumnFormat] = []
    for fmt in rest:
        if current and required_width(frame, head + current + [fmt]) > width_pt:
            groups.append(head + current)
            current = []
        current.append(fmt)
    if current or not groups:
        groups.append(head + current)
    return groups


def _one_table(
    frame: pd.DataFrame, formats: Sequence[ColumnFormat], caption: str, label: str, page_width_pt: float = TEXT_WIDTH_PT
) -> str:
    spec = "".join(_column_specs(frame, formats, page_width_pt))
    if "X" not in spec:  # xltabular needs one X column; widen the last text column, else pad
        spec += r">{\raggedright\arraybackslash}X"
        padded = True
    else:
        padded = False
    header = " & ".join(rf"\textbf{{{escape_cell(f.header)}}}" for f in formats) + (" & " if padded else "") + r" \\"
    lines = [
        rf"\begin{{xltabular}}{{\linewidth}}{{{spec}}}",
        rf"\caption{{{escape(caption)}}}\label{{{label}}}\\",
        r"\toprule",
        header,
        r"\midrule",
        r"\endfirsthead",
        rf"\multicolumn{{{len(formats) + int(padded)}}}{{l}}{{\small\itshape {escape(caption)} (continued)}}\\",
        r"\toprule",
        header,
        r"\midrule",
        r"\endhead",
        r"\bottomrule",
        r"\endlastfoot",
    ]
    for row in frame[[f.name for f in formats]].itertuples(index=False):
        cells = [_cell(v, f) for v, f in zip(row, formats, strict=True)]
        lines.append(" & ".join(cells) + (" & " if padded else "") + r" \\")
    lines.append(r"\end{xltabular}")
    return "\n".join(lines) + "\n"


def precision_note(formats: Sequence[ColumnFormat], frame: pd.DataFrame, lang: str = "en") -> str:
    """The rounding used (and what "n/a" means), for the caption."""
    parts = []
    if any(f.percent for f in formats):
        parts.append("占比以百分数表示，保留一位小数" if lang == "zh" else "shares in %, one decimal")
    if any(f.numeric and not f.percent and f.decimals for f in formats):
        parts.append("其他小数保留两位" if lang == "zh" else "other decimals rounded to two places")
    numeric = [f.name for f in formats if f.numeric]
    if numeric and frame[numeric].isna().to_numpy().any():
        parts.append(f"{NA_TEXT} = 不适用" if lang == "zh" else f"{NA_TEXT} = not applicable")
    if not parts:
        return ""
    if lang == "zh":
        return "；".join(parts) + "。"
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def to_latex(
    frame: pd.DataFrame,
    headers: Mapping[str, str],
    *,
    caption: str,
    label: str,
    lang: str = "en",
    label_columns: int = 1,
    percent_columns: Collection[str] = (),
) -> str:
    """``frame`` as a LaTeX table that fits the page (see the module docstring).

    ``headers`` maps column -> header; ``caption`` gets the rounding note
    appended; ``label`` is the ``\\label`` key (``tab:…``); ``label_columns``
    leading columns are repeated in every part of a split table.
    """
    formats = column_formats(frame, headers, percent_columns)
    note = precision_note(formats, frame, lang)
    separator = "。" if lang == "zh" else ". "
    full = f"{caption}{separator}{note}".strip() if note else caption
    width = required_width(frame, formats)
    if width <= TEXT_WIDTH_PT:
        return _one_table(frame, formats, full, label)
    if width <= LANDSCAPE_WIDTH_PT:
        return (
            "\\begin{landscape}\n" + _one_table(frame, formats, full, label, LANDSCAPE_WIDTH_PT) + "\\end{landscape}\n"
        )
    groups = _split_columns(frame, formats, LANDSCAPE_WIDTH_PT, keep=label_columns)
    part = "部分" if lang == "zh" else "part"
    tables = [
        _one_table(
            frame,
            group,
            f"{caption} ({part} {i}/{len(groups)}){separator}{note}".strip(),
            label if i == 1 else f"{label}-{i}",
            LANDSCAPE_WIDTH_PT,
        )
        for i, group in enumerate(groups, start=1)
    ]
    return "\\begin{landscape}\n" + "\n".join(tables) + "\\end{landscape}\n"


def standalone_document(inputs: Sequence[str]) -> str:
    """A complete XeLaTeX + ctex document that ``\\input``s each file of ``inputs`` (relative paths)."""
    body = "\n".join(f"\\input{{{name}}}\n\\clearpage" for name in inputs)
    return PREAMBLE + "\\begin{document}\n" + body + "\n\\end{document}\n"
