"""Text reuse between plans: document similarity, near-identical tasks, task clusters.

Local plans copy wording from the national 纲要 and from each other.  Two
representations of the task text are offered (``method``):

* ``"tokens"``: TF-IDF over jieba words (:func:`analysis.segment.tokenize`,
  stopwords removed) — reuse of vocabulary;
* ``"chars"``: TF-IDF over character 2-4-grams — reuse of wording, robust to
  segmentation and to small edits.

Similarities are cosines of L2-normalised TF-IDF vectors (0 = nothing shared,
1 = the same text).  Everything is deterministic: fixed vocabularies, a fixed
``random_state`` for clustering, ties broken by task order.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.preprocessing import normalize

from analysis.compare.labels import UNCODED, document_labels, select_tasks
from analysis.core.codebook import LEVEL1_CODES
from analysis.core.segment import STOPWORDS, normalise, tokenize

log = logging.getLogger(__name__)

METHODS = ("tokens", "chars")
_NOT_WORD = re.compile(r"[\W_]+")
CHAR_NGRAMS = (2, 4)
MAX_BLOCK_CELLS = 4_000_000
"""Upper bound on similarity cells computed at once by :func:`task_pairs` (bounds memory)."""
PAIR_COLUMNS = (
    "doc_id_a",
    "doc_label_a",
    "task_id_a",
    "path_a",
    "text_a",
    "doc_id_b",
    "doc_label_b",
    "task_id_b",
    "path_b",
    "text_b",
    "similarity",
)


def content_tokens(text: str) -> list[str]:
    """jieba words of ``text`` without stopwords (the ``"tokens"`` analyzer)."""
    return [token for token in tokenize(text) if token not in STOPWORDS]


def char_text(text: str) -> str:
    """``text`` normalised (NFKC, lower case) with whitespace and punctuation removed (the ``"chars"`` input)."""
    return _NOT_WORD.sub("", normalise(text))


def make_vectorizer(method: str) -> TfidfVectorizer:
    """A TF-IDF vectorizer for ``method`` ("tokens" or "chars"), float32, sublinear tf, L2 norm."""
    if method == "tokens":
        return TfidfVectorizer(analyzer=content_tokens, sublinear_tf=True, dtype=np.float32)
    if method == "chars":
        return TfidfVectorizer(
            analyzer="char", ngram_range=CHAR_NGRAMS, preprocessor=char_text, sublinear_tf=True, dtype=np.float32
        )
    raise ValueError(f"method must be one of {METHODS}, not {method!r}")


def _vectorize(texts: list[str], method: str) -> sparse.csr_matrix:
    """TF-IDF rows for ``texts`` (empty texts give zero rows; all empty gives an all-zero matrix)."""
    vectorizer = make_vectorizer(method)
    try:
        return vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # empty vocabulary: nothing to compare
        return sparse.csr_matrix((len(texts), 1), dtype=np.float32)


def ordered_tasks(tasks: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Task rows with text, in documents order then ``seq``; tasks of unknown documents raise."""
    rows = select_tasks(tasks)
    unknown = sorted(set(rows["doc_id"]) - set(documents["doc_id"]))
    if unknown:
        raise ValueError(f"tasks name document(s) not in the documents table: {unknown}")
    position = {doc: i for i, doc in enumerate(documents["doc_id"])}
    rows = rows.assign(_doc_order=rows["doc_id"].map(position), text=rows["text"].fillna("").astype(str))
    rows = rows[rows["text"].str.strip() != ""]
    return rows.sort_values(["_doc_order", "seq"], kind="stable").drop(columns="_doc_order").reset_index(drop=True)


def document_similarity(tasks: pd.DataFrame, documents: pd.DataFrame, method: str = "tokens") -> pd.DataFrame:
    """Cosine similarity between documents, each represented by the text of all its tasks.

    Rows and columns: doc_id in documents order.  A document without task
    text has NaN similarities (nothing to compare), not 0.
    """
    rows = ordered_tasks(tasks, documents)
    doc_ids = list(documents["doc_id"])
    texts = rows.groupby("doc_id", sort=False)["text"].apply("\n".join).reindex(doc_ids).fillna("")
    matrix = _vectorize(texts.tolist(), method)
    similarity = (matrix @ matrix.T).toarray().astype(float)
    empty = np.asarray(matrix.getnnz(axis=1) == 0)
    similarity[empty, :] = np.nan
    similarity[:, empty] = np.nan
    np.fill_diagonal(similarity, np.where(empty, np.nan, 1.0))
    frame = pd.DataFrame(
        np.clip(similarity, 0.0, 1.0),
        index=pd.Index(doc_ids, name="doc_id"),
        columns=pd.Index(doc_ids, name="doc_id_b"),
    )
    return frame


