"""Units stage: who is responsible for each measure.

Assignment clauses (``牵头单位:市司法局、市财政局``) and inline assignments
(``由市司法局牵头,各有关部门配合``) are parsed into :class:`UnitMention`s in
written order; :class:`AgencyNormaliser` strips the jurisdiction prefix and maps
every name to one canonical agency, one category and its post-reform
successor.  All knowledge about names lives in reference tables
(``reference/agencies.csv``, ``generic_units.csv``, ``reform_crosswalk.csv``,
``unit_roles.csv``, ``place_names.csv``, ``agency_categories.csv``), validated
on load.  A name that matches nothing is kept as written with
``match="unmatched"`` and counted in ``AgencyNormaliser.unmatched_``.

Document-level duty metrics (:func:`duty_metrics`) and co-assignment pairs
(:func:`agency_pairs`) work on the ``units``/``tasks``/``documents`` tables.
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import config
from analysis.core.errors import ReferenceDataError
from analysis.core.hanzi import simplify_text
from analysis.core.models import ParsedDocument, Task
from analysis.core.reference import TableSchema, load_agency_categories, read_csv_strict, warn_unused
from analysis.core.text import alternation

log = logging.getLogger(__name__)


ROLES = ("lead", "responsible", "support")


DEFAULT_ROLE = "responsible"


SKIP_ROLE = "skip"  # labels that introduce no unit (deadlines, persons)


AGENCIES_FILE = "agencies.csv"


CROSSWALK_FILE = "reform_crosswalk.csv"


GENERIC_FILE = "generic_units.csv"


ROLES_FILE = "unit_roles.csv"


PLACES_FILE = "place_names.csv"


GENERIC_CATEGORY = "generic"


UNMATCHED_CATEGORY = "unclassified"


MATCH_KINDS = ("exact", "alias", "pattern", "generic", "unmatched")


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


_HARD_SEPARATORS = "、,;"


_SOFT_SEPARATOR = re.compile(r"以及|及|和|与|與|/|等|\s+")


_BOUNDARY = set(",;。:!?\n|")  # | separates the cells of a flattened table


_EDGE_PUNCT = " \t\r\n。.,;:、\"'“”‘’《》<>·|"


# A unit name ends in one of these (局, 委, 办, 部门, 单位, 政府 ...); used to tell the
# list separator 和/及/与 from the 和 inside 发展和改革委员会, 文化和旅游局.
_UNIT_END = re.compile(
    r"(?:局|委|办|院|部|厅|署|处|科|股|室|所|站|队|中心|会|社|府|组|团|联|协|校|馆|行|司|门|位|场|区|县|市|省|州|"
    r"盟|旗|镇|乡|街道|(?<![有相])关|台|庭|军|方)$"
)


_NON_SPACE = re.compile(r"\S")


_TRAILING_PAREN = re.compile(r"\([^()]*\)$")


# Adverbs between a unit and its role verb: 要积极配合, 按职责分工负责, 具体负责.
# In any order, at most four of them (按职责分工分别负责, 要积极配合).
_ADVERBS = (
    r"(?:要|应|应当|须|必须|将|均|各自|积极|共同|分别|具体|统一|主动|切实|认真|全面|协同|联合|密切"
    r"|按(?:照)?(?:各自)?(?:职责|职能)(?:分工)?|分工|各司其职|各负其责){0,4}"
)


_TRAILING_WORK = r"(?:负责落实|负责|落实|实施|推进|组织实施|抓好落实)?"


# Words that open a clause but are not part of a unit name (inline search only).
_LEADING_CONNECTIVES = re.compile(r"^(?:并且|并由|均由|统一由|具体由|分别由|各自由|由|并|且|同时|要|应|需)")


_PREPOSITIONS = re.compile(r"^(?:对|向|为|给|被|让|替|跟)")


_LEADING_VERBS = re.compile(
    r"^(?:建立|健全|完善|推进|加强|落实|开展|实行|深化|推动|坚持|强化|规范|严格|做好|支持|组织|要求|按照|根据|"
    r"在|从|将|把|经|以|由于|通过|实施|加快|提高|确保|探索|创新|鼓励|引导|督促|指导|监督)"
)


_UNIT_START = re.compile(r"[省市县区州盟旗委局厅各]|相关|有关|中共|中国共产党|本级|机关|党委|政府|国家|中央")


# Where the object list after 会同 ends: the next verb or preposition.
_OBJECT_STOP = re.compile(
    r"围绕|开展|制定|研究|进行|做好|承担|组织|共同|具体|一起|及时|按照|根据|依法|对|就|在|为|向|将|把|"
    r"督促|指导|推进|落实|建立|完善|加强|负责|牵头|配合"
)


_UNIT_WORDS_WITH_人 = ("人事", "人民", "人大", "人力", "人社", "人口", "人防", "人武")


_VERB_FOLLOWERS = ("人", "同志", "单位", "部门", "制", "领导", "处室", "科室")


def normalise_punctuation(text: str) -> str:
    """Full-width ASCII to half-width (NFKC), brackets to ``()``; CJK text unchanged."""
    return unicodedata.normalize("NFKC", text).translate(_BRACKETS)


def _bracket_partners(text: str) -> dict[int, int]:
    """Opening ``(`` -> its matching ``)`` for every matched pair, in one pass with a stack."""
    stack: list[int] = []
    partners: dict[int, int] = {}
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            partners[stack.pop()] = i
    return partners


def _strip_wrapping_brackets(text: str) -> str:
    text = text.strip(_EDGE_PUNCT)
    partners = _bracket_partners(text)
    start, end = 0, len(text)  # text[start:end] is what is left
    while start < end and text[start] == "(" and partners.get(start) == end - 1:
        start, end = start + 1, end - 1
        while start < end and text[start] in _EDGE_PUNCT:
            start += 1
        while end > start and text[end - 1] in _EDGE_PUNCT:
            end -= 1
    return text[start:end]


_UNIT_NAME_TAIL = 64  # a unit name ends within this many characters (with its trailing parentheticals)


def _ends_like_unit(text: str) -> bool:
    """True when ``text`` ends like a unit name (司法局, 各街道(功能区)); looks at the tail only."""
    text = text.strip(_EDGE_PUNCT)[-_UNIT_NAME_TAIL:]
    while _TRAILING_PAREN.search(text):
        stripped = _TRAILING_PAREN.sub("", text).strip()
        if not stripped:
            break
        text = stripped
    return bool(_UNIT_END.search(text))


def clean_unit_name(raw: str) -> str:
    """The unit name without spaces, quotes, edge punctuation or a trailing 等."""
    text = re.sub(r"\s+", "", normalise_punctuation(raw))
    text = text.strip(_EDGE_PUNCT)
    stripped = re.sub(rf"(?:等[{re.escape(_EDGE_PUNCT)}]*)+$", "", text)
    text = stripped if len(stripped) >= 2 else text
    if text.count("(") > text.count(")"):
        text = text.rstrip("(")
    return text


def _depth_map(text: str) -> list[int]:
    depth, out = 0, []
    for ch in text:
        if ch == ")":
            depth = max(0, depth - 1)
        out.append(depth)
        if ch == "(":
            depth += 1
    return out


def _split_with_separators(text: str) -> list[tuple[str, str]]:
    """Pieces of a unit list with the separator that follows each ('' at the end).

    Hard separators (、 , ;) always split outside parentheses, except inside a
    collective unit (各县、市、区政府, 各乡镇、街道); 和/及/与/以及/等 and spaces
    split only after something that ends like a unit name.  What follows 等 in
    a piece (等有关部门, 等单位) is "and others", not a unit: it is dropped.
    """
    depth = _depth_map(text)
    pieces: list[tuple[str, str]] = []
    start = 0
    for i, ch in enumerate(text):
        if ch in _HARD_SEPARATORS and depth[i] == 0:
            pieces.append((text[start:i], ch))
            start = i + 1
    pieces.append((text[start:], ""))
    out: list[tuple[str, str]] = []
    for piece, separator in _join_collectives(pieces):
        out.extend(_split_soft(piece, separator))
    return [(p.strip(_EDGE_PUNCT), s) for p, s in out if p.strip(_EDGE_PUNCT)]


def _join_collectives(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Rejoin a collective unit that the 、 split: 各县 / 市 / 区政府 -> 各县、市、区政府."""
    pattern = collective_parts()
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(pieces):
        piece, separator = pieces[i]
        head = pattern.fullmatch(piece.strip(_EDGE_PUNCT))
        if head and head.group("all") and not head.group("suffix"):
            j = i
            while j + 1 < len(pieces) and pieces[j][1] == "、":
                nxt = pattern.fullmatch(pieces[j + 1][0].strip(_EDGE_PUNCT))
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
        if not _ends_like_unit(left) or right_start.startswith("其"):
            continue
        if match.group() == "等":
            out.append((piece[start:s], final_separator))
            return out  # what follows 等 (有关部门, 单位) is not a unit of its own
        if not right_start:
            continue
        if match.group().isspace() and (len(piece[start:s].strip()) < 3 or not _UNIT_START.match(right_start)):
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
    places = read_csv_strict(Path(folder or config.REFERENCE_DIR) / PLACES_FILE, PLACES_SCHEMA)
    words = [t for t, k in zip(places["token"], places["kind"], strict=False) if k in ("level_suffix", "area_word")]
    suffixes = [t for t, k in zip(places["token"], places["kind"], strict=False) if k == "government_suffix"]
    return re.compile(rf"(?P<all>[各全])?(?:{alternation(words)}|\([^()]*\))+(?P<suffix>{alternation(suffixes)})?")


