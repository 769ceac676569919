"""Bulk computations of the theme classifier give exactly what the straightforward ones give.

The keyword matcher (one Aho-Corasick pass) against a loop over every keyword
with ``str.find``; :func:`tfidf_transform` against scikit-learn's ``transform``.
"""

from __future__ import annotations

import pickle
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from analysis.annotate import theme_features
from analysis.annotate.theme_features import (
    SMALL_PRODUCT_ROWS,
    TOKENS,
    SparseRows,
    TfidfVocabulary,
    TokenColumns,
    TokenDocuments,
    hstack_rows,
    normalize_rows,
    tfidf_transform,
)
from analysis.annotate.theme_inference import LinearModel, ThemePredictor
from analysis.annotate.theme_keywords import KeywordMatcher
from analysis.annotate.themes import _identity, _make_vectorizer
from analysis.core import segment
from analysis.core.codebook import LEVEL1_CODES
from analysis.core.segment import content_words, content_words_of_normalised, normalise
from test_segment import _PIECES

# Nested and overlapping keywords: 行政复议 ⊃ 复议, 复议决定 overlaps 行政复议 and 议决; aa/aaa/abab overlap themselves.
KEYWORDS = {
    "disputes": ("行政复议", "复议", "复议决定", "议决", "调解"),
    "decisions": ("行政决定", "决定", "重大行政决策"),
    "enforcement": ("行政", "政复", "执法"),
    "oversight": ("aa", "aaa", "a", "ab", "ba", "abab", "ＡＢ"),
}


class _Codebook:
    """The little of a codebook :class:`KeywordMatcher` reads."""

    codes: ClassVar[list[str]] = list(LEVEL1_CODES)

    def keywords(self, code: str) -> tuple[str, ...]:
        return tuple(normalise(k) for k in KEYWORDS.get(code, ()))

    def parent(self, code: str) -> str | None:
        return None


def straightforward_hits(keywords: list[str], text: str) -> tuple[str, ...]:
    """The greedy rule spelled out: keywords longest first, each one's occurrences left to right."""
    text = normalise(text)
    taken = bytearray(len(text))
    found: list[tuple[int, str]] = []
    for keyword in keywords:
        start = text.find(keyword)
        while start != -1:
            end = start + len(keyword)
            if not any(taken[start:end]):
                taken[start:end] = b"\x01" * len(keyword)
                found.append((start, keyword))
            start = text.find(keyword, start + 1)
    return tuple(k for _, k in sorted(found))


TEXTS = [
    "",
    "申请行政复议的，复议机关应当作出复议决定。",
    "行政复议决定书",
    "复议决定复议决定行政复议",
    "重大行政决策和行政决定，议决后执法",
    "aaaa",
    "aaaaa bab ababab",
    "ＡＢab AB",  # full-width and upper case are normalised
    "政复议决行政复议决定调解",
]


@pytest.mark.parametrize("text", TEXTS)
def test_keyword_hits_equal_the_straightforward_rule(text: str) -> None:
    matcher = KeywordMatcher(_Codebook())  # type: ignore[arg-type]
    assert matcher.hits(text) == straightforward_hits(matcher.keywords, text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="行政复议决定策调解执法abAＢ ，", max_size=40))
def test_keyword_hits_equal_the_straightforward_rule_on_any_text(text: str) -> None:
    matcher = KeywordMatcher(_Codebook())  # type: ignore[arg-type]
    assert matcher.hits(text) == straightforward_hits(matcher.keywords, text)


def _distinct_counts_text_by_text(matcher: KeywordMatcher, texts: list[str]) -> np.ndarray:
    counts = [matcher.distinct_counts(t) for t in texts]
    return np.array(counts, dtype=np.int64).reshape(len(texts), len(LEVEL1_CODES))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="行政复议决定策调解执法abAＢ ，\n", max_size=40), max_size=6))
def test_keyword_counts_of_many_texts_equal_text_by_text(texts: list[str]) -> None:
    matcher = KeywordMatcher(_Codebook())  # type: ignore[arg-type]
    normalised = [normalise(t) for t in texts]
    assert np.array_equal(matcher.distinct_counts_of(normalised), _distinct_counts_text_by_text(matcher, texts))


