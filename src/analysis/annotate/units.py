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
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from analysis import config
from analysis.annotate.agencies import AgencyNormaliser
from analysis.annotate.unit_names import (
    EDGE_PUNCT,
    UNIT_START,
    bracket_partners,
    clean_unit_name,
    ends_like_unit,
    normalise_punctuation,
    regex_check,
    split_units,
    split_with_separators,
    strip_wrapping_brackets,
)
from analysis.core.models import ParsedDocument, Task
from analysis.core.reference import TableSchema, read_rows_strict
from analysis.core.text import alternation, may_match, required_literals

log = logging.getLogger(__name__)


ROLES = ("lead", "responsible", "support")


DEFAULT_ROLE = "responsible"


SKIP_ROLE = "skip"  # labels that introduce no unit (deadlines, persons)


ROLES_FILE = "unit_roles.csv"


_BOUNDARY = set(",;。:!?\n|")  # | separates the cells of a flattened table


_BOUNDARY_MARK = re.compile(f"[{re.escape(''.join(sorted(_BOUNDARY)))}]")


_SUBJECT_STOP = re.compile(f"[{re.escape(''.join(sorted(_BOUNDARY | set('()'))))}]")  # where a subject may start


CLAUSE_CACHE_SIZE = 32_768  # distinct clauses, sentences, list items remembered per role vocabulary (each)


MEMO_MAX_CHARS = 500  # longer texts are parsed afresh: they seldom recur, and a cache of them would grow large


def _short_text_memo(function: Callable[..., Any]) -> Callable[..., Any]:
    """A pure function of a text (and a few hashable settings), remembered for texts up to ``MEMO_MAX_CHARS``."""
    remembered = functools.lru_cache(maxsize=CLAUSE_CACHE_SIZE)(function)
    limit = MEMO_MAX_CHARS

    def call(text: str, *settings: Any) -> Any:
        return remembered(text, *settings) if len(text) <= limit else function(text, *settings)

    return call


# Adverbs between a unit and its role verb: 要积极配合, 按职责分工负责, 具体负责.
# In any order, at most four of them (按职责分工分别负责, 要积极配合).
_ADVERBS = (
    r"(?:要|应|应当|须|必须|将|均|各自|积极|共同|分别|具体|统一|主动|切实|认真|全面|协同|联合|密切"
    r"|按(?:照)?(?:各自)?(?:职责|职能)(?:分工)?|分工|各司其职|各负其责){0,4}"
)


_TRAILING_WORK = r"(?:负责落实|负责|落实|实施|推进|组织实施|抓好落实)?"


_ADVERBS_AT_END = re.compile(rf"{_ADVERBS}$")


_SPACE = re.compile(r"\s")


_LIST_SEPARATOR = re.compile(r"[、,;]")


# Words that open a clause but are not part of a unit name (inline search only).
_LEADING_CONNECTIVES = re.compile(r"^(?:并且|并由|均由|统一由|具体由|分别由|各自由|由|并|且|同时|要|应|需)")


_PREPOSITIONS = re.compile(r"^(?:对|向|为|给|被|让|替|跟)")


_LEADING_VERBS = re.compile(
    r"^(?:建立|健全|完善|推进|加强|落实|开展|实行|深化|推动|坚持|强化|规范|严格|做好|支持|组织|要求|按照|根据|"
    r"在|从|将|把|经|以|由于|通过|实施|加快|提高|确保|探索|创新|鼓励|引导|督促|指导|监督)"
)


# Where the object list after 会同 ends: the next verb or preposition.
_OBJECT_STOP = re.compile(
    r"围绕|开展|制定|研究|进行|做好|承担|组织|共同|具体|一起|及时|按照|根据|依法|对|就|在|为|向|将|把|"
    r"督促|指导|推进|落实|建立|完善|加强|负责|牵头|配合"
)


_UNIT_WORDS_WITH_人 = ("人事", "人民", "人大", "人力", "人社", "人口", "人防", "人武")


_VERB_FOLLOWERS = ("人", "同志", "单位", "部门", "制", "领导", "处室", "科室")


@dataclass(frozen=True)
class UnitMention:
    """One unit named in an assignment: ``raw`` as written, ``role`` lead/responsible/support."""

    raw: str
    role: str