def split_units(text: str) -> list[str]:
    """Unit names in a list as written (``A、B和C及相关部门`` -> A, B, C, 相关部门)."""
    return [piece for piece, _ in _split_with_separators(normalise_punctuation(text))]


@dataclass(frozen=True)
class UnitMention:
    """One unit named in an assignment: ``raw`` as written, ``role`` lead/responsible/support."""

    raw: str
    role: str


@dataclass(frozen=True)
class RoleVocabulary:
    """Labels (牵头单位:), role verbs (牵头, 配合), 会同-type verbs and first-is-lead notes."""

    labels: tuple[tuple[str, str], ...]
    verbs: tuple[tuple[str, str], ...]
    with_verbs: tuple[tuple[str, str], ...]
    notes: tuple[tuple[re.Pattern[str], str], ...]
    path: str
    label_words: tuple[tuple[str, str], ...] = ()  # word in a composed label -> role, first match wins

    @functools.cached_property
    def label_pattern(self) -> re.Pattern[str]:
        """A label at the start of a clause or after ``;`` ``,`` ``(``: a known one (its characters may be
        split by a line-wrap space: 牵头单 位), or any 2-8 characters before a colon (协同责任单位:)."""
        long = [t for t, _ in self.labels if len(t) >= 3]
        short = [t for t, _ in self.labels if len(t) < 3]
        alternatives = []
        if long:
            alternatives.append(rf"(?P<long>{_spaced_alternation(long)})\s*:?\s*")
        if short:
            alternatives.append(rf"(?P<short>{_spaced_alternation(short)})(?:\s*:\s*|\s+)")
        alternatives.append(r"(?P<composed>(?:[\u4e00-\u9fff]\s?){2,8}?)\s*:\s*")
        return re.compile(rf"(?:^|(?<=[;,(\s]))(?:{'|'.join(alternatives)})")

    def label_role(self, label: str) -> str | None:
        """Role of a label as written: a known label, else the first role word it contains (协同责任单位 -> support)."""
        label = re.sub(r"\s", "", label)
        if label in self.role_of:
            return self.role_of[label]
        return next((role for word, role in self.label_words if word in label), None)

    @functools.cached_property
    def verb_pattern(self) -> re.Pattern[str]:
        terms = [t for t, _ in self.verbs] + [t for t, _ in self.with_verbs]
        return re.compile(alternation(terms))

    @functools.cached_property
    def trailing_verb_pattern(self) -> re.Pattern[str]:
        verbs = alternation([t for t, _ in self.verbs])
        return re.compile(rf"{_ADVERBS}(?P<verb>{verbs})?{_TRAILING_WORK}$")

    @functools.cached_property
    def role_of(self) -> dict[str, str]:
        return dict(self.labels + self.verbs + self.with_verbs)

    def is_with_verb(self, term: str) -> bool:
        return any(term == t for t, _ in self.with_verbs)


