"""Tasks stage: turn the heading tree into tasks, framing units and measures.

* A **task** is the lowest numbered item that carries text (a section with no
  deeper numbering is itself the task).
* A **framing** unit is a part named by a framing title (指导思想, 基本原则,
  总体要求, …; see ``reference/framing_titles.csv``): the deepest heading with
  such a title, with everything under it.  Framing units are not tasks.
* A task's **measures** are its sentences after the short title.  An
  assignment clause — ``(牵头单位:…)`` inside or after a sentence, or a
  ``责任单位:…`` line of its own — covers the measures since the previous
  assignment; its text is kept as written in ``Measure.units_raw``.  Brackets
  nest (``〔责任单位:各县(市)交通局〕``); a bracket the capture cut before its
  close counts to the end of the text; a person line (``牵头负责领导:…``) or a
  deadline line is not a unit assignment.
* In a **flattened table** (a header row 工作任务 | 具体要求 | 责任单位 | 时限要求,
  cells `|`-separated or one per line; ``reference/table_columns.csv``), a
  row's trailing cells are matched to the header: a units cell covers every
  measure of the row as ``header:cell`` (``责任单位:县财政局``); unit and
  deadline cells are not measures.
* Everything here is linear in the length of the text (brackets matched with
  a stack, clauses given to sentences by position).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from analysis.core.models import KIND_FRAMING, KIND_TASK, Heading, Measure, Task
from analysis.core.reference import TableSchema, read_rows_strict, reference_path
from analysis.core.text import AlignedText, is_blank
from analysis.parse.structure import heading_parents

FRAMING_SCHEMA = TableSchema(required=("pattern", "note"))


def _spaced(word: str) -> str:
    """Regex for a word whose characters a PDF line wrap may have split with a space (牵头单 位)."""
    return r"\s?".join(re.escape(ch) for ch in word)


def _spaced_alternation(words: tuple[str, ...]) -> str:
    return "|".join(_spaced(w) for w in sorted(set(words), key=len, reverse=True))


# A role label names units: 牵头单位, 责任单位, 协同责任单位, 责任部门, 配合单位, 牵头, 主办, 协办 ...
# (traditional forms too).  Person labels (牵头负责领导, 责任人) and deadlines (时限要求) are not
# unit assignments: the units stage would find no unit in them.
_LABEL_ENDINGS = ("单位", "部门", "主体", "处室", "科室", "單位", "部門", "處室")
_LABEL_WORDS = ("牵头", "主办", "协办", "配合", "负责", "主责", "牽頭", "主辦", "協辦", "負責")
_ROLE_LABEL = (
    rf"(?:(?:[\u4e00-\u9fff]\s?){{0,5}}(?:{_spaced_alternation(_LABEL_ENDINGS)})"
    rf"|{_spaced_alternation(_LABEL_WORDS)})"
)
_LABELLED = re.compile(rf"\s*{_ROLE_LABEL}\s*[:：]")
# An unlabelled bracket that assigns: (市司法局牵头) / (X牵头,Y按职责分工负责) / (X负责落实).
_ROLE_VERB_AT_END = re.compile(
    rf"(?:{_spaced_alternation(('牵头', '负责', '落实', '配合', '主办', '协办', '参与', '协助', '协同', '牽頭', '負責'))})"
    r"(?:落实|实施|推进)?\s*$"
)
_MAX_UNLABELLED = 120  # an unlabelled assignment is a short list of units, never a long aside
_OPENERS = "(（[【〔［"
_BRACKET = re.compile(r"[()（）\[\]【】〔〕［］]")
# 责任单位:… on a line of its own.
ASSIGNMENT_LINE = re.compile(rf"^[ \t]*(?P<clause>{_ROLE_LABEL}\s*[:：][^\n]+?)[ \t]*$", re.M)
SENTENCE_END = re.compile(r"[。!?！？]+|\n+")
# The same matches, written to start with one character class (a search then skips quickly to where one may start).
_SENTENCE_END_FAST = re.compile(r"[。!?！？\n](?:(?<=\n)\n*|(?<!\n)[。!?！？]*)")
# Every clause holds an opening bracket or a colon: a span with neither holds none (one quick scan
# instead of the bracket and line searches; most sentences and many task bodies have neither).
_CLAUSE_MARK = re.compile(r"[(（\[【〔［:：]")
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
CUT_OFF_ENDINGS = '。!?！？;;)）”"》】]'


@functools.lru_cache(maxsize=4)
def framing_patterns(path: str | None = None) -> re.Pattern[str]:
    """One regex of all framing titles (reference/framing_titles.csv)."""
    table = read_rows_strict(path or reference_path("framing_titles.csv"), FRAMING_SCHEMA)
    return re.compile("|".join(f"(?:{row['pattern']})" for row in table))


def is_framing_title(title: str) -> bool:
    """True when a heading title names a framing part (指导思想, 基本原则, …)."""
    return bool(title) and framing_patterns().search(title) is not None


# ---------------------------------------------------------------------------
# Flattened tables: a header row (工作任务 | 具体要求 | 责任单位 | 时限要求), then one row per task,
# its cells `|`-separated or one per line.

TABLE_COLUMNS_FILE = "table_columns.csv"
COLUMN_KINDS = ("number", "task", "content", "units", "deadline", "other")
TABLE_COLUMNS_SCHEMA = TableSchema(
    required=("term", "column"), optional=("note",), unique=(("term",),), allowed={"column": frozenset(COLUMN_KINDS)}
)
_MAX_UNIT_CELL = 150  # a unit cell is a list of names, never a paragraph
_MAX_DEADLINE_CELL = 40
_ROW_NUMBER = re.compile(r"\d{1,4}(?:[.、．]|\s*$)")  # a cell that starts another row (3 / 3.)


@functools.lru_cache(maxsize=4)
def table_columns(path: str | None = None) -> dict[str, str]:
    """Header cell -> column kind (reference/table_columns.csv)."""
    return {
        row["term"]: row["column"]
        for row in read_rows_strict(path or reference_path(TABLE_COLUMNS_FILE), TABLE_COLUMNS_SCHEMA)
    }


@functools.lru_cache(maxsize=4)
def _header_cell_pattern(path: str | None = None) -> re.Pattern[str]:
    terms = tuple(table_columns(path))
    return re.compile(
        rf"(?:^|(?<=\|))[ \t\u3000\xa0]*(?P<term>{_spaced_alternation(terms)})[ \t\u3000\xa0]*(?=\||$)", re.M
    )


@functools.lru_cache(maxsize=4)
def _header_cell_after_pattern(path: str | None = None) -> re.Pattern[str]:
    """A header cell with the line break or bar before it: the leading character lets a search skip ahead."""
    return re.compile("[\n|]" + _header_cell_pattern(path).pattern.removeprefix(r"(?:^|(?<=\|))"), re.M)


@dataclass(frozen=True)
class _Cell:
    """A header cell found in a text (what find_table_headers reads of a match)."""

    start: int
    end: int
    term: str


def _header_cells(text: str) -> list[_Cell]:
    """The header cells ``_header_cell_pattern().finditer(text)`` finds.

    A cell starts at the text's start, after a line break or after a bar; it ends before a bar or a
    line break and holds neither (the terms are words), so searching for the character before each
    cell finds the same cells in the same order.
    """
    cells: list[_Cell] = []
    pos = 0
    first = _header_cell_pattern().match(text)
    if first:
        cells.append(_Cell(first.start(), first.end(), first.group("term")))
        pos = first.end()
    for match in _header_cell_after_pattern().finditer(text, pos):
        cells.append(_Cell(match.start() + 1, match.end(), match.group("term")))
    return cells


@dataclass(frozen=True)
class TableHeader:
    """A table's header row: where it ends and, in order, the kinds of the columns after the task text."""

    end: int
    trailing: tuple[tuple[str, str], ...]  # (header as written, kind) of the units/deadline/other columns


