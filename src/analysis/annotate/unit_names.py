"""Unit names as written: punctuation folded, names cleaned, lists of units split into names.

Shared by the duty parser (:mod:`analysis.annotate.units`) and the agency normaliser
(:mod:`analysis.annotate.agencies`).  Collective units whose name holds a list (各县、市、区政府) stay whole,
using the place words of ``place_names.csv``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path

from analysis import config
from analysis.core.reference import TableSchema, read_rows_strict
from analysis.core.text import alternation

_NON_SPACE = re.compile(r"\S")
_SPACES = re.compile(r"\s+")
_PARENTHESES = re.compile(r"[()]")
UNIT_START = re.compile(r"[省市县区州盟旗委局厅各]|相关|有关|中共|中国共产党|本级|机关|党委|政府|国家|中央")


PLACES_FILE = "place_names.csv"


_BRACKETS = str.maketrans(
    {
        "【": "(",
        "】": ")",
        "〔": "(",
        "〕": ")",
        "［": "(",
        "］": ")",
        "[": "(",
        "]": ")",
        "〈": "<",
        "〉": ">",
        "\u3000": " ",
        "\xa0": " ",
    }
)


_BRACKET_VARIANT = re.compile(f"[{re.escape(''.join(map(chr, _BRACKETS)))}]")  # a character _BRACKETS maps


_HARD_SEPARATORS = "、,;"


_HARD_SEPARATOR = re.compile(f"[{_HARD_SEPARATORS}]")


_SOFT_SEPARATOR = re.compile(r"以及|及|和|与|與|/|等|\s+")


EDGE_PUNCT = " \t\r\n。.,;:、\"'“”‘’《》<>·|"


_TRAILING_DENG = re.compile(rf"(?:等[{re.escape(EDGE_PUNCT)}]*)+$")  # a trailing 等 (and others)


NAME_CACHE_SIZE = 16_384  # distinct unit names and list pieces remembered by the pure name functions below


# A unit name ends in one of these (局, 委, 办, 部门, 单位, 政府 ...); used to tell the
# list separator 和/及/与 from the 和 inside 发展和改革委员会, 文化和旅游局.
_UNIT_END = re.compile(
    r"(?:局|委|办|院|部|厅|署|处|科|股|室|所|站|队|中心|会|社|府|组|团|联|协|校|馆|行|司|门|位|场|区|县|市|省|州|"
    r"盟|旗|镇|乡|街道|(?<![有相])关|台|庭|军|方)$"
)


_TRAILING_PAREN = re.compile(r"\([^()]*\)$")


def normalise_punctuation(text: str) -> str:
    """Full-width ASCII to half-width (NFKC), brackets to ``()``; CJK text unchanged."""
    text = unicodedata.normalize("NFKC", text)
    return text.translate(_BRACKETS) if _BRACKET_VARIANT.search(text) else text  # translate is slow on CJK


def bracket_partners(text: str) -> dict[int, int]:
    """Opening ``(`` -> its matching ``)`` for every matched pair, in one pass with a stack."""
    stack: list[int] = []
    partners: dict[int, int] = {}
    if "(" not in text:
        return partners
    for match in _PARENTHESES.finditer(text):
        if match.group() == "(":
            stack.append(match.start())
        elif stack:
            partners[stack.pop()] = match.start()
    return partners


def strip_wrapping_brackets(text: str) -> str:
    text = text.strip(EDGE_PUNCT)
    partners = bracket_partners(text)
    start, end = 0, len(text)  # text[start:end] is what is left
    while start < end and text[start] == "(" and partners.get(start) == end - 1:
        start, end = start + 1, end - 1
        while start < end and text[start] in EDGE_PUNCT:
            start += 1
        while end > start and text[end - 1] in EDGE_PUNCT:
            end -= 1
    return text[start:end]


_UNIT_NAME_TAIL = 64  # a unit name ends within this many characters (with its trailing parentheticals)


@functools.lru_cache(maxsize=NAME_CACHE_SIZE)
def ends_like_unit(text: str) -> bool:
    """True when ``text`` ends like a unit name (司法局, 各街道(功能区)); looks at the tail only."""
    text = text.strip(EDGE_PUNCT)[-_UNIT_NAME_TAIL:]
    while _TRAILING_PAREN.search(text):
        stripped = _TRAILING_PAREN.sub("", text).strip()
        if not stripped:
            break
        text = stripped
    return bool(_UNIT_END.search(text))


@functools.lru_cache(maxsize=NAME_CACHE_SIZE)
def clean_unit_name(raw: str) -> str:
    """The unit name without spaces, quotes, edge punctuation or a trailing 等."""
    text = _SPACES.sub("", normalise_punctuation(raw))
    text = text.strip(EDGE_PUNCT)
    stripped = _TRAILING_DENG.sub("", text)
    text = stripped if len(stripped) >= 2 else text
    if text.count("(") > text.count(")"):
        text = text.rstrip("(")
    return text


def _depth_map(text: str) -> list[int]:
    """Parenthesis depth at each character (a ``(`` counts from the next one, a ``)`` from itself)."""
    if "(" not in text:
        return [0] * len(text)  # a ")" with nothing open leaves the depth at 0
    depth, out = 0, []
    for ch in text:
        if ch == ")":
            depth = max(0, depth - 1)
        out.append(depth)
        if ch == "(":
            depth += 1
    return out


def split_with_separators(text: str) -> list[tuple[str, str]]:
    """Pieces of a unit list with the separator that follows each ('' at the end).

    Hard separators (、 , ;) always split outside parentheses, except inside a
    collective unit (各县、市、区政府, 各乡镇、街道); 和/及/与/以及/等 and spaces
    split only after something that ends like a unit name.  What follows 等 in
    a piece (等有关部门, 等单位) is "and others", not a unit: it is dropped.
    """
    depth = _depth_map(text) if "(" in text else None  # None: no parenthesis, every depth is 0
    pieces: list[tuple[str, str]] = []
    start = 0
    for match in _HARD_SEPARATOR.finditer(text):
        i = match.start()
        if depth is None or depth[i] == 0:
            pieces.append((text[start:i], match.group()))
            start = i + 1
    pieces.append((text[start:], ""))
    out: list[tuple[str, str]] = []
    for piece, separator in _join_collectives(pieces):
        for part, after in _split_soft(piece, separator):
            part = part.strip(EDGE_PUNCT)
            if part:
                out.append((part, after))
    return out


def _join_collectives(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Rejoin a collective unit that the 、 split: 各县 / 市 / 区政府 -> 各县、市、区政府.

    A collective opens with 各 or 全 (the ``all`` group): a list with neither is returned as it is.
    """
    if len(pieces) < 2 or not any("各" in piece or "全" in piece for piece, _ in pieces):
        return pieces
    pattern = collective_parts()
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(pieces):
        piece, separator = pieces[i]
        head = pattern.fullmatch(piece.strip(EDGE_PUNCT))
        if head and head.group("all") and not head.group("suffix"):
            j = i
            while j + 1 < len(pieces) and pieces[j][1] == "、":
                nxt = pattern.fullmatch(pieces[j + 1][0].strip(EDGE_PUNCT))
                if not nxt or nxt.group("all"):
                    break
                j += 1
                if nxt.group("suffix"):
                    break
            if j > i:
                piece = "".join(p + (s if k < j else "") for k, (p, s) in enumerate(pieces[i : j + 1], start=i))
                separator = pieces[j][1]
                i = j
        out.append((piece, separator))
        i += 1
    return out


