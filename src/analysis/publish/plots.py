"""The project's plotting module: bilingual labels, saving, the plot functions (house style and CJK fonts: publish.style).

Notebooks draw every figure through these functions so that all figures share
one look, render Chinese on any machine, and are saved with the data they plot.

* :func:`use_house_style` applies seaborn's theme and *then* the CJK font
  (``sns.set_theme`` resets the font list).  Plot functions do not rely on it:
  they build their figures inside :func:`house_style` (an ``rc_context``), so a
  later ``sns.set_theme()`` in user code cannot bring back empty boxes.
* :func:`find_cjk_font` finds an installed CJK font with TrueType (``glyf``)
  outlines, preferring WenQuanYi Micro Hei (``make fonts`` installs it).
  PDF is the vector format; fonts are embedded as TrueType (``pdf.fonttype
  42``), so text stays selectable and searchable.  SVG (if a user saves one)
  draws text as paths (``svg.fonttype 'path'``) so it needs no font to view.
* Every plot function takes ``lang`` ("zh" or "en"), returns ``(fig, data)``
  where ``data`` is exactly what is drawn, ready for :func:`save_figure`.

Bilingual labels: categorical columns are passed by *base* name and resolved
with :func:`label_column` (``"theme_label"`` -> ``"theme_label_zh"``/``_en``);
axis titles come from ``reference/labels.csv`` (kind ``ui``) or the data
dictionary's headers (:func:`axis_title`) unless given as ``*_zh``/``*_en`` arguments; matrix row/column keys are translated
with :data:`BilingualLabels` (build them with :func:`bilingual_labels`).
"""

from __future__ import annotations

import logging
import re
import textwrap
import weakref
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import matplotlib
import matplotlib.dates
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from analysis import config
from analysis.core import labels as reference_labels
from analysis.core.errors import AnalysisError
from analysis.publish.exports import check_slug, write_csv

# The style lives in analysis.publish.style; its names are re-exported so notebooks use one plotting module.
from analysis.publish.style import (
    CJK_FONT_ENV as CJK_FONT_ENV,
)
from analysis.publish.style import (
    CJK_PROBE as CJK_PROBE,
)
from analysis.publish.style import (
    FIGURE_DPI as FIGURE_DPI,
)
from analysis.publish.style import (
    HALF as HALF,
)
from analysis.publish.style import (
    KNOWN_CJK_FONT_FILES as KNOWN_CJK_FONT_FILES,
)
from analysis.publish.style import (
    OKABE_ITO as OKABE_ITO,
)
from analysis.publish.style import (
    PREFERRED_CJK_FAMILIES as PREFERRED_CJK_FAMILIES,
)
from analysis.publish.style import (
    SEQUENTIAL_CMAP as SEQUENTIAL_CMAP,
)
from analysis.publish.style import (
    SLIDE as SLIDE,
)
from analysis.publish.style import (
    SQUARE as SQUARE,
)
from analysis.publish.style import (
    TALL as TALL,
)
from analysis.publish.style import (
    MissingFontError as MissingFontError,
)
from analysis.publish.style import (
    cjk_font_family as cjk_font_family,
)
from analysis.publish.style import (
    find_cjk_font as find_cjk_font,
)
from analysis.publish.style import (
    font_rc as font_rc,
)
from analysis.publish.style import (
    house_rc as house_rc,
)
from analysis.publish.style import (
    house_style as house_style,
)
from analysis.publish.style import (
    use_house_style as use_house_style,
)
from analysis.publish.textwidth import display_width

log = logging.getLogger(__name__)

LANGS: tuple[str, ...] = ("zh", "en")

BilingualLabels = Mapping[Hashable, Mapping[str, str]]
"""``{key: {"zh": ..., "en": ...}}``: display names for matrix rows/columns."""

_CAPTION_GID = "analysis-caption"
_FIGURE_LANG: weakref.WeakKeyDictionary[Figure, str] = weakref.WeakKeyDictionary()
"""Language each plot function drew its figure in, so save_figure's caption matches."""


class NothingToShowError(AnalysisError):
    """A figure's data has no row, or every value is 0 or missing: no figure is written for it."""


def has_content(data: pd.DataFrame) -> bool:
    """True if ``data`` has a row with a non-zero, non-missing number (or, with no number column, any row)."""
    if data.empty:
        return False
    numbers = data.select_dtypes(include="number")
    if numbers.shape[1] == 0:
        return True
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    return bool(np.any(~np.isnan(values) & (values != 0)))


# ---------------------------------------------------------------------------
# Bilingual labels
# ---------------------------------------------------------------------------


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is "zh" or "en", else raise."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return lang