def find_table_headers(text: str) -> list[TableHeader]:
    """Header rows of flattened tables: two or more header cells in a row, one of them a units column."""
    columns = table_columns()
    headers: list[TableHeader] = []
    run: list[_Cell] = []

    def close_run() -> None:
        kinds = [columns[re.sub(r"\s", "", cell.term)] for cell in run]
        if len(run) >= 2 and "units" in kinds:
            last_text = max((i for i, k in enumerate(kinds) if k in ("number", "task", "content")), default=-1)
            trailing = tuple(
                (re.sub(r"\s", "", cell.term), k)
                for cell, k in zip(run[last_text + 1 :], kinds[last_text + 1 :], strict=True)
            )
            if trailing:
                headers.append(TableHeader(run[-1].end, trailing))

    for cell in _header_cells(text):
        if run and text[run[-1].end : cell.start].strip(" \t\n\r|\u3000\xa0"):
            close_run()
            run = []
        run.append(cell)
    if run:
        close_run()
    return headers


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Non-empty cells of a flattened table row: split on `|` when the row has one, else one per line."""
    separator = "|" if "|" in text[start:end] else "\n"
    cells, cursor = [], start
    while cursor <= end:
        cut = text.find(separator, cursor, end)
        cut = end if cut < 0 else cut
        cell = _strip_span(text, cursor, cut)
        if cell[0] < cell[1]:
            cells.append(cell)
        cursor = cut + 1
    return cells


def _plausible_cell(text: str, kind: str) -> bool:
    if kind == "units":
        return len(text) <= _MAX_UNIT_CELL and "。" not in text and not _ROW_NUMBER.match(text)
    if kind == "deadline":
        return len(text) <= _MAX_DEADLINE_CELL and not _ROW_NUMBER.match(text)
    return True


def table_row(
    text: str, start: int, end: int, header: TableHeader
) -> tuple[tuple[int, int], list[tuple[str, str, tuple[int, int]]]] | None:
    """The content span of a table row and its (header, kind, cell span) trailing cells, or None.

    The trailing cells are matched to the header's trailing columns from the end of the row; a row
    with fewer cells (an empty deadline cell, a capture cut inside the row) lacks its last columns.
    A row holding several row numbers is several rows run together: not matched (one is a row
    inside a grouping cell's item: 一、… | 1.… | 财务科).
    """
    cells = _cells(text, start, end)
    n = len(header.trailing)
    if len(cells) < 2 or sum(1 for s, e in cells[1:] if _ROW_NUMBER.match(text[s:e])) > 1:
        return None  # several rows' numbers inside: rows run together, not one row
    for k in range(min(n, len(cells) - 1), 0, -1):
        # k < n: the row lacks its last cells (an empty deadline cell, a capture cut inside the row);
        # then a unit cell must be shorter than the task text, which a cut row may show as two cells.
        content, mapped = cells[:-k], list(zip(header.trailing[:k], cells[-k:], strict=True))
        longest = max(e - s for s, e in content)
        if k < n and any(e - s >= longest for (_, kind), (s, e) in mapped if kind == "units"):
            continue
        if all(_plausible_cell(text[s:e], kind) for (_, kind), (s, e) in mapped):
            return (content[0][0], content[-1][1]), [(term, kind, span) for (term, kind), span in mapped]
    return None


@dataclass
class _Tree:
    """The heading tree of a document, and what each heading's task row repeats from its ancestors."""

    parents: list[int | None]
    children: list[list[int]]
    paths: list[str]  # the number keys from the top, "/"-joined
    titles: list[list[str]]  # the titles of the ancestors, outermost first
    inferred: list[bool]  # the heading or an ancestor has an inferred number


def _tree(headings: list[Heading]) -> _Tree:
    """Parents and children of every heading; paths, ancestor titles and inferred flags built down the tree."""
    parents = heading_parents(headings)
    children: list[list[int]] = [[] for _ in headings]
    paths: list[str] = []
    titles: list[list[str]] = []
    inferred: list[bool] = []
    for index, (heading, parent) in enumerate(zip(headings, parents, strict=True)):
        if parent is None:
            paths.append(heading.number_key)
            titles.append([])
            inferred.append(heading.inferred)
        else:  # a parent comes before its children
            children[parent].append(index)
            paths.append(f"{paths[parent]}/{heading.number_key}")
            titles.append([*titles[parent], headings[parent].title])
            inferred.append(inferred[parent] or heading.inferred)
    return _Tree(parents, children, paths, titles, inferred)


def _unit_indices(headings: list[Heading], tree: _Tree) -> list[tuple[int, str]]:
    """(heading index, kind) of every task and framing unit, in text order."""
    units: list[tuple[int, str]] = []
    framing = [is_framing_title(heading.title) for heading in headings]

    def visit(index: int, under_framing: bool) -> None:
        children = tree.children[index]
        framing_here = under_framing or framing[index]
        if framing_here and not any(framing[c] for c in children):
            units.append((index, KIND_FRAMING))
            return
        if not children:
            units.append((index, KIND_TASK))
            return
        for child in children:
            visit(child, framing_here)

    for index, parent in enumerate(tree.parents):
        if parent is None:
            visit(index, False)
    return units


def _title_span(text: str, heading: Heading) -> tuple[int, int]:
    """Span of the short title inside the item (empty when it has none)."""
    if not heading.title:
        return heading.body_start, heading.body_start
    start = text.find(heading.title, heading.body_start, heading.span[1])
    if start < 0:
        return heading.body_start, heading.body_start
    end = start + len(heading.title)
    while end < heading.span[1] and text[end] in "。 \t":
        end += 1
    return start, end


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\n\r":
        start += 1
    while end > start and text[end - 1] in " \t\n\r":
        end -= 1
    return start, end


@dataclass(frozen=True, init=False)
class Clause:
    """An assignment clause found in a task: where it stands and its text as kept in ``units_raw``.

    Frozen, built by an ``__init__`` filling the instance dictionary (as
    :class:`~analysis.core.models.Heading`): cheaper than one ``object.__setattr__`` per field.
    """

    start: int
    end: int
    text: str
    own_line: bool  # a 责任单位:… line of its own (not part of any sentence)

    def __init__(self, start: int, end: int, text: str, own_line: bool) -> None:
        fields_ = self.__dict__
        fields_["start"] = start
        fields_["end"] = end
        fields_["text"] = text
        fields_["own_line"] = own_line


def _bracket_pairs(text: str, start: int, end: int) -> tuple[list[tuple[int, int]], list[int]]:
    """Matching bracket pairs of ``text[start:end]`` (any opener closes on any closer) and unclosed openers.

    One pass with a stack, so nesting (``〔责任单位:各县(市)交通运输局〕``) is handled in linear time.
    """
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for match in _BRACKET.finditer(text, start, end):
        position = match.start()
        if text[position] in _OPENERS:
            stack.append(position)
        elif stack:
            pairs.append((stack.pop(), position))
    pairs.sort()
    return pairs, stack


def _is_bracket_clause(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` (a bracket's content) assigns units: a role label first, or a
    short list ending in a role verb.  Works on positions, not slices, to stay cheap on long texts."""
    if _LABELLED.match(text, start, end):
        return True
    return (
        end - start <= _MAX_UNLABELLED
        and text.find("。", start, end) < 0
        and bool(_ROLE_VERB_AT_END.search(text, start, end))
    )


def _is_cut_clause(text: str, start: int, end: int) -> bool:
    """An opening bracket the capture cut before its close: labelled, or a short unit list (市政府办公室、市…)."""
    if _LABELLED.match(text, start, end):
        return True
    content = text[start:end]
    return len(content) <= _MAX_UNLABELLED and "。" not in content and any(sep in content for sep in "、,，")


def find_clauses(text: str, start: int, end: int) -> list[Clause]:
    """Assignment clauses in ``text[start:end]``, in text order, none inside another.

    Bracketed clauses (``(牵头单位:…)``, ``〔牵头单位:…;责任单位:…〕``, ``(X牵头,Y配合)``) keep their
    content without the brackets; a bracket left open because the text ends there (a cut capture)
    counts up to the end.  A ``责任单位:…`` line of its own is kept whole.
    """
    if not _CLAUSE_MARK.search(text, start, end):
        return []
    return _find_marked_clauses(text, start, end)


def _find_marked_clauses(text: str, start: int, end: int) -> list[Clause]:
    """:func:`find_clauses` without the screen (what it answers on a span holding a bracket or colon)."""
    found: list[Clause] = []
    pairs, unclosed = _bracket_pairs(text, start, end)
    covered_until = -1
    for open_at, close_at in pairs:
        if open_at < covered_until:
            continue  # inside a clause already taken
        if _is_bracket_clause(text, open_at + 1, close_at):
            found.append(Clause(open_at, close_at + 1, text[open_at + 1 : close_at].strip(), False))
            covered_until = close_at + 1
    cut = False
    if unclosed and not text[end:].strip():
        open_at = unclosed[0]
        if open_at >= covered_until and _is_cut_clause(text, open_at + 1, end):
            found.append(Clause(open_at, end, text[open_at + 1 : end].strip(), False))
            cut = True
    n_bracketed = len(found)
    for match in ASSIGNMENT_LINE.finditer(text, start, end):
        found.append(Clause(match.start(), match.end(), match.group("clause").strip(), True))
    if n_bracketed == len(found) and not cut:
        return found  # bracketed clauses only: in text order, none inside another (taken so above)
    found.sort(key=lambda clause: (clause.start, -clause.end))
    merged: list[Clause] = []
    for clause in found:
        if merged and clause.start < merged[-1].end:
            continue  # a bracket inside a 责任单位 line
        merged.append(clause)
    return merged


def split_measures(text: str, start: int, end: int) -> list[tuple[int, int, list[str]]]:
    """Sentences of ``text[start:end]`` with the assignment clauses that cover them.

    Returns ``(sentence_start, sentence_end, units_raw)``.  A clause that stands
    after a sentence end (``…等。(牵头单位:市财政局)。``) or on a line of its own
    is attached to the sentence before it; a clause covers every sentence since
    the previous clause, and clauses with no sentence between them cover the
    same sentences.  Linear in the length of the text.
    """
    return [(s, e, units) for s, e, units in _sentence_lists(text, start, end)]


def _sentence_lists(text: str, start: int, end: int) -> list[list]:
    """:func:`split_measures`' sentences as ``[start, end, units_raw]`` lists (what extract_tasks reads)."""
    clauses = find_clauses(text, start, end)
    if not clauses:
        return _clause_free_sentences(text, start, end)
    sentences: list[list] = []  # [start, end, units_raw]
    clause_at = {c.start: c for c in clauses}
    cursor = start
    position = start
    next_clause = 0  # index of the first clause at or after ``position``
    match: re.Match[str] | None = None  # the first sentence end at or after ``searched_from``
    searched_from = -1
    while position < end:
        clause = clause_at.get(position)
        if clause:
            position = clause.end
            if sentences and is_blank(text, cursor, clause.start):
                # A clause right after a sentence end belongs to that sentence;
                # a clause line of its own is not part of any sentence.
                while position < end and text[position] in "。.;;":
                    position += 1
                if not clause.own_line:
                    sentences[-1][1] = position
                cursor = position
            continue
        if searched_from < 0 or (match is not None and match.start() < position):
            # The last search's answer holds until ``position`` passes the end it found: searching again each
            # time would scan to the text's end once per clause when no sentence end follows.
            match = _SENTENCE_END_FAST.search(text, position, end)
            searched_from = position
        while next_clause < len(clauses) and clauses[next_clause].start < position:
            next_clause += 1
        inside = clauses[next_clause] if next_clause < len(clauses) else None
        if inside and (not match or inside.start < match.start()):
            position = inside.start
            if position == cursor and not sentences:
                position = inside.end
            elif not is_blank(text, cursor, position):
                position = inside.end
            continue
        sentence_end = match.end() if match else end
        _add_sentence(text, sentences, cursor, sentence_end)
        cursor = position = sentence_end
    if cursor < end:
        _add_sentence(text, sentences, cursor, end)
    _assign_clauses(sentences, clauses)
    return sentences


def _clause_free_sentences(text: str, start: int, end: int) -> list[list]:
    """The sentences of a span holding no clause: each ends where the search from the previous end finds one."""
    sentences: list[list] = []
    cursor = start
    for found in _SENTENCE_END_FAST.finditer(text, start, end):
        _add_sentence(text, sentences, cursor, found.end())
        cursor = found.end()
    if cursor < end:
        _add_sentence(text, sentences, cursor, end)
    return sentences


def _has_content(sentence: str) -> bool:
    """True when a sentence says something besides assignment clauses and punctuation."""
    clauses = find_clauses(sentence, 0, len(sentence))
    if not clauses:
        return _CONTENT.search(sentence) is not None
    kept, cursor = [], 0
    for clause in clauses:
        kept.append(sentence[cursor : clause.start])
        cursor = clause.end
    kept.append(sentence[cursor:])
    return _CONTENT.search("".join(kept)) is not None


def _has_content_in(text: str, start: int, end: int) -> bool:
    """``_has_content(text[start:end])``, without the slice when the span holds no clause mark."""
    if not _CLAUSE_MARK.search(text, start, end):
        return _CONTENT.search(text, start, end) is not None
    return _has_content(text[start:end])


def _add_sentence(text: str, sentences: list[list], start: int, end: int) -> None:
    start, end = _strip_span(text, start, end)
    if start >= end:
        return
    if sentences and not _has_content_in(text, start, end):
        sentences[-1][1] = end  # only a clause (and punctuation): part of the previous sentence
        return
    sentences.append([start, end, []])


def _assign_clauses(sentences: list[list], clauses: list[Clause]) -> None:
    """Give each clause to the sentences it covers, walking both lists once (by position)."""
    first_open = 0  # first sentence no clause has covered yet
    group_first = 0  # first sentence covered by the previous clause
    last = -1  # last sentence starting at or before the current clause
    previous_last = -2
    for clause in clauses:
        while last + 1 < len(sentences) and sentences[last + 1][0] <= clause.start:
            last += 1
        if last < 0:
            continue
        if last == previous_last:
            first = group_first  # no sentence since the previous clause: same sentences
        else:
            first = first_open
            group_first = first
        for i in range(first, last + 1):
            sentences[i][2].append(clause.text)
        first_open = last + 1
        previous_last = last


def extract_tasks(doc_id: str, aligned: AlignedText, headings: list[Heading]) -> list[Task]:
    """Tasks and framing units of one document, with measures and spans."""
    text = aligned.text
    tree = _tree(headings)
    headers = find_table_headers(text)
    units: list[Task] = []
    n_tasks = n_framing = 0
    for index, kind in _unit_indices(headings, tree):
        heading = headings[index]
        body_start, body_end = _strip_span(text, heading.body_start, heading.span[1])
        if body_start >= body_end:
            continue  # a heading with nothing under it carries no task
        flags = ["number_inferred"] if tree.inferred[index] else []
        measures: list[Measure] = []
        if kind == KIND_TASK:
            n_tasks += 1
            task_id = f"{doc_id}-T{n_tasks:03d}"
            _, title_end = _title_span(text, heading)
            content_start, content_end, cell_clauses = body_start, body_end, []
            header = next((h for h in reversed(headers) if h.end <= body_start), None) if headers else None
            row = table_row(text, body_start, body_end, header) if header else None
            if row:
                (content_start, content_end), cells = row
                cell_clauses = [f"{term}:{text[s:e]}" for term, kind, (s, e) in cells if kind == "units"]
            sentences = _sentence_lists(text, max(title_end, content_start), content_end)
            if not any(_has_content_in(text, s, e) for s, e, _ in sentences):
                # The title sentence is all the item says: it is the measure too.
                sentences = _sentence_lists(text, content_start, content_end)
            if cell_clauses:
                for sentence in sentences:
                    sentence[2].extend(cell_clauses)
            measures = [
                Measure(number, text[s:e], (s, e), aligned.original_span(s, e), units_raw)
                for number, (s, e, units_raw) in enumerate(sentences)
            ]
        else:
            n_framing += 1
            task_id = f"{doc_id}-F{n_framing:02d}"
        units.append(
            Task(
                doc_id=doc_id,
                task_id=task_id,
                kind=kind,
                seq=len(units) + 1,
                number=heading.number,
                path=tree.paths[index],
                level=heading.level,
                headings=tree.titles[index],  # a list of its own: one per heading, one heading per unit
                title=heading.title,
                text=text[body_start:body_end],
                span=(body_start, body_end),
                raw_span=aligned.original_span(body_start, body_end),
                measures=measures,
                flags=flags,
            )
        )
    if units and units[-1].text and units[-1].span[1] >= len(text.rstrip()) - 1:
        if units[-1].text[-1] not in CUT_OFF_ENDINGS:
            units[-1].flags.append("cut_off")
    return units
