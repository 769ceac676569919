"""Figures: Chinese glyphs render and embed, the lang switch works, save_figure writes all files."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import seaborn as sns
from PIL import Image
from pypdf import PdfReader

from analysis.publish import exports, plots

GLYPH_WARNING = re.compile(r"missing from font|Glyph \d+ .*missing", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _restore_rc():
    """Each test starts from matplotlib's defaults and leaves no figures behind."""
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        yield
    plt.close("all")


@pytest.fixture
def theme_counts() -> pd.DataFrame:
    """Long table with zh/en label columns, including a traditional-character place name."""
    return pd.DataFrame(
        {
            "theme": ["T01", "T02", "T03", "T01", "T02", "T03"],
            "theme_label_zh": ["依法全面履行政府职能", "行政执法", "行政决策"] * 2,
            "theme_label_en": ["Government functions", "Law enforcement", "Decision-making"] * 2,
            "place_label_zh": ["北京市"] * 3 + ["廣州市"] * 3,
            "place_label_en": ["Beijing"] * 3 + ["Guangzhou"] * 3,
            "n_tasks": [12, 7, 3, 5, 9, 4],
        }
    )


@pytest.fixture
def theme_labels() -> dict:
    codebook = pd.DataFrame(
        {
            "theme": ["T01", "T02", "T03"],
            "theme_label_zh": ["依法全面履行政府职能", "行政执法", "行政决策"],
            "theme_label_en": ["Government functions", "Law enforcement", "Decision-making"],
        }
    )
    return plots.bilingual_labels(codebook, "theme", "theme_label")


def _glyph_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if GLYPH_WARNING.search(str(w.message))]


def _render(fig, tmp_path: Path) -> None:
    fig.savefig(tmp_path / "probe.png")
    fig.savefig(tmp_path / "probe.pdf")


def test_glyph_warning_pattern_detects_a_real_missing_glyph(tmp_path):
    # Guard for the guard: DejaVu Sans alone cannot draw Chinese and must warn.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
            fig, ax = plt.subplots()
            ax.set_title("行政执法")
            fig.savefig(tmp_path / "boxes.png")
    assert _glyph_warnings(record)


def test_find_cjk_font_returns_truetype_font_covering_chinese():
    path = plots.find_cjk_font()
    assert path.is_file()
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), fontNumber=0, lazy=True)
    assert "glyf" in font
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "依法全面履行政府职能行政执法")


def test_missing_font_error_tells_user_to_run_make_fonts(monkeypatch, tmp_path):
    not_a_font = tmp_path / "nothing.ttf"
    not_a_font.write_bytes(b"not a font")
    monkeypatch.setenv(plots.CJK_FONT_ENV, str(not_a_font))
    plots.find_cjk_font.cache_clear()
    try:
        with pytest.raises(plots.MissingFontError, match="make fonts"):
            plots.find_cjk_font()
    finally:
        monkeypatch.delenv(plots.CJK_FONT_ENV)
        plots.find_cjk_font.cache_clear()


def test_house_style_renders_chinese_without_missing_glyphs(tmp_path):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        plots.use_house_style()
        fig, ax = plt.subplots(figsize=plots.SLIDE)
        ax.bar(["依法全面履行政府职能", "行政执法"], [3, -1])
        ax.set_title("法治政府建设任务数")
        _render(fig, tmp_path)
    assert _glyph_warnings(record) == []
    assert matplotlib.rcParams["pdf.fonttype"] == 42
    assert list(fig.get_size_inches()) == pytest.approx([10, 5.625])


def test_plot_functions_survive_user_resetting_seaborn_theme(tmp_path, theme_counts, theme_labels):
    plots.use_house_style()
    sns.set_theme()  # user code resets the font list to DejaVu Sans
    assert "WenQuanYi" not in str(matplotlib.rcParams["font.family"])
    matrix = pd.DataFrame([[5, 1, 0], [2, 7, 1], [0, 1, 4]], index=list(theme_labels), columns=list(theme_labels))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        figures = [
            plots.bar_chart(theme_counts, "theme_label", "n_tasks", hue="place_label", value_format=".0f"),
            plots.stacked_share_bar(theme_counts, "place_label", "theme_label", "n_tasks"),
            plots.confusion_matrix_plot(matrix, labels=theme_labels, normalize=True),
        ]
        sns.set_theme()  # and again between plotting and saving
        for i, (fig, data) in enumerate(figures):
            plots.save_figure(fig, data, f"fig_{i}", out_dir=tmp_path, caption="图1 各主题任务数")
    assert _glyph_warnings(record) == []