_ParsedClause = tuple[tuple["UnitMention", ...], tuple[tuple[str, str], ...]]  # mentions, unknown (label, text)


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
        label = _SPACE.sub("", label)
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

    @functools.cached_property
    def screened_notes(self) -> tuple[tuple[re.Pattern[str], str, tuple[tuple[str, ...], ...] | None], ...]:
        """The notes, each with the strings its matches require (:func:`required_literals`)."""
        return tuple((pattern, role, required_literals(pattern)) for pattern, role in self.notes)

    def is_with_verb(self, term: str) -> bool:
        return any(term == t for t, _ in self.with_verbs)

    # The parsing functions below, with this vocabulary, remembered per text (the place words of
    # ``collective_parts`` are read once per process, as before).
    @functools.cached_property
    def parsed_clauses(self) -> Callable[..., Any]:
        """:func:`_parse_assignment` per (clause, cut, first_is_lead)."""
        return _short_text_memo(functools.partial(_parse_assignment, roles=self))

    @functools.cached_property
    def inline_assignments(self) -> Callable[..., Any]:
        """:func:`_find_inline_assignments` per sentence."""
        return _short_text_memo(functools.partial(_find_inline_assignments, roles=self))

    @functools.cached_property
    def list_mentions(self) -> Callable[..., Any]:
        """:func:`_mentions_from_list` per (segment, default role, labelled, cut)."""
        return _short_text_memo(
            lambda segment, role, labelled, cut: tuple(
                _mentions_from_list(segment, role, self, labelled=labelled, cut=cut)
            )
        )

    @functools.cached_property
    def list_items(self) -> Callable[..., Any]:
        """:func:`_split_with_verb` per item of a unit list."""
        return _short_text_memo(lambda piece: tuple(_split_with_verb(piece, self)))


def _spaced_alternation(terms: list[str]) -> str:
    """Alternation of ``terms``, longest first, each allowing one space between its characters."""
    ordered = sorted(set(terms), key=lambda term: (-len(term), term))
    return "|".join(r"\s?".join(re.escape(ch) for ch in term) for term in ordered) if ordered else "(?!)"


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
        checks=(regex_check("term", lambda row: row["kind"].strip() == "note"),),
    )
    rows = [(row["term"], row["role"], row["kind"]) for row in read_rows_strict(path, schema)]
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


_DEFAULT_ROLES: list[tuple[Path, RoleVocabulary]] = []  # (reference folder, its vocabulary), the last one asked for


def default_roles() -> RoleVocabulary:
    """The role vocabulary shipped with the package (loaded once; no path is built per call)."""
    folder = config.REFERENCE_DIR
    if not _DEFAULT_ROLES or _DEFAULT_ROLES[0][0] is not folder:
        _DEFAULT_ROLES[:] = [(folder, _roles_from(str(folder / ROLES_FILE)))]
    return _DEFAULT_ROLES[0][1]


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
    mentions, unknown = roles.parsed_clauses(clause, cut, first_is_lead)
    for label, text in unknown:  # warned at every call, remembered or not
        log.warning("unknown assignment label %r in %r: treated as %s", label, text, DEFAULT_ROLE)
    return list(mentions)


def _parse_assignment(clause: str, cut: bool, first_is_lead: str | None, *, roles: RoleVocabulary) -> _ParsedClause:
    """:func:`parse_assignment` as a pure function: the mentions and the unknown labels (label, text) met."""
    text = strip_wrapping_brackets(normalise_punctuation(clause))
    standing = first_is_lead
    first_is_lead = None
    for pattern, note_role, required in roles.screened_notes:
        if may_match(required, text) and pattern.search(text):
            text = pattern.sub("", text).strip(EDGE_PUNCT)
            first_is_lead = note_role
    mentions: list[UnitMention] = []
    unknown: list[tuple[str, str]] = []
    segments = _label_segments(text, roles, unknown)
    for index, (role, segment) in enumerate(segments):
        if role == SKIP_ROLE:
            log.debug("skipped non-unit segment %r in clause %r", segment, clause)
            continue
        last = cut and index == len(segments) - 1
        mentions += roles.list_mentions(segment, role or DEFAULT_ROLE, role is not None, last)
    if first_is_lead and mentions:
        mentions[0] = replace(mentions[0], role=first_is_lead)
    elif standing and mentions and all(m.role == DEFAULT_ROLE for m in mentions):
        mentions[0] = replace(mentions[0], role=standing)
    return tuple(mentions), tuple(unknown)