def label_column(base: str, lang: str) -> str:
    """Name of the label column for ``lang``: ``label_column("theme_label", "en") -> "theme_label_en"``."""
    return f"{base}_{check_lang(lang)}"


def resolve_column(frame: pd.DataFrame, column: str, lang: str) -> str:
    """``column`` itself if present, else its ``{column}_{lang}`` label column; raise if neither."""
    if column in frame.columns:
        return column
    localised = label_column(column, lang)
    if localised in frame.columns:
        return localised
    raise KeyError(f"column {column!r} (or {localised!r}) not in data; columns are {list(frame.columns)}")


def ui(key: str, lang: str) -> str:
    """A fixed figure text (``reference/labels.csv``, kind ``ui``)."""
    return reference_labels.label("ui", key, check_lang(lang))


def axis_title(column: str, lang: str) -> str:
    """Axis or legend title for a column: its ``ui`` label (by base name, ``theme_label_zh`` -> ``theme_label``),
    else its data-dictionary header, else the column name itself (logged)."""
    base = column
    for suffix in ("_zh", "_en"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    titles = reference_labels.labels("ui")
    if base in titles:
        return titles[base][lang]
    try:
        return reference_labels.column_header(column, lang)
    except reference_labels.UnknownLabelError:
        log.debug("no title for column %r; using the column name as axis title", column)
        return column


def pick_text(lang: str, zh: str | None, en: str | None, *, column: str | None = None) -> str | None:
    """Text for ``lang``: the explicit ``zh``/``en`` pair, else :func:`axis_title` of ``column``.

    Giving only the other language raises (a figure must not mix languages).
    """
    check_lang(lang)
    chosen = zh if lang == "zh" else en
    if chosen is not None:
        return chosen
    if zh is not None or en is not None:
        raise ValueError(f"text given only in the other language ({zh or en!r}); pass the {lang} text too")
    if column is None:
        return None
    return axis_title(column, lang)


def bilingual_labels(frame: pd.DataFrame, key: str, base: str) -> dict[Hashable, dict[str, str]]:
    """``{key: {"zh": frame[f"{base}_zh"], "en": frame[f"{base}_en"]}}`` from a label table.

    E.g. ``bilingual_labels(codebook, "theme", "theme_label")``.
    """
    columns = [key, label_column(base, "zh"), label_column(base, "en")]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"label table lacks column(s) {missing}")
    if frame[key].duplicated().any():
        raise ValueError(
            f"label table has duplicate keys in {key!r}: {frame.loc[frame[key].duplicated(), key].tolist()}"
        )
    return {
        row[key]: {lang: row[label_column(base, lang)] for lang in LANGS} for row in frame[columns].to_dict("records")
    }


def translate(keys: Sequence[Hashable], labels: BilingualLabels | None, lang: str) -> list[str]:
    """Display names of ``keys``; every key must have a label (none is silently left raw)."""
    check_lang(lang)
    if labels is None:
        return [str(k) for k in keys]
    unmatched = [k for k in keys if k not in labels or lang not in labels[k]]
    if unmatched:
        raise KeyError(f"no {lang} label for key(s) {unmatched}")
    return [labels[k][lang] for k in keys]


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------


TICK_LABEL_WIDTH = 44  # display columns (a CJK character counts 2) before a tick label wraps


def _shorten(label: str, width: int) -> str:
    """A one-line tick label of at most ``width`` display columns.

    A long label first loses its trailing parenthetical gloss ("Industry line
    departments (economy/IT, …)"), then is cut with an ellipsis; the CSV
    beside the figure keeps the full label.
    """
    if display_width(label) <= width:
        return label
    label = re.sub(r"\s*[(（][^()（）]*[)）]\s*$", "", label)
    while display_width(label) > width:
        label = label[:-2] + "…"
    return label


def _wrap_display(text: str, width: int) -> str:
    """Wrap ``text`` to ``width`` display columns.

    CJK counts double and may break anywhere; Latin words break at spaces.
    """
    lines: list[str] = []
    current = ""
    for ch in text:
        if ch == "\n":
            lines.append(current)
            current = ""
            continue
        if display_width(current + ch) <= width:
            current += ch
            continue
        cut = current.rfind(" ")
        if ch != " " and display_width(ch) == 1 and cut > 0 and display_width(current[cut + 1 :]) < width // 3:
            lines.append(current[:cut])
            current = current[cut + 1 :] + ch
        else:
            lines.append(current)
            current = "" if ch == " " else ch
    lines.append(current)
    return "\n".join(line.strip() for line in lines if line.strip())