def test_saved_pdf_embeds_the_cjk_font_as_truetype(tmp_path, theme_counts):
    fig, data = plots.bar_chart(theme_counts, "theme_label", "n_tasks", hue="place_label", title_zh="各主题任务数")
    paths = plots.save_figure(fig, data, "tasks_by_theme", out_dir=tmp_path)
    reader = PdfReader(paths["pdf"])
    base_fonts, has_fontfile2 = [], False
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        base_fonts.append(str(font["/BaseFont"]))
        for descendant in font.get("/DescendantFonts", []):
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            has_fontfile2 |= "/FontFile2" in descriptor
    assert any("wenquanyi" in name.lower() or "wqy" in name.lower() for name in base_fonts), base_fonts
    assert has_fontfile2
    assert "行政执法" in reader.pages[0].extract_text()  # embedded TrueType keeps text searchable


def test_lang_switch_changes_title_axis_and_tick_labels(theme_counts):
    fig_zh, _ = plots.bar_chart(
        theme_counts,
        "theme_label",
        "n_tasks",
        hue="place_label",
        lang="zh",
        title_zh="各主题任务数",
        title_en="Tasks per theme",
    )
    fig_en, _ = plots.bar_chart(
        theme_counts,
        "theme_label",
        "n_tasks",
        hue="place_label",
        lang="en",
        title_zh="各主题任务数",
        title_en="Tasks per theme",
    )
    ax_zh, ax_en = fig_zh.axes[0], fig_en.axes[0]
    assert ax_zh.get_title() == "各主题任务数"
    assert ax_en.get_title() == "Tasks per theme"
    assert [t.get_text() for t in ax_zh.get_xticklabels()] == ["依法全面履行政府职能", "行政执法", "行政决策"]
    assert [t.get_text() for t in ax_en.get_xticklabels()] == [
        "Government functions",
        "Law enforcement",
        "Decision-making",
    ]
    assert (ax_zh.get_xlabel(), ax_zh.get_ylabel()) == ("主题", "任务数")
    assert (ax_en.get_xlabel(), ax_en.get_ylabel()) == ("Theme", "Number of tasks")
    assert [t.get_text() for t in ax_en.get_legend().get_texts()] == ["Beijing", "Guangzhou"]
    assert ax_en.get_legend().get_title().get_text() == "Place"


