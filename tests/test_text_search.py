"""Anchored regex scans give exactly what a full ``finditer`` gives."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core.text import anchored_finditer, line_matches
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
    for pattern, anchor, reach in (
        (repair._YEAR_RANGE, repair._YEAR_MARK, repair._YEAR_RANGE_REACH),
        (repair._DATE_NO_DAY_MARK, repair._YEAR_MARK, repair._DATE_YEAR_REACH),
        (repair._DATE_NO_YEAR_MARK, repair._MONTH_MARK, repair._DATE_MONTH_REACH),
        (repair._DATE_NO_MONTH_MARK, repair._YEAR_MARK, repair._DATE_YEAR_REACH),
    ):
        fast = anchored_finditer(pattern, text, anchor, reach, window=True)
        assert _spans(fast) == _spans(pattern.finditer(text))