def add_caption(fig: Figure, caption: str | None, source: str | None, lang: str = "zh") -> None:
    """Put one caption line (``caption`` + data source) under the figure, replacing an old one."""
    for text in list(fig.texts):
        if text.get_gid() == _CAPTION_GID:
            text.remove()
    source = source if source is not None else ui("default_source", lang)
    parts = [
        p
        for p in (caption, ui("source_prefix", lang) + (" " if lang == "en" else "") + source if source else None)
        if p
    ]
    if not parts:
        return
    # "small" text is ~0.83 em; a Latin character is ~0.55 of that, a CJK one a full em.
    small_pt = 0.833 * matplotlib.rcParams["font.size"]
    width_chars = int(fig.get_figwidth() * 72 / (0.55 * small_pt))
    wrapped = _wrap_display("  ".join(parts), max(width_chars, 20))
    # Below everything already drawn (rotated tick labels reach under the axes).
    renderer = cast(Any, fig.canvas).get_renderer()
    bottom = fig.get_tightbbox(renderer).y0 / fig.get_figheight()
    fig.text(
        0.01,
        min(-0.01, bottom - 0.02),
        wrapped,
        ha="left",
        va="top",
        fontsize="small",
        color="#444444",
        gid=_CAPTION_GID,
    )


def save_figure(
    fig: Figure,
    data: pd.DataFrame,
    name: str,
    *,
    out_dir: Path | None = None,
    caption: str | None = None,
    source: str | None = None,
    lang: str | None = None,
) -> dict[str, Path]:
    """Save ``fig`` as PNG (300 dpi) and PDF, and ``data`` as CSV beside them.

    ``name`` is a slug (``theme_share_by_city``); files go to ``out_dir``
    (default ``config.FIGURES_DIR``).  A caption line with the data source
    (``source``, default: the project corpus) is added under the plot, worded
    in ``lang`` (default: the language the plot function drew in, else "zh").  The CSV (UTF-8 with BOM, formula-safe) holds
    exactly the data drawn, as returned by the plot functions.
    Returns ``{"png": ..., "pdf": ..., "csv": ...}``.  Data with nothing to
    show raises :class:`NothingToShowError` and writes nothing.
    """
    check_slug(name, "figure name")
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be the DataFrame the figure plots, not {type(data).__name__}")
    if not has_content(data):
        plt.close(fig)
        raise NothingToShowError(f"figure {name!r}: nothing to show (no row, or every value is 0 or missing)")
    out = Path(out_dir) if out_dir is not None else config.FIGURES_DIR
    out.mkdir(parents=True, exist_ok=True)
    paths = {"png": out / f"{name}.png", "pdf": out / f"{name}.pdf", "csv": out / f"{name}.csv"}
    with house_style():
        add_caption(fig, caption, source, check_lang(lang or _FIGURE_LANG.get(fig, "zh")))
        fig.savefig(paths["png"], dpi=FIGURE_DPI, bbox_inches="tight", metadata={"Software": None})
        fig.savefig(paths["pdf"], bbox_inches="tight", metadata={"CreationDate": None})
    write_csv(data, paths["csv"])
    log.info("saved figure %s to %s", name, out)
    return paths


# ---------------------------------------------------------------------------
# Plot functions (each returns (fig, data drawn))
# ---------------------------------------------------------------------------


def _finish(fig: Figure, lang: str) -> Figure:
    """Lay out and draw once inside the style context, so ticks get the house font."""
    _FIGURE_LANG[fig] = lang
    fig.tight_layout()
    fig.draw_without_rendering()
    return fig


def _set_titles(ax: Any, title: str | None, xlabel: str | None, ylabel: str | None) -> None:
    if title:
        ax.set_title(title)
    ax.set_xlabel(xlabel or "")
    ax.set_ylabel(ylabel or "")


