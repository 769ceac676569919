"""Segmentation: domain terms stay whole, punctuation goes, rjieba gives the same tokens."""

from __future__ import annotations

from pathlib import Path

import jieba
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.config import RAW_DIR
from analysis.core import segment
from analysis.core.errors import ReferenceDataError
from analysis.core.segment import (
    STOPWORDS,
    content_words,
    content_words_of_normalised,
    get_tokenizer,
    load_domain_dictionary,
    normalise,
    normalise_each,
    tokenize,
    tokenize_for_search,
    tokenize_with_jieba,
    tokenize_with_rjieba,
)

# Sentences written for the genre: numbering variants, full-width characters,
# quotes around reform slogans, dates, percentages, damaged text.
SENTENCES = [
    "全面推行行政执法三项制度，落实执法全过程记录和重大执法决定法制审核。",
    "（一）深入推进“放管服”改革，全面推开“证照分离”，实现“一网通办”。",
    "1.严格落实重大行政决策程序，健全合法性审查机制。",
    "推行“双随机一公开”监管，完善行刑衔接机制。",
    "加强规范性文件备案审查，开展公平竞争审查。",
    "落实行政机关负责人出庭应诉制度，出庭应诉率达到100%。",
    "各级党政主要负责人履行推进法治建设第一责任人职责。",
    "建立权力清单、责任清单、负面清单动态调整机制。",
    "到2020年底，PM2.5浓度下降5.5%，优良天数比例达到80%以上。",
    "２０２１年１２月３１日前完成ＡＰＰ上线，开通１２３４５热线。",
    "实施《法治政府建设实施纲要（2021-2025年）》，编制2015-2020年规划。",
    "充分发挥政府法律顾问和公职律师作用。",
    "政务公开工作要点：依申请公开答复率达95%。",
    "行政复议委员会审议疑难复杂案件，推进行政复议体制改革。",
    "②完善行政裁量权基准制度；③推行柔性执法。",
    "电话：0728-5222442，网址 http://www.example.gov.cn/zwgk/index.html",
    "市司法局、市政府办公室(牵头单位)负责",
    "深化“互联网+政务服务”和“互联网+监管”。",
    "学法用法制度化，落实领导干部学法和年终述法。",
    "以案释法，落实“谁执法谁普法”普法责任制。",
    "疫情防控期间依法做好应急处置。",
    "法治政府建设年度报告于每年3月1日前向社会公开。",
    "\u3000\u3000加强行政应诉工作\xa0\xa0（责任单位：各县区政府）",
    "依法行政能力不断提高，法治政府基本建成",
]


def test_domain_terms_stay_whole() -> None:
    tokens = tokenize(SENTENCES[0])
    assert "行政执法三项制度" in tokens and "执法全过程记录" in tokens and "重大执法决定法制审核" in tokens
    assert {"放管服", "证照分离", "一网通办"} <= set(tokenize(SENTENCES[1]))
    assert {"重大行政决策", "合法性审查"} <= set(tokenize(SENTENCES[2]))
    assert {"双随机一公开", "行刑衔接"} <= set(tokenize(SENTENCES[3]))
    assert {"规范性文件", "备案审查", "公平竞争审查"} <= set(tokenize(SENTENCES[4]))
    assert "第一责任人" in tokenize("落实第一责任人职责") and "法治建设第一责任人" in tokenize(SENTENCES[6])


def test_every_dictionary_term_is_one_token_in_context() -> None:
    split = [e.word for e in load_domain_dictionary() if e.word.lower() not in tokenize(f"要求{e.word}落实")]
    assert split == []


def test_plain_jieba_would_split_them() -> None:
    """The dictionary matters: jieba's own dictionary breaks these terms."""
    plain = jieba.Tokenizer()
    assert "行政执法三项制度" not in plain.lcut(SENTENCES[0])
    assert "双随机一公开" not in plain.lcut(SENTENCES[3])


def test_punctuation_and_whitespace_dropped_numbers_kept() -> None:
    tokens = tokenize(SENTENCES[8])
    assert "2020" in tokens and "80%" in tokens and "5.5%" in tokens and "pm2.5" in tokens
    assert not any(t in tokens for t in ("，", "。", "%", " ", ".", "“"))
    assert tokenize("（）　、；：“”……") == []
    assert tokenize("（一）") == ["一"]
    # full-width digits and letters are normalised
    assert "2021" in tokenize(SENTENCES[9]) and "app" in tokenize(SENTENCES[9])
    assert "行政应诉" in tokenize(SENTENCES[22])


def test_search_mode_adds_inner_words() -> None:
    tokens = tokenize_for_search("全面推行行政执法三项制度")
    # jieba's search mode adds the known 2- and 3-character words inside long words
    assert "行政执法三项制度" in tokens and {"行政", "执法", "三项", "制度"} <= set(tokens)


def test_stopwords_are_function_words_not_topics() -> None:
    assert {"的", "和", "与", "等", "进一步"} <= STOPWORDS
    assert not STOPWORDS & {"复议", "执法", "决策", "监督", "培训", "考核", "加强", "完善", "法治"}


