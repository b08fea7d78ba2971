"""STS evaluation: correlations with gold scores, with bootstrap uncertainty.

``evaluate_sts`` is our own, readable scipy version; notebook 08 shows it agrees with
sentence-transformers' ``EmbeddingSimilarityEvaluator``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy.stats import bootstrap, pearsonr, rankdata, spearmanr

from .text.similarity import paired_cosine


@dataclass(frozen=True)
class STSResult:
    """Pearson and Spearman correlation of predicted similarities with gold scores."""

    pearson: float
    spearman: float
    n: int

    def __str__(self) -> str:
        return f"Spearman {self.spearman:.4f}, Pearson {self.pearson:.4f} (n={self.n})"


def correlations(predicted: Sequence[float], gold: Sequence[float]) -> STSResult:
    """Pearson and Spearman between predicted similarities and gold scores."""
    p, g = np.asarray(predicted, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    if p.shape != g.shape or p.ndim != 1:
        raise ValueError(f"predicted and gold must be 1-D and equally long: {p.shape} vs {g.shape}")
    if len(p) < 3:
        raise ValueError("need at least 3 pairs to correlate")
    return STSResult(float(pearsonr(p, g).statistic), float(spearmanr(p, g).statistic), len(p))


def pair_cosines(model: Any, pairs: pd.DataFrame, batch_size: int = 64) -> np.ndarray:
    """Cosine of each (sentence1, sentence2) row, encoding every distinct sentence once.

    ``model`` is anything with ``encode(texts, batch_size=...)``: a SentenceTransformer, an
    ONNX encoder, or an embedding cache (``semsim.models.cache.cached_encoder``) that encodes only
    the sentences it has not stored before.
    """
    texts = pd.unique(pd.concat([pairs["sentence1"], pairs["sentence2"]])).tolist()
    vecs = np.asarray(model.encode(texts, batch_size=batch_size))
    where = {t: i for i, t in enumerate(texts)}
    a = vecs[[where[t] for t in pairs["sentence1"]]]
    b = vecs[[where[t] for t in pairs["sentence2"]]]
    return np.asarray(paired_cosine(a, b))


def evaluate_sts(model: Any, pairs: pd.DataFrame, batch_size: int = 64) -> STSResult:
    """Correlate a model's cosine similarities with the gold ``score`` column."""
    return correlations(pair_cosines(model, pairs, batch_size), pairs["score"].to_numpy())


def _correlation_along_last_axis(p: np.ndarray, g: np.ndarray, metric: str) -> np.ndarray:
    """Pearson or Spearman of each row pair at once (scipy.stats.bootstrap passes a batch of resamples)."""
    if metric == "spearman":
        p, g = rankdata(p, axis=-1), rankdata(g, axis=-1)      # average ranks for ties, as spearmanr
    elif metric != "pearson":
        raise ValueError(f"metric must be 'pearson' or 'spearman', not {metric!r}")
    p = p - p.mean(axis=-1, keepdims=True)
    g = g - g.mean(axis=-1, keepdims=True)
    return (p * g).sum(axis=-1) / np.sqrt((p * p).sum(axis=-1) * (g * g).sum(axis=-1))