def heatmap(
    matrix_df: pd.DataFrame,
    *,
    lang: str = "zh",
    title_zh: str | None = None,
    title_en: str | None = None,
    xlabel_zh: str | None = None,
    xlabel_en: str | None = None,
    ylabel_zh: str | None = None,
    ylabel_en: str | None = None,
    colorbar_zh: str | None = None,
    colorbar_en: str | None = None,
    row_labels: BilingualLabels | None = None,
    col_labels: BilingualLabels | None = None,
    value_format: str = ".0f",
    annotate: bool = True,
    cmap: str = SEQUENTIAL_CMAP,
    vmin: float | None = None,
    vmax: float | None = None,
    size: tuple[float, float] = SLIDE,
) -> tuple[Figure, pd.DataFrame]:
    """Heatmap of a numeric matrix (rows = ``matrix_df.index``, columns = its columns).

    Row/column keys are shown through ``row_labels``/``col_labels`` in ``lang``
    (keys themselves if None).  Returned data: the matrix with display labels,
    row labels in the first column (named after the y-axis title).
    """
    check_lang(lang)
    values = matrix_df.apply(pd.to_numeric, errors="raise")
    ylabel = pick_text(lang, ylabel_zh, ylabel_en, column=matrix_df.index.name)
    xlabel = pick_text(lang, xlabel_zh, xlabel_en, column=matrix_df.columns.name)
    shown = pd.DataFrame(
        values.to_numpy(),
        index=pd.Index(translate(list(values.index), row_labels, lang), name=ylabel or "row"),
        columns=translate(list(values.columns), col_labels, lang),
    )
    n_rows = shown.shape[0]
    # Every row gets its label: a tall matrix gets a taller figure (0.3 inch a row) instead of skipped ticks.
    size = (size[0], max(size[1], 1.6 + 0.3 * n_rows))
    with house_style():
        fig, ax = plt.subplots(figsize=size)
        sns.heatmap(
            shown,
            ax=ax,
            cmap=cmap,
            annot=False,
            vmin=vmin,
            vmax=vmax,
            linewidths=0.5,
            linecolor="white",
            xticklabels=True,
            yticklabels=True,
            cbar_kws={"label": pick_text(lang, colorbar_zh, colorbar_en) or ""},
        )
        _set_titles(ax, pick_text(lang, title_zh, title_en), xlabel, ylabel)
        ax.set_yticks(np.arange(n_rows) + 0.5, [_shorten(str(t), TICK_LABEL_WIDTH) for t in shown.index])
        ax.tick_params(axis="y", labelrotation=0)
        _horizontal_column_labels(fig, ax, list(map(str, shown.columns)))
        if _is_integral(shown.to_numpy()):
            colorbar = ax.collections[0].colorbar
            if colorbar is not None:
                colorbar.locator = matplotlib.ticker.MaxNLocator(integer=True)
                colorbar.update_ticks()
        if annotate:
            _annotate_cells(fig, ax, shown, value_format)
        _finish(fig, lang)
    return fig, shown.reset_index()


def _is_integral(values: Any) -> bool:
    """True if every non-missing value is a whole number (a count)."""
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    return bool(array.size) and bool(np.all(array == np.round(array)))


def _horizontal_column_labels(fig: Figure, ax: Any, labels: list[str]) -> None:
    """Column labels wrapped to the column's width and set level (no 45-degree Chinese).

    Measured after a first layout pass.  A Latin label whose longest word does
    not fit its column is set vertically on one line instead (a word is never
    cut in the middle); Chinese wraps anywhere.
    """
    fig.tight_layout()
    width_pt = ax.get_position().width * fig.get_figwidth() * 72 / max(len(labels), 1)
    font_pt = 0.833 * float(matplotlib.rcParams["font.size"])  # "small"
    char_pt = 0.6 * font_pt  # a Latin character; a CJK character is about twice that
    columns = int(width_pt / char_pt)
    longest_word = max((display_width(w) for t in labels if t.isascii() for w in t.split()), default=0)
    if columns < 4 or longest_word > columns:
        ax.set_xticks(np.arange(len(labels)) + 0.5, [_shorten(t, TICK_LABEL_WIDTH) for t in labels])
        plt.setp(ax.get_xticklabels(), rotation=90, ha="center", fontsize="small")
        return
    wrapped = []
    for label in labels:
        text = textwrap.fill(label, columns) if label.isascii() else _wrap_display(label, columns)
        lines = text.split("\n")
        if len(lines) > 4:
            text = "\n".join([*lines[:3], _shorten(lines[3] + "…", columns)])
        wrapped.append(text)
    ax.set_xticks(np.arange(len(labels)) + 0.5, wrapped)
    plt.setp(ax.get_xticklabels(), rotation=0, ha="center", fontsize="small")


def _annotate_cells(fig: Figure, ax: Any, shown: pd.DataFrame, value_format: str) -> None:
    """Write each cell's value in a font that fits the cell (none if cells are too small to read)."""
    n_rows, n_cols = shown.shape
    box = ax.get_position()
    cell_w = box.width * fig.get_figwidth() * 72 / max(n_cols, 1)
    cell_h = box.height * fig.get_figheight() * 72 / max(n_rows, 1)
    texts = [["" if pd.isna(v) else format(v, value_format) for v in row] for row in shown.to_numpy()]
    longest = max((len(t) for row in texts for t in row), default=1)
    size = min(10.0, 0.6 * cell_h, cell_w / (0.62 * max(longest, 1)))
    if size < 5:
        log.info("heatmap: cells too small for readable numbers; values left to the colour scale")
        return
    colormap = ax.collections[0].cmap
    norm = ax.collections[0].norm
    for i, row in enumerate(texts):
        for j, text in enumerate(row):
            if not text:
                continue
            value = float(shown.iat[i, j])
            red, green, blue, _ = colormap(norm(value))
            light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
            ax.text(
                j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=size, color="black" if light else "white"
            )