def _spaced_alternation(terms: list[str]) -> str:
    """Alternation of ``terms``, longest first, each allowing one space between its characters."""
    ordered = sorted(set(terms), key=lambda term: (-len(term), term))
    return "|".join(r"\s?".join(re.escape(ch) for ch in term) for term in ordered) if ordered else "(?!)"


def _regex_check(column: str, when: Callable[[pd.Series], bool] = lambda row: True):
    def check(row: pd.Series) -> str | None:
        if not when(row):
            return None
        try:
            re.compile(row[column])
        except re.error as exc:
            return f"{column} {row[column]!r} is not a valid regular expression ({exc})"
        return None

    return check


def load_roles(path: str | Path) -> RoleVocabulary:
    """Read and validate ``unit_roles.csv``."""
    schema = TableSchema(
        required=("term", "role", "kind"),
        optional=("note",),
        unique=(("term", "kind"),),
        allowed={
            "role": frozenset((*ROLES, SKIP_ROLE)),
            "kind": frozenset({"label", "label_word", "verb", "with", "note"}),
        },
        checks=(_regex_check("term", lambda row: row["kind"].strip() == "note"),),
    )
    table = read_csv_strict(path, schema)
    rows = list(zip(table["term"], table["role"], table["kind"], strict=False))
    return RoleVocabulary(
        labels=tuple((t, r) for t, r, k in rows if k == "label"),
        verbs=tuple((t, r) for t, r, k in rows if k == "verb"),
        with_verbs=tuple((t, r) for t, r, k in rows if k == "with"),
        notes=tuple((re.compile(t), r) for t, r, k in rows if k == "note"),
        path=str(path),
        label_words=tuple((t, r) for t, r, k in rows if k == "label_word"),
    )


@functools.lru_cache(maxsize=4)
def _roles_from(path: str) -> RoleVocabulary:
    return load_roles(path)


def default_roles() -> RoleVocabulary:
    """The role vocabulary shipped with the package (loaded once)."""
    return _roles_from(str(config.REFERENCE_DIR / ROLES_FILE))


def parse_assignment(
    clause: str, roles: RoleVocabulary | None = None, *, cut: bool = False, first_is_lead: str | None = None
) -> list[UnitMention]:
    """Units of one assignment clause in written order, role from its label.

    ``"牵头单位:市物价局、市财政局"`` -> 市物价局 (lead), 市财政局 (lead);
    ``"主办:市司法局;协办:市财政局"`` -> responsible, support.  A clause with no
    label takes roles from verbs (``市司法局牵头,各部门配合``), else ``responsible``,
    and keeps only names that end like a unit.  A label not in the vocabulary
    takes its role from the role words it contains (协同责任单位 -> support).
    Deadline/person labels (完成时限, 牵头负责领导) are skipped.  ``cut``: the
    capture may end inside the clause; a last name that does not look complete
    (区政, 市发展改革) is dropped, and with it the names after the last role verb
    (their own verb was cut off).
    ``first_is_lead``: a role the first unit takes when the clause gives all its units
    one role (a note earlier in the document said so "below": 下同).
    """
    roles = roles or default_roles()
    text = _strip_wrapping_brackets(normalise_punctuation(clause))
    standing = first_is_lead
    first_is_lead = None
    for pattern, note_role in roles.notes:
        if pattern.search(text):
            text = pattern.sub("", text).strip(_EDGE_PUNCT)
            first_is_lead = note_role
    mentions: list[UnitMention] = []
    segments = _label_segments(text, roles)
    for index, (role, segment) in enumerate(segments):
        if role == SKIP_ROLE:
            log.debug("skipped non-unit segment %r in clause %r", segment, clause)
            continue
        last = cut and index == len(segments) - 1
        mentions += _mentions_from_list(segment, role or DEFAULT_ROLE, roles, labelled=role is not None, cut=last)
    if first_is_lead and mentions:
        mentions[0] = replace(mentions[0], role=first_is_lead)
    elif standing and mentions and all(m.role == DEFAULT_ROLE for m in mentions):
        mentions[0] = replace(mentions[0], role=standing)
    return mentions


