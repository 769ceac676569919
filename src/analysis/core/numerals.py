"""Chinese numerals read as numbers (cn2an), shared by the target stage and the comparisons."""

from __future__ import annotations

import re
from functools import lru_cache

# Full-width digits and punctuation folded to ASCII before numbers are read.
FULLWIDTH_TO_ASCII = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "％": "%",
        "（": "(",
        "）": ")",
        "，": ",",
        "；": ";",
        "：": ":",
        "～": "~",
        "－": "-",
        "．": ".",
        "／": "/",
        "\u3000": " ",
        "\xa0": " ",
    }
)

ARABIC_NUMBER = r"\d+(?:\.\d+)?"
"""An Arabic numeral, with an optional decimal part."""
_ARABIC = re.compile(ARABIC_NUMBER)


def _small_numerals() -> dict[str, float]:
    """Chinese numerals 0-99 in their usual written forms (零/〇, 一…九, 两, 十, 十一, 二十, 二十一 …).

    What cn2an reads them as (``tests/test_numerals.py`` checks every entry
    against cn2an), without importing it for the headings and counts that
    make up nearly all numerals in a plan.
    """
    digits = dict(zip("一二三四五六七八九", range(1, 10), strict=True))
    table: dict[str, float] = {"零": 0.0, "〇": 0.0, "两": 2.0, "十": 10.0}
    for name, value in digits.items():
        table[name] = float(value)
        table["十" + name] = float(10 + value)
        table[name + "十"] = float(10 * value)
        for unit_name, unit in digits.items():
            table[name + "十" + unit_name] = float(10 * value + unit)
    return table


_SMALL_NUMERALS = _small_numerals()


@lru_cache(maxsize=4096)  # a pure function of short strings that recur (一, 二十, 100 …)
def chinese_number(token: str) -> float:
    """Convert an Arabic or Chinese numeral (两, 二十, 一百, 5, 2.5) to float."""
    token = token.strip().translate(FULLWIDTH_TO_ASCII)
    if _ARABIC.fullmatch(token):
        return float(token)
    if token in _SMALL_NUMERALS:
        return _SMALL_NUMERALS[token]
    if token in ("百", "千", "万"):
        token = "一" + token
    import cn2an  # imported on first use (~0.1 s): most numbers are Arabic or below one hundred

    try:
        return float(cn2an.cn2an(token, "smart"))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a number: {token!r}") from exc