def test_keyword_counts_of_many_texts_in_long_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.annotate import theme_keywords

    matcher = KeywordMatcher(_Codebook())  # type: ignore[arg-type]
    # Runs of overlapping occurrences longer than the clusters decided all at once.
    texts = [normalise(t) for t in [*TEXTS, "a" * 40, "ab" * 30 + "行政复议决定" * 5, "aab" * 20, "\0复议\0"]]
    expected = _distinct_counts_text_by_text(matcher, texts)
    assert np.array_equal(matcher.distinct_counts_of(texts), expected)
    monkeypatch.setattr(theme_keywords, "_CLUSTER_LIMIT", 2)
    assert np.array_equal(matcher.distinct_counts_of(texts), expected)
    assert matcher.distinct_counts_of([]).shape == (0, len(LEVEL1_CODES))


def _automaton_occurrences(matcher: KeywordMatcher, text: str) -> list[tuple[int, int, int]]:
    """(first, last, rank) of each keyword occurrence the Aho-Corasick automaton finds."""
    return sorted((end + 1 - len(matcher.keywords[rank]), end, rank) for end, rank in matcher._automaton.iter(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="行政复议决定策调解执法abAＢ ，\n\0😀\ud800", max_size=60))
def test_keyword_trie_finds_what_the_automaton_finds(text: str) -> None:
    matcher = KeywordMatcher(_Codebook())  # type: ignore[arg-type]
    assert matcher._trie is not None and matcher._trie.shortest == 1  # "a": one-character keywords walked too
    starts, ends, ranks = matcher._trie.occurrences(normalise(text) if "\ud800" not in text else text)
    found = sorted(zip(starts.tolist(), ends.tolist(), ranks.tolist(), strict=True))
    assert found == _automaton_occurrences(matcher, normalise(text) if "\ud800" not in text else text)


@pytest.mark.parametrize("keywords", [["ab", "abc", "bcd", "cd"], ["行政复议", "复议", "议决", "x", "xyz"]])
def test_keyword_trie_of_other_keywords(keywords: list[str]) -> None:
    matcher = KeywordMatcher(_Codebook())  # type: ignore[arg-type]
    matcher.keywords = sorted(keywords, key=lambda k: (-len(k), k))
    text = "abcdabcabcd行政复议决定xyzxy😀xyzz" * 3
    starts, ends, ranks = matcher._trie.occurrences(text)  # type: ignore[union-attr]
    assert sorted(zip(starts.tolist(), ends.tolist(), ranks.tolist(), strict=True)) == _automaton_occurrences(
        matcher, text
    )


@settings(max_examples=200, deadline=None)
@given(st.sets(st.tuples(*[st.integers(0, 40)] * 3), max_size=30), st.booleans())
def test_order_by_three_keys_is_lexsort(triples: set[tuple[int, int, int]], huge: bool) -> None:
    from analysis.annotate.theme_keywords import _order_by

    first, second, third = (np.array([t[i] for t in triples], dtype=np.int64) for i in range(3))
    if huge and len(third):  # a product past 63 bits: lexsort itself
        third = third + 2**56
    expected = np.lexsort((third, second, first))
    assert np.array_equal(_order_by(first, second, third), expected)