def _label_segments(text: str, roles: RoleVocabulary) -> list[tuple[str | None, str]]:
    """(role, text) of each labelled part of a clause; role None for an unlabelled head.

    A label not in the vocabulary counts only at the start of the clause or when it holds a
    role word: ``(备注:含开发区)`` inside a list is an aside, not a label.
    """
    matches = [
        m
        for m in roles.label_pattern.finditer(text)
        if not m.group("composed") or m.start() == 0 or roles.label_role(m.group("composed")) is not None
    ]
    segments: list[tuple[str | None, str]] = []
    if not matches or matches[0].start() > 0:
        head = text[: matches[0].start() if matches else len(text)]
        head = _strip_segment(head)
        if head:
            segments.append((None, head))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        label = match.group("long") or match.group("short") or match.group("composed")
        role = roles.label_role(label)
        if role is None:
            log.warning("unknown assignment label %r in %r: treated as %s", label, text, DEFAULT_ROLE)
            role = DEFAULT_ROLE
        segments.append((role, _strip_segment(text[match.end() : end])))
    return [(role, seg) for role, seg in segments if seg]


def _strip_segment(segment: str) -> str:
    """A labelled segment without edge punctuation or unbalanced edge brackets (a kept ``(X)`` stays)."""
    edges = _EDGE_PUNCT + "()"
    start, end = 0, len(segment)
    opened, closed = segment.count("("), segment.count(")")
    while start < end and segment[start] in edges:
        if segment[start] == "(":
            if opened <= closed:
                break
            opened -= 1
        elif segment[start] == ")":
            closed -= 1
        start += 1
    while end > start and segment[end - 1] in edges:
        if segment[end - 1] == ")":
            if closed <= opened:
                break
            closed -= 1
        elif segment[end - 1] == "(":
            opened -= 1
        end -= 1
    return segment[start:end]


def _mentions_from_list(
    segment: str, default_role: str, roles: RoleVocabulary, *, labelled: bool = True, cut: bool = False
) -> list[UnitMention]:
    """Units of a list; a verb after an item (X牵头) sets its role and that of the items joined to it by 、."""
    items: list[tuple[str, str | None, str]] = []  # name, verb role, separator after
    for piece, separator in _split_with_separators(segment):
        for name, role in _split_with_verb(piece, roles):
            items.append((name, role, separator))
    tail = re.split(r"[、,;]", segment)[-1]  # the text after the last separator, 等-part included
    if cut and items and not _complete_name(tail):
        items = items[:-1]
        with_verb = [i for i, (_, role, _) in enumerate(items) if role]
        if with_verb:
            items = items[: with_verb[-1] + 1]
    resolved: list[str] = [DEFAULT_ROLE] * len(items)
    inherited: str | None = None
    for i in range(len(items) - 1, -1, -1):
        name, role, separator = items[i]
        if role == "lead-subject":
            role = "lead"
        if role:
            inherited = role
        elif inherited and separator in ("、", "soft"):
            role = inherited
        else:
            inherited = None
        resolved[i] = role or default_role
    mentions = [UnitMention(name, role) for (name, _, _), role in zip(items, resolved, strict=False) if name]
    if not labelled:
        kept = [m for m in mentions if len(clean_unit_name(m.raw)) >= 2 and _ends_like_unit(m.raw)]
        if len(kept) < len(mentions):
            log.debug("unlabelled clause %r: names that are not unit names dropped", segment)
        mentions = kept
    return mentions


def _complete_name(name: str) -> bool:
    """A name the end of a capture has not visibly cut: three characters or more, ending like a unit."""
    return len(clean_unit_name(name)) >= 3 and _ends_like_unit(name)


def _split_with_verb(piece: str, roles: RoleVocabulary) -> list[tuple[str, str | None]]:
    """``市司法局会同市财政局`` -> subject (lead) + objects (support); ``X牵头`` -> (X, lead)."""
    piece = _LEADING_CONNECTIVES.sub("", piece.strip(_EDGE_PUNCT))
    for term, role in roles.with_verbs:
        index = piece.find(term)
        if index > 0 and _ends_like_unit(piece[:index]):
            subject = _strip_trailing_role(piece[:index], roles)[0]
            objects = [(name, role) for name in split_units(piece[index + len(term) :])]
            pairs: list[tuple[str, str | None]] = [(subject, "lead-subject")]
            return pairs + [(_strip_trailing_role(n, roles)[0], r) for n, r in objects]
    return [_strip_trailing_role(piece, roles)]


def _strip_trailing_role(piece: str, roles: RoleVocabulary) -> tuple[str, str | None]:
    piece = piece.strip(_EDGE_PUNCT)
    match = roles.trailing_verb_pattern.search(piece)
    if not match or match.start() == len(piece) or match.start() == 0:
        return piece, None
    verb = match.group("verb")
    return piece[: match.start()].strip(_EDGE_PUNCT), roles.role_of[verb] if verb else None


