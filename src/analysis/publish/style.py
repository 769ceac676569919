"""The house style of every figure: sizes, colour-blind-safe palettes, a CJK font that embeds in PDF.

:func:`use_house_style` applies seaborn's theme and *then* the CJK font
(``sns.set_theme`` resets the font list); plot functions build their figures
inside :func:`house_style` (an ``rc_context``), so a later ``sns.set_theme()``
in user code cannot bring back empty boxes.  :func:`find_cjk_font` finds an
installed CJK font with TrueType (``glyf``) outlines, preferring WenQuanYi
Micro Hei (``make fonts`` installs it); PDF text is embedded as TrueType
(``pdf.fonttype 42``), selectable and searchable.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import matplotlib
import matplotlib.pyplot as plt
import seaborn as sns
from cycler import cycler
from fontTools.ttLib import TTFont
from matplotlib import font_manager

from analysis.core.errors import AnalysisError

log = logging.getLogger(__name__)

# Figure sizes in inches: slides are 16:9.
SLIDE: tuple[float, float] = (10.0, 5.625)
"""Full-width 16:9 slide figure."""
HALF: tuple[float, float] = (5.0, 5.625)
"""Half a slide (two figures side by side)."""
SQUARE: tuple[float, float] = (5.625, 5.625)
"""Square figure, e.g. for matrices."""
TALL: tuple[float, float] = (10.0, 8.0)
"""Full width, taller: long category lists (many themes or agencies)."""

# Okabe & Ito (2008) colour-blind-safe qualitative palette (black last).
OKABE_ITO: tuple[str, ...] = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#F0E442",  # yellow
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#000000",  # black
)
SEQUENTIAL_CMAP = "viridis"
"""Perceptually uniform, colour-blind-safe map for counts and shares (``cividis`` also fine)."""

FIGURE_DPI = 300
CJK_PROBE = "法治政府建设依法全面履行职能行政执法"
"""Characters a usable CJK font must cover."""

PREFERRED_CJK_FAMILIES: tuple[str, ...] = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "SimHei",
    "Microsoft YaHei",
)
"""Families tried first, in order; any other font with glyf outlines covering
:data:`CJK_PROBE` is accepted after them."""

KNOWN_CJK_FONT_FILES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # Debian fonts-wqy-zenhei
)
CJK_FONT_ENV = "ANALYSIS_CJK_FONT"
"""Environment variable naming a font file to use instead of searching."""


class MissingFontError(AnalysisError):
    """No installed font can draw Chinese labels."""


# ---------------------------------------------------------------------------
# Fonts and style
# ---------------------------------------------------------------------------


def _has_truetype_outlines_and_cjk(path: Path) -> bool:
    """True if the first face of ``path`` has glyf outlines and covers :data:`CJK_PROBE`."""

    try:
        font = TTFont(str(path), fontNumber=0, lazy=True)
    except Exception:
        return False
    try:
        if "glyf" not in font:  # CFF-based OpenType embeds badly with pdf.fonttype 42
            return False
        cmap = font.getBestCmap() or {}
        return all(ord(ch) in cmap for ch in CJK_PROBE)
    finally:
        font.close()


def _candidate_font_files() -> list[Path]:
    """Font files worth trying, best first."""
    override = os.environ.get(CJK_FONT_ENV)
    if override:
        return [Path(override)]
    ranked: list[tuple[int, str, Path]] = []
    for entry in font_manager.fontManager.ttflist:
        rank = (
            PREFERRED_CJK_FAMILIES.index(entry.name)
            if entry.name in PREFERRED_CJK_FAMILIES
            else len(PREFERRED_CJK_FAMILIES)
        )
        ranked.append((rank, entry.fname, Path(entry.fname)))
    candidates = [p for p in KNOWN_CJK_FONT_FILES if p.is_file()]
    candidates += [path for _, _, path in sorted(ranked, key=lambda r: (r[0], r[1]))]
    return list(dict.fromkeys(candidates))


@lru_cache(maxsize=1)
def find_cjk_font() -> Path:
    """Find, register and return an installed CJK font with TrueType outlines.

    Order: ``$ANALYSIS_CJK_FONT``; WenQuanYi Micro Hei / Zen Hei at Debian's
    paths; fonts known to matplotlib, preferred families first.  A font counts
    only if it has ``glyf`` outlines (Noto CJK's CFF outlines embed badly as
    TrueType in PDF) and covers common Chinese characters.  The file is
    registered with ``font_manager.fontManager.addfont`` so matplotlib can use
    it even if its font cache predates the install.
    """
    for path in _candidate_font_files():
        if path.is_file() and _has_truetype_outlines_and_cjk(path):
            font_manager.fontManager.addfont(str(path))
            log.debug("using CJK font %s", path)
            return path
    where = f" ({CJK_FONT_ENV}={os.environ[CJK_FONT_ENV]!r} is not such a font)" if os.environ.get(CJK_FONT_ENV) else ""
    raise MissingFontError(
        "No CJK font with TrueType outlines is installed, so Chinese labels would render as "
        f"empty boxes{where}. Run `make fonts` (scripts/install_fonts.sh installs Debian's "
        "fonts-wqy-microhei), then restart the Python kernel."
    )


def cjk_font_family() -> str:
    """Family name matplotlib uses for :func:`find_cjk_font`'s file."""
    return font_manager.FontProperties(fname=str(find_cjk_font())).get_name()


def font_rc() -> dict[str, Any]:
    """rcParams for the CJK font and vector output (re-apply after ``sns.set_theme``)."""
    return {
        # Concrete family names (not "sans-serif"), so a later sns.set_theme()
        # resetting font.sans-serif cannot change already-created text.
        "font.family": [cjk_font_family(), "DejaVu Sans"],
        "axes.unicode_minus": True,
        "pdf.fonttype": 42,  # embed TrueType: selectable, searchable Chinese in PDF
        "ps.fonttype": 42,
        "svg.fonttype": "path",  # SVG viewers need no CJK font
        "savefig.dpi": FIGURE_DPI,
    }


def house_rc() -> dict[str, Any]:
    """All rcParams of the house style: seaborn whitegrid theme, sizes, palette, font."""

    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("notebook"))
    rc.update(
        {
            "font.size": 12,
            "axes.titlesize": 16,
            "axes.labelsize": 13,
            "xtick.labelsize": 11,
            "ytick.labelsize": 11,
            "legend.fontsize": 11,
            "legend.title_fontsize": 12,
            "figure.figsize": SLIDE,
            "figure.dpi": 100,
            "axes.prop_cycle": cycler(color=list(OKABE_ITO)),
            "image.cmap": SEQUENTIAL_CMAP,
        }
    )
    rc.update(font_rc())
    return rc


def use_house_style() -> None:
    """Apply the house style globally (for ad hoc plots in notebooks).

    ``sns.set_theme`` first, then the CJK font: set_theme resets the font list.
    """
    rc = house_rc()
    sns.set_theme(style="whitegrid", context="notebook", palette=list(OKABE_ITO))
    matplotlib.rcParams.update(cast(Any, rc))


@contextmanager
def house_style() -> Iterator[None]:
    """Temporarily apply the house style (used by every plot function and save_figure)."""
    with plt.rc_context(cast(Any, house_rc())):
        yield