@pytest.mark.parametrize("chunk", [1, 7, 30, 10**6])
def test_keyword_counts_of_texts_in_chunks(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    from analysis.annotate import theme_keywords

    monkeypatch.setattr(theme_keywords, "_CHUNK_CHARACTERS", chunk)  # chunks of one text, a few texts, all
    matcher = KeywordMatcher(_Codebook())  # type: ignore[arg-type]
    texts = [normalise(t) for t in [*TEXTS, "a" * 40, "ab" * 30 + "行政复议决定" * 5, "", "复议", *TEXTS]]
    assert np.array_equal(matcher.distinct_counts_of(texts), _distinct_counts_text_by_text(matcher, texts))


def test_keyword_counts_without_the_trie(monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.annotate import theme_keywords

    texts = [normalise(t) for t in [*TEXTS, "a" * 40, "ab" * 30 + "行政复议决定" * 5]]
    expected = KeywordMatcher(_Codebook()).distinct_counts_of(texts)  # type: ignore[arg-type]
    monkeypatch.setattr(theme_keywords, "_TRIE_CELLS", 10)  # tables too large: the automaton scans
    matcher = KeywordMatcher(_Codebook())  # type: ignore[arg-type]
    assert matcher._trie is None
    assert np.array_equal(matcher.distinct_counts_of(texts), expected)
    assert np.array_equal(expected, _distinct_counts_text_by_text(matcher, texts))


def test_white_space_runs_are_the_vectorizers() -> None:
    import re
    import sys

    # The class spelt out matches exactly what \s matches (scikit-learn's pattern), code point by code point.
    space = re.compile(theme_features._SPACE)
    whitespace = re.compile(r"\s")
    assert all(
        (space.fullmatch(c) is None) == (whitespace.fullmatch(c) is None) for c in map(chr, range(sys.maxunicode + 1))
    )


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2000\u3000\u200bab行"), max_size=30))
def test_white_space_runs_collapse_as_the_vectorizers(text: str) -> None:
    import re

    assert theme_features._WHITE_SPACES.sub(" ", text) == re.sub(r"\s\s+", " ", text)


@settings(max_examples=500, deadline=None)
@given(st.text(), st.text(), st.sampled_from([" ", "\n"]))
def test_texts_joined_by_a_space_or_newline_normalise_part_by_part(title: str, text: str, separator: str) -> None:
    # Prediction normalises titles and texts once and joins them (title + text for characters and keywords).
    assert normalise(title + separator + text) == normalise(title) + separator + normalise(text)


@pytest.mark.parametrize("pair", [("ΑΣ", "Σα"), ("e", "\u0301x"), ("\u1100", "\u1161"), ("ﬁ", "¨"), ("İ", "Σ")])
def test_texts_joined_normalise_part_by_part_at_hard_boundaries(pair: tuple[str, str]) -> None:
    # Final sigma, combining marks, Hangul jamo, compatibility forms: none reaches across the separator.
    for separator in (" ", "\n"):
        assert normalise(pair[0] + separator + pair[1]) == normalise(pair[0]) + separator + normalise(pair[1])


def test_keyword_matcher_pickles_without_its_automaton() -> None:
    import pickle

    matcher = KeywordMatcher(_Codebook())  # type: ignore[arg-type]
    matcher.hits(TEXTS[1])
    copy = pickle.loads(pickle.dumps(matcher))
    assert "_automaton" not in copy.__dict__
    assert copy.hits(TEXTS[1]) == matcher.hits(TEXTS[1]) == ("行政复议", "复议", "复议决定")
    assert copy.distinct_counts(TEXTS[1])[LEVEL1_CODES.index("disputes")] == 3


TRAINING = [
    "推进行政复议体制改革，提高复议质量",
    "严格规范公正文明执法  全面推行\t\t行政执法三项制度",
    "ABC 数字政府 2021 年",
    "重大行政决策程序",
]
UNSEEN = [
    "",
    "复议",
    "行政复议 复议决定\n\n执法",
    "abc def ＡＢＣ",
    "未见过的文字😀与行政复议",
    "x",
    "执法" * 50,
]


def _same(a: object, b: object) -> bool:
    return (
        type(a) is type(b)
        and a.shape == b.shape  # type: ignore[attr-defined]
        and all(
            np.array_equal(getattr(a, part), getattr(b, part)) and getattr(a, part).dtype == getattr(b, part).dtype
            for part in ("indptr", "indices", "data")
        )
    )


@pytest.mark.parametrize("lookup", ["search", "hash", "search without the 2-gram table"])
@pytest.mark.parametrize("ngrams", [(2, 3), (1, 2), (3, 3), (2, 2)])
def test_character_tfidf_equals_sklearn(ngrams: tuple[int, int], lookup: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.annotate import theme_features

    if lookup == "hash":  # n-grams looked up in pandas' index, as a build's many are; else by binary search
        monkeypatch.setattr(theme_features, "SMALL_LOOKUP_KEYS", 0)
    if lookup.endswith("table"):  # 2-grams looked up like the others (a vocabulary of too many characters)
        monkeypatch.setattr(theme_features, "_PAIR_CELLS", 0)
    vectorizer = _make_vectorizer("chars", ngrams).fit([normalise(t) for t in TRAINING])
    documents = [normalise(t) for t in UNSEEN + TRAINING]
    assert _same(tfidf_transform(vectorizer, documents), vectorizer.transform(documents))


# Lower casing and whitespace runs at the joints of the documents prepared together: final sigma next to the
# joint, whitespace (also \x1c and the ideographic space) at either end, the joining \0 itself.
_PREPARED_TOGETHER = "ΣσςΑaA \t\n\x1c\u3000\0\u0301复议执"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_PREPARED_TOGETHER, max_size=6), min_size=1, max_size=6))
def test_character_tfidf_of_documents_prepared_together_equals_sklearn(documents: list[str]) -> None:
    vectorizer = _CHARACTER_VECTORIZER
    assert _same(tfidf_transform(vectorizer, documents), vectorizer.transform(documents))