_MAX_SUBJECT = 300  # characters before a role verb searched for its subject (a list of unit names)


def find_inline_assignments(sentence: str, roles: RoleVocabulary | None = None) -> list[UnitMention]:
    """Units assigned inside a sentence: 由X牵头, X负责, X牵头、Y配合, X会同Y.

    Bracketed labelled clauses are ignored (they are ``units_raw``).  The text
    before a verb counts only if it ends like a unit name, so 主要负责人 or
    对本级政府负责 give nothing.  Linear in the length of the sentence: clause
    boundaries are looked up in arrays built once, and a subject is searched
    for in at most ``_MAX_SUBJECT`` characters before its verb.
    """
    roles = roles or default_roles()
    text = _mask_labelled_brackets(normalise_punctuation(sentence), roles)
    previous_boundary, next_boundary = _boundaries(text)
    mentions: list[UnitMention] = []
    floor = 0
    for match in roles.verb_pattern.finditer(text):
        start, end = match.span()
        if start < floor or (text.startswith(_VERB_FOLLOWERS, end) and not text.startswith(_UNIT_WORDS_WITH_人, end)):
            continue
        chunk_start = max(floor, previous_boundary[start] + 1, start - _MAX_SUBJECT)
        subject = _inline_subject(text[chunk_start:start], roles)
        verb = match.group()
        if roles.is_with_verb(verb):
            # 由X牵头,会同Y…: with no subject of its own, 会同 continues the previous lead.
            objects_end = _objects_end(text, end, next_boundary[end], roles)
            objects = _inline_objects(text[end:objects_end])
            if not objects or not (subject or mentions):
                continue
            mentions += [UnitMention(name, "lead") for name in subject]
            mentions += [UnitMention(name, roles.role_of[verb]) for name in objects]
            floor = objects_end
        else:
            if not subject:
                continue
            mentions += [UnitMention(name, roles.role_of[verb]) for name in subject]
            floor = end
    return mentions


def _boundaries(text: str) -> tuple[list[int], list[int]]:
    """For each position: the last clause boundary before it (-1 if none) and the first at or after it."""
    n = len(text)
    previous, last = [-1] * (n + 1), -1
    for i in range(n + 1):
        previous[i] = last
        if i < n and (text[i] in _BOUNDARY or text[i] in "()"):
            last = i
    following, first = [n] * (n + 1), n
    for i in range(n - 1, -1, -1):
        if text[i] in _BOUNDARY:
            first = i
        following[i] = first
    return previous, following


def _mask_labelled_brackets(text: str, roles: RoleVocabulary) -> str:
    """Blank out every bracket whose content holds an assignment label (one pass with a stack)."""
    partners = _bracket_partners(text)
    if not partners:
        return text
    label_starts = [m.start() for m in roles.label_pattern.finditer(text)]
    depth_change = [0] * (len(text) + 1)
    for open_at, close_at in partners.items():
        first = bisect.bisect_left(label_starts, open_at + 1)
        if first < len(label_starts) and label_starts[first] < close_at:
            depth_change[open_at] += 1
            depth_change[close_at + 1] -= 1
    out, depth = [], 0
    for i, ch in enumerate(text):
        depth += depth_change[i]
        out.append("。" if depth > 0 else ch)
    return "".join(out)


def _inline_subject(chunk: str, roles: RoleVocabulary) -> list[str]:
    chunk = chunk.strip(_EDGE_PUNCT)
    adverbs = re.search(rf"{_ADVERBS}$", chunk)
    if adverbs and adverbs.start() > 0:
        chunk = chunk[: adverbs.start()]
    if "由" in chunk:
        chunk = chunk[chunk.rindex("由") + 1 :]
    chunk = _LEADING_CONNECTIVES.sub("", chunk.strip(_EDGE_PUNCT))
    if _PREPOSITIONS.match(chunk) or not chunk or not _ends_like_unit(chunk):
        return []
    if _LEADING_VERBS.match(chunk):
        start = _UNIT_START.search(chunk, 1)
        if not start:
            return []
        chunk = chunk[start.start() :]
    names = split_units(chunk)
    if not names or any(len(n) > 30 or not _ends_like_unit(n) for n in names):
        return []
    return names


def _objects_end(text: str, start: int, boundary: int, roles: RoleVocabulary) -> int:
    """Where the object list after 会同 ends: the next role verb or clause boundary."""
    verb = roles.verb_pattern.search(text, start, boundary)
    return verb.start() if verb else boundary


def _inline_objects(text: str) -> list[str]:
    """Units after 会同: the list is cut after the last name that ends like a unit."""
    names = split_units(text)
    if names:
        stop = _OBJECT_STOP.search(names[-1], 2)
        if stop:
            names[-1] = names[-1][: stop.start()]
    return [n for n in names if n and _ends_like_unit(n) and len(n) <= 30]


@dataclass(frozen=True)
class UnitReference:
    """Validated reference tables for unit normalisation."""

    categories: dict[str, str]  # code -> label_zh
    exact: dict[str, tuple[str, str]]  # alias -> (canonical, category)
    patterns: tuple[tuple[re.Pattern[str], str, str, str], ...]  # regex, canonical, category, source text
    generic: tuple[tuple[re.Pattern[str], str], ...]  # regex, label
    successor: dict[str, str]  # canonical -> post-reform canonical (primary rows, resolved)
    level_suffixes: frozenset[str]
    bare_markers: frozenset[str]
    prefixes: tuple[str, ...]  # tried at any start position (中共, 政府 ...)
    start_prefixes: tuple[str, ...]  # tried at the start only (province names, 国家 ...)
    after_level: tuple[str, ...]  # 委 after a level suffix
    not_prefix: tuple[str, ...]
    agencies_path: str