def bar_chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    hue: str | None = None,
    *,
    lang: str = "zh",
    title_zh: str | None = None,
    title_en: str | None = None,
    xlabel_zh: str | None = None,
    xlabel_en: str | None = None,
    ylabel_zh: str | None = None,
    ylabel_en: str | None = None,
    horizontal: bool = False,
    value_format: str | None = None,
    count: str | None = None,
    denominator: str | None = None,
    size: tuple[float, float] = SLIDE,
) -> tuple[Figure, pd.DataFrame]:
    """Bar chart of ``y`` per category ``x`` (optionally grouped by ``hue``).

    A share plotted as ``y`` should say what it is a share of: with
    ``count`` and ``denominator`` (columns) each bar is labelled
    ``"100% (2/2)"``, and a bar whose denominator is 0 or missing "n/a".
    A count axis gets whole-number ticks only.

    ``x``/``hue`` may be label bases (``"theme_label"`` -> ``theme_label_zh``).
    Bars keep the row order of ``df``; each (x, hue) pair must occur once, since
    the chart shows values, not averages.  ``horizontal`` puts categories on
    the y axis (better for long Chinese names).  ``value_format`` (e.g.
    ``".0f"``) writes values on the bars.
    """
    check_lang(lang)
    x_col = resolve_column(df, x, lang)
    hue_col = resolve_column(df, hue, lang) if hue else None
    keys = [x_col] + ([hue_col] if hue_col else [])
    extra = [c for c in (count, denominator) if c]
    data = df[[*keys, y, *extra]].reset_index(drop=True)
    if data.duplicated(keys).any():
        raise ValueError(f"bar_chart needs one row per {keys}; aggregate first (duplicates found)")
    cat_title = pick_text(lang, xlabel_zh, xlabel_en, column=x_col)
    val_title = pick_text(lang, ylabel_zh, ylabel_en, column=y)
    with house_style():
        fig, ax = plt.subplots(figsize=size)
        order = list(dict.fromkeys(data[x_col]))
        hue_order = list(dict.fromkeys(data[hue_col])) if hue_col else None
        # A share with no denominator draws as an empty bar labelled "n/a" (seaborn drops NaN bars).
        drawn = data.assign(**{y: data[y].astype(float).fillna(0)}) if count and denominator else data
        sns.barplot(
            data=drawn,
            x=y if horizontal else x_col,
            y=x_col if horizontal else y,
            hue=hue_col,
            order=order,
            hue_order=hue_order,
            orient="h" if horizontal else "v",
            errorbar=None,
            color=None if hue_col else OKABE_ITO[4],
            ax=ax,
        )
        if horizontal:
            _set_titles(ax, pick_text(lang, title_zh, title_en), val_title, cat_title)
        else:
            _set_titles(ax, pick_text(lang, title_zh, title_en), cat_title, val_title)
            if max((display_width(str(v)) for v in order), default=0) > 8:
                plt.setp(ax.get_xticklabels(), rotation=45, ha="right", rotation_mode="anchor")
        if count and denominator:
            if hue_col:
                raise ValueError("bar_chart: count/denominator labels need bars without hue")
            labels = [
                reference_labels.label("special", "not_applicable", lang)
                if pd.isna(n) or n == 0
                else f"{format(v, value_format or '.0%')} ({int(c)}/{int(n)})"
                for v, c, n in zip(data[y], data[count], data[denominator], strict=True)
            ]
            ax.bar_label(cast(BarContainer, ax.containers[0]), labels=labels, padding=2, fontsize="small")
        elif value_format:
            for container in ax.containers:
                ax.bar_label(cast(BarContainer, container), fmt="{:" + value_format + "}", padding=2, fontsize="small")
        if _is_integral(data[y].to_numpy(dtype=float, na_value=np.nan)):
            (ax.xaxis if horizontal else ax.yaxis).set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        if hue_col:
            ax.legend(title=pick_text(lang, None, None, column=hue_col), frameon=False)
        _finish(fig, lang)
    return fig, data


