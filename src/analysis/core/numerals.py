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


@lru_cache(maxsize=4096)  # a pure function of short strings that recur (一, 二十, 100 …)
def chinese_number(token: str) -> float:
    """Convert an Arabic or Chinese numeral (两, 二十, 一百, 5, 2.5) to float."""
    token = token.strip().translate(FULLWIDTH_TO_ASCII)
    if _ARABIC.fullmatch(token):
        return float(token)
    if token in ("百", "千", "万"):
        token = "一" + token
    import cn2an  # imported on first use: it takes ~0.1 s, and most numbers are Arabic

    try:
        return float(cn2an.cn2an(token, "smart"))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a number: {token!r}") from exc