def most_similar_documents(similarity: pd.DataFrame) -> tuple[str, str, float] | None:
    """The most similar pair of different documents in a :func:`document_similarity` matrix
    (first in row order on ties); None when no pair has a similarity."""
    values = similarity.to_numpy(dtype=float, copy=True)
    np.fill_diagonal(values, np.nan)
    if np.isnan(values).all():
        return None
    i, j = np.unravel_index(np.nanargmax(values), values.shape)
    return str(similarity.index[i]), str(similarity.columns[j]), float(values[i, j])


def task_pairs(
    tasks: pd.DataFrame,
    documents: pd.DataFrame,
    threshold: float = 0.6,
    method: str = "chars",
    max_pairs: int = 500,
    max_block_cells: int = MAX_BLOCK_CELLS,
) -> pd.DataFrame:
    """Near-identical tasks shared across documents (different doc_id), side by side.

    TF-IDF is fitted on all tasks; similarities are computed block by block
    (at most ``max_block_cells`` at once, sparse) so thousands of tasks never
    need an n x n matrix.  Pairs with similarity >= ``threshold`` are kept,
    the ``max_pairs`` most similar returned (most similar first, then task
    order; task A comes first in documents order).  The number of pairs above
    the threshold is in ``attrs["n_pairs_above_threshold"]`` and logged when
    the cap cuts it.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], not {threshold!r}")
    rows = ordered_tasks(tasks, documents)
    n = len(rows)
    doc_codes = pd.factorize(rows["doc_id"])[0]
    best_i = np.empty(0, dtype=np.int64)
    best_j = np.empty(0, dtype=np.int64)
    best_s = np.empty(0, dtype=np.float64)
    n_found = 0
    if n > 1:
        matrix = _vectorize(rows["text"].tolist(), method)
        transposed = matrix.T.tocsc()
        block = max(1, min(n, max_block_cells // n))
        for start in range(0, n, block):
            product = (matrix[start : start + block] @ transposed).tocoo()
            i = product.row.astype(np.int64) + start
            j = product.col.astype(np.int64)
            s = product.data.astype(np.float64)
            keep = (j > i) & (s >= threshold - 1e-6) & (doc_codes[i] != doc_codes[j])
            n_found += int(keep.sum())
            best_i = np.concatenate([best_i, i[keep]])
            best_j = np.concatenate([best_j, j[keep]])
            best_s = np.concatenate([best_s, s[keep]])
            order = np.lexsort((best_j, best_i, -np.round(best_s, 6)))[:max_pairs]
            best_i, best_j, best_s = best_i[order], best_j[order], best_s[order]
    if n_found > max_pairs:
        log.info("task_pairs: %d pairs at similarity >= %s, the %d most similar kept", n_found, threshold, max_pairs)
    labels = document_labels(documents).set_index("doc_id")["doc_label_zh"]
    a, b = rows.iloc[best_i], rows.iloc[best_j]
    result = pd.DataFrame(
        {
            "doc_id_a": a["doc_id"].to_numpy(),
            "doc_label_a": a["doc_id"].map(labels).to_numpy(),
            "task_id_a": a["task_id"].to_numpy(),
            "path_a": a["path"].to_numpy(),
            "text_a": a["text"].to_numpy(),
            "doc_id_b": b["doc_id"].to_numpy(),
            "doc_label_b": b["doc_id"].map(labels).to_numpy(),
            "task_id_b": b["task_id"].to_numpy(),
            "path_b": b["path"].to_numpy(),
            "text_b": b["text"].to_numpy(),
            "similarity": np.minimum(np.round(best_s, 4), 1.0),
        },
        columns=list(PAIR_COLUMNS),
    )
    result.attrs["n_pairs_above_threshold"] = n_found
    return result


def pair_counts(pairs: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Near-identical task pairs per pair of documents (symmetric matrix, doc_id x doc_id)."""
    doc_ids = list(documents["doc_id"])
    matrix = pd.DataFrame(0, index=pd.Index(doc_ids, name="doc_id"), columns=pd.Index(doc_ids, name="doc_id_b"))
    for a, b in zip(pairs["doc_id_a"], pairs["doc_id_b"], strict=False):
        matrix.loc[a, b] += 1
        matrix.loc[b, a] += 1
    return matrix