def stacked_share_bar(
    df: pd.DataFrame,
    index: str,
    columns: str,
    values: str,
    *,
    lang: str = "zh",
    title_zh: str | None = None,
    title_en: str | None = None,
    xlabel_zh: str | None = None,
    xlabel_en: str | None = None,
    legend_zh: str | None = None,
    legend_en: str | None = None,
    horizontal: bool = True,
    show_counts: bool = True,
    size: tuple[float, float] = SLIDE,
) -> tuple[Figure, pd.DataFrame]:
    """100 % stacked bars: for each ``index`` category, the share of each ``columns`` category.

    With ``show_counts`` (default) each bar says how many items it stands
    for (``n = 12`` beside it) and each wide enough segment its count, so a
    share is never read without its denominator.

    ``df`` is long (one row per index x column with a count/weight in
    ``values``); ``index``/``columns`` may be label bases.  Returned data: one
    row per index category with the shares (0-1) of each column category.
    """
    check_lang(lang)
    index_col = resolve_column(df, index, lang)
    column_col = resolve_column(df, columns, lang)
    if df.duplicated([index_col, column_col]).any():
        raise ValueError(f"stacked_share_bar needs one row per ({index_col}, {column_col}); aggregate first")
    wide = df.pivot(index=index_col, columns=column_col, values=values).fillna(0)
    wide = wide.loc[list(dict.fromkeys(df[index_col])), list(dict.fromkeys(df[column_col]))]
    totals = wide.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError(f"rows with no positive total cannot be shown as shares: {list(wide.index[totals <= 0])}")
    shares = wide.div(totals, axis=0)
    shares.columns.name = None
    colors = _category_colors(len(shares.columns))
    with house_style():
        fig, ax = plt.subplots(figsize=size)
        shares.plot(
            kind="barh" if horizontal else "bar", stacked=True, ax=ax, color=colors, width=0.75, edgecolor="white"
        )
        share_axis = pick_text(lang, xlabel_zh, xlabel_en, column="share")
        cat_axis = pick_text(lang, None, None, column=index_col)
        if horizontal:
            ax.invert_yaxis()  # first category on top
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.set_xlim(0, 1)
            _set_titles(ax, pick_text(lang, title_zh, title_en), share_axis, cat_axis)
        else:
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.set_ylim(0, 1)
            _set_titles(ax, pick_text(lang, title_zh, title_en), cat_axis, share_axis)
        if show_counts:
            _label_stacked_counts(ax, wide, shares, horizontal)
        ax.legend(
            title=pick_text(lang, legend_zh, legend_en, column=column_col),
            bbox_to_anchor=(1.08 if show_counts and horizontal else 1.01, 1),
            loc="upper left",
            frameon=False,
        )
        _finish(fig, lang)
    data = shares.reset_index()
    for column in shares.columns:
        data[f"n {column}"] = wide[column].to_numpy()
    data["n"] = totals.to_numpy()
    return fig, data


def _label_stacked_counts(ax: Any, counts: pd.DataFrame, shares: pd.DataFrame, horizontal: bool) -> None:
    """Counts inside segments of at least 8 % and ``n = total`` at the end of each bar."""
    for container, column in zip(ax.containers, shares.columns, strict=False):
        labels = [
            f"{int(n)}" if share >= 0.08 and n else "" for n, share in zip(counts[column], shares[column], strict=True)
        ]
        red, green, blue, _ = container.patches[0].get_facecolor() if container.patches else (0, 0, 0, 1)
        ink = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
        ax.bar_label(container, labels=labels, label_type="center", fontsize="x-small", color=ink)
    for position, total in enumerate(counts.sum(axis=1)):
        if horizontal:
            ax.text(1.01, position, f"n = {int(total)}", va="center", ha="left", fontsize="small")
        else:
            ax.text(position, 1.01, f"n = {int(total)}", va="bottom", ha="center", fontsize="small")


EXTRA_COLOURS: tuple[str, ...] = (
    "#332288",  # indigo
    "#882255",  # wine
    "#999933",  # olive
    "#661100",  # dark brown
    "#7F7F7F",  # grey
)
"""Colours after Okabe-Ito's eight, each chosen to stay far (CIELAB distance > 25) from all before it."""

CATEGORY_COLOURS: tuple[str, ...] = OKABE_ITO + EXTRA_COLOURS
"""Distinct qualitative colours for up to 13 categories (10 themes + uncoded fit)."""


def _category_colors(n: int) -> list[Any]:
    """``n`` distinct colours (Okabe-Ito first); more categories than :data:`CATEGORY_COLOURS` raise."""
    if n > len(CATEGORY_COLOURS):
        raise ValueError(
            f"{n} categories cannot get distinct colours (at most {len(CATEGORY_COLOURS)}): "
            "group the small ones or use small multiples"
        )
    return list(CATEGORY_COLOURS[:n])


