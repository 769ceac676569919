"""TF-IDF features of the fitted theme vectorizers, computed in bulk with numpy.

scikit-learn's ``TfidfVectorizer.transform`` counts terms one token (or one
character n-gram) at a time in Python; coding a large corpus spent seconds
there.  :func:`tfidf_transform` builds the same count matrix with array
operations — token lists are looked up once per token, character n-grams are
turned into integers and looked up in a hash index — and then applies the
vectorizer's sublinear tf, idf and L2 normalisation with the same operations
in the same order, so the result is bit-identical (the tests compare them).

:class:`TfidfVocabulary` is what that needs of a fitted vectorizer (its
vocabulary, idf weights and analyzer); it needs no scikit-learn, so a saved
one loads without importing it.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from analysis.core.segment import SEPARATOR, can_cut_joined, content_pieces, content_words_of_normalised, cut_joined

if TYPE_CHECKING:
    from scipy import sparse

# CountVectorizer._white_spaces (r"\s\s+"): runs of two or more whitespace characters become one space before
# n-grams.  \s spelt out as the characters it matches (str.isspace; tested over every code point): the regex
# engine scans for a set of characters twice as fast as for the whitespace category.
_SPACE = "[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_WHITE_SPACES = re.compile(_SPACE + _SPACE + "+")
_BITS = 21  # every code point fits in 21 bits, so an n-gram of up to three characters fits in one int64
_SEPARATOR = (1 << _BITS) - 1  # above every code point (0x10FFFF)
_MAX_N = 3
_PAIR_CELLS = 1 << 22  # at most this many cells in the 2-gram table (16 MB): about 2,000 characters
_CHUNK_CHARACTERS = 200_000  # characters counted at once: small temporary arrays are reused, not page-faulted anew
TOKENS, CHARACTERS = "tokens", "chars"
_Document = TypeVar("_Document")


SMALL_LOOKUP_KEYS = 100_000
"""Up to this many n-grams at once, they are looked up by binary search; more, in pandas' hash index (faster).
Once pandas is imported anyway (a build), from a sixteenth of that on."""
SMALL_PRODUCT_ROWS = 64
"""Up to this many rows, :class:`SparseRows` multiplies without SciPy (one document's tasks: no SciPy to import)."""


@dataclass
class SparseRows:
    """A CSR matrix as its arrays (``data``, ``indices``, ``indptr``), what transforming and predicting read.

    ``to_csr`` gives SciPy's matrix of the same arrays (for fitting); ``rows @ dense`` is SciPy's product,
    bit for bit: computed here for a few rows, so that coding one document needs no SciPy.
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    def to_csr(self) -> sparse.csr_matrix:
        from scipy import sparse  # fitting and large blocks only (start-up time of extract)

        return sparse.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def __matmul__(self, dense: np.ndarray) -> np.ndarray:
        """``csr_matrix @ dense`` (2-D): SciPy's loop adds each row's products to 0.0 one entry after the other,
        ``y += a * x``; so does this, position by position over all rows at once."""
        if self.shape[0] > SMALL_PRODUCT_ROWS:
            return np.asarray(self.to_csr() @ dense)
        dense = np.asarray(dense)
        result = np.zeros((self.shape[0], dense.shape[1]), dtype=np.result_type(self.data, dense))
        lengths = np.diff(self.indptr)
        starts = self.indptr[:-1]
        for position in range(int(lengths.max(initial=0))):
            rows = np.flatnonzero(lengths > position)
            entries = starts[rows] + position
            result[rows] += self.data[entries, np.newaxis] * dense[self.indices[entries]]
        return result


def hstack_rows(blocks: Sequence[SparseRows]) -> SparseRows:
    """``scipy.sparse.hstack(blocks, format="csr")``: each row's entries block after block, columns shifted.

    Done here for a few rows (no SciPy to import), by SciPy for more (its loop is faster).
    """
    n_rows = blocks[0].shape[0]
    if n_rows > SMALL_PRODUCT_ROWS:
        from scipy import sparse  # fitting and large blocks only (start-up time of extract)

        stacked = sparse.hstack([block.to_csr() for block in blocks], format="csr")
        return SparseRows(stacked.data, stacked.indices, stacked.indptr, stacked.shape)
    lengths = [np.diff(block.indptr) for block in blocks]
    indptr = np.concatenate(([0], np.cumsum(np.sum(lengths, axis=0)))).astype(np.int64)
    data, indices, shifted = [], [], 0
    before = np.zeros(n_rows, dtype=np.int64)  # entries of the earlier blocks in each row
    positions = []
    for block, length in zip(blocks, lengths, strict=True):
        within = np.arange(len(block.data)) - np.repeat(block.indptr[:-1], length)
        positions.append(np.repeat(indptr[:-1] + before, length) + within)
        data.append(block.data)
        indices.append(block.indices.astype(np.int64) + shifted)
        before += length
        shifted += block.shape[1]
    order = np.empty(int(indptr[-1]), dtype=np.int64)
    order[np.concatenate(positions)] = np.arange(len(order))
    return SparseRows(np.concatenate(data)[order], np.concatenate(indices)[order], indptr, (n_rows, shifted))


@dataclass(frozen=True)
class _NgramLookup:
    """The vocabulary of a character vectorizer: per n-gram length, its integer keys sorted and their columns."""

    keys: dict[int, np.ndarray]
    columns: dict[int, np.ndarray]
    hashed: dict[int, Any] = field(default_factory=dict)  # per length, pandas' index of ``keys`` once built
    pairs: list[tuple[np.ndarray, np.ndarray, int] | None] = field(default_factory=list)  # find_pairs' table

    def find_pairs(self, codes: np.ndarray) -> np.ndarray | None:
        """``find(2, keys)`` of the 2-grams ``codes[i], codes[i + 1]``, read from a table; None if it is too large.

        The table has a row and a column per character of the vocabulary's 2-grams, plus one (number 0) for
        every other character: a pair with such a character is in no 2-gram.  A lookup is then two array reads.
        """
        if not self.pairs:
            self.pairs.append(self._pair_table())
        table = self.pairs[0]
        if table is None:
            return None
        number, cells, n = table
        numbered = number[np.minimum(codes, len(number) - 1)]  # above the last character of a 2-gram: 0
        return cells[numbered[:-1] * n + numbered[1:]]

    def _pair_table(self) -> tuple[np.ndarray, np.ndarray, int] | None:
        """Each character's number (0: in no 2-gram) and the column of each pair of numbers (-1: none)."""
        if not len(self.keys.get(2, ())):
            return None
        keys, columns = self.keys[2], self.columns[2]
        firsts, seconds = keys >> _BITS, keys & _SEPARATOR
        characters = np.unique(np.concatenate((firsts, seconds)))
        n = len(characters) + 1
        if n * n > _PAIR_CELLS:
            return None
        number = np.zeros(int(characters[-1]) + 2, dtype=np.int64)
        number[characters] = np.arange(1, n)
        cells = np.full(n * n, -1, dtype=np.int32)
        cells[number[firsts] * n + number[seconds]] = columns
        return number, cells, n

    def find(self, n: int, keys: np.ndarray) -> np.ndarray:
        """The column of each n-gram key, -1 for a key not in the vocabulary.

        One document's few n-grams: a binary search, no pandas to import (start-up time of extract).
        """
        known, columns = self.keys[n], self.columns[n]
        if not len(known):
            return np.full(len(keys), -1, dtype=np.int64)
        if len(keys) > SMALL_LOOKUP_KEYS or (len(keys) > SMALL_LOOKUP_KEYS // 16 and "pandas" in sys.modules):
            if n not in self.hashed:
                import pandas as pd  # a hash table: ~3x faster than the search on a build's chunks

                self.hashed[n] = pd.Index(known)
            at = self.hashed[n].get_indexer(keys)
            return np.where(at >= 0, columns[at], -1)
        at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
        return np.where(known[at] == keys, columns[at], -1)


class _FlatDocuments(Sequence[_Document]):
    """Documents kept flat: every document's items one after another, and how many each document has.

    Slices are documents of the same class (sliced without a step).
    """

    def __init__(self, items: Any, counts: Sequence[int] | np.ndarray) -> None:
        self.items = items
        self.bounds = np.concatenate(([0], np.cumsum(np.asarray(counts, dtype=np.int64))))

    def __len__(self) -> int:
        return len(self.bounds) - 1

    @overload
    def __getitem__(self, index: int) -> _Document: ...

    @overload
    def __getitem__(self, index: slice) -> _FlatDocuments[_Document]: ...

    def __getitem__(self, index: int | slice) -> _Document | _FlatDocuments[_Document]:
        if isinstance(index, slice):
            first, last, step = index.indices(len(self))
            if step != 1:
                raise ValueError(f"{type(self).__name__} are sliced without a step")
            last = max(first, last)
            begin, end = int(self.bounds[first]), int(self.bounds[last])
            return type(self)(self.items[begin:end], np.diff(self.bounds[first : last + 1]))
        first = range(len(self))[index]
        return self._document(int(self.bounds[first]), int(self.bounds[first + 1]))

    def _document(self, begin: int, end: int) -> _Document:
        raise NotImplementedError

    def lengths(self) -> np.ndarray:
        """How many items each document has."""
        return np.diff(self.bounds)


class TokenDocuments(_FlatDocuments[list[str]]):
    """Token lists kept flat (``items``: every document's tokens one after another).

    What :func:`tfidf_transform` counts for a token analyzer, without a list
    per document (coding makes tens of thousands of them and only flattens
    them again).
    """

    def _document(self, begin: int, end: int) -> list[str]:
        return list(self.items[begin:end])


class TokenColumns(_FlatDocuments[list[int]]):
    """Documents as the vocabulary columns of their tokens, kept flat (``items``: an array; other tokens left out).

    What :func:`tfidf_transform` counts of :class:`TokenDocuments`, looked up
    already (:meth:`TfidfVocabulary.content_word_columns`).
    """

    def _document(self, begin: int, end: int) -> list[int]:
        return list(self.items[begin:end].tolist())


class _TokenColumnMemo(dict[str, int]):
    """rjieba token -> its number here, and per number the vocabulary columns of the content words it gives.

    Each distinct token is worked out once; a text's tokens become one number each (an int, not a tuple to
    flatten), expanded to their columns with array operations.  The separator between texts cut together is
    number 0 (no columns): it marks where a text's columns end.
    """

    def __init__(self, vocabulary: dict[str, int]) -> None:
        super().__init__({SEPARATOR: _TEXT_END})
        self.vocabulary = vocabulary
        self.firsts: list[int] = [0]  # per number, where its columns start in ``columns``
        self.counts: list[int] = [0]  # per number, how many columns it gives
        self.columns: list[int] = []
        self._arrays = (np.zeros(0, dtype=np.int64),) * 3

    def __missing__(self, token: str) -> int:
        get = self.vocabulary.get
        columns = [column for column in (get(word, -2) for word in content_pieces(token)) if column >= 0]
        number = len(self.counts)
        self[token] = number
        self.firsts.append(len(self.columns))
        self.counts.append(len(columns))
        self.columns.extend(columns)
        return number

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``firsts``, ``counts`` and ``columns`` as arrays (extended by what was added since the last call)."""
        firsts, counts, columns = self._arrays
        if len(counts) < len(self.counts) or len(columns) < len(self.columns):
            firsts = np.concatenate((firsts, np.array(self.firsts[len(firsts) :], dtype=np.int64)))
            counts = np.concatenate((counts, np.array(self.counts[len(counts) :], dtype=np.int64)))
            columns = np.concatenate((columns, np.array(self.columns[len(columns) :], dtype=np.int64)))
            self._arrays = firsts, counts, columns
        return firsts, counts, columns


_TEXT_END = 0  # the separator's number in a _TokenColumnMemo
_MEMO_LIMIT = 500_000  # distinct tokens whose columns are kept (as segment's own memo is bounded)


class TfidfVocabulary:
    """A fitted ``TfidfVectorizer`` as far as transforming goes (sublinear tf, idf, L2 rows).

    ``analyzer``: :data:`TOKENS` (documents are token lists, taken as they are)
    or :data:`CHARACTERS` (documents are strings: lower-cased, whitespace runs
    made one space, character n-grams of ``ngram_range``).
    """

    def __init__(
        self, analyzer: str, ngram_range: tuple[int, int], vocabulary: dict[str, int], idf: np.ndarray
    ) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.vocabulary = vocabulary
        self.idf = idf

    @classmethod
    def of(cls, vectorizer: Any) -> TfidfVocabulary | None:
        """The vocabulary of a fitted ``TfidfVectorizer``, or None if it is set up in a way not reproduced here."""
        common = (
            vectorizer.sublinear_tf
            and vectorizer.use_idf
            and vectorizer.norm == "l2"
            and not vectorizer.binary
            and vectorizer.dtype is np.float64
            and vectorizer.input == "content"
        )
        if not common:
            return None
        if callable(vectorizer.analyzer):
            if getattr(vectorizer.analyzer, "__name__", "") != "_identity":  # the theme classifier's token lists
                return None
            analyzer = TOKENS
        elif (
            vectorizer.analyzer == "char"
            and vectorizer.lowercase
            and vectorizer.preprocessor is None
            and not vectorizer.strip_accents
            and 1 <= vectorizer.ngram_range[0] <= vectorizer.ngram_range[1] <= _MAX_N
        ):
            analyzer = CHARACTERS
        else:
            return None
        return cls(analyzer, tuple(vectorizer.ngram_range), dict(vectorizer.vocabulary_), vectorizer.idf_)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with the n-grams' integer keys (not their index, rebuilt on first use)."""
        state = {k: v for k, v in self.__dict__.items() if k in ("analyzer", "ngram_range", "vocabulary", "idf")}
        if self.analyzer == CHARACTERS:
            state["ngram_keys"] = self._ngram_keys()
        return state

    def _ngram_keys(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per n-gram length, the n-grams' integer keys and their columns."""
        stored: dict[int, tuple[np.ndarray, np.ndarray]] | None = self.__dict__.get("ngram_keys")
        if stored is not None:
            return stored
        by_length: dict[int, list[tuple[int, int]]] = {}
        for ngram, column in self.vocabulary.items():
            by_length.setdefault(len(ngram), []).append((_ngram_key(ngram), column))
        return {
            length: (np.array([k for k, _ in pairs], dtype=np.int64), np.array([c for _, c in pairs], dtype=np.int64))
            for length, pairs in by_length.items()
        }

    @functools.cached_property
    def ngram_lookup(self) -> _NgramLookup:
        arrays = self._ngram_keys()
        order = {n: np.argsort(k, kind="stable") for n, (k, _) in arrays.items()}  # sorted: a binary-search look-up
        return _NgramLookup(
            {n: k[order[n]] for n, (k, _) in arrays.items()}, {n: c[order[n]] for n, (_, c) in arrays.items()}
        )

    def content_word_columns(self, texts: Sequence[str]) -> TokenColumns:
        """The columns of the content words (:func:`~analysis.core.segment.content_words`) of ``texts``, normalised.

        The same documents as ``TokenDocuments(*content_words_of_normalised(texts))`` for a token
        vocabulary, without a string per word: each distinct rjieba token is looked up once
        (tested against that definition).
        """
        if self.analyzer != TOKENS or not can_cut_joined(texts):
            return self._columns_of(TokenDocuments(*content_words_of_normalised(texts)))
        memo: _TokenColumnMemo | None = self.__dict__.get("_column_memo")
        if memo is None or len(memo) > _MEMO_LIMIT:
            memo = self.__dict__["_column_memo"] = _TokenColumnMemo(self.vocabulary)
        parts, counts = [], []
        for n_texts, tokens in cut_joined(texts):
            numbers = np.fromiter(map(memo.__getitem__, tokens), dtype=np.int64, count=len(tokens))
            ends = np.flatnonzero(numbers == _TEXT_END)
            if len(ends) != n_texts:  # rjieba kept a separator with a neighbour: not cut as documented
                raise RuntimeError(f"{len(ends)} text ends found among {n_texts} texts cut together")
            firsts, token_counts, columns = memo.arrays()
            per_token = token_counts[numbers]
            before = np.cumsum(per_token) - per_token  # the columns of the tokens before each one
            # Each token's columns in order: the k-th comes from columns[firsts[token] + k].
            at = np.repeat(firsts[numbers] - before, per_token) + np.arange(int(before[-1] + per_token[-1]))
            parts.append(columns[at])
            counts.append(np.diff(before[ends], prepend=0))
        if not parts:
            return TokenColumns(np.zeros(0, dtype=np.int64), [])
        return TokenColumns(np.concatenate(parts), np.concatenate(counts))

    def _columns_of(self, documents: TokenDocuments) -> TokenColumns:
        """:class:`TokenDocuments` as their vocabulary columns."""
        get = self.vocabulary.get
        columns = np.fromiter(map(get, documents.items, itertools.repeat(-1)), dtype=np.int64)
        known = columns >= 0
        rows = np.repeat(np.arange(len(documents)), documents.lengths())
        return TokenColumns(columns[known], np.bincount(rows[known], minlength=len(documents)))

    def transform(self, documents: Sequence[Any]) -> sparse.csr_matrix:
        """The vectorizer's ``transform(documents)``, bit for bit (at least one document)."""
        return self.transform_rows(documents).to_csr()

    def transform_rows(self, documents: Sequence[Any]) -> SparseRows:
        """:meth:`transform` as :class:`SparseRows` (no SciPy)."""
        if not len(documents):
            raise ValueError("no documents to transform")
        counts = self._counts(documents)
        # TfidfTransformer.transform, step by step (sublinear tf, idf, L2 rows).
        np.log(counts.data, counts.data)
        counts.data += 1.0
        counts.data *= self.idf[counts.indices]
        normalize_rows(counts)
        return counts

    def _counts(self, documents: Sequence[Any]) -> SparseRows:
        """The term-count matrix ``CountVectorizer.transform`` gives (float64, sorted indices)."""
        n_features = len(self.vocabulary)
        if self.analyzer == TOKENS:
            rows, columns = _token_entries(self.vocabulary, documents)
            return _count_matrix(rows, columns, len(documents), n_features)
        texts = _lower_spaced(documents)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        before = np.concatenate(([0], np.cumsum(lengths)))  # characters of the texts before each
        parts, start = [], 0
        while start < len(texts):
            # Up to the first text that brings the chunk to _CHUNK_CHARACTERS (at least one text), else all.
            end = int(np.searchsorted(before, before[start] + _CHUNK_CHARACTERS, side="left"))
            end = min(max(end, start + 1), len(texts))
            rows, columns = _ngram_entries(self.ngram_lookup, texts[start:end], self.ngram_range, lengths[start:end])
            parts.append(_count_matrix(rows, columns, end - start, n_features))
            start = end
        return parts[0] if len(parts) == 1 else _vstack(parts)


def _lower_spaced(documents: Sequence[Any]) -> list[str]:
    """Each document as ``CountVectorizer`` prepares it for character n-grams: lower-cased, whitespace runs one space.

    Done once over the documents joined by ``\\0`` and split again: lower casing treats ``\\0`` as the end of
    a text (neither cased nor case-ignorable) and it is no whitespace, so no run crosses it.  A document
    holding ``\\0`` makes more pieces: then each is prepared on its own.
    """
    texts = _WHITE_SPACES.sub(" ", "\0".join(map(str, documents)).lower()).split("\0")
    if len(texts) != len(documents):
        return [_WHITE_SPACES.sub(" ", str(document).lower()) for document in documents]
    return texts


_VOCABULARIES: weakref.WeakKeyDictionary[Any, TfidfVocabulary | None] = weakref.WeakKeyDictionary()


def tfidf_transform(vectorizer: Any, documents: Sequence[Any]) -> sparse.csr_matrix:
    """``vectorizer.transform(documents)``, bit for bit, computed in bulk.

    ``vectorizer``: a :class:`TfidfVocabulary` or a fitted ``TfidfVectorizer``
    (one set up otherwise than :meth:`TfidfVocabulary.of` reproduces, or no
    documents, is left to scikit-learn).  ``documents`` are strings for a
    character analyzer, token lists for the token one.
    """
    if isinstance(vectorizer, TfidfVocabulary):
        return vectorizer.transform(documents)
    if vectorizer not in _VOCABULARIES:
        _VOCABULARIES[vectorizer] = TfidfVocabulary.of(vectorizer)
    vocabulary = _VOCABULARIES[vectorizer]
    if vocabulary is None or not len(documents):
        return vectorizer.transform(documents)
    return vocabulary.transform(documents)


def _vstack(parts: list[SparseRows]) -> SparseRows:
    """``scipy.sparse.vstack(parts, format="csr")``: the rows of one part after the other."""
    offsets = np.cumsum([0] + [len(part.data) for part in parts[:-1]])
    indptr = np.concatenate([[0]] + [part.indptr[1:] + offset for part, offset in zip(parts, offsets, strict=True)])
    return SparseRows(
        np.concatenate([part.data for part in parts]),
        np.concatenate([part.indices for part in parts]),
        indptr,
        (sum(part.shape[0] for part in parts), parts[0].shape[1]),
    )


def normalize_rows(matrix: sparse.csr_matrix | SparseRows) -> None:
    """Each row divided by its L2 norm, in place, exactly as scikit-learn's ``normalize(norm="l2")``.

    Its Cython loop adds a row's squares one after the other from 0.0; so
    does this: SciPy's loop for many rows, else position by position over all
    rows at once (rows longest first).  A row of zeros is left as it is.
    """
    lengths = np.diff(matrix.indptr)
    if not len(lengths) or not lengths.max():
        return
    squares = matrix.data * matrix.data
    norms = np.ones(len(lengths))
    if len(lengths) > SMALL_PRODUCT_ROWS:  # many rows: SciPy's loop adds the same way, faster
        total = _row_sums(squares, matrix.indptr)
        nonzero = total != 0.0
        norms[nonzero] = np.sqrt(total[nonzero])
        matrix.data /= np.repeat(norms, lengths)
        return
    order = np.argsort(-lengths, kind="stable")
    starts = matrix.indptr[:-1][order].astype(np.int64)
    # longer[k]: how many rows have more than k entries (a prefix of ``order``)
    longer = len(lengths) - np.searchsorted(lengths[order][::-1], np.arange(lengths.max()), side="right")
    total = np.zeros(len(lengths))
    for position, count in enumerate(longer.tolist()):
        total[:count] += squares[starts[:count] + position]
    nonzero = total != 0.0
    norms[order[nonzero]] = np.sqrt(total[nonzero])
    matrix.data /= np.repeat(norms, lengths)


def _row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Each row's values added one after the other from 0.0 (SciPy's loop: ``csr_matvec``, multiplying by 1.0).

    The values as a one-column sparse matrix times ``[1.0]``; the same sums as adding position by position.
    """
    from scipy import sparse  # large blocks only (start-up time of extract)

    column = sparse.csr_matrix((values, np.zeros(len(values), dtype=indptr.dtype), indptr), shape=(len(indptr) - 1, 1))
    return np.asarray(column @ np.ones(1))


def _token_entries(vocabulary: dict[str, int], documents: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every in-vocabulary token of every document."""
    if isinstance(documents, TokenColumns):
        return np.repeat(np.arange(len(documents), dtype=np.int64), documents.lengths()), documents.items
    if isinstance(documents, TokenDocuments):
        lengths, tokens = documents.lengths(), documents.items
    else:
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


def _ngram_entries(
    lookup: _NgramLookup, texts: list[str], ngram_range: tuple[int, int], text_lengths: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every in-vocabulary character n-gram of every text (n-grams never cross texts).

    ``text_lengths``: the texts' lengths, if known already.
    """
    # The texts one after the other, each followed by a code no character has: an n-gram across two texts
    # contains it and is in no vocabulary.
    if text_lengths is None:
        text_lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    lengths = text_lengths + 1
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
        found = lookup.find_pairs(codes) if n == 2 else None
        if found is None:
            found = lookup.find(n, keys)
        known = found >= 0
        all_rows.append(row_of[: len(keys)][known])
        all_columns.append(found[known])
    if not all_rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(all_rows), np.concatenate(all_columns)


def _count_matrix(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_features: int) -> SparseRows:
    """CSR of how often each (row, column) occurs: float64 data, int32 indices sorted within each row."""
    # Cells numbered row by row, sorted with a plain sort (np.unique took ten times as long); in 32 bits
    # when they fit (a block of rows always does), which sorts faster.
    small = n_rows * max(n_features, 1) < 2**31
    cells = rows.astype(np.int32 if small else np.int64)  # a copy, numbered and sorted in place
    cells *= n_features
    cells += columns
    cells.sort()
    first = np.flatnonzero(np.concatenate(([True], cells[1:] != cells[:-1]))) if len(cells) else cells
    counts = np.diff(np.append(first, len(cells)))
    cells = cells[first]
    # Where each row's cells start: a search of the sorted cells for the row's first cell number.
    indptr = np.searchsorted(cells, np.arange(n_rows + 1, dtype=cells.dtype) * n_features).astype(np.int32)
    indices = (cells - cells // max(n_features, 1) * n_features).astype(np.int32)
    return SparseRows(counts.astype(np.float64), indices, indptr, (n_rows, n_features))
