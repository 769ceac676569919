"""The fast t2s converter gives exactly what OpenCC's own converter gives."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opencc import OpenCC

from analysis.core.hanzi import _DICTIONARY_DIR, T2SConverter, simplify_text

REFERENCE = OpenCC("t2s")
FAST = T2SConverter()


def _sources(name: str) -> list[str]:
    lines = (_DICTIONARY_DIR / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if "\t" in line]


PHRASES = _sources("TSPhrases.txt")
CHARACTERS = _sources("TSCharacters.txt")


def test_every_dictionary_entry_converts_as_opencc_converts_it():
    for source in PHRASES + CHARACTERS:
        for text in (source, f"推進{source}法治", f"{source}，{source}"):
            assert FAST.convert(text) == REFERENCE.convert(text), text


def test_phrase_context_is_kept():
    # 乾 becomes 干 in 乾燥 but stays in the name 乾隆 (a phrase entry): the slow path is taken
    assert simplify_text("乾隆年間的乾燥氣候") == "乾隆年间的干燥气候"


def test_text_without_phrases_is_converted_character_by_character():
    text = "各級政府要堅持依法行政，建設法治政府。責任單位：市司法局"
    assert FAST.convert(text) == REFERENCE.convert(text) == "各级政府要坚持依法行政，建设法治政府。责任单位：市司法局"


def test_whole_simplified_documents_come_back_unchanged_and_their_traditional_form_converts_alike(tmp_path):
    s2t = OpenCC("s2t")
    text = (
        "（一）深化行政审批制度改革。2017年底前完成清理工作，覆盖率达到100%。\n责任单位：市政府办公室、市发展改革委\n"
    )
    traditional = s2t.convert(text * 20)
    assert FAST.convert(traditional) == REFERENCE.convert(traditional)
    assert FAST.convert(text) == REFERENCE.convert(text)


_ALPHABET = st.sampled_from(
    [
        *PHRASES[::4],
        *(p[:2] for p in PHRASES[::3]),
        *(p[1:] for p in PHRASES[1::3]),
        *CHARACTERS[::37],
        "法治",
        "政府",
        "，",
        "。",
        " ",
        "\u3000",
        "-",
        "（",
        "）",
        "a",
        "1",
        "\n",
    ]
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ALPHABET, max_size=30))
def test_random_mixtures_convert_as_opencc_converts_them(pieces):
    text = "".join(pieces)
    assert FAST.convert(text) == REFERENCE.convert(text)


def _phrase_starts_scanning_everywhere(text: str) -> list[int]:
    """The definition phrase_starts keeps: every position where the zero-width phrase pattern matches."""
    return [match.start() for match in FAST._phrase_start.finditer(text)]


_PHRASE_PIECES = st.sampled_from(
    [*PHRASES[::7], *(p[:2] for p in PHRASES[::11]), *(p[:1] for p in PHRASES[::13]), *"推進法治的，\n 𠀀😀a", "\ud800"]
)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_PHRASE_PIECES, max_size=15).map("".join))
def test_phrase_starts_found_from_character_pairs_as_scanning_everywhere(text):
    from analysis.core.text import utf16_units

    assert FAST.phrase_starts(text) == _phrase_starts_scanning_everywhere(text)
    assert FAST.phrase_starts(text, utf16_units(text)) == _phrase_starts_scanning_everywhere(text)


def test_phrase_starts_in_every_phrase_and_around_it():
    for phrase in PHRASES:
        text = f"推{phrase}{phrase[:-1]}法{phrase}"
        assert FAST.phrase_starts(text) == _phrase_starts_scanning_everywhere(text), phrase
        assert FAST.phrase_starts(text), phrase  # the test sees phrases