def timeline(
    df: pd.DataFrame,
    date_col: str,
    label_col: str | None = None,
    group_col: str | None = None,
    *,
    lang: str = "zh",
    title_zh: str | None = None,
    title_en: str | None = None,
    annotate: bool = True,
    size: tuple[float, float] = SLIDE,
) -> tuple[Figure, pd.DataFrame]:
    """Deadlines (or any dated events) on a time axis, one lane per ``group_col`` value
    (lanes top to bottom in order of first appearance in ``df``).

    ``label_col`` (a label base allowed) names each point when ``annotate``.
    Rows without a parseable date are not drawable and raise (drop or fix
    them first, so none disappear silently).  Returned data: group, label,
    date, sorted by date.
    """
    check_lang(lang)
    group = resolve_column(df, group_col, lang) if group_col else None
    label = resolve_column(df, label_col, lang) if label_col else None
    dates = pd.to_datetime(df[date_col], errors="coerce", format="mixed")
    bad = df.index[dates.isna()].tolist()
    if bad:
        raise ValueError(f"timeline: {len(bad)} row(s) with no valid {date_col!r} (index {bad[:10]})")
    data = pd.DataFrame({date_col: dates})
    if group:
        data.insert(0, group, df[group].to_numpy())
    if label:
        data.insert(len(data.columns) - 1, label, df[label].to_numpy())
    data = data.sort_values(date_col, kind="stable").reset_index(drop=True)
    lanes = list(dict.fromkeys(df[group])) if group else [""]  # lanes in input order
    colors = dict(zip(lanes, _category_colors(len(lanes)), strict=False))
    with house_style():
        fig, ax = plt.subplots(figsize=size)
        for lane_no, lane in enumerate(lanes):
            rows = data[data[group] == lane] if group else data
            ax.scatter(rows[date_col], [lane_no] * len(rows), s=60, color=colors[lane], zorder=3)
            if annotate and label:
                for offset, (when, text) in enumerate(zip(rows[date_col], rows[label], strict=False)):
                    ax.annotate(
                        str(text),
                        (when, lane_no),
                        xytext=(0, 8 if offset % 2 == 0 else -14),
                        textcoords="offset points",
                        ha="center",
                        fontsize="x-small",
                    )
        ax.set_yticks(range(len(lanes)), lanes)
        ax.set_ylim(-0.7, len(lanes) - 0.3)
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        # Numeric date formats: no English month names on a Chinese figure.
        ax.xaxis.set_major_formatter(
            matplotlib.dates.ConciseDateFormatter(
                ax.xaxis.get_major_locator(),
                formats=["%Y", "%Y-%m", "%m-%d", "%H:%M", "%H:%M", "%S.%f"],
                offset_formats=["", "%Y", "%Y-%m", "%Y-%m-%d", "%Y-%m-%d", "%Y-%m-%d %H:%M"],
            )
        )
        ylabel = pick_text(lang, None, None, column=group) if group else None
        _set_titles(ax, pick_text(lang, title_zh, title_en), pick_text(lang, None, None, column="deadline"), ylabel)
        _finish(fig, lang)
    return fig, data


def cooccurrence_matrix(pairs: pd.DataFrame, a_col: str, b_col: str, weight_col: str | None = None) -> pd.DataFrame:
    """Symmetric matrix of how often two items (e.g. agencies) occur together.

    ``pairs`` has one row per co-occurrence (optionally weighted); (a, b) and
    (b, a) count for the same cell.  The diagonal holds self-pairs if any.
    """
    weights = pairs[weight_col] if weight_col else pd.Series(1, index=pairs.index)
    items = sorted(set(pairs[a_col]) | set(pairs[b_col]), key=str)
    matrix = pd.DataFrame(0.0, index=pd.Index(items, name=a_col), columns=pd.Index(items, name=b_col))
    for a, b, w in zip(pairs[a_col], pairs[b_col], weights, strict=False):
        matrix.loc[a, b] += w
        if a != b:
            matrix.loc[b, a] += w
    if np.allclose(matrix.to_numpy(), matrix.to_numpy().round()):
        matrix = matrix.astype(int)
    return matrix