def test_heatmap_translates_matrix_keys_and_rejects_unlabelled_keys(theme_labels):
    matrix = pd.DataFrame([[1, 2], [3, 4]], index=["T01", "T02"], columns=["T02", "T03"])
    fig, data = plots.heatmap(
        matrix, lang="en", row_labels=theme_labels, col_labels=theme_labels, title_zh="矩阵", title_en="Matrix"
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Government functions", "Law enforcement"]
    assert list(data.columns[1:]) == ["Law enforcement", "Decision-making"]
    assert data.iloc[:, 1:].to_numpy().tolist() == [[1, 2], [3, 4]]
    with pytest.raises(KeyError, match="T99"):
        plots.heatmap(matrix.rename(index={"T02": "T99"}), row_labels=theme_labels)


def test_text_in_only_one_language_is_rejected(theme_counts):
    with pytest.raises(ValueError, match="en"):
        plots.bar_chart(theme_counts, "theme_label", "n_tasks", hue="place_label", lang="en", title_zh="各主题任务数")
    with pytest.raises(ValueError, match="lang"):
        plots.label_column("theme_label", "fr")
    assert plots.label_column("theme_label", "en") == "theme_label_en"


def test_bar_chart_refuses_duplicate_categories_instead_of_averaging(theme_counts):
    with pytest.raises(ValueError, match="one row per"):
        plots.bar_chart(theme_counts, "theme_label", "n_tasks")  # two places per theme, no hue


def test_save_figure_writes_png_300dpi_pdf_and_csv_of_plotted_data(tmp_path, theme_counts):
    fig, data = plots.stacked_share_bar(theme_counts, "place_label", "theme_label", "n_tasks", lang="en")
    # Shares computed by hand: Beijing 12/22, 7/22, 3/22.
    beijing = data[data["place_label_en"] == "Beijing"].iloc[0]
    assert beijing["Government functions"] == pytest.approx(12 / 22)
    assert beijing["Decision-making"] == pytest.approx(3 / 22)

    paths = plots.save_figure(fig, data, "theme_share_by_place", out_dir=tmp_path, caption="Figure 2")
    assert set(paths) == {"png", "pdf", "csv"}
    assert all(p.is_file() and p.parent == tmp_path for p in paths.values())
    with Image.open(paths["png"]) as image:
        dpi = image.info["dpi"]
        assert dpi[0] == pytest.approx(300, abs=1)
        assert image.size[0] >= 10 * 300 * 0.8  # a 10-inch slide figure at 300 dpi
    assert paths["pdf"].read_bytes().startswith(b"%PDF")
    assert paths["csv"].read_bytes().startswith(b"\xef\xbb\xbf")
    pd.testing.assert_frame_equal(exports.read_back_csv(paths["csv"]), data, check_dtype=False)

    captions = [t.get_text() for t in fig.texts if t.get_gid() == "analysis-caption"]
    assert len(captions) == 1 and "Figure 2" in captions[0] and "Source: " in captions[0]


def test_save_figure_twice_keeps_one_caption_and_rejects_bad_names(tmp_path, theme_counts):
    fig, data = plots.bar_chart(theme_counts[theme_counts.place_label_en == "Beijing"], "theme_label", "n_tasks")
    plots.save_figure(fig, data, "a", out_dir=tmp_path, source="北京市人民政府网站")
    plots.save_figure(fig, data, "a", out_dir=tmp_path, source="北京市人民政府网站")
    captions = [t.get_text() for t in fig.texts if t.get_gid() == "analysis-caption"]
    assert captions == ["数据来源：北京市人民政府网站"]
    with pytest.raises(ValueError, match="slug"):
        plots.save_figure(fig, data, "Tasks by theme!", out_dir=tmp_path)


def test_timeline_sorts_dates_with_mixed_precision_and_names_lanes(tmp_path):
    deadlines = pd.DataFrame(
        {
            "deadline": ["2025-12-31", "2021-06", "2022-12-31"],
            "doc_label_zh": ["乙", "甲", "甲"],
            "doc_label_en": ["B", "A", "A"],
            "task_zh": ["全面建成法治政府", "建立权责清单", "完成执法改革"],
            "task_en": ["complete", "list", "reform"],
        }
    )
    fig, data = plots.timeline(deadlines, "deadline", "task", "doc_label", lang="en")
    assert data["task_en"].tolist() == ["list", "reform", "complete"]
    assert data["deadline"].iloc[0] == pd.Timestamp("2021-06-01")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["B", "A"]
    with pytest.raises(ValueError, match="no valid 'deadline'"):
        plots.timeline(deadlines.assign(deadline=["2025-12-31", "长期坚持", "2022"]), "deadline")


def test_cooccurrence_matrix_counts_both_orders_symmetrically():
    pairs = pd.DataFrame({"lead": ["市司法局", "市公安局", "市司法局"], "co": ["市公安局", "市司法局", "市市场监管局"]})
    matrix = plots.cooccurrence_matrix(pairs, "lead", "co")
    assert matrix.loc["市司法局", "市公安局"] == 2
    assert matrix.loc["市公安局", "市司法局"] == 2
    assert matrix.loc["市市场监管局", "市司法局"] == 1
    assert matrix.loc["市公安局", "市市场监管局"] == 0
    fig, _data = plots.cooccurrence_heatmap(pairs, "lead", "co", lang="zh")
    assert fig.axes[0].get_xlabel() == "部门"


def test_scatter_labels_points_in_chosen_language():
    frame = pd.DataFrame(
        {
            "n_tasks": [10, 20],
            "n_targets": [3, 8],
            "place_label_zh": ["北京市", "上海市"],
            "place_label_en": ["Beijing", "Shanghai"],
        }
    )
    fig, data = plots.scatter(frame, "n_tasks", "n_targets", label="place_label", lang="zh")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["北京市", "上海市"]
    assert fig.axes[0].get_xlabel() == "任务数"
    assert list(data.columns) == ["place_label_zh", "n_tasks", "n_targets"]


def test_long_caption_wraps_between_words_and_keeps_every_character(theme_counts):
    fig, _ = plots.bar_chart(
        theme_counts[theme_counts.place_label_en == "Beijing"], "theme_label", "n_tasks", lang="en", size=plots.HALF
    )
    caption = "Figure 3. Tasks per theme in the Beijing rule-of-law government implementation plan 2021-2025"
    plots.add_caption(fig, caption, "Beijing Municipal People's Government website", lang="en")
    text = next(t.get_text() for t in fig.texts if t.get_gid() == "analysis-caption")
    assert "\n" in text  # a 5-inch figure cannot hold this on one line
    words = " ".join(text.split("\n")).split()
    expected = (caption + "  Source: Beijing Municipal People's Government website").split()
    assert words == expected  # no word cut in two, nothing lost


# --------------------------------------------------------------------------- one test per fault class (issue 14)

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def _lab(colour: str) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour, written out here so the test does not trust the code's own maths."""
    import matplotlib.colors

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in matplotlib.colors.to_rgb(colour))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


