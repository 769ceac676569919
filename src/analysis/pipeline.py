"""Run the per-document stages in order: read → clean → repair → structure → tasks.

``parse_document`` is the only function here that touches the file system
(it reads one file); everything else is a pure function of the decoded text,
so the same code serves the local build, parallel workers and Dask.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from analysis.clean import clean
from analysis.manifest import METADATA_COLUMNS
from analysis.metadata import extract_metadata, merge_metadata
from analysis.models import ParsedDocument, Repair
from analysis.read import DecodedText, read_document, to_simplified
from analysis.repair import find_unrepaired, repair
from analysis.structure import parse_structure
from analysis.tasks import extract_units
from analysis.text import AlignedText

log = logging.getLogger(__name__)

# Document-level fields every document record carries (manifest or extracted).
DOCUMENT_FIELDS = METADATA_COLUMNS


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

    extracted = extract_metadata(aligned.text)
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
    metadata = {name: merged.get(name) for name in DOCUMENT_FIELDS}
    metadata.update(
        {
            "source_format": decoded.source_format,
            "n_simplified_chars": n_simplified,
            "n_furniture_blocks": len(furniture),
        }
    )

    headings = parse_structure(aligned.text)
    units = extract_units(doc_id, aligned, headings)
    repairs = list(repairs) + _heading_repairs(aligned, headings)
    if not any(unit.kind == "task" for unit in units):
        problems.append(_problem(doc_id, "tasks", "warning", "no numbered task found (document kept with zero tasks)"))
    for unit in units:
        if "cut_off" in unit.flags:
            problems.append(
                _problem(doc_id, "tasks", "warning", f"{unit.task_id} ends mid-sentence: the capture may be cut off")
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
        units=units,
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
