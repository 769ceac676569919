"""The one per-document stage list: read → simplify → clean → repair → metadata → structure → tasks → units → targets.

:func:`process_document` runs all of them for one file; :func:`parse_document`
stops after ``tasks`` (what the theme classifier's training needs), and
:func:`annotate_document` adds responsible units and targets to every task.
Themes are coded afterwards over the whole corpus (``analysis.corpus.coding``),
because the classifier is fitted once, not per document.

``parse_document`` is the only function here that touches the file system
(it reads one file); everything else is a pure function of the decoded text,
so the same code serves the local build, parallel workers and Dask.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from analysis.annotate.agencies import AgencyNormaliser
from analysis.annotate.targets import task_targets
from analysis.annotate.units import standing_note, task_units
from analysis.core.models import KIND_TASK, ParsedDocument, Repair
from analysis.core.text import AlignedText
from analysis.parse.clean import clean
from analysis.parse.manifest import METADATA_COLUMNS
from analysis.parse.metadata import DERIVED_FIELDS, extract_metadata, merge_metadata
from analysis.parse.read import DecodedText, read_document
from analysis.parse.repair import find_unrepaired, repair
from analysis.parse.simplify import to_simplified
from analysis.parse.structure import lost_line_breaks, parse_structure
from analysis.parse.tasks import extract_tasks

log = logging.getLogger(__name__)

# Document-level fields every document record carries (manifest or extracted).
DOCUMENT_FIELDS = METADATA_COLUMNS


STAGES: tuple[str, ...] = (
    "read",
    "simplify",
    "clean",
    "repair",
    "metadata",
    "structure",
    "tasks",
    "units",
    "targets",
)
"""The per-document stages in the order :func:`process_document` runs them."""


def process_document(
    path: str | Path,
    doc_id: str | None = None,
    manifest_metadata: dict[str, Any] | None = None,
    normaliser: AgencyNormaliser | None = None,
) -> ParsedDocument:
    """Every per-document stage on one file (raises ``InputError`` on bad input)."""
    doc = parse_document(path, doc_id, manifest_metadata)
    return annotate_document(doc, normaliser or default_normaliser())


def doc_id_from_path(path: str | Path) -> str:
    """Default ``doc_id`` for a file given without a manifest: its stem."""
    return Path(path).stem


def parse_document(
    path: str | Path, doc_id: str | None = None, manifest_metadata: dict[str, Any] | None = None
) -> ParsedDocument:
    """Read one file and run the text stages on it (raises ``InputError`` on bad input)."""
    decoded = read_document(path)
    return parse_decoded(
        decoded, doc_id=doc_id or doc_id_from_path(path), source_path=str(path), manifest_metadata=manifest_metadata
    )


def parse_decoded(
    decoded: DecodedText,
    *,
    doc_id: str,
    source_path: str,
    manifest_metadata: dict[str, Any] | None = None,
) -> ParsedDocument:
    """The text stages over one decoded document (pure)."""
    problems: list[dict[str, Any]] = []
    aligned = AlignedText.identity(decoded.text)
    aligned, n_simplified = to_simplified(aligned)
    aligned, furniture = clean(aligned)
    aligned, repairs = repair(aligned)
    for suspect in find_unrepaired(aligned.text):
        problems.append(_problem(doc_id, "repair", "warning", f"possible damage left unrepaired: {suspect}"))

    extracted = extract_metadata(aligned.text, page_meta=[block["text"] for block in furniture])
    merged, disagreements = merge_metadata(_metadata_subset(manifest_metadata), extracted)
    for disagreement in disagreements:
        problems.append(
            _problem(
                doc_id,
                "metadata",
                "warning",
                f"manifest and text disagree on {disagreement['field']}: "
                f"manifest {disagreement['manifest']!r}, text {disagreement['extracted']!r} (manifest kept)",
            )
        )
    metadata = {name: merged.get(name) for name in DOCUMENT_FIELDS + DERIVED_FIELDS}
    metadata.update(
        {
            "source_format": decoded.source_format,
            "n_simplified_chars": n_simplified,
            "n_furniture_blocks": len(furniture),
        }
    )

    headings = parse_structure(aligned.text)
    items = extract_tasks(doc_id, aligned, headings)
    repairs = list(decoded.repairs) + list(repairs) + _heading_repairs(aligned, headings)  # decoding repairs first
    if lost_line_breaks(aligned.text):
        problems.append(
            _problem(
                doc_id,
                "structure",
                "warning",
                "the text has lost its line breaks: headings and items were recognised inside the running text",
            )
        )
    if not any(item.kind == KIND_TASK for item in items):
        problems.append(_problem(doc_id, "tasks", "warning", "no numbered task found (document kept with zero tasks)"))
    for item in items:
        if "cut_off" in item.flags:
            problems.append(
                _problem(doc_id, "tasks", "warning", f"{item.task_id} ends mid-sentence: the capture may be cut off")
            )
    return ParsedDocument(
        doc_id=doc_id,
        source_path=source_path,
        original_text=decoded.text,
        text=aligned.text,
        encoding=decoded.encoding,
        metadata=metadata,
        extracted_metadata=extracted,
        repairs=repairs,
        headings=headings,
        items=items,
        problems=problems,
        aligned=aligned,
    )


def _metadata_subset(manifest_metadata: dict[str, Any] | None) -> dict[str, Any]:
    if not manifest_metadata:
        return {}
    return {k: v for k, v in manifest_metadata.items() if k in DOCUMENT_FIELDS and v not in (None, "")}


def _heading_repairs(aligned: AlignedText, headings: list) -> list[Repair]:
    """A heading whose number was recovered is a repair too (the text is not changed)."""
    repairs = []
    for heading in headings:
        if heading.inferred:
            position = aligned.original_offset(heading.span[0])
            repairs.append(
                Repair(
                    kind="heading_number",
                    before="",
                    after=heading.number_key,
                    raw_span=(position, position),
                    reason=f"numbering skips {heading.number_key}; the unnumbered heading line "
                    f"{heading.title!r} stands where it belongs",
                )
            )
    return repairs


def _problem(doc_id: str, stage: str, severity: str, problem: str) -> dict[str, Any]:
    return {"doc_id": doc_id, "stage": stage, "severity": severity, "problem": problem}


def document_year(metadata: dict[str, Any]) -> int | None:
    """The year a document speaks from: issue year, else the plan's first year."""
    issued = str(metadata.get("issued") or "")
    if len(issued) >= 4 and issued[:4].isdigit():
        return int(issued[:4])
    start = metadata.get("period_start")
    return int(start) if start else None


def annotate_document(doc: ParsedDocument, normaliser: AgencyNormaliser) -> ParsedDocument:
    """Per-document enrichment: responsible units on every task, targets on tasks and framing units.

    A framing unit (总体目标: 到2025年…) names no responsible unit but may set targets.
    """
    jurisdiction = doc.metadata.get("jurisdiction")
    year = document_year(doc.metadata)
    first_is_lead = None  # a "first unit is the lead" note that holds for the tasks below it (下同)
    for item in doc.items:
        if item.kind == KIND_TASK:
            item.extra["units"] = task_units(
                item, normaliser, jurisdiction=jurisdiction, document=doc, first_is_lead=first_is_lead
            )
            first_is_lead = standing_note(item) or first_is_lead
        item.extra["targets"] = task_targets(item, document_year=year)
    return doc


_NORMALISER: list[AgencyNormaliser] = []


def default_normaliser() -> AgencyNormaliser:
    """One agency normaliser per process (its reference tables load once)."""
    if not _NORMALISER:
        _NORMALISER.append(AgencyNormaliser())
    return _NORMALISER[0]