_CHARACTER_VECTORIZER = _make_vectorizer("chars", (1, 2)).fit(["ΑΣ σς aς Σa", "复议 执\t复", "\x1c a\u3000σ", "\0σ"])


def test_character_tfidf_in_blocks_equals_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.annotate import theme_features

    monkeypatch.setattr(theme_features, "_CHUNK_CHARACTERS", 7)  # many small blocks
    vectorizer = _make_vectorizer("chars", (2, 3)).fit(TRAINING)
    documents = UNSEEN + TRAINING
    assert _same(tfidf_transform(vectorizer, documents), vectorizer.transform(documents))
    for transform in (tfidf_transform, TfidfVectorizer.transform):
        with pytest.raises(ValueError):  # no documents: scikit-learn's error
            transform(vectorizer, [])


def test_token_tfidf_equals_sklearn() -> None:
    training = [t.split() for t in ("行政 复议 复议", "执法 三项 制度 执法", "§行政复议 复议")]
    vectorizer = _make_vectorizer("text", (2, 3)).fit(training)
    documents = [[], ["复议"], ["未知", "执法", "执法", "复议", "§行政复议"], ["未知"], *training]
    assert _same(tfidf_transform(vectorizer, documents), vectorizer.transform(documents))


def test_token_tfidf_of_flat_token_documents_equals_sklearn() -> None:
    training = [t.split() for t in ("行政 复议 复议", "执法 三项 制度 执法", "§行政复议 复议")]
    vectorizer = _make_vectorizer("text", (2, 3)).fit(training)
    documents = [[], ["复议"], ["未知", "执法", "执法", "复议", "§行政复议"], [], ["未知"], *training]
    flat = TokenDocuments([t for d in documents for t in d], [len(d) for d in documents])
    assert len(flat) == len(documents) and [flat[i] for i in range(len(flat))] == documents
    assert _same(tfidf_transform(vectorizer, flat), vectorizer.transform(documents))
    for first, last in [(0, 3), (2, 6), (5, 20), (4, 4)]:
        part = flat[first:last]
        assert [part[i] for i in range(len(part))] == documents[first:last]
        if len(part):
            assert _same(tfidf_transform(vectorizer, part), vectorizer.transform(documents[first:last]))


# A token vocabulary holding some of the content words of test_segment's pieces (others stay out of it).
_WORDS = sorted({w for piece in _PIECES for w in content_words(piece)})
_TOKEN_VOCABULARY = TfidfVocabulary(TOKENS, (1, 1), {w: i for i, w in enumerate(_WORDS[::2])}, np.ones(len(_WORDS)))


def _looked_up(texts: list[str]) -> list[list[int]]:
    """The definition: each text's content words, one by one, as the vocabulary's columns (unknown words left out)."""
    vocabulary = _TOKEN_VOCABULARY.vocabulary
    return [[vocabulary[w] for w in content_words(text) if w in vocabulary] for text in texts]


def _as_lists(documents: TokenColumns) -> list[list[int]]:
    return [documents[i] for i in range(len(documents))]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join), max_size=8))
