"""Measured quality: ``python -m analysis evaluate``.

Everything here is computed afresh from ``data/raw`` and the hand-made
annotations in ``data/annotations`` (never from a previous build):

* themes — leave-one-document-out scores of the classifier against three
  baselines and its own ablations (:func:`analysis.annotate.theme_evaluation.evaluate_lodo`),
  a learning curve and calibration, plus agreement between
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
from analysis.annotate.target_evaluation import evaluate_targets
from analysis.annotate.theme_evaluation import EvaluationReport, evaluate_lodo, learning_curve
from analysis.annotate.themes import ThemeClassifier, tasks_frame
from analysis.core.codebook import Codebook, load_gold
from analysis.core.models import ParsedDocument
from analysis.corpus.rows import target_rows, unit_rows
from analysis.parse.manifest import load_manifest
from analysis.parse.pipeline import annotate_document, default_normaliser, parse_document


@dataclass
class Evaluation:
    """All measured scores, as text and as tables."""

    themes: EvaluationReport
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
            f"Targets against the gold file ({config.TARGETS_GOLD_PATH.name}; matched by {self.targets['matched_by']})",
            target_scores.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
            f"unmatched predicted: {len(self.targets['unmatched_predicted'])}, "
            f"unmatched gold: {len(self.targets['unmatched_gold'])}",
            "",
            "=" * 78,
            "Responsible units: named (non-generic) mentions matched to a canonical agency",
            self.units.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        ]
        return "\n".join(lines)


def evaluate_theme_classifier(
    tasks: pd.DataFrame, annotations_dir: str | Path | None = None, hierarchy: str = "auto"
) -> EvaluationReport:
    """Leave-one-document-out scores of the theme classifier on the hand-coded tasks (notebook 06).

    ``tasks`` is the processed tasks table; the gold codes come from
    ``themes_gold.csv`` in ``annotations_dir`` (default: the project's annotations).
    """
    codebook = Codebook.load()
    gold_name = config.THEMES_GOLD_PATH.name
    gold_path = Path(annotations_dir) / gold_name if annotations_dir else config.THEMES_GOLD_PATH
    gold = load_gold(gold_path, codebook)
    classifier = ThemeClassifier(codebook, hierarchy=hierarchy)
    report = evaluate_lodo(tasks, gold, codebook, classifier=classifier)
    report.learning_curve = learning_curve(tasks, gold, codebook, classifier)
    return report


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


def evaluate_all() -> str:
    """Run every evaluation and return the printed report (everything re-parsed from data/raw + annotations)."""
    return run_evaluation().to_text()


def run_evaluation() -> Evaluation:
    """Every evaluation, from the raw documents and the annotations."""
    codebook = Codebook.load()
    gold = load_gold(codebook=codebook)
    targets_gold = pd.read_csv(config.TARGETS_GOLD_PATH, dtype={"doc_id": str, "path": str, "text": str, "type": str})
    docs = gold_documents(set(gold["doc_id"]) | set(targets_gold["doc_id"]))
    theme_tasks = tasks_frame(docs)
    themes_report = evaluate_lodo(theme_tasks, gold, codebook)
    themes_report.learning_curve = learning_curve(theme_tasks, gold, codebook)
    second = (
        pd.read_csv(config.THEMES_SECOND_CODER_PATH, dtype=str) if config.THEMES_SECOND_CODER_PATH.is_file() else None
    )
    agreement = coder_agreement(gold, second) if second is not None else pd.DataFrame()
    predicted = pd.DataFrame([row for doc in docs for row in target_rows(doc)])
    predicted = predicted[predicted["stance"] == "commitment"]
    return Evaluation(themes_report, agreement, evaluate_targets(predicted, targets_gold), unit_match_rates(docs))
