"""Assertions shared by several test modules."""

from __future__ import annotations

from analysis.core.text import AlignedText


def assert_origin_consistent(aligned: AlignedText) -> None:
    """The origin map covers every character, runs forward, and stays inside the original text."""
    assert len(aligned.origin_start) == len(aligned.text) == len(aligned.origin_end)
    starts = list(aligned.origin_start)
    assert starts == sorted(starts)
    for start, end in zip(aligned.origin_start, aligned.origin_end, strict=False):
        assert 0 <= start <= end <= aligned.original_length
