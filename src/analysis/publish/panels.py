"""Figures made of several panels: the plan × theme matrix with its margins and the 纲要 reference row,
and small multiples (one panel per plan).  Same house style, languages and return value as
:mod:`analysis.publish.plots`: ``(fig, data drawn)``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.publish.plots import (
    CATEGORY_COLOURS,
    SEQUENTIAL_CMAP,
    TICK_LABEL_WIDTH,
    _horizontal_column_labels,
    _shorten,
    check_lang,
    house_style,
    translate,
)

Labels = Mapping[Hashable, Mapping[str, str]]


def coverage_panels(
    shares: pd.DataFrame,
    tasks_per_plan: pd.Series,
    plans_per_theme: pd.Series,
    reference: pd.Series,
    *,
    lang: str = "zh",
    row_labels: Labels,
    col_labels: Labels,
    reference_label: Mapping[str, str],
    title: Mapping[str, str],
    size: tuple[float, float] = (11.0, 7.0),
) -> tuple[Figure, pd.DataFrame]:
    """Plan × theme shares (rows and columns as given, e.g. clustering order) with margins.

    Top: the reference row (the 纲要's measure shares per theme); right: tasks
    per plan (the denominator of each row); bottom: plans with a task on the
    theme.  Returned data: one row per plan plus the reference row, the
    shares, and the margins.
    """
    check_lang(lang)
    rows = translate(list(shares.index), row_labels, lang)
    columns = translate(list(shares.columns), col_labels, lang)
    height = max(size[1], 3.2 + 0.42 * len(rows))
    with house_style():
        fig = plt.figure(figsize=(size[0], height))
        grid = fig.add_gridspec(
            3, 2, height_ratios=[1, max(len(rows), 1), 1.3], width_ratios=[len(columns), 2.2], hspace=0.08, wspace=0.03
        )
        top = fig.add_subplot(grid[0, 0])
        main = fig.add_subplot(grid[1, 0], sharex=top)
        right = fig.add_subplot(grid[1, 1], sharey=main)
        bottom = fig.add_subplot(grid[2, 0], sharex=main)
        values = shares.to_numpy(dtype=float)
        top_value = float(max(np.nanmax(values) if values.size else 0.0, 0.01))
        image = main.imshow(values, aspect="auto", cmap=SEQUENTIAL_CMAP, vmin=0, vmax=top_value)
        top.imshow(
            reference.to_numpy(dtype=float)[None, :], aspect="auto", cmap=SEQUENTIAL_CMAP, vmin=0, vmax=top_value
        )
        for ax, matrix in ((main, values), (top, reference.to_numpy(dtype=float)[None, :])):
            for (i, j), value in np.ndenumerate(matrix):
                if not np.isnan(value):
                    light = value > 0.55 * top_value
                    ax.text(
                        j, i, f"{value:.0%}", ha="center", va="center", fontsize=8, color="black" if light else "white"
                    )
        main.set_yticks(range(len(rows)), [_shorten(r, TICK_LABEL_WIDTH) for r in rows])
        top.set_yticks([0], [reference_label[lang]])
        top.tick_params(axis="x", labelbottom=False, bottom=False)
        main.tick_params(axis="x", labelbottom=False, bottom=False)
        for ax in (top, main, bottom, right):
            ax.grid(False)
        right.barh(range(len(rows)), tasks_per_plan.to_numpy(dtype=float), color=CATEGORY_COLOURS[4])
        for i, n in enumerate(tasks_per_plan.to_numpy()):
            right.text(n, i, f" {int(n)}", va="center", fontsize=8)
        right.tick_params(axis="y", labelleft=False)
        right.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=3))
        right.set_xlabel("任务数" if lang == "zh" else "Tasks")
        right.set_xlim(0, max(float(tasks_per_plan.max() or 1), 1) * 1.35)
        bottom.bar(range(len(columns)), plans_per_theme.to_numpy(dtype=float), color=CATEGORY_COLOURS[4])
        bottom.set_ylim(0, len(rows) + 0.5)
        bottom.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, nbins=3))
        bottom.set_ylabel("文件数" if lang == "zh" else "Plans", fontsize="small")
        bottom.invert_yaxis()
        _horizontal_column_labels(fig, bottom, columns)
        bottom.set_xticks(range(len(columns)), [t.get_text() for t in bottom.get_xticklabels()])
        colorbar = fig.colorbar(image, ax=[top, main, bottom, right], fraction=0.025, pad=0.02)
        colorbar.ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        colorbar.set_label("占本文件任务比例" if lang == "zh" else "Share of the plan's tasks")
        top.set_title(title[lang])
        _finish_without_tight_layout(fig, lang)
    data = pd.DataFrame(values, index=pd.Index(rows, name="plan"), columns=columns)
    data.loc[reference_label[lang]] = reference.to_numpy(dtype=float)
    data["n_tasks"] = [*tasks_per_plan.to_numpy(), np.nan]
    margin = pd.DataFrame(
        [[*plans_per_theme.to_numpy(), np.nan]], columns=data.columns, index=["n_documents with a task"]
    )
    return fig, pd.concat([data, margin]).reset_index(names="plan")


def _finish_without_tight_layout(fig: Figure, lang: str) -> Figure:
    """Panels with a shared colour bar lay themselves out; draw once in the house style."""
    from analysis.publish import plots

    plots._FIGURE_LANG[fig] = lang
    fig.draw_without_rendering()
    return fig


def small_multiples(
    profiles: pd.DataFrame,
    *,
    lang: str = "zh",
    title: Mapping[str, str],
    columns: int = 3,
    panel_size: tuple[float, float] = (3.6, 3.4),
) -> tuple[Figure, pd.DataFrame]:
    """One panel per plan: its theme shares (bars) against the other plans' mean share (marks).

    ``profiles``: :func:`analysis.compare.theme_views.theme_against_others`.
    Every panel has the same theme order and share axis, and says how many
    tasks the plan has and how many plans the mean is over.
    """
    check_lang(lang)
    plans = list(dict.fromkeys(profiles["doc_id"]))
    n_rows = math.ceil(len(plans) / columns)
    themes = list(dict.fromkeys(profiles[f"theme_label_{lang}"]))
    with house_style():
        fig, axes = plt.subplots(
            n_rows,
            columns,
            figsize=(panel_size[0] * columns + 2.0, panel_size[1] * n_rows + 0.8),
            sharex=True,
            sharey=True,
            squeeze=False,
        )
        top = max(float(profiles[["task_share", "others_share"]].max().max()), 0.05)
        for index, ax in enumerate(axes.flat):
            if index >= len(plans):
                ax.set_visible(False)
                continue
            rows = profiles[profiles["doc_id"] == plans[index]]
            positions = np.arange(len(rows))
            ax.barh(
                positions,
                rows["task_share"],
                color=CATEGORY_COLOURS[4],
                height=0.7,
                label="本文件" if lang == "zh" else "This plan",
            )
            ax.scatter(
                rows["others_share"],
                positions,
                marker="|",
                s=160,
                color=CATEGORY_COLOURS[5],
                zorder=3,
                label="其他文件平均" if lang == "zh" else "Mean of the other plans",
            )
            first = rows.iloc[0]
            ax.set_title(
                f"{_shorten(str(first[f'doc_label_{lang}']), 44)}\n"
                + (f"{first[f'doc_type_label_{lang}']}; " if f"doc_type_label_{lang}" in rows.columns else "")
                + (
                    f"{int(first['n_tasks'])}项任务；对比{int(first['n_others'])}个文件"
                    if lang == "zh"
                    else f"{int(first['n_tasks'])} tasks; vs {int(first['n_others'])} other plans"
                ),
                fontsize="small",
            )
            ax.set_yticks(positions, [_shorten(t, 30) for t in themes])
            ax.set_xlim(0, top * 1.1)
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
            ax.tick_params(axis="y", labelsize="x-small")
            ax.tick_params(axis="x", labelsize="x-small")
        axes.flat[0].invert_yaxis()  # shared y axis: first theme on top in every panel
        handles, names = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, -0.01))
        fig.suptitle(title[lang])
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        _finish_without_tight_layout(fig, lang)
    data = profiles[
        [
            "doc_id",
            f"doc_label_{lang}",
            "theme",
            f"theme_label_{lang}",
            "task_share",
            "others_share",
            "n_tasks",
            "n_others",
        ]
    ]
    return fig, data.reset_index(drop=True)