def load_unit_reference(reference_dir: str | Path | None = None) -> UnitReference:
    """Load and cross-validate all unit reference tables (raises ReferenceDataError)."""
    folder = Path(reference_dir) if reference_dir else config.REFERENCE_DIR
    categories = load_agency_categories(folder)
    codes = frozenset(categories["code"])
    agencies_path = folder / AGENCIES_FILE
    agencies = read_csv_strict(
        agencies_path,
        TableSchema(
            required=("alias", "canonical", "category", "kind"),
            optional=("note",),
            unique=(("alias",),),
            allowed={"category": codes, "kind": frozenset({"exact", "pattern"})},
            checks=(
                _regex_check("alias", lambda row: row["kind"].strip() == "pattern"),
                lambda row: (
                    f"alias {row['alias']!r} shorter than 2 characters"
                    if row["kind"].strip() == "exact" and len(row["alias"].strip()) < 2
                    else None
                ),
            ),
        ),
    )
    inconsistent = agencies.groupby("canonical")["category"].nunique()
    if (inconsistent > 1).any():
        names = ", ".join(inconsistent[inconsistent > 1].index)
        raise ReferenceDataError(agencies_path, f"canonical agency with more than one category: {names}")
    canonicals = frozenset(agencies["canonical"])
    exact = {row.alias: (row.canonical, row.category) for row in agencies.itertuples() if row.kind == "exact"}
    patterns = tuple(
        (re.compile(row.alias), row.canonical, row.category, row.alias)
        for row in agencies.itertuples()
        if row.kind == "pattern"
    )
    generic_table = read_csv_strict(
        folder / GENERIC_FILE,
        TableSchema(
            required=("pattern", "label"), optional=("note",), unique=(("pattern",),), checks=(_regex_check("pattern"),)
        ),
    )
    crosswalk_path = folder / CROSSWALK_FILE
    crosswalk = read_csv_strict(
        crosswalk_path,
        TableSchema(
            required=("predecessor", "successor", "primary", "reform", "effective_year", "source"),
            optional=("note",),
            unique=(("predecessor", "successor"),),
            allowed={"predecessor": canonicals, "successor": canonicals, "primary": frozenset({"yes", "no"})},
            checks=(
                lambda row: (
                    None
                    if re.fullmatch(r"(19|20)\d\d", row["effective_year"].strip())
                    else f"effective_year {row['effective_year']!r} is not a year"
                ),
            ),
        ),
    )
    places = read_csv_strict(folder / PLACES_FILE, PLACES_SCHEMA)
    tokens = {kind: tuple(places.loc[places["kind"] == kind, "token"]) for kind in set(places["kind"])}
    return UnitReference(
        categories=dict(zip(categories["code"], categories["label_zh"], strict=False)),
        exact=exact,
        patterns=patterns,
        generic=tuple(
            (re.compile(p), label) for p, label in zip(generic_table["pattern"], generic_table["label"], strict=False)
        ),
        successor=_resolve_successors(crosswalk, crosswalk_path),
        level_suffixes=frozenset(tokens.get("level_suffix", ())),
        bare_markers=frozenset(tokens.get("bare_marker", ())),
        prefixes=tuple(sorted(tokens.get("prefix", ()), key=len, reverse=True)),
        start_prefixes=tuple(sorted(tokens.get("province", ()) + tokens.get("central", ()), key=len, reverse=True)),
        after_level=tokens.get("prefix_after_level", ()),
        not_prefix=tokens.get("not_prefix", ()),
        agencies_path=str(agencies_path),
    )


def _resolve_successors(crosswalk: pd.DataFrame, path: Path) -> dict[str, str]:
    """Primary successor of every predecessor, following chains (卫生局 -> 卫计委 -> 卫健委)."""
    primary = crosswalk[crosswalk["primary"] == "yes"]
    counts = crosswalk.groupby("predecessor")["primary"].apply(lambda s: int((s == "yes").sum()))
    bad = counts[counts != 1]
    if len(bad):
        raise ReferenceDataError(path, "predecessor(s) without exactly one primary successor: " + ", ".join(bad.index))
    step = dict(zip(primary["predecessor"], primary["successor"], strict=False))
    resolved: dict[str, str] = {}
    for name in step:
        seen = [name]
        current = name
        while current in step and step[current] != current:
            current = step[current]
            if current in seen:
                raise ReferenceDataError(path, "reform chain loops: " + " -> ".join([*seen, current]))
            seen.append(current)
        resolved[name] = current
    return resolved