def cooccurrence_heatmap(
    pairs: pd.DataFrame,
    a_col: str,
    b_col: str,
    weight_col: str | None = None,
    *,
    lang: str = "zh",
    labels: BilingualLabels | None = None,
    title_zh: str | None = None,
    title_en: str | None = None,
    min_total: float = 0,
    cmap: str = SEQUENTIAL_CMAP,
    size: tuple[float, float] = SQUARE,
) -> tuple[Figure, pd.DataFrame]:
    """Heatmap of agency (or any item) pairs, e.g. lead and co-responsible units.

    Items whose total co-occurrence is below ``min_total`` are left out (the
    count of items dropped is logged).  Upper triangle masked (symmetric).
    """
    matrix = cooccurrence_matrix(pairs, a_col, b_col, weight_col)
    keep = matrix.sum(axis=1) >= min_total
    if not keep.all():
        log.info("cooccurrence_heatmap: %d item(s) below min_total=%s left out", int((~keep).sum()), min_total)
    matrix = matrix.loc[keep, keep]
    axis_title = {"zh": ui("agency", "zh"), "en": ui("agency", "en")}
    return heatmap(
        matrix,
        lang=lang,
        title_zh=title_zh,
        title_en=title_en,
        xlabel_zh=axis_title["zh"],
        xlabel_en=axis_title["en"],
        ylabel_zh=axis_title["zh"],
        ylabel_en=axis_title["en"],
        colorbar_zh=ui("cooccurrence", "zh"),
        colorbar_en=ui("cooccurrence", "en"),
        row_labels=labels,
        col_labels=labels,
        value_format=".0f",
        annotate=len(matrix) <= 15,
        cmap=cmap,
        size=size,
    )


def confusion_matrix_plot(
    matrix_df: pd.DataFrame,
    *,
    lang: str = "zh",
    labels: BilingualLabels | None = None,
    normalize: bool = False,
    title_zh: str | None = None,
    title_en: str | None = None,
    cmap: str = SEQUENTIAL_CMAP,
    size: tuple[float, float] = SQUARE,
) -> tuple[Figure, pd.DataFrame]:
    """Confusion matrix (rows = annotated/true class, columns = predicted class).

    ``normalize`` shows row shares (recall per true class) instead of counts;
    rows with no examples then stay 0.
    """
    counts = matrix_df.apply(pd.to_numeric, errors="raise")
    # One row and one column per class seen on either side (a class only ever predicted still gets its row).
    classes = list(dict.fromkeys([*counts.index, *counts.columns]))
    counts = counts.reindex(index=classes, columns=classes, fill_value=0)
    shown = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0) if normalize else counts
    return heatmap(
        shown,
        lang=lang,
        title_zh=title_zh,
        title_en=title_en,
        xlabel_zh=ui("predicted_label", "zh"),
        xlabel_en=ui("predicted_label", "en"),
        ylabel_zh=ui("true_label", "zh"),
        ylabel_en=ui("true_label", "en"),
        colorbar_zh=ui("row_share" if normalize else "count", "zh"),
        colorbar_en=ui("row_share" if normalize else "count", "en"),
        row_labels=labels,
        col_labels=labels,
        value_format=".2f" if normalize else ".0f",
        cmap=cmap,
        vmin=0,
        vmax=1 if normalize else None,
        size=size,
    )


def scatter(
    df: pd.DataFrame,
    x: str,
    y: str,
    label: str | None = None,
    hue: str | None = None,
    *,
    lang: str = "zh",
    title_zh: str | None = None,
    title_en: str | None = None,
    xlabel_zh: str | None = None,
    xlabel_en: str | None = None,
    ylabel_zh: str | None = None,
    ylabel_en: str | None = None,
    size: tuple[float, float] = SLIDE,
) -> tuple[Figure, pd.DataFrame]:
    """Scatter plot of ``y`` against ``x``; ``label`` names points, ``hue`` colours them.

    ``label``/``hue`` may be label bases.  Returned data: the plotted columns.
    """
    check_lang(lang)
    label_col = resolve_column(df, label, lang) if label else None
    hue_col = resolve_column(df, hue, lang) if hue else None
    columns = list(dict.fromkeys([c for c in (label_col, hue_col, x, y) if c]))
    data = df[columns].reset_index(drop=True)
    with house_style():
        fig, ax = plt.subplots(figsize=size)
        hue_order = list(dict.fromkeys(data[hue_col])) if hue_col else None
        sns.scatterplot(
            data=data,
            x=x,
            y=y,
            hue=hue_col,
            hue_order=hue_order,
            palette=_category_colors(len(hue_order)) if hue_order else None,
            color=None if hue_col else OKABE_ITO[4],
            s=70,
            ax=ax,
        )
        if label_col:
            for xv, yv, text in zip(data[x], data[y], data[label_col], strict=False):
                ax.annotate(str(text), (xv, yv), xytext=(4, 4), textcoords="offset points", fontsize="small")
        if hue_col:
            ax.legend(title=pick_text(lang, None, None, column=hue_col), frameon=False)
        _set_titles(
            ax,
            pick_text(lang, title_zh, title_en),
            pick_text(lang, xlabel_zh, xlabel_en, column=x),
            pick_text(lang, ylabel_zh, ylabel_en, column=y),
        )
        _finish(fig, lang)
    return fig, data