def _label_segments(
    text: str, roles: RoleVocabulary, unknown: list[tuple[str, str]] | None = None
) -> list[tuple[str | None, str]]:
    """(role, text) of each labelled part of a clause; role None for an unlabelled head.

    A label not in the vocabulary counts only at the start of the clause or when it holds a
    role word: ``(备注:含开发区)`` inside a list is an aside, not a label.  Such a label, when
    taken, is appended to ``unknown`` as (label, text), else warned about here.
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
            if unknown is None:
                log.warning("unknown assignment label %r in %r: treated as %s", label, text, DEFAULT_ROLE)
            else:
                unknown.append((label, text))
            role = DEFAULT_ROLE
        segments.append((role, _strip_segment(text[match.end() : end])))
    return [(role, seg) for role, seg in segments if seg]


def _strip_segment(segment: str) -> str:
    """A labelled segment without edge punctuation or unbalanced edge brackets (a kept ``(X)`` stays)."""
    edges = EDGE_PUNCT + "()"
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
    for piece, separator in split_with_separators(segment):
        for name, role in roles.list_items(piece):
            items.append((name, role, separator))
    if cut and items and not _complete_name(_LIST_SEPARATOR.split(segment)[-1]):  # the text after the last separator
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
        kept = [m for m in mentions if len(clean_unit_name(m.raw)) >= 2 and ends_like_unit(m.raw)]
        if len(kept) < len(mentions):
            log.debug("unlabelled clause %r: names that are not unit names dropped", segment)
        mentions = kept
    return mentions


def _complete_name(name: str) -> bool:
    """A name the end of a capture has not visibly cut: three characters or more, ending like a unit."""
    return len(clean_unit_name(name)) >= 3 and ends_like_unit(name)


def _split_with_verb(piece: str, roles: RoleVocabulary) -> list[tuple[str, str | None]]:
    """``市司法局会同市财政局`` -> subject (lead) + objects (support); ``X牵头`` -> (X, lead)."""
    piece = _LEADING_CONNECTIVES.sub("", piece.strip(EDGE_PUNCT))
    for term, role in roles.with_verbs:
        index = piece.find(term)
        if index > 0 and ends_like_unit(piece[:index]):
            subject = _strip_trailing_role(piece[:index], roles)[0]
            objects = [(name, role) for name in split_units(piece[index + len(term) :])]
            pairs: list[tuple[str, str | None]] = [(subject, "lead-subject")]
            return pairs + [(_strip_trailing_role(n, roles)[0], r) for n, r in objects]
    return [_strip_trailing_role(piece, roles)]


def _strip_trailing_role(piece: str, roles: RoleVocabulary) -> tuple[str, str | None]:
    piece = piece.strip(EDGE_PUNCT)
    match = roles.trailing_verb_pattern.search(piece)
    if not match or match.start() == len(piece) or match.start() == 0:
        return piece, None
    verb = match.group("verb")
    return piece[: match.start()].strip(EDGE_PUNCT), roles.role_of[verb] if verb else None


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
    return list(roles.inline_assignments(sentence))


def _find_inline_assignments(sentence: str, *, roles: RoleVocabulary) -> tuple[UnitMention, ...]:
    """:func:`find_inline_assignments` as a pure function of the sentence."""
    text = normalise_punctuation(sentence)
    if not roles.verb_pattern.search(text):
        return ()  # no role verb: nothing to locate (masking brackets takes characters away, never adds a verb)
    text = _mask_labelled_brackets(text, roles)
    boundaries = _Boundaries(text)
    mentions: list[UnitMention] = []
    floor = 0
    for match in roles.verb_pattern.finditer(text):
        start, end = match.span()
        if start < floor or (text.startswith(_VERB_FOLLOWERS, end) and not text.startswith(_UNIT_WORDS_WITH_人, end)):
            continue
        chunk_start = max(floor, boundaries.previous(start) + 1, start - _MAX_SUBJECT)
        subject = _inline_subject(text[chunk_start:start], roles)
        verb = match.group()
        if roles.is_with_verb(verb):
            # 由X牵头,会同Y…: with no subject of its own, 会同 continues the previous lead.
            objects_end = _objects_end(text, end, boundaries.following(end), roles)
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
    return tuple(mentions)


class _Boundaries:
    """Clause boundaries of a text, located once (in C) and looked up by bisection."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        self.subject_stops = [m.start() for m in _SUBJECT_STOP.finditer(text)]
        self.marks = [m.start() for m in _BOUNDARY_MARK.finditer(text)]

    def previous(self, position: int) -> int:
        """The last boundary or bracket before ``position`` (-1 if none)."""
        i = bisect.bisect_left(self.subject_stops, position)
        return self.subject_stops[i - 1] if i else -1

    def following(self, position: int) -> int:
        """The first boundary at or after ``position`` (the text's length if none)."""
        i = bisect.bisect_left(self.marks, position)
        return self.marks[i] if i < len(self.marks) else self.length


