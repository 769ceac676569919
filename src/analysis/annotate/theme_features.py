"""TF-IDF features of the fitted theme vectorizers, computed in bulk with numpy.

scikit-learn's ``TfidfVectorizer.transform`` counts terms one token (or one
character n-gram) at a time in Python; coding a large corpus spent seconds
there.  :func:`tfidf_transform` builds the same count matrix with array
operations — token lists are looked up once per token, character n-grams are
turned into integers and looked up with ``searchsorted`` — and then applies
the vectorizer's sublinear tf, idf and L2 normalisation with the same
operations in the same order, so the result is bit-identical (the tests
compare them).  Vectorizers set up differently fall back to scikit-learn.
"""

from __future__ import annotations

import itertools
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

# CountVectorizer._white_spaces: runs of two or more whitespace characters become one space before n-grams.
_WHITE_SPACES = re.compile(r"\s\s+")
_BITS = 21  # every code point fits in 21 bits, so an n-gram of up to three characters fits in one int64
_SEPARATOR = (1 << _BITS) - 1  # above every code point (0x10FFFF)
_MAX_N = 3
_CHUNK_CHARACTERS = 200_000  # characters counted at once: small temporary arrays are reused, not page-faulted anew


@dataclass(frozen=True)
class _NgramLookup:
    """The vocabulary of a character vectorizer: per n-gram length, an index of integer keys and their columns."""

    keys: dict[int, pd.Index]
    columns: dict[int, np.ndarray]


_LOOKUPS: weakref.WeakKeyDictionary[TfidfVectorizer, _NgramLookup] = weakref.WeakKeyDictionary()


def tfidf_transform(vectorizer: TfidfVectorizer, documents: Sequence[Any]) -> sparse.csr_matrix:
    """``vectorizer.transform(documents)``, bit for bit, computed in bulk.

    ``documents`` are strings for a character analyzer, token lists for a
    callable analyzer (which must return its input unchanged, as the theme
    classifier's does).
    """
    counts = _counts(vectorizer, documents) if len(documents) else None
    if counts is None:
        return vectorizer.transform(documents)
    # TfidfTransformer.transform, step by step (sublinear tf, idf, L2 rows).
    np.log(counts.data, counts.data)
    counts.data += 1.0
    counts.data *= vectorizer.idf_[counts.indices]
    return normalize(counts, norm="l2", copy=False)


def _supported(vectorizer: TfidfVectorizer) -> bool:
    common = (
        vectorizer.sublinear_tf
        and vectorizer.use_idf
        and vectorizer.norm == "l2"
        and not vectorizer.binary
        and vectorizer.dtype is np.float64
        and vectorizer.input == "content"
    )
    if not common:
        return False
    if callable(vectorizer.analyzer):
        return getattr(vectorizer.analyzer, "__name__", "") == "_identity"
    return (
        vectorizer.analyzer == "char"
        and vectorizer.lowercase
        and vectorizer.preprocessor is None
        and not vectorizer.strip_accents
        and 1 <= vectorizer.ngram_range[0] <= vectorizer.ngram_range[1] <= _MAX_N
    )


def _counts(vectorizer: TfidfVectorizer, documents: Sequence[Any]) -> sparse.csr_matrix | None:
    """The term-count matrix ``CountVectorizer.transform`` gives (float64, sorted indices), or None if unsupported."""
    if not _supported(vectorizer):
        return None
    n_features = len(vectorizer.vocabulary_)
    if callable(vectorizer.analyzer):
        rows, columns = _token_entries(vectorizer.vocabulary_, documents)
        return _count_matrix(rows, columns, len(documents), n_features)
    texts = [_WHITE_SPACES.sub(" ", str(document).lower()) for document in documents]
    lookup = _ngram_lookup(vectorizer)
    parts, start, size = [], 0, 0
    for end, text in enumerate(texts, start=1):
        size += len(text)
        if size >= _CHUNK_CHARACTERS or end == len(texts):
            rows, columns = _ngram_entries(lookup, texts[start:end], vectorizer.ngram_range)
            parts.append(_count_matrix(rows, columns, end - start, n_features))
            start, size = end, 0
    return parts[0] if len(parts) == 1 else sparse.vstack(parts, format="csr")


def _token_entries(vocabulary: dict[str, int], documents: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every in-vocabulary token of every document."""
    lengths = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
    tokens = list(itertools.chain.from_iterable(documents))
    columns = np.fromiter(map(vocabulary.get, tokens, itertools.repeat(-1)), dtype=np.int64, count=len(tokens))
    rows = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
    known = columns >= 0
    return rows[known], columns[known]


def _ngram_key(ngram: str) -> int:
    key = 0
    for character in ngram:
        key = (key << _BITS) | ord(character)
    return key


def _ngram_lookup(vectorizer: TfidfVectorizer) -> _NgramLookup:
    lookup = _LOOKUPS.get(vectorizer)
    if lookup is None:
        by_length: dict[int, list[tuple[int, int]]] = {}
        for ngram, column in vectorizer.vocabulary_.items():
            by_length.setdefault(len(ngram), []).append((_ngram_key(ngram), column))
        keys, columns = {}, {}
        for length, pairs in by_length.items():
            keys[length] = pd.Index(np.array([k for k, _ in pairs], dtype=np.int64))  # a hash table: fast bulk look-up
            columns[length] = np.array([c for _, c in pairs], dtype=np.int64)
        lookup = _NgramLookup(keys, columns)
        _LOOKUPS[vectorizer] = lookup
    return lookup


def _ngram_entries(
    lookup: _NgramLookup, texts: list[str], ngram_range: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every in-vocabulary character n-gram of every text (n-grams never cross texts)."""
    # The texts one after the other, each followed by a code no character has: an n-gram across two texts
    # contains it and is in no vocabulary.
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    encoded = "\0".join([*texts, ""]).encode("utf-32-le", "surrogatepass")
    codes = np.frombuffer(encoded, dtype=np.uint32).astype(np.int64)
    codes[np.cumsum(lengths) - 1] = _SEPARATOR
    row_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    all_rows, all_columns = [], []
    keys = codes
    for n in range(1, ngram_range[1] + 1):
        if n > 1:
            keys = (keys[:-1] << _BITS) | codes[n - 1 :]  # the n-gram starting at each position
        if n < ngram_range[0] or n not in lookup.keys:
            continue
        found = lookup.keys[n].get_indexer(keys)
        known = found >= 0
        all_rows.append(row_of[: len(keys)][known])
        all_columns.append(lookup.columns[n][found[known]])
    if not all_rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(all_rows), np.concatenate(all_columns)


def _count_matrix(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_features: int) -> sparse.csr_matrix:
    """CSR of how often each (row, column) occurs: float64 data, int32 indices sorted within each row."""
    cells, counts = np.unique(rows * n_features + columns, return_counts=True)
    cell_rows = cells // max(n_features, 1)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(cell_rows, minlength=n_rows)))).astype(np.int32)
    indices = (cells - cell_rows * n_features).astype(np.int32)
    return sparse.csr_matrix((counts.astype(np.float64), indices, indptr), shape=(n_rows, n_features))