def _split_soft(piece: str, final_separator: str) -> list[tuple[str, str]]:
    if _SOFT_SEPARATOR.search(piece) is None:
        return [(piece, final_separator)]  # most names hold no 和/及/与/等/space
    depth = _depth_map(piece)
    out: list[tuple[str, str]] = []
    start = 0
    for match in _SOFT_SEPARATOR.finditer(piece):
        s, e = match.span()
        if depth[s] or s <= start:
            continue
        left = piece[max(start, s - _UNIT_NAME_TAIL) : s]  # only its tail decides (linear time)
        right = _NON_SPACE.search(piece, e)
        right_start = piece[right.start() : right.start() + 8] if right else ""
        if not ends_like_unit(left) or right_start.startswith("其"):
            continue
        if match.group() == "等":
            out.append((piece[start:s], final_separator))
            return out  # what follows 等 (有关部门, 单位) is not a unit of its own
        if not right_start:
            continue
        if match.group().isspace() and (len(piece[start:s].strip()) < 3 or not UNIT_START.match(right_start)):
            continue  # a line-wrap space inside a name (市政府 办公室), not a list separator
        out.append((piece[start:s], "soft"))
        start = e
    out.append((piece[start:], final_separator))
    return out


PLACE_KINDS = frozenset(
    {
        "level_suffix",
        "bare_marker",
        "prefix",
        "prefix_after_level",
        "province",
        "central",
        "not_prefix",
        "area_word",
        "government_suffix",
    }
)


PLACES_SCHEMA = TableSchema(
    required=("token", "kind"), optional=("note",), unique=(("token", "kind"),), allowed={"kind": PLACE_KINDS}
)


@functools.lru_cache(maxsize=4)
def collective_parts(folder: str | None = None) -> re.Pattern[str]:
    """The parts of a collective unit (各县、市、区政府): level and area words, then a government suffix.

    Groups: ``all`` (各/全, the collective's first part), ``suffix`` (政府, 办事处 …, its last part).
    Built from ``place_names.csv`` (kinds level_suffix, area_word, government_suffix).
    """
    places = read_rows_strict(Path(folder or config.REFERENCE_DIR) / PLACES_FILE, PLACES_SCHEMA)
    words = [row["token"] for row in places if row["kind"] in ("level_suffix", "area_word")]
    suffixes = [row["token"] for row in places if row["kind"] == "government_suffix"]
    return re.compile(rf"(?P<all>[各全])?(?:{alternation(words)}|\([^()]*\))+(?P<suffix>{alternation(suffixes)})?")


def split_units(text: str) -> list[str]:
    """Unit names in a list as written (``A、B和C及相关部门`` -> A, B, C, 相关部门)."""
    return [piece for piece, _ in split_with_separators(normalise_punctuation(text))]


def regex_check(column: str, when: Callable[[Mapping[str, str]], bool] = lambda row: True):
    def check(row: Mapping[str, str]) -> str | None:
        if not when(row):
            return None
        try:
            re.compile(row[column])
        except re.error as exc:
            return f"{column} {row[column]!r} is not a valid regular expression ({exc})"
        return None

    return check