@pytest.mark.parametrize("n", range(2, len(plots.CATEGORY_COLOURS) + 1))
def test_category_colours_are_distinct_for_every_count_used(n):
    # 11 = ten level-1 themes + uncoded; 7 target types; 3 assignment statuses.
    colours = plots._category_colors(n)
    assert len(set(colours)) == n
    labs = [_lab(c) for c in colours]
    closest = min(
        sum((a - b) ** 2 for a, b in zip(labs[i], labs[j], strict=True)) ** 0.5
        for i in range(n)
        for j in range(i + 1, n)
    )
    assert closest > 25, f"two of {n} category colours are only {closest:.1f} apart in CIELAB"


def test_more_categories_than_distinct_colours_is_refused():
    with pytest.raises(ValueError, match="distinct colours"):
        plots._category_colors(len(plots.CATEGORY_COLOURS) + 1)


def test_stacked_bars_of_eleven_themes_use_eleven_colours():
    long = pd.DataFrame(
        {"plan": ["甲"] * 11, "theme_label_zh": [f"主题{i}" for i in range(11)], "n_tasks": range(1, 12)}
    )
    fig, _ = plots.stacked_share_bar(long, "plan", "theme_label", "n_tasks")
    faces = {tuple(container.patches[0].get_facecolor()) for container in fig.axes[0].containers}
    assert len(faces) == 11


def test_every_heatmap_row_is_labelled():
    rows = [f"子主题{i:02d}" for i in range(54)]
    matrix = pd.DataFrame([[i % 3, (i + 1) % 4] for i in range(54)], index=rows, columns=["甲市 2017", "乙区 2018"])
    fig, _ = plots.heatmap(matrix, lang="zh")
    shown = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert shown == rows


def test_heatmap_column_labels_are_not_slanted_and_numbers_fit_their_cells():
    matrix = pd.DataFrame([[0.1234, 0.5], [0.25, 1.0]], index=["A", "B"], columns=["依法全面履行政府职能", "行政执法"])
    fig, _ = plots.heatmap(matrix, lang="zh", value_format=".2f", size=plots.HALF)
    ax = fig.axes[0]
    assert all(t.get_rotation() in (0, 90) for t in ax.get_xticklabels())
    renderer = fig.canvas.get_renderer()
    cell_width = ax.get_window_extent(renderer).width / matrix.shape[1]
    numbers = [t for t in ax.texts if re.fullmatch(r"[\d.]+", t.get_text())]
    assert len(numbers) == 4
    assert all(t.get_window_extent(renderer).width < cell_width for t in numbers)