def bootstrap_ci(predicted: Sequence[float], gold: Sequence[float], metric: str = "spearman",
                 n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of a correlation, pairs resampled (scipy.stats.bootstrap)."""
    p, g = np.asarray(predicted, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    res = bootstrap((p, g), lambda a, b, axis=-1: _correlation_along_last_axis(a, b, metric), paired=True,
                    vectorized=True, batch=200, n_resamples=n_boot, confidence_level=level, method="percentile",
                    rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def paired_bootstrap_diff(pred_a: Sequence[float], pred_b: Sequence[float], gold: Sequence[float],
                          metric: str = "spearman", n_boot: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """Difference of a correlation between two systems on the same pairs: (diff, lo, hi) at 95 %.

    Each resample draws the same pairs for both systems (scipy.stats.bootstrap, paired).
    """
    a, b, g = (np.asarray(x, dtype=np.float64) for x in (pred_a, pred_b, gold))

    def diff(x: np.ndarray, y: np.ndarray, z: np.ndarray, axis: int = -1) -> np.ndarray:
        return _correlation_along_last_axis(x, z, metric) - _correlation_along_last_axis(y, z, metric)

    res = bootstrap((a, b, g), diff, paired=True, vectorized=True, batch=200, n_resamples=n_boot,
                    method="percentile", rng=np.random.default_rng(seed))
    return float(diff(a, b, g)), float(res.confidence_interval.low), float(res.confidence_interval.high)


def dense_ranking(query_vectors: np.ndarray, doc_vectors: np.ndarray, doc_ids: Sequence[str],
                  k: int = 100) -> list[list[str]]:
    """Per query, the ids of the k documents with the highest inner product (the cosine, for unit
    vectors), best first; ties keep the documents' order."""
    scores = np.asarray(query_vectors, dtype=np.float32) @ np.asarray(doc_vectors, dtype=np.float32).T
    return [[doc_ids[j] for j in row] for row in np.argsort(-scores, axis=1, kind="stable")[:, :k]]


def retrieval_scores(query_vectors: np.ndarray, doc_vectors: np.ndarray, doc_ids: Sequence[str],
                     relevant: Sequence[set[str]], k: int = 10) -> dict[str, float]:
    """MTEB-style retrieval metrics from normalised vectors (means over queries).

    ``relevant[i]`` is the set of doc ids that answer query ``i``. Returns ndcg@k (binary
    relevance, MTEB's main retrieval metric), mrr@k and accuracy@1.
    """
    q, d = np.asarray(query_vectors, dtype=np.float32), np.asarray(doc_vectors, dtype=np.float32)
    if len(q) != len(relevant) or len(d) != len(doc_ids):
        raise ValueError(f"{len(q)} queries vs {len(relevant)} relevance sets, {len(d)} docs vs {len(doc_ids)} ids")
    if not all(relevant):
        raise ValueError("every query needs at least one relevant document")
    if len(set(doc_ids)) != len(doc_ids):
        raise ValueError("doc ids must be unique (give each text its own id and list all relevant ones)")
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ndcg, mrr, acc1 = [], [], []
    for ranked, rel in zip(dense_ranking(q, d, doc_ids, k), relevant):
        gains = np.array([doc_id in rel for doc_id in ranked], dtype=float)
        ideal = discount[: min(len(rel), k)].sum()
        ndcg.append(float(gains @ discount[: len(gains)]) / ideal)
        hit = np.flatnonzero(gains)
        mrr.append(1.0 / (hit[0] + 1) if hit.size else 0.0)
        acc1.append(gains[0])
    return {f"ndcg@{k}": float(np.mean(ndcg)), f"mrr@{k}": float(np.mean(mrr)), "accuracy@1": float(np.mean(acc1))}


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's true top-k (rows of ``truth``) that appear in its row of ``found``.

    The measure FAISS's own benchmarks call the k-NN intersection
    (``faiss.contrib.evaluation.knn_intersection_measure``; a test checks they agree).
    Written out here because notebook 05 teaches it. -1 entries (no result) never count.
    """
    found, truth = np.asarray(found), np.asarray(truth)
    if found.ndim != 2 or truth.ndim != 2 or len(found) != len(truth):
        raise ValueError(f"found and truth must be matrices with one row per query: {found.shape} vs {truth.shape}")
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k].tolist()) & set(t.tolist()) - {-1}) / k for f, t in zip(found, truth)]))


def mean_ci(values: Sequence[float], n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean of per-query scores with a percentile bootstrap interval: (mean, lo, hi)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) < 2:
        raise ValueError(f"need a 1-D array of at least 2 scores, got shape {v.shape}")
    res = bootstrap((v,), np.mean, vectorized=True, n_resamples=n_boot, confidence_level=level,
                    method="percentile", rng=np.random.default_rng(seed))
    return float(v.mean()), float(res.confidence_interval.low), float(res.confidence_interval.high)


def paired_mean_diff(a: Sequence[float], b: Sequence[float], n_boot: int = 1000, level: float = 0.95,
                     seed: int = 0) -> tuple[float, float, float]:
    """Mean of a − b over the same queries, with a paired bootstrap interval: (diff, lo, hi).

    Each resample draws the same queries for both systems, so what the two share (easy and hard
    queries) cancels and the interval is that of the difference alone."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"a and b must score the same queries: {x.shape} vs {y.shape}")
    return mean_ci(x - y, n_boot=n_boot, level=level, seed=seed)


RANK_MEASURES = {"ndcg@10": "ndcg_cut_10", "recall@100": "recall_100"}


def rank_metrics(run: dict[str, Sequence[str]], relevant: dict[str, set[str]], k: int = 10) -> pd.DataFrame:
    """Per-query retrieval scores of ranked result lists, computed by pytrec_eval (trec_eval's code).

    ``run[query_id]`` is that query's ranked list of doc ids (best first); ``relevant[query_id]``
    the ids that answer it. Returns one row per query of ``relevant`` (in its order) with
    ndcg@10, mrr@``k`` (reciprocal rank of the first relevant id in the top ``k``, else 0),
    recall@100 and hit@1. A query missing from ``run`` scores 0 everywhere, as trec_eval's
    ``-c`` option does; a run query with no relevance judgement is an error.
    """
    import pytrec_eval   # imported here: only the retrieval lessons need it

    unknown = set(run) - set(relevant)
    if unknown:
        raise ValueError(f"{len(unknown)} run queries have no relevant documents, e.g. {sorted(unknown)[:3]}")
    if not all(relevant.values()):
        raise ValueError("every query needs at least one relevant document")
    qrels = {q: {d: 1 for d in docs} for q, docs in relevant.items()}
    ranked = {q: list(dict.fromkeys(run.get(q, []))) for q in relevant}     # first occurrence of an id counts

    def as_scores(ids: list[str]) -> dict[str, float]:
        """trec_eval orders by score, so give strictly decreasing scores in list order."""
        return {d: float(len(ids) - i) for i, d in enumerate(ids)}

    full = pytrec_eval.RelevanceEvaluator(qrels, set(RANK_MEASURES.values())).evaluate(
        {q: as_scores(ids) for q, ids in ranked.items() if ids})
    cut = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(
        {q: as_scores(ids[:k]) for q, ids in ranked.items() if ids})
    rows = []
    for q in relevant:
        got = full.get(q, {})
        rows.append({"query_id": q, **{name: got.get(m, 0.0) for name, m in RANK_MEASURES.items()},
                     f"mrr@{k}": cut.get(q, {}).get("recip_rank", 0.0),
                     "hit@1": float(bool(ranked[q]) and ranked[q][0] in relevant[q])})
    return pd.DataFrame(rows).set_index("query_id")