class AgencyNormaliser:
    """Map a unit name to one canonical agency, category and post-reform successor.

    Settings (reference tables) are loaded and validated in ``__init__``;
    ``normalise`` is a lookup.  Learned during a run: ``used_aliases_`` (alias or
    pattern -> uses) and ``unmatched_`` (name -> count), reported by
    :meth:`unused_aliases` and :meth:`unmatched_report`.
    """

    def __init__(self, reference_dir: Path | None = None) -> None:
        self.reference_dir = Path(reference_dir) if reference_dir else config.REFERENCE_DIR
        self.reference = load_unit_reference(self.reference_dir)
        self.used_aliases_: Counter[str] = Counter()
        self.unmatched_: Counter[str] = Counter()
        self._cache: dict[tuple[str, str | None], tuple[dict[str, Any], str | None]] = {}

    # -- public API
    def normalise(self, raw: str, *, jurisdiction: str | None = None) -> dict[str, Any]:
        """``{raw, name, canonical, successor, category, generic, match}`` for one unit name."""
        key = (raw, jurisdiction)
        if key not in self._cache:
            self._cache[key] = self._normalise(raw, jurisdiction)
        result, used = self._cache[key]
        if used:
            self.used_aliases_[used] += 1
        if result["match"] == "unmatched":
            self.unmatched_[result["name"]] += 1
        return dict(result)

    def unused_aliases(self) -> list[str]:
        """Aliases and patterns never used so far (logged as a warning)."""
        defined = list(self.reference.exact) + [source for *_, source in self.reference.patterns]
        return warn_unused("agency aliases", self.reference.agencies_path, defined, self.used_aliases_)

    def unmatched_report(self) -> pd.DataFrame:
        """Unmatched names with their counts, most frequent first."""
        rows = self.unmatched_.most_common()
        return pd.DataFrame(rows, columns=["name", "n"])

    # -- matching
    def _normalise(self, raw: str, jurisdiction: str | None) -> tuple[dict[str, Any], str | None]:
        cleaned = clean_unit_name(raw)
        variants = [cleaned]
        without_parens = re.sub(r"\([^()]*\)", "", cleaned)
        if without_parens != cleaned and len(without_parens) >= 2:
            variants.append(without_parens)
        simplified = [simplify_text(v) for v in variants]
        variants += [s for s in simplified if s not in variants]
        for variant in variants:
            found = self._match(variant, jurisdiction)
            if found:
                name, canonical, category, kind, used = found
                generic = kind == "generic"
                result = {
                    "raw": raw,
                    "name": name,
                    "canonical": canonical,
                    "successor": canonical if generic else self.reference.successor.get(canonical, canonical),
                    "category": category,
                    "generic": generic,
                    "match": kind,
                }
                return result, used
        simplified_name = simplify_text(cleaned)
        name = self._strip_prefix(simplified_name, jurisdiction) or simplified_name
        log.debug("unmatched unit %r (name %r)", raw, name)
        return {
            "raw": raw,
            "name": name,
            "canonical": name,
            "successor": name,
            "category": UNMATCHED_CATEGORY,
            "generic": False,
            "match": "unmatched",
        }, None

    def _match(self, text: str, jurisdiction: str | None) -> tuple[str, str, str, str, str | None] | None:
        candidates = self._candidates(text, jurisdiction)
        for candidate in candidates:
            for pattern, label in self.reference.generic:
                if pattern.fullmatch(candidate):
                    return self._display(text, candidate), label, GENERIC_CATEGORY, "generic", None
            if candidate in self.reference.exact:
                canonical, category = self.reference.exact[candidate]
                kind = "exact" if candidate == canonical else "alias"
                return self._display(text, candidate), canonical, category, kind, candidate
        for candidate in candidates:
            for pattern, canonical, category, source in self.reference.patterns:
                if pattern.fullmatch(candidate):
                    return self._display(text, candidate), canonical, category, "pattern", source
        return None

    def _display(self, text: str, candidate: str) -> str:
        """The matched part; a party-committee 委 keeps its level (市委办公室, not 委办公室)."""
        start = len(text) - len(candidate)
        if (
            start > 0
            and candidate[0] in self.reference.after_level
            and text[start - 1] in self.reference.level_suffixes
        ):
            return text[start - 1 :]
        return candidate

    def _candidates(self, text: str, jurisdiction: str | None) -> list[str]:
        """Suffixes of ``text`` that may start an agency name, longest first."""
        ref = self.reference
        for token in self._jurisdiction_tokens(jurisdiction):
            # The document's own jurisdiction is never part of an agency name.
            if text.startswith(token) and len(text) - len(token) >= 2:
                text = text[len(token) :]
                break
        starts = {0}
        for token in ref.start_prefixes:
            if text.startswith(token):
                starts.add(len(token))
        for i, ch in enumerate(text):
            if ch in ref.level_suffixes:
                starts.update((i, i + 1))
        if text[:1] in ref.bare_markers:
            starts.add(1)
        changed = True
        while changed:
            changed = False
            for start in sorted(starts):
                extra = [start + len(p) for p in ref.prefixes if text.startswith(p, start)]
                if start > 0 and text[start - 1] in ref.level_suffixes:
                    extra += [start + len(p) for p in ref.after_level if text.startswith(p, start)]
                new = set(extra) - starts
                if new:
                    starts |= new
                    changed = True
        return [text[s:] for s in sorted(starts) if len(text) - s >= 2]

    @staticmethod
    def _jurisdiction_tokens(jurisdiction: str | None) -> tuple[str, ...]:
        if not jurisdiction:
            return ()
        parts = [p for p in re.split(r"[()（）/;,、\s]+", normalise_punctuation(jurisdiction)) if len(p) >= 2]
        tokens = set(parts) | {"".join(reversed(parts)), "".join(parts)}
        return tuple(sorted(tokens, key=len, reverse=True))

    def _strip_prefix(self, text: str, jurisdiction: str | None) -> str:
        """Best-effort name for an unmatched unit: place and level prefixes removed."""
        ref = self.reference
        place = re.compile(
            r"[\u4e00-\u9fff]{{2,8}}?(?:自治州|自治县|自治区|自治旗|地区|新区|[{}])".format(
                "".join(sorted(s for s in ref.level_suffixes if len(s) == 1))
            )
        )
        changed = True
        while changed and len(text) > 2:
            changed = False
            for token in self._jurisdiction_tokens(jurisdiction) + ref.start_prefixes + ref.prefixes:
                if text.startswith(token) and len(text) - len(token) >= 2:
                    text, changed = text[len(token) :], True
                    break
            if changed:
                continue
            match = place.match(text)
            if match and len(text) - match.end() >= 2 and not text.startswith(ref.not_prefix):
                text, changed = text[match.end() :], True
                continue
            if text[0] in ref.level_suffixes and not text.startswith(ref.not_prefix) and len(text) > 3:
                text, changed = text[1:], True
        return text