def test_count_axes_have_whole_number_ticks():
    counts = pd.DataFrame({"plan": ["甲市 2017", "乙区 2018", "丙县 2019"], "n_documents": [1, 2, 1]})
    fig, _ = plots.bar_chart(counts, "plan", "n_documents", lang="zh")
    ticks = [t for t in fig.axes[0].get_yticks() if 0 <= t <= 2]
    assert ticks and all(float(t).is_integer() for t in ticks)
    fig, _ = plots.heatmap(pd.DataFrame([[0, 1], [2, 1]], index=["a", "b"], columns=["c", "d"]), lang="en")
    colorbar = fig.axes[0].collections[0].colorbar
    assert all(float(t).is_integer() for t in colorbar.get_ticks())


def test_plotted_shares_show_their_denominators():
    at_100 = pd.DataFrame(
        {
            "plan": ["Xi 2018", "Tian 2017", "Bei 2019"],
            "at_100_share": [1.0, 0.25, float("nan")],
            "n_at_100": [2, 3, 0],
            "n_pct_targets": [2, 12, 0],
        }
    )
    fig, _ = plots.bar_chart(
        at_100, "plan", "at_100_share", lang="en", horizontal=True, count="n_at_100", denominator="n_pct_targets"
    )
    texts = [t.get_text() for t in fig.axes[0].findobj(matplotlib.text.Text)]
    assert "100% (2/2)" in texts and "25% (3/12)" in texts and "n/a" in texts, texts
    long = pd.DataFrame({"plan": ["甲"] * 2 + ["乙"] * 2, "type": ["比率", "时限"] * 2, "n_targets": [2, 0, 5, 7]})
    fig, data = plots.stacked_share_bar(long, "plan", "type", "n_targets", lang="zh")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "n = 2" in texts and "n = 12" in texts
    assert data["n"].tolist() == [2, 12]


def _figure_text(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def test_english_labels_in_the_reference_contain_no_chinese():
    from analysis.core.labels import load_labels

    table = load_labels()
    chinese = table[table["label_en"].map(lambda text: bool(CJK.search(text)))]
    # Proper names of the 纲要 may appear in notes, never in an English label.
    assert chinese.empty, chinese[["kind", "key", "label_en"]].to_string()


def test_english_figure_of_document_types_and_sections_has_no_chinese():
    from analysis.core.labels import label

    types = pd.DataFrame({"doc_type": ["实施方案", "工作要点", "创建方案"], "n_documents": [2, 1, 1]})
    types["doc_type_label_zh"] = types["doc_type"]
    types["doc_type_label_en"] = [label("doc_type", t, "en") for t in types["doc_type"]]
    fig, _ = plots.bar_chart(types, "doc_type_label", "n_documents", lang="en", title_zh="类型", title_en="Types")
    plots.add_caption(fig, None, None, "en")
    assert [t for t in _figure_text(fig) if CJK.search(t)] == []


def test_a_view_with_nothing_to_show_writes_no_file(tmp_path):
    from analysis.publish.notebooks import save_variants

    zeros = pd.DataFrame([[0, 0], [0, 0]], index=["甲市 2017", "乙区 2018"], columns=["a", "b"])
    fig, data = plots.heatmap(zeros, lang="zh")
    with pytest.raises(plots.NothingToShowError):
        plots.save_figure(fig, data, "all_zero", out_dir=tmp_path)
    empty = pd.DataFrame({"plan": [], "n_pairs": []})
    saved = save_variants(
        lambda lang: plots.bar_chart(empty, "plan", "n_pairs", lang=lang, title_zh="空", title_en="Empty"),
        "nothing_here",
        "zh",
        tmp_path,
    )
    assert saved == {}
    assert list(tmp_path.iterdir()) == []


def test_confusion_matrix_has_a_row_for_a_class_only_ever_predicted(theme_labels):
    # T03 was predicted once but is never the annotated class: it still gets its (empty) row.
    matrix = pd.DataFrame([[3, 1, 1], [0, 4, 0]], index=["T01", "T02"], columns=["T01", "T02", "T03"])
    fig, data = plots.confusion_matrix_plot(matrix, labels=theme_labels, lang="en")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "Government functions",
        "Law enforcement",
        "Decision-making",
    ]
    assert data.shape == (3, 4)  # label column + three classes
