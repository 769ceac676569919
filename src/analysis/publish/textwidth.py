"""Width of text as a monospace terminal, a spreadsheet column or a tick label sees it."""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Width of ``text`` in monospace columns: wide (CJK) characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
