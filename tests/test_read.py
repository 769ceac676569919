"""Read stage: encodings, formats, bad input, traditional -> simplified."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.core.errors import InputError
from analysis.core.text import AlignedText
from analysis.parse import simplify as simplify_module
from analysis.parse.read import DecodedText, decode_bytes, plausibility, read_document
from analysis.parse.simplify import to_simplified

FIXTURES = Path(__file__).parent / "fixtures" / "text"

SIMPLIFIED_NOTICE = (
    "宜昌市人民政府办公室关于印发2019年法治政府建设工作要点的通知\n"
    "各县市区人民政府，市政府各部门：\n"
    "一、深化行政审批制度改革，全面推行“一网通办”。（责任单位：市政务服务局）\n"
)
TRADITIONAL_NOTICE = (
    "臺中市政府法治政府建設實施方案\n"
    "一、健全依法決策機制，嚴格執行重大行政決策程序。\n"
    "責任單位：市司法局、市政府法制辦公室\n"
)
# Short texts are where statistical detectors go wrong; strict decoding plus plausibility must not.
SHORT_SIMPLIFIED = ["责任单位:市司法局", "法治政府建设", "牵头单位：市编办", "二〇二〇年工作计划"]
SHORT_TRADITIONAL = ["責任單位：市司法局", "法治政府建設", "實施方案", "臺北市政府"]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- encodings


def test_utf8_without_bom(tmp_path):
    result = read_document(write(tmp_path, "a.txt", SIMPLIFIED_NOTICE.encode("utf-8")))
    assert result == DecodedText(SIMPLIFIED_NOTICE, "utf-8", "txt")


def test_utf8_bom_is_removed(tmp_path):
    result = read_document(write(tmp_path, "a.txt", b"\xef\xbb\xbf" + SIMPLIFIED_NOTICE.encode("utf-8")))
    assert result.text == SIMPLIFIED_NOTICE
    assert not result.text.startswith("\ufeff")
    assert result.encoding == "utf-8-sig"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path, codec):
    bom = "\ufeff".encode(codec)
    result = read_document(write(tmp_path, "a.txt", bom + TRADITIONAL_NOTICE.encode(codec)))
    assert result.text == TRADITIONAL_NOTICE
    assert result.encoding == "utf-16"


def test_gb18030_document(tmp_path):
    result = read_document(write(tmp_path, "a.txt", SIMPLIFIED_NOTICE.encode("gb18030")))
    assert result.text == SIMPLIFIED_NOTICE
    assert result.encoding == "gb18030"


def test_big5_document(tmp_path):
    result = read_document(write(tmp_path, "a.txt", TRADITIONAL_NOTICE.encode("big5")))
    assert result.text == TRADITIONAL_NOTICE
    assert result.encoding == "big5"


@pytest.mark.parametrize("sentence", SHORT_SIMPLIFIED)
def test_short_gbk_text_is_not_mistaken_for_big5(sentence):
    assert decode_bytes(sentence.encode("gbk"), "short.txt").text == sentence


@pytest.mark.parametrize("sentence", SHORT_TRADITIONAL)
def test_short_big5_text_is_not_mistaken_for_gbk(sentence):
    result = decode_bytes(sentence.encode("big5"), "short.txt")
    assert result.text == sentence
    assert result.encoding == "big5"


def test_plausibility_prefers_the_right_decoding():
    data = TRADITIONAL_NOTICE.encode("big5")
    assert plausibility(data.decode("big5")) > plausibility(data.decode("gb18030", errors="replace"))


def test_newlines_are_normalised(tmp_path):
    result = read_document(write(tmp_path, "a.txt", "第一行\r\n第二行\r第三行\n".encode("gb18030")))
    assert result.text == "第一行\n第二行\n第三行\n"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("data", [b"", b"   \r\n\t  ", b"\x00\x00"])
def test_empty_file_is_an_input_error(tmp_path, data):
    path = write(tmp_path, "empty.txt", data)
    with pytest.raises(InputError, match="empty") as info:
        read_document(path)
    assert info.value.path == str(path)


def test_nul_bytes_mean_binary(tmp_path):
    path = write(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(InputError, match="binary") as info:
        read_document(path)
    assert str(path) in str(info.value)


def test_control_characters_mean_binary(tmp_path):
    path = write(tmp_path, "a.txt", bytes([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16]) * 20 + "法治".encode())
    with pytest.raises(InputError, match="binary"):
        read_document(path)


def test_undecodable_bytes(tmp_path):
    with pytest.raises(InputError):
        read_document(write(tmp_path, "a.txt", b"\x80\xff\x80\xff\x81\x30\xff" * 30))


def test_file_over_size_limit(tmp_path):
    path = write(tmp_path, "big.txt", SIMPLIFIED_NOTICE.encode("utf-8"))
    with pytest.raises(InputError, match="limit"):
        read_document(path, max_bytes=20)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_document(tmp_path / "nothing.txt")


# --------------------------------------------------------------------------- HTML


def test_html_page_main_text():
    result = read_document(FIXTURES / "shaoxing_2020_page.html")
    assert result.source_format == "html"
    lines = result.text.split("\n")
    # inline <span> stays inside its paragraph; <br> and blocks become line breaks
    assert "为深入推进依法行政，结合我市实际，制定本计划。" in lines
    assert "一、依法全面履行政府职能" in lines
    assert "1.深化“最多跑一次”改革。" in lines
    # table row cells stay on one line
    assert any("清理规范性文件" in line and "市司法局" in line for line in lines)
    for dropped in ("color: red", "var counter", "政务公开", "门户网站", "热点新闻", "ICP"):
        assert dropped not in result.text


def test_html_saved_as_txt_is_sniffed(tmp_path):
    page = "<html><body><div>嘉兴市司法局</div><p>法治政府建设年度报告</p><script>x()</script></body></html>"
    result = read_document(write(tmp_path, "page.txt", page.encode("gb18030")))
    assert result.source_format == "html"
    assert result.encoding == "gb18030"
    assert result.text.split("\n") == ["嘉兴市司法局", "法治政府建设年度报告"]


def test_html_declared_big5_charset(tmp_path):
    page = '<html><head><meta charset="big5"></head><body><p>法治政府建設實施方案</p></body></html>'
    result = read_document(write(tmp_path, "page.htm", page.encode("big5")))
    assert result.text == "法治政府建設實施方案"


# --------------------------------------------------------------------------- docx / pdf


def test_docx_paragraphs_and_table(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("嘉兴市2021年法治政府建设工作要点")
    document.add_paragraph("一、推进依法行政")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "任务"
    table.cell(0, 1).text = "责任单位"
    table.cell(1, 0).text = "清理规范性文件"
    table.cell(1, 1).text = "市司法局"
    document.add_paragraph("嘉兴市人民政府办公室")
    buffer = io.BytesIO()
    document.save(buffer)
    result = read_document(write(tmp_path, "plan.docx", buffer.getvalue()))
    assert result.source_format == "docx"
    assert result.encoding == "utf-8"
    lines = result.text.split("\n")
    assert lines[0] == "嘉兴市2021年法治政府建设工作要点"
    assert lines.index("清理规范性文件\t市司法局") < lines.index("嘉兴市人民政府办公室")


def test_corrupt_docx(tmp_path):
    with pytest.raises(InputError, match="docx"):
        read_document(write(tmp_path, "broken.docx", b"PK\x03\x04 not really a zip file"))


def _pdf_bytes(draw) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    draw(page)
    page.showPage()
    page.save()
    return buffer.getvalue()


def test_pdf_with_text_layer(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))

    def draw(page):
        page.setFont("STSong-Light", 12)
        page.drawString(72, 700, "湖州市2022年法治政府建设工作计划")
        page.drawString(72, 680, "一、加强组织领导。责任单位：市司法局")

    result = read_document(write(tmp_path, "plan.pdf", _pdf_bytes(draw)))
    assert result.source_format == "pdf"
    assert "湖州市2022年法治政府建设工作计划" in result.text
    assert "责任单位" in result.text


def test_scanned_pdf_without_text_layer(tmp_path):
    path = write(tmp_path, "scan.pdf", _pdf_bytes(lambda page: page.rect(50, 50, 400, 600, fill=1)))
    with pytest.raises(InputError, match="text layer") as info:
        read_document(path)
    assert info.value.path == str(path)


def test_corrupt_pdf(tmp_path):
    with pytest.raises(InputError, match="PDF"):
        read_document(write(tmp_path, "broken.pdf", b"%PDF-1.4\n garbage without objects"))


# --------------------------------------------------------------------------- traditional -> simplified


def test_to_simplified_keeps_spans():
    original = "法治政府建設實施方案\n責任單位：市司法局"
    aligned, changed = to_simplified(AlignedText.identity(original))
    assert aligned.text == "法治政府建设实施方案\n责任单位：市司法局"
    assert changed == 4  # 設 實 責 單
    assert len(aligned.text) == len(original)
    start = aligned.text.index("责任单位")
    a, b = aligned.original_span(start, start + 4)
    assert original[a:b] == "責任單位"


def test_to_simplified_leaves_simplified_text_alone():
    aligned = AlignedText.identity(SIMPLIFIED_NOTICE)
    result, changed = to_simplified(aligned)
    assert changed == 0
    assert result.text == SIMPLIFIED_NOTICE


def test_to_simplified_uses_phrases_for_context():
    # 乾 is simplified to 干 in 乾燥 but kept in the name 乾隆
    result, _ = to_simplified(AlignedText.identity("乾隆年間的乾燥氣候"))
    assert result.text == "乾隆年间的干燥气候"


def test_to_simplified_falls_back_per_character(monkeypatch):
    class LengthChangingConverter:
        """Converts a whole run into a longer string, single characters normally."""

        def phrase_starts(self, text: str, units: object = None) -> list[int]:
            return [1]  # as if a phrase began inside the run: the run is converted as a phrase

        def convert(self, text: str) -> str:
            if len(text) > 1:
                return text + "X"
            return {"門": "门", "戶": "户"}.get(text, text)

    maps = simplify_module._character_maps()  # the real character table, built before the converter is replaced
    monkeypatch.setattr(simplify_module, "_character_maps", lambda: maps)
    monkeypatch.setattr(simplify_module, "t2s_converter", lambda: LengthChangingConverter())
    result, changed = to_simplified(AlignedText.identity("門戶網站"))
    assert result.text == "门户網站"
    assert changed == 2


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".txt", ".html", ".pdf", ".docx", ""]))
def test_decode_bytes_raises_only_input_error(data, suffix):
    try:
        result = decode_bytes(data, f"random{suffix}")
    except InputError:
        return
    assert isinstance(result.text, str) and result.text.strip()
    assert "\r" not in result.text


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from("法治政府建設實施方案責任單位市司法局，。\n 1(一)"), max_size=60))
def test_to_simplified_is_one_to_one(text):
    result, changed = to_simplified(AlignedText.identity(text))
    assert len(result.text) == len(text)
    assert changed == sum(1 for a, b in zip(text, result.text, strict=False) if a != b)
    assert list(result.origin_start) == list(range(len(text)))


# --------------------------------------------------------------------------- bounded expansion, damaged lines

PLAN_LINES = [
    "东坡区2022年法治政府建设工作要点",
    "一、健全依法行政制度体系",
    "1.加强规范性文件备案审查，合法性审核率达到100%。(牵头单位:区司法局)",
    "2.严格执行重大行政决策程序，落实公众参与、专家论证、风险评估。(牵头单位:区政府办公室)",
    "二、严格规范公正文明执法",
    "3.全面推行行政执法公示制度、执法全过程记录制度。(牵头单位:区司法局)",
    "4.开展行政执法案卷评查，每年至少一次。(牵头单位:区司法局)",
    "三、强化对行政权力的制约和监督",
    "5.自觉接受人大监督和政协民主监督，认真办理建议提案。(牵头单位:区政府办公室)",
    "6.加强行政复议规范化建设，依法纠正违法或不当行政行为。(牵头单位:区司法局)",
]


def test_html_nested_deeper_than_the_limit_is_refused_naming_it(monkeypatch):
    from adversarial_inputs import deep_html

    monkeypatch.setattr("analysis.config.MAX_HTML_DEPTH", 200)
    with pytest.raises(InputError, match="nested deeper than the limit of 200 levels"):
        decode_bytes(deep_html(5000), "page.html")  # deep enough that a recursive walk overflows the stack
    decoded = decode_bytes(deep_html(150), "page.html")
    assert decoded.text == "一、总体要求"


def test_html_walk_keeps_block_and_cell_layout():
    markup = (
        "<html><body><div><h1>工作要点</h1><p>一、<b>总体</b>要求</p>"
        "<table><tr><td>任务</td><td>责任单位</td></tr></table><pre>a  b</pre></div></body></html>"
    )
    assert decode_bytes(markup.encode(), "p.html").text.split("\n") == [
        "工作要点",
        "一、总体要求",
        "任务\t责任单位",
        "a  b",
    ]


def test_docx_with_too_many_paragraphs_is_refused_before_parsing(monkeypatch):
    from adversarial_inputs import docx_with_paragraphs

    data = docx_with_paragraphs(200_001)
    assert len(data) < 100_000  # a small file that expands enormously
    with pytest.raises(InputError, match="more than 100,000 paragraphs"):
        decode_bytes(data, "bomb.docx")
    monkeypatch.setattr("analysis.config.MAX_DOCX_PARAGRAPHS", 50)
    with pytest.raises(InputError, match="more than 50 paragraphs"):
        decode_bytes(docx_with_paragraphs(51), "plan.docx")
    assert decode_bytes(docx_with_paragraphs(50), "plan.docx").text.count("\n") == 49


def test_docx_that_unpacks_too_large_is_refused_naming_the_limit(monkeypatch):
    from adversarial_inputs import docx_with_paragraphs

    monkeypatch.setattr("analysis.config.MAX_DOCX_UNPACKED_BYTES", 1_000_000)
    data = docx_with_paragraphs(30_000)  # about 1.6 MB of XML
    with pytest.raises(InputError, match=r"unpacks to 2 MB, over the limit of 1 MB"):
        decode_bytes(data, "big.docx")


def test_pdf_with_too_many_pages_is_refused_naming_the_limit(monkeypatch):
    from adversarial_inputs import pdf_with_pages

    monkeypatch.setattr("analysis.config.MAX_PDF_PAGES", 20)
    with pytest.raises(InputError, match=r"PDF has 21 pages, over the limit of 20"):
        decode_bytes(pdf_with_pages(21), "long.pdf")
    assert "page 20" in decode_bytes(pdf_with_pages(20), "long.pdf").text


def test_a_few_lines_in_another_encoding_are_decoded_and_recorded():
    lines = [line.encode("utf-8") for line in PLAN_LINES]
    lines[3] = PLAN_LINES[3].encode("gb18030")  # pasted from a GBK document
    lines[7] = PLAN_LINES[7].encode("gb18030")
    decoded = decode_bytes(b"\r\n".join(lines), "plan.txt")
    assert decoded.text == "\n".join(PLAN_LINES)
    assert decoded.encoding == "utf-8"
    assert [(r.kind, r.after) for r in decoded.repairs] == [("decoding", PLAN_LINES[3]), ("decoding", PLAN_LINES[7])]
    for repair in decoded.repairs:
        start, end = repair.raw_span
        assert decoded.text[start:end] == repair.after
        assert "decoded as gb18030" in repair.reason
    assert "line 4 " in decoded.repairs[0].reason


def test_a_line_of_broken_bytes_is_replaced_and_recorded():
    lines = [line.encode("utf-8") for line in PLAN_LINES]
    lines[5] = PLAN_LINES[5][:4].encode("utf-8") + b"\xff\xfe\xfa" + PLAN_LINES[5][4:].encode("utf-8")
    decoded = decode_bytes(b"\n".join(lines), "plan.txt")
    assert decoded.text.split("\n")[5] == PLAN_LINES[5][:4] + "\ufffd" * 3 + PLAN_LINES[5][4:]
    [repair] = decoded.repairs
    assert "line 6 is valid in no supported encoding" in repair.reason
    assert repair.before.count("\\xff") == 1


def test_many_odd_lines_are_still_refused():
    lines = [line.encode("gb18030") if i % 2 else line.encode("utf-8") for i, line in enumerate(PLAN_LINES * 5)]
    lines = [line + b"\xff\xff" if i % 3 == 0 else line for i, line in enumerate(lines)]
    with pytest.raises(InputError):
        decode_bytes(b"\n".join(lines), "plan.txt")


def test_control_character_class_is_unicode_cc_without_layout_controls():
    import unicodedata

    from analysis.parse.read import _CONTROL_CHARACTER

    expected = {chr(i) for i in range(0x110000) if unicodedata.category(chr(i)) == "Cc"} - set("\t\n\f\v")
    found = {chr(i) for i in range(0x110000) if _CONTROL_CHARACTER.fullmatch(chr(i))}
    assert found == expected


def _to_simplified_run_by_run(text: str) -> tuple[str, int]:
    """What to_simplified answers, by its definition: every run of hanzi converted on its own."""
    converter = simplify_module.t2s_converter()
    pieces = []
    for piece in re.split(f"({simplify_module._CJK_RUN.pattern})", text):
        converted = converter.convert(piece) if simplify_module._CJK_RUN.fullmatch(piece) else piece
        if len(converted) != len(piece):
            converted = "".join(c if len(c := converter.convert(ch)) == 1 else ch for ch in piece)
        pieces.append(converted)
    simplified = "".join(pieces)
    return simplified, sum(1 for old, new in zip(text, simplified, strict=True) if old != new)


_PHRASES = sorted(simplify_module.t2s_converter()._phrases)
_T2S_ALPHABET = st.sampled_from(
    [
        *_PHRASES[::5],
        *(p[:2] for p in _PHRASES[::7]),
        *(p[1:] for p in _PHRASES[1::7]),
        *"乾隆年間的乾燥氣候法治政府建設實施方案責任單位門戶網站",
        *"，。 \n1a（）-𠀀𪛖",
        *"\u346e\U0002005e",  # entries the numpy table cannot hold: to a character outside the BMP, from one
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_T2S_ALPHABET, max_size=40).map("".join))
def test_to_simplified_converts_as_run_by_run(text):
    aligned, changed = to_simplified(AlignedText.identity(text))
    assert (aligned.text, changed) == _to_simplified_run_by_run(text)


_SET_MEMBERS = "責單門乾\U00020000\u3400"
_SET_TEXTS = st.text(alphabet=st.sampled_from([*_SET_MEMBERS, *"责单门干\U0002a6d6\u4e00a，\ud800\udfff"]), max_size=12)


@settings(max_examples=400, deadline=None)
@given(_SET_TEXTS, st.sets(st.sampled_from(_SET_MEMBERS)))
def test_character_set_answers_as_frozenset(text, members):
    from analysis.core.text import CharacterSet, utf16_units

    assert CharacterSet(members).isdisjoint(text) == frozenset(members).isdisjoint(text)
    # the code units encoded once by the caller (None for a text with a lone surrogate) give the same answer
    assert CharacterSet(members).isdisjoint(text, utf16_units(text)) == frozenset(members).isdisjoint(text)


@settings(max_examples=300, deadline=None)
@given(_SET_TEXTS)
def test_character_map_counts_what_it_changes(text):
    from analysis.core.text import CharacterMap, utf16_units

    table = {ord("責"): "责", ord("單"): "单", ord("門"): "门", ord("\u3400"): "乾"}
    translated, changed = CharacterMap(table).translate_counted(text)
    assert translated == text.translate(table)
    assert changed == sum(1 for a, b in zip(text, translated, strict=True) if a != b)
    assert CharacterMap(table).translate_counted(text, utf16_units(text)) == (translated, changed)


def test_missing_and_irregular_paths_refused_as_exists_and_is_file_refuse_them(tmp_path):
    # read_document asks one stat for what Path.exists() and Path.is_file() answer
    from pathlib import Path

    regular = write(tmp_path, "a.txt", "法治政府建设。".encode())
    (tmp_path / "folder").mkdir()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "link.txt").symlink_to(regular)
    cases = [
        regular,
        tmp_path / "link.txt",
        tmp_path / "missing.txt",
        tmp_path / "folder",
        tmp_path / "dangling",
        Path(str(regular) + "/child"),  # a file used as a folder (ENOTDIR)
        Path(str(tmp_path / "nul") + "\x00.txt"),
    ]
    for path in cases:
        if not path.exists():
            expected = "file not found"
        elif not path.is_file():
            expected = "not a regular file"
        else:
            expected = None
        if expected is None:
            assert read_document(path).text.startswith("法治")
        else:
            with pytest.raises(InputError, match=expected):
                read_document(path)


@settings(max_examples=300, deadline=None)
@given(_SET_TEXTS)
def test_utf16_units_as_the_encoded_text(text):
    from analysis.core.text import utf16_units

    units = utf16_units(text)
    try:
        data = text.encode("utf-16-le")
    except UnicodeEncodeError:
        assert units is None
    else:
        assert units is not None and units.tobytes() == data and units.dtype.itemsize == 2
