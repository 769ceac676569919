"""Tasks stage: turn the heading tree into tasks, framing units and measures.

* A **task** is the lowest numbered item that carries text (a section with no
  deeper numbering is itself the task).
* A **framing** unit is a part named by a framing title (指导思想, 基本原则,
  总体要求, …; see ``reference/framing_titles.csv``): the deepest heading with
  such a title, with everything under it.  Framing units are not tasks.
* A task's **measures** are its sentences after the short title.  An
  assignment clause — ``(牵头单位:…)`` inside or after a sentence, or a
  ``责任单位:…`` line of its own — covers the measures since the previous
  assignment; its text is kept as written in ``Measure.units_raw``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from analysis.core.models import KIND_FRAMING, KIND_TASK, Heading, Measure, Task
from analysis.core.reference import TableSchema, read_csv_strict, reference_path
from analysis.core.text import AlignedText
from analysis.parse.structure import heading_parents

FRAMING_SCHEMA = TableSchema(required=("pattern", "note"))

# A role label: 牵头单位, 责任单位, 责任部门, 配合单位, 牵头, 主办, 协办, 责任领导 ...
_ROLE_LABEL = r"(?:[\u4e00-\u9fff]{0,4}(?:单位|部门|主体|领导|处室|科室)|牵头|主办|协办|配合|负责|主责)"
# (牵头单位:市编办) / [责任单位:…] / 【…】, or (市司法局牵头) / (市司法局负责).
ASSIGNMENT_CLAUSE = re.compile(
    rf"[(（\[【]\s*(?P<clause>{_ROLE_LABEL}\s*[:：][^()（）\[\]【】]*"
    r"|[^()（）\[\]【】:：。]{2,80}?(?:牵头|负责|落实|配合|主办|协办))\s*[)）\]】]"
)
# 责任单位:… on a line of its own.
ASSIGNMENT_LINE = re.compile(rf"^[ \t]*(?P<clause>{_ROLE_LABEL}\s*[:：][^\n]+?)[ \t]*$", re.M)
SENTENCE_END = re.compile(r"[。!?！？]+|\n+")
CUT_OFF_ENDINGS = '。!?！？;;)）”"》】]'


@functools.lru_cache(maxsize=4)
def framing_patterns(path: str | None = None) -> re.Pattern[str]:
    """One regex of all framing titles (reference/framing_titles.csv)."""
    table = read_csv_strict(path or reference_path("framing_titles.csv"), FRAMING_SCHEMA)
    return re.compile("|".join(f"(?:{p})" for p in table["pattern"]))


def is_framing_title(title: str) -> bool:
    """True when a heading title names a framing part (指导思想, 基本原则, …)."""
    return bool(title) and framing_patterns().search(title) is not None


@dataclass(frozen=True)
class _Node:
    index: int
    heading: Heading
    parent: int | None
    children: tuple[int, ...]


def _tree(headings: list[Heading]) -> list[_Node]:
    parents = heading_parents(headings)
    children: dict[int, list[int]] = {i: [] for i in range(len(headings))}
    for child, parent in enumerate(parents):
        if parent is not None:
            children[parent].append(child)
    return [_Node(i, h, parents[i], tuple(children[i])) for i, h in enumerate(headings)]


def _path(nodes: list[_Node], index: int) -> list[int]:
    chain = []
    current: int | None = index
    while current is not None:
        chain.append(current)
        current = nodes[current].parent
    return chain[::-1]


def _unit_indices(nodes: list[_Node]) -> list[tuple[int, str]]:
    """(heading index, kind) of every task and framing unit, in text order."""
    units: list[tuple[int, str]] = []

    def visit(index: int, under_framing: bool) -> None:
        node = nodes[index]
        framing_here = under_framing or is_framing_title(node.heading.title)
        if framing_here and not any(is_framing_title(nodes[c].heading.title) for c in node.children):
            units.append((index, KIND_FRAMING))
            return
        if not node.children:
            units.append((index, KIND_TASK))
            return
        for child in node.children:
            visit(child, framing_here)

    for node in nodes:
        if node.parent is None:
            visit(node.index, False)
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


def split_measures(text: str, start: int, end: int) -> list[tuple[int, int, list[str]]]:
    """Sentences of ``text[start:end]`` with the assignment clauses that cover them.

    Returns ``(sentence_start, sentence_end, units_raw)``.  A clause that stands
    after a sentence end (``…等。(牵头单位:市财政局)。``) or on a line of its own
    is attached to the sentence before it; a clause covers every sentence since
    the previous clause.
    """
    clauses = sorted(
        [(m.start(), m.end(), m.group("clause").strip(), False) for m in ASSIGNMENT_CLAUSE.finditer(text, start, end)]
        + [(m.start(), m.end(), m.group("clause").strip(), True) for m in ASSIGNMENT_LINE.finditer(text, start, end)]
    )
    # Drop clauses nested in others (a bracket inside a 责任单位 line).
    merged: list[tuple[int, int, str, bool]] = []
    for clause in clauses:
        if merged and clause[0] < merged[-1][1]:
            continue
        merged.append(clause)
    clause_at = {c[0]: c for c in merged}

    sentences: list[list] = []  # [start, end, units_raw]
    cursor = start
    position = start
    while position < end:
        clause = clause_at.get(position)
        if clause:
            position = clause[1]
            own_line = clause[3]
            if sentences and not text[cursor : clause[0]].strip():
                # A clause right after a sentence end belongs to that sentence;
                # a clause line of its own is not part of any sentence.
                while position < end and text[position] in "。.;;":
                    position += 1
                if not own_line:
                    sentences[-1][1] = position
                cursor = position
            continue
        match = SENTENCE_END.search(text, position, end)
        inside = next((c for c in merged if c[0] >= position and (not match or c[0] < match.start())), None)
        if inside:
            position = inside[0]
            if position == cursor and not sentences:
                position = inside[1]
            elif text[cursor:position].strip():
                position = inside[1]
            continue
        sentence_end = match.end() if match else end
        _add_sentence(text, sentences, cursor, sentence_end)
        cursor = position = sentence_end
    if cursor < end:
        _add_sentence(text, sentences, cursor, end)
    _assign_clauses(sentences, merged)
    return [(s, e, units) for s, e, units in sentences]


def _has_content(sentence: str) -> bool:
    """True when a sentence says something besides assignment clauses and punctuation."""
    body = ASSIGNMENT_LINE.sub("", ASSIGNMENT_CLAUSE.sub("", sentence))
    return re.search(r"[\u4e00-\u9fffA-Za-z0-9]", body) is not None


def _add_sentence(text: str, sentences: list[list], start: int, end: int) -> None:
    start, end = _strip_span(text, start, end)
    if start >= end:
        return
    if sentences and not _has_content(text[start:end]):
        sentences[-1][1] = end  # only a clause (and punctuation): part of the previous sentence
        return
    sentences.append([start, end, []])


def _assign_clauses(sentences: list[list], clauses: list[tuple[int, int, str, bool]]) -> None:
    first_open = 0
    for clause_start, _, clause_text, _ in clauses:
        covered = [i for i, (s, _, _) in enumerate(sentences) if s <= clause_start]
        if not covered:
            continue
        last = covered[-1]
        for i in range(first_open, last + 1):
            sentences[i][2].append(clause_text)
        first_open = last + 1


def extract_tasks(doc_id: str, aligned: AlignedText, headings: list[Heading]) -> list[Task]:
    """Tasks and framing units of one document, with measures and spans."""
    text = aligned.text
    nodes = _tree(headings)
    units: list[Task] = []
    n_tasks = n_framing = 0
    for index, kind in _unit_indices(nodes):
        heading = nodes[index].heading
        body_start, body_end = _strip_span(text, heading.body_start, heading.span[1])
        if body_start >= body_end:
            continue  # a heading with nothing under it carries no task
        chain = _path(nodes, index)
        flags = ["number_inferred"] if any(nodes[i].heading.inferred for i in chain) else []
        measures: list[Measure] = []
        if kind == KIND_TASK:
            n_tasks += 1
            task_id = f"{doc_id}-T{n_tasks:03d}"
            _, title_end = _title_span(text, heading)
            sentences = split_measures(text, max(title_end, body_start), body_end)
            if not any(_has_content(text[s:e]) for s, e, _ in sentences):
                # The title sentence is all the item says: it is the measure too.
                sentences = split_measures(text, body_start, body_end)
            for number, (s, e, units_raw) in enumerate(sentences):
                measures.append(Measure(number, text[s:e], (s, e), aligned.original_span(s, e), units_raw))
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
                path="/".join(nodes[i].heading.number_key for i in chain),
                level=heading.level,
                headings=[nodes[i].heading.title for i in chain[:-1]],
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
