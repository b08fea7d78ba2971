"""Retrieve with a bi-encoder, rerank with a cross-encoder (taught in notebook 07).

A cross-encoder reads query and candidate *together*, so it scores a pair more precisely
than two independent embeddings can, at the cost of one transformer pass per pair.
:func:`rerank` re-scores the hits of any store with any object that has
sentence-transformers' ``CrossEncoder.predict``; notebook 07's cross-encoder comes from
:func:`semsim.training.cross_encoder.load_reranker`.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .vectors import Hit, check_k, check_query


def rerank(cross_encoder: Any, query: str, hits: Sequence[Hit], top_k: int | None = None,
           batch_size: int = 32) -> list[Hit]:
    """Re-score bi-encoder hits with a cross-encoder; best first (scores are the cross-encoder's).

    ``top_k``: how many to return (None: all of them; otherwise a positive integer, as ``k``
    everywhere in semsim). The hits keep their ids, texts and metadata.
    """
    check_query(query)
    keep = len(hits) if top_k is None else check_k(top_k, "top_k")
    if not hits:
        return []
    texts = [h.text for h in hits]
    if any(t is None for t in texts):
        raise ValueError("reranking needs the hits' texts; add texts to the index")
    scores = np.asarray(cross_encoder.predict([(query, t) for t in texts], batch_size=batch_size, show_progress_bar=False))
    order = np.argsort(-scores, kind="stable")[:keep]
    return [Hit(hits[i].id, float(scores[i]), hits[i].text, hits[i].metadata) for i in order]