def task_units(
    task: Task,
    normaliser: AgencyNormaliser,
    *,
    jurisdiction: str | None,
    document: ParsedDocument | None = None,
    first_is_lead: str | None = None,
) -> list[dict[str, Any]]:
    """One dict per (measure, unit) in written order: clause units, then inline ones.

    With the ``document`` (its original text and alignment), ``raw`` is the name
    as the capture writes it (traditional characters kept: 區司法局), while
    ``name`` and ``canonical`` are simplified.

    Keys: raw, name, canonical, successor, category, role, generic, match,
    measure_index, unit_order, source.  ``source`` says how the unit was found:
    ``clause`` (an assignment clause or table cell), ``clause_cut`` (a clause the
    capture cut off: its last name was dropped, the role may be incomplete) or
    ``inline`` (a role verb in a sentence, 由X牵头).  A unit named twice for the
    same measure is kept once (first mention).  ``first_is_lead``: see
    :func:`standing_note` (a first-is-lead note of an earlier task, 下同).
    """
    rows: list[dict[str, Any]] = []
    cut_clause = _cut_clause(task)
    written = _WrittenForms(task, document)
    for measure in task.measures:
        mentions: list[tuple[UnitMention, str]] = []
        for clause in measure.units_raw:
            cut = clause == cut_clause  # the same clause covers earlier measures too
            parsed = parse_assignment(clause, cut=cut, first_is_lead=first_is_lead)
            mentions += [(m, "clause_cut" if cut else "clause") for m in parsed]
        mentions += [(m, "inline") for m in find_inline_assignments(_without_clauses(measure.text, measure.units_raw))]
        seen: set[str] = set()
        for mention, source in mentions:
            key = clean_unit_name(mention.raw)
            if not key or key in seen:
                continue
            seen.add(key)
            info = normaliser.normalise(written(mention.raw), jurisdiction=jurisdiction)
            rows.append(
                {
                    **info,
                    "role": mention.role,
                    "measure_index": measure.index,
                    "unit_order": len(rows),
                    "source": source,
                }
            )
    return rows


def standing_note(task: Task, roles: RoleVocabulary | None = None) -> str | None:
    """The role a first-is-lead note in this task's clauses sets for the tasks below it (下同), if any.

    ``(第一责任单位为牵头单位,下同)``: from here on, the first unit of a 责任单位 list is the lead.
    """
    roles = roles or default_roles()
    for measure in task.measures:
        for clause in measure.units_raw:
            text = normalise_punctuation(clause)
            for pattern, role in roles.notes:
                match = pattern.search(text)
                if match and "下同" in match.group():
                    return role
    return None


def _cut_clause(task: Task) -> str | None:
    """The clause the capture cut off: the last clause of a cut-off task, reaching the end of its text."""
    if "cut_off" not in task.flags or not task.measures or not task.measures[-1].units_raw:
        return None
    clause = task.measures[-1].units_raw[-1]
    return clause if task.text.rstrip().endswith(clause) else None


def _without_clauses(text: str, clauses: list[str]) -> str:
    """``text`` with each clause (in text order) replaced by a sentence end, searching forward only."""
    pieces, cursor = [], 0
    for clause in clauses:
        found = text.find(clause, cursor) if clause else -1
        if found < 0:
            continue
        pieces += [text[cursor:found], "。"]
        cursor = found + len(clause)
    pieces.append(text[cursor:])
    return "".join(pieces)


class _WrittenForms:
    """A unit name as the original capture writes it, found in the task's text in reading order.

    The stages read a simplified copy of the text, character for character; a name
    found there is mapped back to the original characters (區府辦 for 区府办).  A
    name that cannot be placed one-to-one is kept as the stages read it.
    """

    def __init__(self, task: Task, document: ParsedDocument | None) -> None:
        self.document = document if document is not None and document.aligned is not None else None
        self.text = normalise_punctuation(task.text) if self.document else ""
        self.usable = self.document is not None and len(self.text) == len(task.text)
        self.offset = task.span[0]
        self.cursor = 0

    def __call__(self, name: str) -> str:
        if not self.usable or not name or self.document is None or self.document.aligned is None:
            return name
        at = self.text.find(name, self.cursor)
        if at < 0:
            at = self.text.find(name)
        if at < 0:
            return name
        self.cursor = at + len(name)
        start, end = self.document.aligned.original_span(self.offset + at, self.offset + at + len(name))
        original = self.document.original_text[start:end]
        return original if len(original) == len(name) else name
