"""The records that flow between stages.

Spans are ``(start, end)`` half-open character offsets.  ``span`` always
points into the cleaned analysis text of the document
(:attr:`ParsedDocument.text`), ``raw_span`` into the original decoded text
(:attr:`ParsedDocument.original_text`), so ``text[span] == row text`` can be
checked for every row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.core.text import AlignedText
Span = tuple[int, int]

# Kinds of structural unit produced by the tasks stage.
KIND_TASK = "task"
KIND_FRAMING = "framing"


TARGET_TYPES: tuple[str, ...] = ("rate", "threshold", "count", "frequency", "deadline", "duration", "share")
"""The kinds of quantified target the targets stage finds (the ``type`` column of ``targets``)."""


THEME_CODE_COLUMNS: tuple[str, ...] = (
    "theme",
    "theme_label_zh",
    "theme_label_en",
    "subtheme",
    "subtheme_label_zh",
    "subtheme_label_en",
    "theme_confidence",
    "theme_source",
    "theme_evidence",
)
"""A task's theme code as the tables show it (gold, override or model), with its labels, confidence and source."""
THEME_MODEL_COLUMNS: tuple[str, ...] = ("theme_model", "subtheme_model", "theme_model_confidence")
"""The model's own code, kept beside a gold or override code for comparison."""
THEME_COLUMNS: tuple[str, ...] = (*THEME_CODE_COLUMNS, *THEME_MODEL_COLUMNS)
"""The theme columns of the tasks table (what theme coding adds to a task; here, outside the theme stage,
so that the per-document rows can name them without the codebook entering their cache key)."""


@dataclass(frozen=True)
class Repair:
    """One change the repair (or clean) stage made, kept for traceability."""

    kind: str  # e.g. "year_range", "doc_number", "date", "heading_number"
    before: str  # text as captured
    after: str  # text after the repair
    raw_span: Span  # where ``before`` stands in the original text
    reason: str  # why the repair is justified

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, init=False)
class Heading:
    """A numbered (or recovered) heading found by the structure stage.

    Frozen (equality, hash, repr and pickling as the dataclass makes them), but built by an
    ``__init__`` that fills the instance dictionary directly: the generated frozen ``__init__``
    calls ``object.__setattr__`` once per field, and a document has dozens of headings.
    """

    level: int  # 1 = 一、, 2 = (一), 3 = 1. / 1、, 4 = (1), 5 = ①
    number: str  # as written, e.g. "(一)"; "" when the number was lost
    number_key: str  # normalised, e.g. "(一)" / "二" / "1"; inferred when lost
    title: str  # the heading text (for items: the short title, may be "")
    span: Span  # whole item: from the number to the end of its body
    number_span: Span  # the number itself (empty when lost)
    body_start: int  # first character after the number
    inferred: bool = False  # number recovered, not written

    def __init__(
        self,
        level: int,
        number: str,
        number_key: str,
        title: str,
        span: Span,
        number_span: Span,
        body_start: int,
        inferred: bool = False,
    ) -> None:
        fields_ = self.__dict__
        fields_["level"] = level
        fields_["number"] = number
        fields_["number_key"] = number_key
        fields_["title"] = title
        fields_["span"] = span
        fields_["number_span"] = number_span
        fields_["body_start"] = body_start
        fields_["inferred"] = inferred


@dataclass
class Measure:
    """One sentence of a task, with the unit assignment that covers it."""

    index: int  # 0-based within the task
    text: str
    span: Span
    raw_span: Span
    units_raw: list[str] = field(default_factory=list)  # assignment clauses as written

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.text,
            "span": list(self.span),
            "raw_span": list(self.raw_span),
            "units_raw": list(self.units_raw),
        }


@dataclass
class Task:
    """A task (lowest numbered item carrying measures) or a framing unit."""

    doc_id: str
    task_id: str
    kind: str  # KIND_TASK or KIND_FRAMING
    seq: int  # 1-based order of this unit within the document
    number: str  # as written ("" if lost)
    path: str  # normalised numbers from the top, e.g. "二/(一)/1"
    level: int
    headings: list[str]  # titles of the enclosing headings, outermost first
    title: str  # short title the item opens with ("" if none)
    text: str  # the whole item text, number excluded
    span: Span
    raw_span: Span
    measures: list[Measure] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # e.g. "number_inferred", "cut_off"
    # Later stages attach their results here (units, targets, themes).
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The JSON record written by ``extract`` (stable field names)."""
        record: dict[str, Any] = {
            "record": "task",
            "doc_id": self.doc_id,
            "task_id": self.task_id,
            "kind": self.kind,
            "seq": self.seq,
            "number": self.number,
            "path": self.path,
            "level": self.level,
            "headings": list(self.headings),
            "title": self.title,
            "text": self.text,
            "span": list(self.span),
            "raw_span": list(self.raw_span),
            "measures": [m.to_dict() for m in self.measures],
            "flags": list(self.flags),
        }
        record.update(self.extra)
        return record


@dataclass
class ParsedDocument:
    """Everything the per-document stages learn about one document."""

    doc_id: str
    source_path: str
    original_text: str  # decoded text as captured (BOM removed)
    text: str  # cleaned, repaired, simplified analysis text
    encoding: str
    metadata: dict[str, Any]  # merged: manifest wins over extracted
    extracted_metadata: dict[str, Any]
    repairs: list[Repair]
    headings: list[Heading]
    items: list[Task]  # every numbered item: tasks and framing parts, in document order
    problems: list[dict[str, Any]] = field(default_factory=list)  # warnings for the run report
    aligned: AlignedText | None = field(default=None, repr=False)  # text with its origin map

    @property
    def tasks(self) -> list[Task]:
        return [u for u in self.items if u.kind == KIND_TASK]

    def document_record(self) -> dict[str, Any]:
        """The first JSON line written by ``extract``."""
        record: dict[str, Any] = {"record": "document", "doc_id": self.doc_id}
        record.update(self.metadata)
        record.update(
            {
                "source_path": self.source_path,
                "encoding": self.encoding,
                "n_tasks": len(self.tasks),
                "n_framing": sum(1 for u in self.items if u.kind == KIND_FRAMING),
                "repairs": [r.to_dict() for r in self.repairs],
                "problems": list(self.problems),
            }
        )
        return record
