"""Anchored regex scans give exactly what a full ``finditer`` gives; literal screens never hide a match."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from analysis.core.text import anchored_finditer, fold, line_matches, may_match, required_literals
from analysis.parse import repair

_PIECES = st.sampled_from(
    [
        "县政府",
        "办",
        "发",
        "〔",
        "〕",
        "[",
        "]",
        "﹝",
        "2017",
        "20171",
        "5",
        "12",
        "号",
        "，",
        " ",
        "\n",
        "印发",
        "(",
        ")",
    ]
)


def _spans(matches):
    return [(m.start(), m.end(), m.groups()) for m in matches]


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=40), st.booleans())
def test_anchored_scan_of_document_numbers_equals_finditer(pieces, window):
    text = "".join(pieces)
    for pattern in (repair._DOC_NUMBER, repair._DOC_NUMBER_NO_SERIAL, repair._DOC_NUMBER_LONG):
        fast = anchored_finditer(pattern, text, repair._DOC_NUMBER_OPEN, repair._DOC_NUMBER_REACH, window=window)
        assert _spans(fast) == _spans(pattern.finditer(text))


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(["市司法局", "  ", "\t", "20170315", "201731", "123", "\n", "(", ")", "印发", "号"]),
        max_size=30,
    )
)
def test_line_scan_of_signature_dates_equals_finditer(pieces):
    text = "".join(pieces)
    fast = line_matches(repair._SIGNATURE_DATE, text, repair._DIGIT_RUN)
    assert _spans(fast) == _spans(repair._SIGNATURE_DATE.finditer(text))


@pytest.mark.parametrize("window", [False, True])
def test_anchored_scan_finds_matches_between_and_after_anchors(window):
    pattern = re.compile(r"[a-z]{1,3}#\d")
    text = "xx abc#1 zz#2#3 q#x ab#9"
    fast = anchored_finditer(pattern, text, re.compile("#"), 3, window=window)
    assert [m.group() for m in fast] == [m.group() for m in pattern.finditer(text)] == ["abc#1", "zz#2", "ab#9"]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab1 ", max_size=30), st.booleans())
def test_anchored_scan_with_an_anchor_that_can_overlap_itself_equals_finditer(text, window):
    pattern = re.compile(r"b{0,2}aa1")  # its anchor "aa" starts at most 2 characters in
    fast = anchored_finditer(pattern, text, re.compile("aa"), 2, window=window)
    assert _spans(fast) == _spans(pattern.finditer(text))


@settings(max_examples=800, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "2016",
                "2020",
                "20162020",
                "2017",
                "6",
                "12",
                "9",
                "年",
                "月",
                "日",
                "号",
                "—",
                "-",
                "至",
                ".",
                " ",
                "\n",
                "印发",
                ")",
                "第",
            ]
        ),
        max_size=30,
    )
)
def test_year_anchored_scans_of_ranges_and_dates_equal_finditer(pieces):
    text = "".join(pieces)
    for pattern, anchor, reach, offsets in (
        (repair._YEAR_RANGE, repair._YEAR_MARK, repair._YEAR_RANGE_REACH, repair._YEAR_RANGE_OFFSETS),
        (repair._DATE_NO_DAY_MARK, repair._YEAR_MARK, repair._DATE_YEAR_REACH, repair._DATE_YEAR_OFFSETS),
        (repair._DATE_NO_YEAR_MARK, repair._MONTH_MARK, repair._DATE_MONTH_REACH, repair._DATE_MONTH_OFFSETS),
        (repair._DATE_NO_MONTH_MARK, repair._YEAR_MARK, repair._DATE_YEAR_REACH, repair._DATE_YEAR_OFFSETS),
    ):
        expected = _spans(pattern.finditer(text))
        assert _spans(anchored_finditer(pattern, text, anchor, reach, window=True)) == expected
        assert _spans(anchored_finditer(pattern, text, anchor, reach, window=True, offsets=offsets)) == expected


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab#1 ", max_size=30))
def test_anchored_scan_at_the_offsets_its_pattern_promises_equals_finditer(text):
    pattern = re.compile(r"[ab]{1,2}#1")  # "#" stands 1 or 2 characters in
    fast = anchored_finditer(pattern, text, re.compile("#"), 3, window=True, offsets=(1, 2))
    assert _spans(fast) == _spans(pattern.finditer(text))


def test_anchored_scan_tries_only_the_offsets_given():
    pattern = re.compile(r"[ab]{1,2}#1")
    assert _spans(anchored_finditer(pattern, "ab#1", re.compile("#"), 3, window=True, offsets=(1,))) == [(1, 4, ())]


# --------------------------------------------------------------------------- required literals (screens)

_SCREENED = [
    r"(?<![一二三])[一二三]{1,4}届[一二三、]{0,12}中?全会",
    r"第?(?<![一二三百])[一二三百]{1,4}届[一二三百]{1,4}次(?:全体)?(?:会议|全会)",
    r"(?<=[”》])[一二两]{1,2}(?:件|个|方面)",
    r"前[一二\d]{1,3}(?:位|名)的?(?:分别)?(?:是|为)",
    r"(?:列|排)?(?:第一|首)(?:单位)?(?:为|是)牵头(?=单位)",
    r"(?:甲乙|丙)+丁?(?!戊)",
    r"(?i:ab)c|[xy]z",
    r"(?i)ICP\s*(备|证)|公网安备",
    r"(?i)(?-i:AB)c",
    r"(?i)kis[σx]",
    r"ΑΣ|(?<=Σ)a",
    r"(?i)(?<=ς)ab",
    r"[İıſ]k",
]


@settings(max_examples=600, deadline=None)
@given(
    pattern=st.sampled_from(_SCREENED),
    text=st.text(
        alphabet="一二三百两届次全会议中件个方面前位名的是为列排第首单位牵头甲乙丙丁戊abcxyzAB”》、1"
        "ICPicp备证公网安 KkSsſİıΣσςΑα",
        max_size=30,
    ),
    fold_case=st.booleans(),
)
@example(pattern=r"ΑΣ|(?<=Σ)a", text="ΑΣ", fold_case=True)  # folded: ας, no σ
@example(pattern=r"(?i)kis[σx]", text="KISς", fold_case=True)
@example(pattern=r"[İıſ]k", text="ſK", fold_case=True)
def test_required_literals_never_screen_out_a_match(pattern: str, text: str, fold_case: bool) -> None:
    compiled = re.compile(pattern)
    if not may_match(required_literals(compiled, fold_case=fold_case), fold(text) if fold_case else text):
        assert compiled.search(text) is None


def test_required_literals_read_from_the_pattern() -> None:
    required = required_literals(re.compile(r"(?<=[”》])[一二]{1,2}(?:件|方面)"))
    assert required is not None and set(required) == {("”", "》"), ("一", "二"), ("件", "方面")}
    assert not may_match(required, "一件") and may_match(required, "”一件")
    assert required_literals(re.compile(r"\d+|[a-z]")) is None  # nothing required by every branch
    assert required_literals(re.compile("abc", re.IGNORECASE)) is None  # case ignored, text not folded
    assert required_literals(re.compile("[abcdefghijklmnopq]x")) == (("x",),)  # too big a class to screen


@pytest.mark.parametrize(
    "regex, groups",
    [
        (r"(?i)ICP\s*备|公网安备", (("icp", "公网安备"),)),
        (r"^(?=.{0,40}$).*更多\s*>>", (("更多",), (">>",))),
        (r"(网站)?首页", (("首页",),)),
        (r"[·•]\s*\S", (("·", "•"),)),
        (r"(?i:Σ)x", (("x",),)),  # a cased non-ASCII letter ignoring case requires nothing known
        (r"(?i:Σ)", None),
        (r"(?i)kisσ", (("kis",),)),
        (r"ΑΣ", (("α",),)),  # Σ lowers to σ or ς by its neighbours: nothing known
        (r"a(b|)c", (("a",), ("c",))),
        (r"(ab)?c?", None),
        (r"^[\s|\-]+$", None),
        (r"(?:x\d){2,}", (("x",),)),
        (r"(?i)(?-i:AB)c", (("ab",), ("c",))),
        (r"(?i)[Aa]b", (("a",), ("b",))),
    ],
)
def test_required_literals_folded_of_hand_written_patterns(regex, groups):
    assert required_literals(re.compile(regex), fold_case=True) == groups


def test_fold_covers_every_character_re_matches_to_an_ascii_letter_ignoring_case():
    everything = "".join(map(chr, range(0x110000)))
    for letter in string.ascii_lowercase:
        for ch in set(re.findall("(?i)" + letter, everything)):
            assert fold(ch) == letter, (letter, hex(ord(ch)))


def test_fold_of_every_character_but_capital_sigma_ignores_its_neighbours():
    """A required literal, folded alone, is what the folded text holds where the literal stood."""
    for code in range(0x110000):
        ch = chr(code)
        if ch != "\u03a3":
            assert fold("Α" + ch + ".") == "α" + fold(ch) + ".", hex(code)
            assert fold(". " + ch + "Α") == ". " + fold(ch) + "α", hex(code)
    assert fold("ΑΣ.") != "α" + fold("Σ") + "."  # why Σ is left out
