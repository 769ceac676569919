"""Codebook keywords in task texts: longest match first, without overlaps (one pass finds every occurrence).

Shared by the theme classifier's keyword layer and rule, its evaluation
baselines and the predictor used by ``extract`` (numpy and pyahocorasick only).
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick
import numpy as np

from analysis.core.codebook import LEVEL1_CODES, Codebook
from analysis.core.segment import normalise

HITS_CACHE_SIZE = 4096  # texts whose keyword hits are kept (bounded, as the token caches are)


class KeywordMatcher:
    """Finds codebook keywords in a text, longest match first, without overlaps.

    Longest-first matching keeps 行政复议 from also counting as 复议, so a code
    with short generic keywords does not win by double counting.  One
    Aho-Corasick pass (over many texts at once, a walk of the keywords' trie
    as arrays) finds every occurrence of every keyword; the greedy rule
    then takes them keyword by keyword (``(-len, keyword)`` order), each
    keyword's occurrences from left to right, skipping any that touches a
    character already taken.
    """

    def __init__(self, codebook: Codebook) -> None:
        self.codebook = codebook
        owners: dict[str, list[str]] = {}
        for code in codebook.codes:
            for keyword in codebook.keywords(code):
                owners.setdefault(keyword, []).append(code)
        self.owners = owners
        self.keywords = sorted(owners, key=lambda k: (-len(k), k))

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the automaton and the derived tables (rebuilt on first use)."""
        return {k: v for k, v in self.__dict__.items() if k in ("codebook", "owners", "keywords")}

    @functools.cached_property
    def _automaton(self) -> Any:
        """Aho-Corasick automaton over the keywords; each keyword's value is its rank in :attr:`keywords`."""
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for rank, keyword in enumerate(self.keywords):
            automaton.add_word(keyword, rank)
        automaton.make_automaton()
        return automaton

    @functools.cached_property
    def _keyword_themes(self) -> dict[str, tuple[str, ...]]:
        """Keyword -> the distinct level-1 themes it counts for (its codes, subthemes mapped to their parent)."""
        return {
            keyword: tuple(dict.fromkeys(self.codebook.parent(c) or c for c in codes))
            for keyword, codes in self.owners.items()
        }

    @functools.cached_property
    def _keyword_columns(self) -> dict[str, tuple[int, ...]]:
        """Keyword -> the positions in :data:`LEVEL1_CODES` of the themes it counts for."""
        return {k: tuple(LEVEL1_CODES.index(t) for t in themes) for k, themes in self._keyword_themes.items()}

    @functools.lru_cache(maxsize=HITS_CACHE_SIZE)  # noqa: B019 - bounded; matchers live as long as the codebook
    def hits(self, text: str) -> tuple[str, ...]:
        """Keywords found in ``text`` (one entry per non-overlapping occurrence)."""
        return self._hits(normalise(text))

    def _hits(self, text: str) -> tuple[str, ...]:
        """:meth:`hits` of a text already normalised."""
        if not self.keywords:
            return ()
        # (end, rank) in order of end; sorted by rank (stable), each keyword's occurrences stay left to right.
        occurrences = sorted(self._automaton.iter(text), key=_SECOND)
        taken = bytearray(len(text))
        found: list[tuple[int, str]] = []
        keywords = self.keywords
        for end, rank in occurrences:
            keyword = keywords[rank]
            start = end + 1 - len(keyword)
            if taken.find(1, start, end + 1) == -1:
                taken[start : end + 1] = b"\x01" * len(keyword)
                found.append((start, keyword))
        found.sort()
        return tuple([k for _, k in found])

    def distinct_counts(self, text: str) -> list[int]:
        """Per level-1 theme (:data:`LEVEL1_CODES` order), how many distinct keywords of it ``text`` holds."""
        return self._distinct_counts(self.hits(text))

    def _distinct_counts(self, hits: Sequence[str]) -> list[int]:
        counts = [0] * len(LEVEL1_CODES)
        columns = self._keyword_columns
        for keyword in set(hits):
            for column in columns[keyword]:
                counts[column] += 1
        return counts

    def distinct_counts_of(self, texts: Sequence[str]) -> np.ndarray:
        """:meth:`distinct_counts` of each of ``texts``, given already normalised: an n x len(LEVEL1_CODES) array.

        One pass over the texts joined by a character no keyword holds (a few
        hundred thousand characters at a time).  The greedy rule of :meth:`hits`
        takes every occurrence that overlaps no other; among overlapping ones, an occurrence's fate depends
        only on those it overlaps, so each cluster of overlapping occurrences
        is decided on its own (:func:`_greedy_in_clusters`).  Only which
        keywords a text holds matters here, not where.
        """
        counts = np.zeros((len(texts), len(LEVEL1_CODES)), dtype=np.int64)
        if not self.keywords or not len(texts):
            return counts
        if any(_JOIN in keyword for keyword in self.keywords):
            for row, text in enumerate(texts):
                counts[row] = self._distinct_counts(self._hits(text))
            return counts
        # A few hundred thousand characters at a time: the walk's arrays stay small and are reused.
        before = np.concatenate(([0], np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1)))
        start = 0
        while start < len(texts):
            # Up to the first text that brings the chunk to _CHUNK_CHARACTERS (at least one text), else all.
            end = int(np.searchsorted(before, before[start] + _CHUNK_CHARACTERS, side="left"))
            end = min(max(end, start + 1), len(texts))
            self._add_counts(counts[start:end], texts[start:end], before[start:end] - before[start])
            start = end
        return counts

    def _add_counts(self, counts: np.ndarray, texts: Sequence[str], starts_of_texts: np.ndarray) -> None:
        """:meth:`distinct_counts_of` of ``texts`` (which start at ``starts_of_texts`` once joined) added to ``counts``."""
        starts, ends, ranks = self._occurrences(_JOIN.join(texts))
        if not len(starts):
            return
        taken = _greedy_in_clusters(starts, ends, ranks)
        rows = np.searchsorted(starts_of_texts, starts[taken], side="right") - 1
        held = np.sort(rows * len(self.keywords) + ranks[taken])
        held = held[np.concatenate(([True], held[1:] != held[:-1]))]  # each keyword of a text once
        held_rows, held_ranks = np.divmod(held, len(self.keywords))
        # Each held keyword adds one to every theme it counts for.
        first, n_columns, columns = self._rank_columns
        repeats = n_columns[held_ranks]
        offsets = np.arange(int(repeats.sum())) - np.repeat(np.cumsum(repeats) - repeats, repeats)
        cells = (
            np.repeat(held_rows, repeats) * len(LEVEL1_CODES) + columns[np.repeat(first[held_ranks], repeats) + offsets]
        )
        counts += np.bincount(cells, minlength=counts.size).reshape(counts.shape)

    def _occurrences(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every occurrence of every keyword in ``text``: first and last position (inclusive) and keyword rank.

        Those the Aho-Corasick automaton finds, in another order: walked in the keywords' trie
        (:class:`_KeywordTrie`, array operations) when it has one.
        """
        if self._trie is not None:
            return self._trie.occurrences(text)
        found = list(self._automaton.iter(text))
        pairs = np.fromiter(itertools.chain.from_iterable(found), dtype=np.int64, count=2 * len(found)).reshape(-1, 2)
        ends, ranks = pairs[:, 0], pairs[:, 1]
        return ends + 1 - self._keyword_lengths[ranks], ends, ranks

    @functools.cached_property
    def _trie(self) -> _KeywordTrie | None:
        return _KeywordTrie.of(self.keywords)

    @functools.cached_property
    def _keyword_lengths(self) -> np.ndarray:
        """Each keyword's length, by rank."""
        return np.array([len(k) for k in self.keywords], dtype=np.int64)

    @functools.cached_property
    def _rank_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:attr:`_keyword_columns` by rank, flat: where each keyword's columns start, how many, all the columns."""
        per_keyword = [self._keyword_columns[k] for k in self.keywords]
        n_columns = np.array([len(c) for c in per_keyword], dtype=np.int64)
        first = np.cumsum(n_columns) - n_columns
        columns = np.array([c for cs in per_keyword for c in cs], dtype=np.int64)
        return first, n_columns, columns

    def theme_scores(self, text: str) -> tuple[dict[str, int], dict[str, set[str]]]:
        """Per level-1 theme: keyword occurrences and the distinct keywords found.

        A keyword counts for the code that lists it and, for a subtheme, for its parent.
        """
        counts = dict.fromkeys(LEVEL1_CODES, 0)
        distinct: dict[str, set[str]] = {code: set() for code in LEVEL1_CODES}
        keyword_themes = self._keyword_themes
        for keyword in self.hits(text):
            for theme in keyword_themes[keyword]:
                counts[theme] += 1
                distinct[theme].add(keyword)
        return counts, distinct

    def subtheme_counts(self, text: str, theme: str) -> dict[str, int]:
        counts = dict.fromkeys(self.codebook.children(theme), 0)
        for keyword in self.hits(text):
            for code in self.owners[keyword]:
                if code in counts:
                    counts[code] += 1
        return counts


@dataclass(frozen=True, eq=False)
class _KeywordTrie:
    """The keywords' trie as arrays, walked from every position of a text at once.

    Characters are numbered (0: in no keyword); ``step[node * width + character]`` is the
    node a character leads to (-1: none; node 0 is the root), ``pairs[first * width + second]``
    the node of a two-character prefix, and ``ranks[node]`` the rank of the keyword a node
    spells (-1: none).  Each round takes the positions still inside some keyword one
    character further; the automaton's scan looked each character up in a node's children
    from C, the same steps here are array reads.
    """

    number: np.ndarray
    width: int
    step: np.ndarray
    pairs: np.ndarray
    ranks: np.ndarray
    shortest: int
    longest: int

    @classmethod
    def of(cls, keywords: Sequence[str]) -> _KeywordTrie | None:
        """The trie of ``keywords`` (in rank order), or None if its tables would be too large (or no keywords)."""
        if not keywords or not all(keywords):
            return None
        characters = sorted(set("".join(keywords)))
        width = len(characters) + 1
        node = {p: i for i, p in enumerate(["", *sorted({k[:n] for k in keywords for n in range(1, len(k) + 1)})])}
        if (len(node) + width) * width > _TRIE_CELLS:
            return None
        number = np.zeros(ord(characters[-1]) + 2, dtype=np.int32)  # above the last character: 0
        number[[ord(c) for c in characters]] = np.arange(1, width)
        code = {c: i for i, c in enumerate(characters, start=1)}
        numbers = np.int16 if len(node) <= np.iinfo(np.int16).max else np.int32  # small tables: fewer cache misses
        step = np.full(len(node) * width, -1, dtype=numbers)
        pairs = np.full(width * width, -1, dtype=numbers)
        for prefix, i in node.items():
            if prefix:
                step[node[prefix[:-1]] * width + code[prefix[-1]]] = i
            if len(prefix) == 2:
                pairs[code[prefix[0]] * width + code[prefix[1]]] = i
        ranks = np.full(len(node), -1, dtype=np.int64)
        ranks[[node[k] for k in keywords]] = np.arange(len(keywords))
        return cls(number, width, step, pairs, ranks, min(map(len, keywords)), max(map(len, keywords)))

    def occurrences(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every occurrence of every keyword in ``text``: first and last position (inclusive), keyword rank."""
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        # Zeros after the text: a walk ends there (no keyword holds character 0).
        characters = np.zeros(len(codes) + self.longest, dtype=np.int32)
        # Characters above the last in the table read its last entry, 0 ("clip"; unbuffered, unlike "raise").
        np.take(self.number, codes, out=characters[: len(codes)], mode="clip")
        firsts, lasts, ranks = [], [], []
        if self.shortest == 1:  # keywords of one character: the root's step
            nodes = self.step[characters[: len(codes)]]
            at = np.flatnonzero(nodes >= 0)
            at = at[self.ranks[nodes[at]] >= 0]
            firsts.append(at)
            lasts.append(at)
            ranks.append(self.ranks[nodes[at]])
        # Every table index fits in 32 bits (the tables have fewer cells).
        nodes = self.pairs[characters[:-1] * self.width + characters[1:]]
        at = np.flatnonzero(nodes >= 0)
        nodes = nodes[at].astype(np.int32)
        length = 2
        while len(at):
            rank = self.ranks[nodes]
            spelt = np.flatnonzero(rank >= 0)
            firsts.append(at[spelt])
            lasts.append(at[spelt] + (length - 1))
            ranks.append(rank[spelt])
            nodes = self.step[nodes * self.width + characters[at + length]]
            kept = np.flatnonzero(nodes >= 0)
            at, nodes = at[kept], nodes[kept].astype(np.int32)
            length += 1
        return np.concatenate(firsts), np.concatenate(lasts), np.concatenate(ranks)


# At most this many cells in a trie's tables (8 or 16 MB; an index fits in 32 bits), else the automaton scans.
_TRIE_CELLS = 1 << 22
_SECOND = operator.itemgetter(1)
_JOIN = "\0"  # between texts matched together (in no keyword; checked)
_CHUNK_CHARACTERS = 200_000  # characters of texts matched at once
_CLUSTER_LIMIT = 16  # clusters of more overlapping occurrences are decided one occurrence at a time


def _greedy_in_clusters(starts: np.ndarray, ends: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Which occurrences (inclusive ``starts``..``ends``, keyword ``ranks``) the greedy rule of ``hits`` takes.

    The rule goes through all occurrences in (rank, end) order and takes one
    unless it touches a character already taken.  Whether an occurrence is
    taken depends only on the earlier ones that overlap it, so each cluster of
    occurrences linked by overlaps is decided on its own: a lone occurrence is
    taken; in a cluster the k-th occurrence (in rule order) is taken unless one
    of the first k-1 overlaps it and was taken, worked out for all clusters at
    once, k = 1, 2, ...
    """
    taken = np.ones(len(starts), dtype=bool)
    if len(starts) < 2:
        return taken
    by_start = np.lexsort((ends, starts))
    reach = np.maximum.accumulate(ends[by_start])
    cluster = np.empty(len(starts), dtype=np.int64)
    cluster[by_start] = np.cumsum(np.concatenate(([True], starts[by_start][1:] > reach[:-1])))
    sizes = np.bincount(cluster)
    crowded = np.flatnonzero(sizes[cluster] > 1)
    if not len(crowded):
        return taken
    # The crowded occurrences in rule order within their cluster; ``place``: the k-1 above.
    order = crowded[_order_by(cluster[crowded], ranks[crowded], ends[crowded])]
    size = sizes[cluster[order]]
    first_in_cluster = np.concatenate(([True], cluster[order][1:] != cluster[order][:-1]))
    place = np.arange(len(order)) - np.maximum.accumulate(np.where(first_in_cluster, np.arange(len(order)), 0))
    left, right = starts[order], ends[order]
    chosen = np.ones(len(order), dtype=bool)
    for k in range(1, min(int(size.max()), _CLUSTER_LIMIT)):
        now = np.flatnonzero((place == k) & (size <= _CLUSTER_LIMIT))
        for back in range(1, k + 1):
            earlier = now - back
            clash = chosen[earlier] & (left[earlier] <= right[now]) & (left[now] <= right[earlier])
            chosen[now[clash]] = False
    for begin in np.flatnonzero(first_in_cluster & (size > _CLUSTER_LIMIT)).tolist():
        chosen[begin : begin + int(size[begin])] = _greedy(
            left[begin : begin + int(size[begin])], right[begin : begin + int(size[begin])]
        )
    taken[order] = chosen
    return taken


def _order_by(first: np.ndarray, second: np.ndarray, third: np.ndarray) -> np.ndarray:
    """``np.lexsort((third, second, first))`` for non-negative integers whose triples are distinct.

    One sort of a number made of the three (when it fits in 63 bits): a third of the time of
    lexsort's three passes.  Distinct keys leave no ties, so the order is the same.
    """
    if not len(first):
        return np.zeros(0, dtype=np.intp)
    n_second, n_third = int(second.max()) + 1, int(third.max()) + 1
    if (int(first.max()) + 1) * n_second * n_third >= 2**63:
        return np.lexsort((third, second, first))
    return np.argsort((first * n_second + second) * n_third + third, kind="stable")


def _greedy(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The greedy rule on occurrences already in rule order, one at a time."""
    chosen = np.zeros(len(starts), dtype=bool)
    base = int(starts.min())
    occupied = bytearray(int(ends.max()) - base + 1)
    for i, (start, end) in enumerate(zip((starts - base).tolist(), (ends - base).tolist(), strict=True)):
        if occupied.find(1, start, end + 1) == -1:
            occupied[start : end + 1] = b"\x01" * (end + 1 - start)
            chosen[i] = True
    return chosen
