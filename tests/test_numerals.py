"""Chinese numerals: the table of small numerals reads them as cn2an does."""

from __future__ import annotations

import cn2an
import pytest

from analysis.core.numerals import _SMALL_NUMERALS, chinese_number


def test_every_small_numeral_reads_as_cn2an_reads_it():
    assert len(_SMALL_NUMERALS) == 112  # 零 〇 两 十, 一…九, 十一…十九, 一十…九十, 一十一…九十九
    for token, value in _SMALL_NUMERALS.items():
        assert value == float(cn2an.cn2an(token, "smart")), token


@pytest.mark.parametrize(
    ("token", "value"),
    [("三", 3), ("十二", 12), ("四十五", 45), ("两", 2), ("一百", 100), ("百", 100), ("二〇一七", 2017), ("2.5", 2.5)],
)
def test_chinese_number_reads_small_and_large_numerals(token, value):
    assert chinese_number(token) == value


def test_not_a_number_raises():
    with pytest.raises(ValueError, match="not a number"):
        chinese_number("若干")