def _mask_labelled_brackets(text: str, roles: RoleVocabulary) -> str:
    """Blank out (to 。) every bracket whose content holds an assignment label, brackets included."""
    partners = bracket_partners(text)
    if not partners:
        return text
    label_starts = [m.start() for m in roles.label_pattern.finditer(text)]
    if not label_starts:
        return text
    masked = []
    for open_at, close_at in partners.items():
        first = bisect.bisect_left(label_starts, open_at + 1)
        if first < len(label_starts) and label_starts[first] < close_at:
            masked.append((open_at, close_at + 1))
    pieces, cursor = [], 0
    for start, end in sorted(masked):  # nested or overlapping spans merge
        if end <= cursor:
            continue
        start = max(start, cursor)
        pieces += [text[cursor:start], "。" * (end - start)]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _inline_subject(chunk: str, roles: RoleVocabulary) -> list[str]:
    chunk = chunk.strip(EDGE_PUNCT)
    adverbs = _ADVERBS_AT_END.search(chunk)
    if adverbs and adverbs.start() > 0:
        chunk = chunk[: adverbs.start()]
    if "由" in chunk:
        chunk = chunk[chunk.rindex("由") + 1 :]
    chunk = _LEADING_CONNECTIVES.sub("", chunk.strip(EDGE_PUNCT))
    if _PREPOSITIONS.match(chunk) or not chunk or not ends_like_unit(chunk):
        return []
    if _LEADING_VERBS.match(chunk):
        start = UNIT_START.search(chunk, 1)
        if not start:
            return []
        chunk = chunk[start.start() :]
    names = split_units(chunk)
    if not names or any(len(n) > 30 or not ends_like_unit(n) for n in names):
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
    return [n for n in names if n and ends_like_unit(n) and len(n) <= 30]


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
    if not task.measures:
        return rows
    roles = default_roles()
    cut_clause = _cut_clause(task)
    written: Callable[[str], str] | None = None
    placed = False  # written: looked up at the first name of the task (most tasks name none)
    counted = normaliser.counted
    clauses_before: list[str] | None = None  # consecutive measures mostly share their clauses: parsed once
    from_clauses: _ClauseMentions = ((), frozenset(), ())
    for measure in task.measures:
        clauses = measure.units_raw
        if clauses != clauses_before:
            from_clauses = _clause_mentions(clauses, cut_clause, first_is_lead, roles)
            clauses_before = clauses
        mentions: Sequence[tuple[str, str, str]] = from_clauses[0]
        unknown = from_clauses[2]
        for label, text in unknown:  # warned for every measure, as when each measure parsed its clauses
            log.warning("unknown assignment label %r in %r: treated as %s", label, text, DEFAULT_ROLE)
        inline = roles.inline_assignments(_without_clauses(measure.text, clauses))
        if inline:
            seen, more = set(from_clauses[1]), list(mentions)
            for mention in inline:
                key = clean_unit_name(mention.raw)
                if key and key not in seen:
                    seen.add(key)
                    more.append((mention.raw, mention.role, "inline"))
            mentions = more
        if mentions and not placed:
            written, placed = _written_forms(task, document), True
        index = measure.index
        for raw, role, source in mentions:
            info = counted(raw if written is None else written(raw), jurisdiction)
            rows.append({**info, "role": role, "measure_index": index, "unit_order": len(rows), "source": source})
    return rows


_ClauseMentions = tuple[tuple[tuple[str, str, str], ...], frozenset[str], tuple[tuple[str, str], ...]]