def test_content_words_are_the_tokens_without_stopwords_and_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    for sentence in SENTENCES:
        expected = [t for t in tokenize(sentence) if t not in STOPWORDS and not t.isdigit()]
        assert content_words(sentence) == expected
        assert content_words(sentence) == expected  # again, from the per-token memo
    monkeypatch.setattr(segment, "_rjieba_available", lambda: False)
    assert content_words(SENTENCES[8]) == [t for t in tokenize(SENTENCES[8]) if not t.isdigit() and t not in STOPWORDS]


def test_tokenizer_is_private_and_cached() -> None:
    assert get_tokenizer() is get_tokenizer()
    assert get_tokenizer() is not jieba.dt
    tokenize("全面推行行政执法三项制度")
    assert "行政执法三项制度" not in jieba.dt.FREQ  # the global tokenizer is untouched


def test_bad_dictionary_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "dict.txt"
    path.write_text("# comment\n法治政府 3000 nz\n依法行政 nz 3000\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=r"dict.txt: line 3: expected 'word freq tag'"):
        load_domain_dictionary(path)
    path.write_text("法治政府 3000 nz\n法治政府 10 n\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="line 2: '法治政府' already listed on line 1"):
        load_domain_dictionary(path)


def test_custom_dictionary(tmp_path: Path) -> None:
    path = tmp_path / "dict.txt"
    path.write_text("三张清单 5000 nz\n", encoding="utf-8")
    assert "三张清单" in tokenize("建立三张清单制度", path)


def _corpus() -> list[str]:
    sentences = list(SENTENCES)
    for file in sorted(RAW_DIR.glob("*.txt")):  # the project's own captures, if present
        for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
            sentences += [s for s in line.replace("；", "。").split("。") if s.strip()]
    return sentences


def test_rjieba_gives_identical_tokens() -> None:
    pytest.importorskip("rjieba")
    corpus = _corpus()
    different = [s for s in corpus if tokenize_with_rjieba(s) != tokenize_with_jieba(s)]
    assert different == []
    assert all(tokenize(s) == tokenize_with_jieba(s) for s in corpus)  # the default path is the fast one
    assert "行政执法三项制度" in tokenize_with_rjieba(SENTENCES[0])
    # the one bridged difference: jieba-rs keeps "2015-2020" whole
    assert tokenize_with_rjieba("2015-2020年") == tokenize_with_jieba("2015-2020年") == ["2015", "2020", "年"]


def test_content_tokens_are_those_with_a_letter_or_number_in_every_script() -> None:
    import unicodedata

    from analysis.core.segment import is_content_token

    disagreements = [
        hex(cp) for cp in range(0x110000) if is_content_token(chr(cp)) != (unicodedata.category(chr(cp))[0] in "LN")
    ]
    assert disagreements == []
    assert is_content_token("出庭应诉率") and is_content_token("2.5") and not is_content_token("——、")


def _words_of_each(texts: list[str]) -> tuple[list[str], list[int]]:
    """:func:`content_words` text by text: the definition the bulk cut must give."""
    per_text = [content_words(text) for text in texts]
    return [w for words in per_text for w in words], [len(words) for words in per_text]


# Han runs, domain terms, Latin/digit runs that jieba-rs keeps whole, punctuation, every kind of line end.
_PIECES = [
    "行政执法",
    "三项制度",
    "法治政府",
    "复议",
    "的",
    "和",
    "2015-2020",
    "PM2.5",
    "ab",
    "12",
    "。",
    "，",
    "“",
    " ",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\u3000",
    "%",
    "-",
    ".",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join), max_size=8))
def test_content_words_of_many_texts_equal_text_by_text(texts: list[str]) -> None:
    normalised = [normalise(t) for t in texts]
    assert content_words_of_normalised(normalised) == _words_of_each(texts)


def test_content_words_of_many_texts_in_several_cuts_and_without_rjieba(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [normalise(s) for s in SENTENCES] + ["", "\r", "复议\r"]
    monkeypatch.setattr(segment, "_TEXTS_CUT_AT_ONCE", 4)
    assert content_words_of_normalised(texts) == _words_of_each(texts)
    with_separator = [*texts, "执法\0复议"]  # a text holding the separator: cut one by one
    assert content_words_of_normalised(with_separator) == _words_of_each(with_separator)
    monkeypatch.setattr(segment, "_rjieba_available", lambda: False)
    assert content_words_of_normalised(texts) == _words_of_each(texts)


# Characters whose normalising depends on their neighbours: final sigma (and the cased or case-ignorable
# characters around it), combining marks that compose with a character before them, Hangul jamo that
# compose, full-width and compatibility forms, the joining \0 itself, and plain Han text.
_NORMALISING_NEIGHBOURS = "ΣσςΑaA\u0301\u0308\u0327e\u00ad'.:\u1100\u1161\u11a8\uac00ＡＢ１ﬁ\u2126K\u212a\0 \n行政复议"


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=_NORMALISING_NEIGHBOURS, max_size=8) | st.text(max_size=8), max_size=8))
def test_normalise_each_equals_normalise_text_by_text(texts: list[str]) -> None:
    assert normalise_each(texts) == [normalise(text) for text in texts]


def test_normalise_each_of_a_final_sigma_next_to_the_joint() -> None:
    texts = ["ΑΣ", "Σ", "aΣ\u0301", "ΣA", "", "x\0Σ", "\u0301b"]
    assert (
        normalise_each(texts)
        == [normalise(text) for text in texts]
        == ["ας", "σ", "aς\u0301", "σa", "", "x\0σ", "\u0301b"]
    )
