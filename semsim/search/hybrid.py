"""Hybrid retrieval: fuse the rankings of several retrievers (e.g. BM25 and a dense model).

Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009) scores each document by
the sum of 1 / (k + rank) over the rankings that contain it. It needs no score calibration
between retrievers (BM25 scores and cosines live on different scales), which is why it is
the usual first choice. Notebook 07 writes it out before using this function.
"""
from __future__ import annotations

from typing import Hashable, Sequence, TypeVar

Id = TypeVar("Id", bound=Hashable)


def rrf_scores(rankings: Sequence[Sequence[Id]], k: int = 60) -> dict[Id, float]:
    """Each id's fused score, the sum of 1 / (k + rank) over the rankings (ranks start at 1), best
    first; ties keep the order in which ids were first met (the first ranking's order first). A
    repeated id within one ranking counts once, at its best rank."""
    if k < 0:
        raise ValueError(f"k must be >= 0, not {k}")
    if isinstance(rankings, (str, bytes)) or any(isinstance(r, (str, bytes)) for r in rankings):
        raise TypeError("rankings must be a sequence of id sequences, not a string")
    score: dict[Id, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(dict.fromkeys(ranking), start=1):
            score[doc] = score.get(doc, 0.0) + 1.0 / (k + rank)
    best_first = sorted(score, key=score.__getitem__, reverse=True)   # sorted() is stable: ties keep first-met order
    return {doc: score[doc] for doc in best_first}


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Id]], k: int = 60,
                           limit: int | None = None) -> list[Id]:
    """One ranking from several (each best first): ids ordered by the sum of 1 / (k + rank).

    Ranks start at 1. ``k`` = 60 is the value of the original paper. Ties keep the order in
    which ids were first met (the first ranking's order first). A repeated id within one
    ranking counts once, at its best rank. ``limit`` keeps the first ``limit`` ids.
    """
    fused = list(rrf_scores(rankings, k))
    return fused if limit is None else fused[:limit]