def task_clusters(
    tasks: pd.DataFrame,
    n_clusters: int | None = None,
    method: str = "tokens",
    random_state: int = 0,
    n_components: int = 100,
    n_terms: int = 5,
) -> pd.DataFrame:
    """Cluster tasks by their text: TF-IDF -> LSA (truncated SVD) -> k-means, seeded.

    ``n_clusters`` defaults to the number of level-1 themes (fewer if there are
    fewer distinct texts).  Clusters are numbered 0, 1, … in order of their
    first task (documents as they come in ``tasks``, then ``seq``), so the
    numbering is stable.  Returns ``doc_id, task_id, cluster, cluster_size,
    cluster_terms`` (the cluster's heaviest TF-IDF features).
    """
    rows = select_tasks(tasks)
    rows = rows[rows["text"].fillna("").astype(str).str.strip() != ""].reset_index(drop=True)
    columns = ["doc_id", "task_id", "cluster", "cluster_size", "cluster_terms"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    vectorizer = make_vectorizer(method)
    matrix = vectorizer.fit_transform(rows["text"].astype(str).tolist()).tocsr()
    n_distinct = rows["text"].nunique()
    k = min(n_clusters or len(LEVEL1_CODES), n_distinct)
    if k < 1:
        raise ValueError(f"n_clusters must be positive, not {n_clusters!r}")
    if k == 1:
        raw = np.zeros(len(rows), dtype=int)
    else:
        features = matrix
        components = min(n_components, matrix.shape[0] - 1, matrix.shape[1] - 1)
        if components >= 2:
            svd = TruncatedSVD(n_components=components, random_state=random_state)
            features = normalize(svd.fit_transform(matrix))
        raw = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(features)
    renumber = {old: new for new, old in enumerate(dict.fromkeys(raw))}
    cluster = np.array([renumber[c] for c in raw])
    vocabulary = np.array(vectorizer.get_feature_names_out())
    terms = {}
    for c in range(len(renumber)):
        weights = np.asarray(matrix[cluster == c].mean(axis=0)).ravel()
        top = np.lexsort((vocabulary, -np.round(weights, 6)))[:n_terms]
        terms[c] = " ".join(vocabulary[top])
    sizes = pd.Series(cluster).value_counts()
    return pd.DataFrame(
        {
            "doc_id": rows["doc_id"].to_numpy(),
            "task_id": rows["task_id"].to_numpy(),
            "cluster": cluster,
            "cluster_size": [int(sizes[c]) for c in cluster],
            "cluster_terms": [terms[c] for c in cluster],
        },
        columns=columns,
    )


def cluster_labels(clusters: pd.DataFrame) -> dict[int, dict[str, str]]:
    """``{cluster: {"zh": "0: terms", "en": "Cluster 0 (12 tasks)"}}`` for plots.

    The top terms are Chinese words, so the English label names the cluster
    and its size instead (the terms stay in the CSV beside the figure).
    """
    first = clusters.drop_duplicates("cluster").sort_values("cluster")
    return {
        int(c): {"zh": f"{c}: {terms}", "en": f"Cluster {c} ({int(size)} tasks)"}
        for c, terms, size in zip(first["cluster"], first["cluster_terms"], first["cluster_size"], strict=False)
    }


class ClusterComparison(NamedTuple):
    """How text clusters line up with the theme taxonomy."""

    crosstab: pd.DataFrame  # rows cluster, columns theme (codebook order), task counts
    adjusted_rand: float  # 1 = same partition, ~0 = chance agreement
    normalized_mutual_info: float
    n_tasks: int  # coded tasks compared


def clusters_vs_taxonomy(clusters: pd.DataFrame, tasks: pd.DataFrame) -> ClusterComparison:
    """Crosstab of clusters against level-1 themes, with the adjusted Rand index and NMI.

    Only tasks with a theme code are compared (the number left out is logged).
    """
    themes = select_tasks(tasks)[["task_id", "theme"]]
    joined = clusters[["task_id", "cluster"]].merge(themes, on="task_id", how="left", validate="one_to_one")
    coded = joined["theme"].astype("string").fillna("").str.strip()
    if (coded == "").any():
        log.info("clusters_vs_taxonomy: %d task(s) without a theme left out", int((coded == "").sum()))
    joined = joined[coded != ""].assign(theme=coded[coded != ""])
    present = set(joined["theme"])
    columns = [c for c in LEVEL1_CODES if c in present] + sorted(present - set(LEVEL1_CODES) - {UNCODED})
    crosstab = pd.crosstab(joined["cluster"], joined["theme"]).reindex(columns=columns, fill_value=0)
    crosstab.index.name, crosstab.columns.name = "cluster", "theme"
    if len(joined) < 2:
        return ClusterComparison(crosstab, float("nan"), float("nan"), len(joined))
    return ClusterComparison(
        crosstab,
        float(adjusted_rand_score(joined["theme"], joined["cluster"])),
        float(normalized_mutual_info_score(joined["theme"], joined["cluster"])),
        len(joined),
    )
