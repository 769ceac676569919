"""Measured quality: ``python -m analysis evaluate``.

Everything here is computed afresh from ``data/raw`` and the hand-made
annotations in ``data/annotations`` (never from a previous build):

* themes — leave-one-document-out scores of the classifier against three
  baselines (:func:`analysis.themes.evaluate_lodo`), plus agreement between
  the two coders where a second coding exists;
* targets — precision and recall of the extractor against the gold targets;
* units — share of named unit mentions matched to a canonical agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from analysis import config
from analysis.build import annotate_document, default_normaliser
from analysis.manifest import load_manifest
from analysis.models import ParsedDocument
from analysis.pipeline import parse_document
from analysis.tables import target_rows, unit_rows
from analysis.targets import evaluate_targets
from analysis.themes import Codebook, evaluate_lodo, load_gold, tasks_frame

SECOND_CODER_PATH = config.ANNOTATIONS_DIR / "themes_second_coder.csv"
TARGETS_GOLD_PATH = config.ANNOTATIONS_DIR / "targets_gold.csv"


@dataclass
class Evaluation:
    """All measured scores, as text and as tables."""

    themes: object  # analysis.themes.EvaluationReport
    agreement: pd.DataFrame
    targets: dict
    units: pd.DataFrame

    def to_text(self) -> str:
        target_scores = pd.DataFrame([{"match": kind, **self.targets[kind]} for kind in ("presence", "type")])
        lines = [
            "=" * 78,
            self.themes.to_text(),
            "",
            "Inter-coder agreement on the gold tasks (first vs second coder)",
            self.agreement.to_string(index=False, float_format=lambda v: f"{v:.3f}")
            if len(self.agreement)
            else "no second coding found",
            "",
            "=" * 78,
            f"Targets against the gold file ({TARGETS_GOLD_PATH.name}; matched by {self.targets['matched_by']})",
            target_scores.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
            f"unmatched predicted: {len(self.targets['unmatched_predicted'])}, "
            f"unmatched gold: {len(self.targets['unmatched_gold'])}",
            "",
            "=" * 78,
            "Responsible units: named (non-generic) mentions matched to a canonical agency",
            self.units.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        ]
        return "\n".join(lines)


def gold_documents(
    doc_ids: set[str], manifest_path: Path | None = None, raw_dir: Path | None = None
) -> list[ParsedDocument]:
    """Parse and annotate the documents the annotations refer to."""
    entries, _ = load_manifest(manifest_path or config.MANIFEST_PATH, raw_dir or config.RAW_DIR)
    docs = [parse_document(e.path, e.doc_id, e.metadata) for e in entries if e.doc_id in doc_ids]
    normaliser = default_normaliser()
    return [annotate_document(doc, normaliser) for doc in docs]


def coder_agreement(gold: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Per level: tasks coded by both, share agreeing, Cohen's kappa."""
    both = gold.merge(second, on=["doc_id", "path"], suffixes=("_first", "_second"))
    rows = []
    for level, column in ((1, "theme"), (2, "subtheme")):
        first, other = both[f"{column}_first"], both[f"{column}_second"]
        rows.append(
            {
                "level": level,
                "n_tasks": len(both),
                "agreement_share": float((first == other).mean()),
                "cohen_kappa": float(cohen_kappa_score(first, other)) if len(both) else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def unit_match_rates(docs: list[ParsedDocument]) -> pd.DataFrame:
    """Per document and overall: named unit mentions and the share matched."""
    units = pd.DataFrame([row for doc in docs for row in unit_rows(doc)])
    if units.empty:
        return pd.DataFrame(columns=["doc_id", "n_named_mentions", "n_matched", "matched_share"])
    named = units[~units["generic"].astype(bool)]
    per_doc = named.groupby("doc_id").agg(
        n_named_mentions=("raw", "size"), n_matched=("match", lambda m: int((m != "unmatched").sum()))
    )
    per_doc.loc["(all)"] = per_doc.sum()
    per_doc["matched_share"] = per_doc["n_matched"] / per_doc["n_named_mentions"]
    return per_doc.reset_index()


def evaluate_all(processed_dir: Path | None = None) -> str:
    """Run every evaluation and return the printed report (``processed_dir`` is unused: all from raw)."""
    return run_evaluation().to_text()


def run_evaluation() -> Evaluation:
    """Every evaluation, from the raw documents and the annotations."""
    codebook = Codebook.load()
    gold = load_gold(codebook=codebook)
    targets_gold = pd.read_csv(TARGETS_GOLD_PATH, dtype={"doc_id": str, "path": str, "text": str, "type": str})
    docs = gold_documents(set(gold["doc_id"]) | set(targets_gold["doc_id"]))
    themes_report = evaluate_lodo(tasks_frame(docs), gold, codebook)
    second = pd.read_csv(SECOND_CODER_PATH, dtype=str) if SECOND_CODER_PATH.is_file() else None
    agreement = coder_agreement(gold, second) if second is not None else pd.DataFrame()
    predicted = pd.DataFrame([row for doc in docs for row in target_rows(doc)])
    predicted = predicted[predicted["stance"] == "commitment"]
    return Evaluation(themes_report, agreement, evaluate_targets(predicted, targets_gold), unit_match_rates(docs))
