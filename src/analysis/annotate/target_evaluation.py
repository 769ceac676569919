"""Found targets scored against hand-coded gold targets (presence and type, precision and recall)."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from analysis.annotate.target_vocabulary import CN_DIGITS
from analysis.core.numerals import FULLWIDTH_TO_ASCII
from analysis.core.schema import require_columns


def _norm(text: Any) -> str:
    return re.sub(r"\s+", "", str(text)).translate(FULLWIDTH_TO_ASCII)


def _same_target(pred: pd.Series, gold: pd.Series, use_spans: bool) -> bool:
    if use_spans:
        return int(pred["span_start"]) < int(gold["span_end"]) and int(gold["span_start"]) < int(pred["span_end"])
    p, g = _norm(pred["text"]), _norm(gold["text"])
    if not p or not g:
        return False
    if p in g or g in p:
        return True
    return _share_number(p, g)


def _share_number(a: str, b: str) -> bool:
    """True when both texts contain the same number with a neighbouring character (明确1名 / 1名联络员)."""
    short, long_ = sorted((a, b), key=len)
    for i, ch in enumerate(short):
        if ch.isdigit() or ch in CN_DIGITS:
            for lo, hi in ((max(0, i - 1), i + 1), (i, i + 2)):
                piece = short[lo:hi]
                if len(piece) == 2 and piece in long_:
                    return True
    return False


def _match(predicted: pd.DataFrame, gold: pd.DataFrame, use_spans: bool, same_type: bool) -> list[tuple[int, int]]:
    """One-to-one greedy matching within doc_id+path (gold order, then predicted order)."""
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    by_key = {key: group for key, group in predicted.groupby(["doc_id", "path"], sort=False)}  # noqa: C416 - GroupBy has a .keys attribute that dict() would call
    for gi, g in gold.iterrows():
        pool = by_key.get((g["doc_id"], g["path"]))
        if pool is None:
            continue
        for pi, p in pool.iterrows():
            if pi in used or not _same_target(p, g, use_spans):
                continue
            if same_type and p["type"] != g["type"]:
                continue
            used.add(pi)
            pairs.append((pi, gi))
            break
    return pairs


def _scores(n_match: int, n_pred: int, n_gold: int) -> dict[str, float]:
    precision = n_match / n_pred if n_pred else math.nan
    recall = n_match / n_gold if n_gold else math.nan
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return {"tp": n_match, "n_predicted": n_pred, "n_gold": n_gold, "precision": precision, "recall": recall, "f1": f1}


def evaluate_targets(predicted: pd.DataFrame, gold: pd.DataFrame) -> dict[str, Any]:
    """Precision/recall/F1 of predicted targets against gold.

    Two targets match when they are in the same doc_id+path and their spans
    overlap (when both tables have span_start/span_end) or, otherwise, when one
    text contains the other or both hold the same number with a neighbouring
    character (明确1名 / 1名联络员).  Matching is one-to-one, greedy in gold order.  ``presence`` counts matches; ``type`` counts
    matches that also agree on type.  Unmatched rows are listed for review.
    """
    for name, frame in (("predicted", predicted), ("gold", gold)):
        require_columns(frame, ["doc_id", "path", "text", "type"], name)
    predicted = predicted.reset_index(drop=True)
    gold = gold.reset_index(drop=True)
    span_cols = {"span_start", "span_end"}
    use_spans = (
        span_cols <= set(predicted.columns)
        and span_cols <= set(gold.columns)
        and not gold[list(span_cols)].isna().any().any()
    )
    presence = _match(predicted, gold, use_spans, same_type=False)
    typed = _match(predicted, gold, use_spans, same_type=True)
    matched_pred = {p for p, _ in presence}
    matched_gold = {g for _, g in presence}
    return {
        "presence": _scores(len(presence), len(predicted), len(gold)),
        "type": _scores(len(typed), len(predicted), len(gold)),
        "matched_by": "span" if use_spans else "text",
        "unmatched_predicted": predicted.loc[[i for i in predicted.index if i not in matched_pred]],
        "unmatched_gold": gold.loc[[i for i in gold.index if i not in matched_gold]],
    }