def test_content_word_columns_equal_the_words_looked_up(texts: list[str]) -> None:
    normalised = [normalise(t) for t in texts]
    columns = _TOKEN_VOCABULARY.content_word_columns(normalised)
    assert _as_lists(columns) == _looked_up(texts)
    if texts:
        words = TokenDocuments(*content_words_of_normalised(normalised))
        assert _same(_TOKEN_VOCABULARY.transform(columns), _TOKEN_VOCABULARY.transform(words))


def test_content_word_columns_in_several_cuts_with_the_separator_and_without_rjieba(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [normalise(p) for p in _PIECES] + ["", "行政执法\r三项制度", ""]
    monkeypatch.setattr(segment, "_TEXTS_CUT_AT_ONCE", 4)
    monkeypatch.setattr(theme_features, "_MEMO_LIMIT", 5)  # the memo starts afresh on most calls
    for _ in range(2):
        assert _as_lists(_TOKEN_VOCABULARY.content_word_columns(texts)) == _looked_up(texts)
    columns = _TOKEN_VOCABULARY.content_word_columns(texts)
    for first, last in [(0, 3), (2, 9), (5, 100), (4, 4)]:
        assert _as_lists(columns[first:last]) == _looked_up(texts)[first:last]
    with_separator = [*texts, "执法\0复议"]  # a text holding the separator: its words looked up one by one
    assert _as_lists(_TOKEN_VOCABULARY.content_word_columns(with_separator)) == _looked_up(with_separator)
    monkeypatch.setattr(segment, "_rjieba_available", lambda: False)
    assert _as_lists(_TOKEN_VOCABULARY.content_word_columns(texts)) == _looked_up(texts)
    assert len(_TOKEN_VOCABULARY.content_word_columns([])) == 0


def test_a_separator_not_cut_alone_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(theme_features, "cut_joined", lambda texts: iter([(len(texts), ["复议", "\0\0"])]))
    with pytest.raises(RuntimeError, match="text ends"):
        _TOKEN_VOCABULARY.content_word_columns(["复议", ""])


def test_other_vectorizers_fall_back_to_sklearn() -> None:
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit(TRAINING)
    assert _same(tfidf_transform(vectorizer, UNSEEN), vectorizer.transform(UNSEEN))
    words = TfidfVectorizer(analyzer=lambda tokens: [t.upper() for t in tokens]).fit([["a", "b"]])
    assert _same(tfidf_transform(words, [["a"], ["b", "c"]]), words.transform([["a"], ["b", "c"]]))
    assert _identity(["x"]) == ["x"]


# --------------------------------------------------------------------------- the light prediction half


@pytest.mark.parametrize("n_rows", [9, SMALL_PRODUCT_ROWS + 1, 500])
def test_row_normalisation_equals_sklearn(n_rows: int) -> None:
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(n_rows)
    lengths = [0, 1, 3, 8, 9, 17, 40, 300, 5, *rng.integers(0, 120, n_rows - 9).tolist()]
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    indices = np.concatenate([np.sort(rng.choice(500, n, replace=False)) for n in lengths]).astype(np.int32)
    data = rng.random(int(indptr[-1])) * rng.choice([1e-3, 1.0, 1e3], int(indptr[-1]))
    data[indptr[4] : indptr[5]] = 0.0  # a row of zeros stays as it is
    ours = sparse.csr_matrix((data.copy(), indices, indptr), shape=(len(lengths), 500))
    normalize_rows(ours)
    theirs = normalize(sparse.csr_matrix((data.copy(), indices, indptr), shape=(len(lengths), 500)), copy=False)
    assert np.array_equal(ours.data, theirs.data)


@pytest.mark.parametrize("n_classes", [2, 3, 7])
def test_linear_model_probabilities_equal_sklearn(n_classes: int) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(n_classes)
    features = sparse.random(60, 40, density=0.3, format="csr", random_state=1)
    labels = np.array([f"c{i % n_classes}" for i in range(60)])
    model = LogisticRegression(C=10.0, max_iter=5000).fit(features, labels)
    unseen = sparse.random(25, 40, density=0.4, format="csr", random_state=2) * rng.random()
    assert np.array_equal(LinearModel.of(model).predict_proba(unseen), model.predict_proba(unseen))
    rows = SparseRows(unseen.data, unseen.indices, unseen.indptr, unseen.shape)  # no SciPy on this path
    assert np.array_equal(LinearModel.of(model).predict_proba(rows), model.predict_proba(unseen))


@pytest.mark.parametrize("n_classes", [2, 5])
def test_linear_model_probabilities_of_large_blocks_equal_sklearn(n_classes: int) -> None:
    """Blocks of many rows read the coefficients from a copy in the order of the first block's feature counts."""
    from sklearn.linear_model import LogisticRegression

    training = _random_rows(200, 300, seed=n_classes)
    labels = np.array([f"c{i % n_classes}" for i in range(200)])
    model = LogisticRegression(C=10.0, max_iter=5000).fit(training, labels)
    light = LinearModel.of(model)
    for seed in (3, 4, 5):  # later blocks have other frequent features than the first
        unseen = _random_rows(SMALL_PRODUCT_ROWS + 40 * seed, 300, seed=seed)
        rows = SparseRows(unseen.data, unseen.indices, unseen.indptr, unseen.shape)
        assert np.array_equal(light.predict_proba(rows), model.predict_proba(unseen))
    assert "_ordered_coef" in light.__dict__
    assert "_ordered_coef" not in pickle.loads(pickle.dumps(light)).__dict__  # made again, not stored


def _random_rows(n_rows: int, n_columns: int, seed: int) -> sparse.csr_matrix:
    """Rows of very different lengths (some empty), values of very different sizes: sums that round."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, min(n_columns, 300), n_rows)
    lengths[::7] = 0
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    indices = np.concatenate([np.sort(rng.choice(n_columns, n, replace=False)) for n in lengths]).astype(np.int32)
    data = rng.random(int(indptr[-1])) * rng.choice([1e-3, 1.0, 1e3], int(indptr[-1]))
    return sparse.csr_matrix((data, indices, indptr), shape=(n_rows, n_columns))


@pytest.mark.parametrize("n_classes", [1, 3, 54])
@pytest.mark.parametrize("n_rows", [1, 5, SMALL_PRODUCT_ROWS, SMALL_PRODUCT_ROWS + 1])
def test_sparse_rows_product_equals_scipy_bit_for_bit(n_classes: int, n_rows: int) -> None:
    matrix = _random_rows(n_rows, 900, n_rows + n_classes)
    coef = np.random.default_rng(n_classes).normal(size=(n_classes, 900)) * 3
    rows = SparseRows(matrix.data, matrix.indices, matrix.indptr, matrix.shape)
    ours, theirs = rows @ coef.T, matrix @ coef.T
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("n_rows", [20, SMALL_PRODUCT_ROWS + 1])
def test_hstack_rows_equals_scipy(n_rows: int) -> None:
    blocks = [_random_rows(n_rows, n, seed) for seed, n in enumerate((300, 1, 50, 700))]
    stacked = hstack_rows([SparseRows(b.data, b.indices, b.indptr, b.shape) for b in blocks])
    expected = sparse.hstack(blocks, format="csr")
    assert stacked.shape == expected.shape
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(stacked, part), getattr(expected, part))


def _evidence_row_by_row(predictor: ThemePredictor, features: sparse.csr_matrix, themes: list[str]) -> list[str]:
    """The evidence spelled out: per row, its features' weight for the theme, positive ones largest first, ties by name."""
    classes = list(predictor.level1_.classes)
    coef = predictor.level1_.coef
    weights = coef if coef.shape[0] > 1 else np.vstack([-coef[0], coef[0]])
    out = []
    for row, theme in enumerate(themes):
        start, end = features.indptr[row], features.indptr[row + 1]
        weight = weights[classes.index(theme)] if theme in classes else np.zeros(coef.shape[1])
        entries = [
            (float(v * weight[c]), int(c))
            for c, v in zip(features.indices[start:end], features.data[start:end], strict=True)
        ]
        entries = sorted((e for e in entries if e[0] > 0), key=lambda e: (-e[0], predictor.feature_names_[e[1]]))
        names = predictor.feature_names_
        out.append("; ".join(f"{names[c]}({v:+.2f})" for v, c in entries[: predictor.n_evidence]))
    return out


@pytest.mark.parametrize(("n_classes", "n_evidence", "seed"), [(4, 4, 0), (4, 1, 1), (2, 3, 2), (6, 4, 3), (3, 0, 4)])
def test_evidence_equals_the_row_by_row_definition(n_classes: int, n_evidence: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_features, lengths = 60, [0, 1, 3, 4, 5, 8, 40, 60, 2, 9, 17, 33] * 4
    # Few distinct values and names: ties in weight and in name are everywhere.
    indices = np.concatenate([np.sort(rng.choice(n_features, n, replace=False)) for n in lengths]).astype(np.int32)
    data = rng.choice([0.5, 1.0, 2.0], len(indices))
    indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    features = sparse.csr_matrix((data, indices, indptr), shape=(len(lengths), n_features))
    codes = list(LEVEL1_CODES[:n_classes])
    predictor = ThemePredictor.__new__(ThemePredictor)
    coef = rng.choice([-1.0, 0.0, 0.25, 0.5, 1.0], (1 if n_classes == 2 else n_classes, n_features))
    predictor.level1_ = LinearModel(np.array(codes), coef, np.zeros(len(coef)))
    predictor.feature_names_ = [f"f{rng.integers(0, 25)}" for _ in range(n_features)]
    predictor.n_evidence = n_evidence
    themes = [str(rng.choice([*codes, LEVEL1_CODES[-1]])) for _ in lengths]  # the last: a theme the model lacks
    blocks = [features[first : first + 7] for first in range(0, len(lengths), 7)]
    assert predictor._evidence(blocks, themes) == _evidence_row_by_row(predictor, features, themes)


@settings(max_examples=500, deadline=None)
@given(st.text(), st.floats())
def test_evidence_entries_formatted_as_the_f_string(name: str, value: float) -> None:
    from analysis.annotate.theme_inference import _NAMED

    assert _NAMED % (name, value) == f"{name}({value:+.2f})"


PREDICT_IN_ANOTHER_PROCESS = """
import pickle, sys
predictor, rows = pickle.load(open(sys.argv[1], "rb"))
predictions = predictor.predict_rows(rows)
assert "sklearn" not in sys.modules, "loading and using the predictor imported scikit-learn"
assert "scipy" not in sys.modules and "pandas" not in sys.modules, "a few tasks need neither SciPy nor pandas"
predictions = [predictions, predictor.predict(pickle.load(open(sys.argv[2], "rb")))]
pickle.dump(predictions, open(sys.argv[3], "wb"))
"""


def test_predictor_codes_like_the_classifier_and_loads_without_sklearn(tmp_path) -> None:
    import pickle
    import subprocess
    import sys

    import pandas as pd

    from analysis.annotate.themes import ThemeClassifier
    from analysis.core.codebook import Codebook
    from test_themes import make_tasks, write_codebook

    codebook = Codebook.load(write_codebook(tmp_path / "codebook.csv"))
    tasks, gold = make_tasks()
    classifier = ThemeClassifier(codebook).fit(tasks, gold)
    predictor = ThemePredictor.of(classifier)
    assert type(predictor) is ThemePredictor and "level1_model_" not in predictor.__dict__
    expected = classifier.predict(tasks)
    pd.testing.assert_frame_equal(predictor.predict(tasks), expected, check_exact=True)
    (tmp_path / "predictor.pkl").write_bytes(pickle.dumps((predictor, tasks.to_dict("records"))))
    (tmp_path / "tasks.pkl").write_bytes(pickle.dumps(tasks))
    files = [str(tmp_path / name) for name in ("predictor.pkl", "tasks.pkl", "out.pkl")]
    subprocess.run([sys.executable, "-c", PREDICT_IN_ANOTHER_PROCESS, *files], check=True)
    rows, frame = pd.read_pickle(tmp_path / "out.pkl")
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert rows == expected.to_dict("records")  # the same codes and confidences, as plain values