def _clause_mentions(
    clauses: list[str], cut_clause: str | None, first_is_lead: str | None, roles: RoleVocabulary
) -> _ClauseMentions:
    """(raw, role, source) of each unit a measure's clauses name, the first mention of each name only;
    the names' keys (:func:`clean_unit_name`); the unknown labels (label, text) met."""
    mentions: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    unknown: list[tuple[str, str]] = []
    for clause in clauses:
        cut = clause == cut_clause  # the same clause covers earlier measures too
        parsed, unknown_here = roles.parsed_clauses(clause, cut, first_is_lead)  # parse_assignment, inlined
        unknown += unknown_here
        source = "clause_cut" if cut else "clause"
        for mention in parsed:
            key = clean_unit_name(mention.raw)
            if key and key not in seen:
                seen.add(key)
                mentions.append((mention.raw, mention.role, source))
    return tuple(mentions), frozenset(seen), tuple(unknown)


def standing_note(task: Task, roles: RoleVocabulary | None = None) -> str | None:
    """The role a first-is-lead note in this task's clauses sets for the tasks below it (下同), if any.

    ``(第一责任单位为牵头单位,下同)``: from here on, the first unit of a 责任单位 list is the lead.
    """
    roles = roles or default_roles()
    clauses_before: list[str] | None = None
    for measure in task.measures:
        clauses = measure.units_raw
        if clauses == clauses_before:
            continue  # consecutive measures mostly share their clauses: the same answer
        clauses_before = clauses
        for clause in clauses:
            role = _standing_note_role(clause, roles=roles)
            if role is not None:
                return role
    return None


def _standing_note_role(clause: str, *, roles: RoleVocabulary) -> str | None:
    """The role of the first standing (下同) first-is-lead note in one clause, if any.

    A note counts only if its match holds 下同, so a clause without 下同 (once folded: ㊦ is 下)
    is not searched.
    """
    if "下同" not in unicodedata.normalize("NFKC", clause):
        return None
    text = normalise_punctuation(clause)
    for pattern, role, required in roles.screened_notes:
        match = pattern.search(text) if may_match(required, text) else None
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
    if not clauses:
        return text
    pieces, cursor = [], 0
    for clause in clauses:
        found = text.find(clause, cursor) if clause else -1
        if found < 0:
            continue
        pieces += [text[cursor:found], "。"]
        cursor = found + len(clause)
    pieces.append(text[cursor:])
    return "".join(pieces)


def _verbatim(text: str, offset: int, document: ParsedDocument) -> bool:
    """True when ``text`` (at ``offset``) maps one to one onto the same characters of the original capture.

    Then every name found in it is written in the capture as read, and needs no lookup.
    """
    aligned, n = document.aligned, len(text)
    if aligned is None or offset + n > len(aligned.text) or n == 0:
        return False
    base = aligned.origin_start[offset]
    return (
        document.original_text[base : base + n] == text
        and aligned.origin_start[offset : offset + n] == array("q", range(base, base + n))
        and aligned.origin_end[offset : offset + n] == array("q", range(base + 1, base + n + 1))
    )


def _written_forms(task: Task, document: ParsedDocument | None) -> Callable[[str], str] | None:
    """A unit name as the original capture writes it, found in the task's text in reading order.

    The stages read a simplified copy of the text, character for character; a name
    found there is mapped back to the original characters (區府辦 for 区府办).  A
    name that cannot be placed one-to-one is kept as the stages read it.  None when
    every name stays as read: no document, or the capture writes the task as read
    (or the task cannot be placed).  Names are searched from where the last one
    was found (the returned function remembers it), then from the start.
    """
    if document is None or document.aligned is None:
        return None
    aligned, original = document.aligned, document.original_text
    text, offset = normalise_punctuation(task.text), task.span[0]
    if _verbatim(text, offset, document) or len(text) != len(task.text):
        return None
    origin_start, origin_end = aligned.origin_start, aligned.origin_end
    inside = 0 <= offset and offset + len(text) <= len(aligned.text)  # then original_span is two lookups
    cursor = 0

    def written(name: str) -> str:
        nonlocal cursor
        if not name:
            return name
        at = text.find(name, cursor)
        if at < 0:
            at = text.find(name)
            if at < 0:
                return name
        cursor = at + len(name)
        first = offset + at
        if inside:  # aligned.original_span of a non-empty span inside the text, inlined
            start, end = origin_start[first], origin_end[first + len(name) - 1]
        else:
            start, end = aligned.original_span(first, first + len(name))
        form = original[start:end]
        return form if len(form) == len(name) else name

    return written
