"""Chinese word segmentation for the theme classifier (jieba + a domain dictionary).

Plans are written in a genre with many fixed terms of art (重大行政决策,
双随机一公开, 行政执法三项制度 ...).  Plain jieba splits most of them into
pieces whose meaning differs from the whole, so the terms are listed in
``reference/domain_dictionary.txt`` (jieba user-dictionary lines
``word freq tag``) and added to a *private* ``jieba.Tokenizer`` — the global
jieba instance is never touched, so loading is explicit and repeatable and
other code using jieba is not affected.  The tokenizer is built once per
process and dictionary file.

Text is NFKC-normalised (full-width letters/digits/brackets -> ASCII) and
lower-cased before segmenting; tokens made only of whitespace, punctuation or
symbols are dropped, numbers are kept.  The text is expected in simplified
characters (the pipeline converts traditional text before this stage).

``tokenize`` gives jieba's tokens computed by the Rust port (``rjieba``),
loaded with the same dictionary; ``tokenize_with_jieba`` is the reference
it is tested against (see ``tokenize_with_rjieba`` for the one difference
that has to be bridged).
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.core.errors import ReferenceDataError
from analysis.core.reference import reference_path

log = logging.getLogger(__name__)

DOMAIN_DICTIONARY_PATH = reference_path("domain_dictionary.txt")

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import jieba

# Function words and intensifiers that never tell one theme from another.
# Kept deliberately small: policy verbs that occur in every task (加强, 完善,
# 推进, 建立, 健全 ...) are NOT listed, because inverse document frequency
# already gives them little weight and some (健全/建立 + 制度) take part in
# informative word pairs.  Nouns are never stopwords here.
STOPWORDS: frozenset[str] = frozenset(
    """
    的 地 得 之 和 与 及 以及 并 并且 或 或者 而 且 等 等等 了 着 是 为 以 在 对 对于 于 由 从 向 把 被
    将 其 各 各项 各类 该 此 这 那 这些 有关 相关 一些 一个 之间 方面 工作 进行 开展 做好 要 应 应当
    必须 需要 可以 能够 进一步 切实 全面 积极 认真 深入 大力 不断 着力 努力 逐步 持续 扎实 有效 有序
    坚持 确保 按照 根据 通过 围绕 结合 加快 年度 年 月 日 中 上 下 内 后 前
    """.split()
)

# finalseg's rule for runs of Latin letters/digits (jieba/finalseg/__init__.py):
# Python jieba splits "2015-2020" into "2015", "-", "2020"; jieba-rs keeps it whole.
_LATIN_RUN = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_HAN = re.compile(r"[\u4E00-\u9FD5]")
_DICTIONARY_LINE = re.compile(r"^(\S+) (\d+) ([a-z]+)$")


@dataclass(frozen=True)
class DictionaryEntry:
    """One line of the domain dictionary."""

    word: str
    freq: int
    tag: str


def load_domain_dictionary(path: str | Path | None = None) -> list[DictionaryEntry]:
    """Read and validate a jieba user dictionary (``#`` comment lines allowed).

    Raises :class:`ReferenceDataError` naming the file and line for a line that
    is not ``word freq tag`` or a word listed twice.
    """
    path = Path(path) if path is not None else DOMAIN_DICTIONARY_PATH
    if not path.is_file():
        raise ReferenceDataError(path, "file not found")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise ReferenceDataError(path, f"not UTF-8: {exc}") from exc
    entries: list[DictionaryEntry] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _DICTIONARY_LINE.match(line)
        if not match:
            raise ReferenceDataError(path, f"line {number}: expected 'word freq tag', got {line!r}")
        word, freq, tag = match.group(1), int(match.group(2)), match.group(3)
        if word in seen:
            raise ReferenceDataError(path, f"line {number}: {word!r} already listed on line {seen[word]}")
        seen[word] = number
        entries.append(DictionaryEntry(word, freq, tag))
    if not entries:
        raise ReferenceDataError(path, "no entries")
    return entries


def _dictionary_key(path: str | Path | None) -> str:
    return str(Path(path).resolve()) if path is not None else _default_dictionary_key()


@functools.lru_cache(maxsize=1)
def _default_dictionary_key() -> str:
    """The resolved default dictionary path, resolved once (``Path.resolve`` per call cost more than segmenting)."""
    return str(DOMAIN_DICTIONARY_PATH.resolve())


@functools.lru_cache(maxsize=4)
def _cached_tokenizer(resolved_path: str) -> jieba.Tokenizer:
    import jieba  # here, not at the top: tokenize() runs on rjieba, and importing jieba costs start-up time

    # jieba logs "Building prefix dict ..." at DEBUG level on its own logger; only
    # its warnings are of interest to users of this library.
    jieba.setLogLevel(logging.WARNING)
    entries = load_domain_dictionary(resolved_path)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for entry in entries:
        tokenizer.add_word(entry.word, entry.freq, entry.tag)
    log.debug("jieba tokenizer ready with %d domain terms from %s", len(entries), resolved_path)
    return tokenizer


def get_tokenizer(dictionary_path: str | Path | None = None) -> jieba.Tokenizer:
    """A private jieba tokenizer with the domain dictionary (built once per process)."""
    return _cached_tokenizer(_dictionary_key(dictionary_path))


def normalise(text: str) -> str:
    """NFKC + lower case: the form every tokenizer here segments."""
    return unicodedata.normalize("NFKC", text).lower()


def normalise_each(texts: Sequence[str]) -> list[str]:
    """``[normalise(text) for text in texts]``, in one NFKC and one lower casing of the texts joined by ``\\0``.

    ``\\0`` splits them back: it is a character of its own under NFKC (it composes with nothing and no
    character decomposes into it) and under lower casing (neither cased nor case-ignorable, so a final Σ
    on one side is lower-cased as at the end of its text).  A text holding ``\\0`` itself makes more pieces
    than texts: then each text is normalised on its own.  Tested against :func:`normalise` text by text.
    """
    if not texts:
        return []
    pieces = unicodedata.normalize("NFKC", "\0".join(texts)).lower().split("\0")
    if len(pieces) != len(texts):
        return [normalise(text) for text in texts]
    return pieces


# A letter or number (Unicode categories L*, N*): exactly ``[^\W_]`` in Python's re,
# checked over every code point; the regex runs in C.
_LETTER_OR_NUMBER = re.compile(r"[^\W_]")


def is_content_token(token: str) -> bool:
    """False for tokens made only of whitespace, punctuation or symbols."""
    return _LETTER_OR_NUMBER.search(token) is not None


def tokenize_with_jieba(text: str, dictionary_path: str | Path | None = None) -> list[str]:
    """Words of ``text`` by Python jieba (HMM on), without whitespace/punctuation tokens.

    This is the reference segmentation: :func:`tokenize` must give exactly
    these tokens (the tests check it).  Stopwords are kept; callers filter
    with :data:`STOPWORDS` when they want to.
    """
    tokenizer = get_tokenizer(dictionary_path)
    return [t for t in tokenizer.lcut(normalise(text), HMM=True) if is_content_token(t)]


def tokenize(text: str, dictionary_path: str | Path | None = None) -> list[str]:
    """Words of ``text``: jieba's tokens, computed by the compiled rjieba when installed.

    Python jieba segments about 1.7 MB/s on one core and would dominate a
    large build; rjieba (jieba-rs) gives the same tokens many times faster.
    """
    if _rjieba_available():
        return tokenize_with_rjieba(text, dictionary_path)
    return tokenize_with_jieba(text, dictionary_path)


@functools.lru_cache(maxsize=1)
def _rjieba_available() -> bool:
    try:
        import rjieba  # noqa: F401
    except ImportError:
        log.warning("rjieba not installed: segmenting with Python jieba (same tokens, slower)")
        return False
    return True


def tokenize_for_search(text: str, dictionary_path: str | Path | None = None) -> list[str]:
    """jieba's search-mode tokens: long words plus the known words inside them."""
    tokenizer = get_tokenizer(dictionary_path)
    return [t for t in tokenizer.lcut_for_search(normalise(text), HMM=True) if is_content_token(t)]


@functools.lru_cache(maxsize=4)
def _cached_rjieba(resolved_path: str):  # -> rjieba.Jieba
    import rjieba

    segmenter = rjieba.Jieba()
    for entry in load_domain_dictionary(resolved_path):
        segmenter.add_word(entry.word, entry.freq, entry.tag)
    return segmenter


def content_words(text: str, dictionary_path: str | Path | None = None) -> list[str]:
    """:func:`tokenize` without :data:`STOPWORDS` and bare numbers: the words that tell themes apart."""
    if not _rjieba_available():
        return [t for t in tokenize_with_jieba(text, dictionary_path) if _is_content_word(t)]
    return _cut_into(_CONTENT_PIECES, text, dictionary_path)


def _is_content_word(token: str) -> bool:
    return token not in STOPWORDS and not token.isdigit()


def tokenize_with_rjieba(text: str, dictionary_path: str | Path | None = None) -> list[str]:
    """The same tokens as :func:`tokenize`, computed with ``rjieba`` (jieba-rs).

    rjieba ships the same default dictionary as jieba and accepts user words
    with ``add_word(word, freq, tag)``, so the domain dictionary is loaded the
    same way.  The one known difference: jieba-rs keeps runs of Latin letters,
    digits and ``-`` (``2015-2020``) as one token where Python jieba splits
    them with finalseg's rule; such tokens are re-split with that rule here.
    Identity with :func:`tokenize_with_jieba` is checked by the tests on a sentence corpus.
    """
    return _cut_into(_TOKEN_PIECES, text, dictionary_path)


def _cut_into(pieces: dict[str, tuple[str, ...]], text: str, dictionary_path: str | Path | None) -> list[str]:
    """rjieba's tokens of ``text``, each replaced by what ``pieces`` keeps of it (a bounded memo)."""
    segmenter = _cached_rjieba(_dictionary_key(dictionary_path))
    if len(pieces) > _TOKEN_PIECES_LIMIT:
        pieces.clear()
    return list(itertools.chain.from_iterable(map(pieces.__getitem__, segmenter.cut(normalise(text), hmm=True))))


def content_words_of_normalised(
    texts: Sequence[str], dictionary_path: str | Path | None = None
) -> tuple[list[str], list[int]]:
    """:func:`content_words` of each of ``texts`` (already normalised): all in one list, and how many each has.

    rjieba cuts the texts joined by ``\0`` (:func:`cut_joined`: a few large calls
    instead of one per text; a theme-coding part has tens of thousands of short texts).
    """
    if not can_cut_joined(texts):
        per_text = [_content_words_of_normalised(text, dictionary_path) for text in texts]
        return list(itertools.chain.from_iterable(per_text)), [len(words) for words in per_text]
    words: list[str] = []
    counts: list[int] = []
    for n_texts, tokens in cut_joined(texts, dictionary_path):
        kept = list(map(_CONTENT_PIECES.__getitem__, tokens))  # the separator keeps nothing
        words.extend(itertools.chain.from_iterable(kept))
        start = 0
        for end in _positions(tokens, SEPARATOR, n_texts):  # the token that ends each text
            counts.append(sum(map(len, kept[start:end])))
            start = end + 1
    return words, counts


def can_cut_joined(texts: Sequence[str]) -> bool:
    """Whether :func:`cut_joined` can cut ``texts``: rjieba is installed and no text holds :data:`SEPARATOR`."""
    return _rjieba_available() and not any(SEPARATOR in text for text in texts)


def cut_joined(texts: Sequence[str], dictionary_path: str | Path | None = None) -> Iterator[tuple[int, list[str]]]:
    """rjieba's tokens of ``texts`` (already normalised; :func:`can_cut_joined`), a few thousand texts at a time.

    Per call, ``(number of texts, tokens)``: the texts are cut joined by
    :data:`SEPARATOR`, each followed by it.  rjieba cuts each run of Han
    characters, letters and digits on its own and every other character is a
    token of its own or a whitespace token, so a ``\0`` after a text ends the
    run before it and is a token of its own, which marks where the text's
    tokens end (tested against cutting text by text).  :func:`content_pieces`
    of each token gives the text's content words.
    """
    segmenter = _cached_rjieba(_dictionary_key(dictionary_path))
    for first in range(0, len(texts), _TEXTS_CUT_AT_ONCE):
        chunk = texts[first : first + _TEXTS_CUT_AT_ONCE]
        if len(_CONTENT_PIECES) > _TOKEN_PIECES_LIMIT:
            _CONTENT_PIECES.clear()
        yield len(chunk), segmenter.cut(SEPARATOR.join([*chunk, ""]), hmm=True)


def content_pieces(token: str) -> tuple[str, ...]:
    """The content words (:func:`content_words`) one rjieba token gives (memoised per distinct token)."""
    return _CONTENT_PIECES[token]


def _content_words_of_normalised(text: str, dictionary_path: str | Path | None) -> list[str]:
    """:func:`content_words` of a text already normalised (one text at a time)."""
    if not _rjieba_available():
        tokens = get_tokenizer(dictionary_path).lcut(text, HMM=True)
        return [t for t in tokens if is_content_token(t) and _is_content_word(t)]
    segmenter = _cached_rjieba(_dictionary_key(dictionary_path))
    return list(itertools.chain.from_iterable(map(_CONTENT_PIECES.__getitem__, segmenter.cut(text, hmm=True))))


def _positions(items: list[str], item: str, count: int) -> list[int]:
    """The positions of the first ``count`` occurrences of ``item`` in ``items`` (all of them exist)."""
    found: list[int] = []
    position = -1
    for _ in range(count):
        position = items.index(item, position + 1)
        found.append(position)
    return found


SEPARATOR = "\0"
"""Between texts cut together (:func:`cut_joined`)."""
_TEXTS_CUT_AT_ONCE = 1024  # texts per rjieba call: the token list of one call stays small


class _Pieces(dict[str, tuple[str, ...]]):
    """rjieba token -> the tokens :func:`tokenize_with_rjieba` keeps of it, worked out once per distinct token."""

    def __missing__(self, token: str) -> tuple[str, ...]:
        if len(token) > 1 and not _HAN.search(token) and _LATIN_RUN.search(token):
            split = [piece for piece in _LATIN_RUN.split(token) if piece]
        else:
            split = [token]
        kept = tuple(piece for piece in split if is_content_token(piece))
        self[token] = kept
        return kept


class _ContentPieces(dict[str, tuple[str, ...]]):
    """rjieba token -> the tokens :func:`content_words` keeps of it."""

    def __missing__(self, token: str) -> tuple[str, ...]:
        kept = tuple(piece for piece in _TOKEN_PIECES[token] if _is_content_word(piece))
        self[token] = kept
        return kept


# Bounded: distinct tokens grow slowly with the corpus, but a process may segment anything.
_TOKEN_PIECES_LIMIT = 500_000
_TOKEN_PIECES = _Pieces()
_CONTENT_PIECES = _ContentPieces()
