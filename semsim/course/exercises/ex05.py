"""Checkers of notebook 05's exercises (semantic search with FAISS)."""
from __future__ import annotations

from typing import Any

from .registry import checker


@checker("05.1", "the engine (or index) holding the whole corpus")
def _ex_05_1(answer: Any) -> tuple[bool, str]:
    from ...data import load_corpus

    expected = len(load_corpus())
    if len(answer) != expected:
        return False, f"it holds {len(answer)} documents, the corpus has {expected}: index all of load_corpus()."
    return True, f"all {expected} sentences indexed; now compare the four queries' results with the 4,000-sentence ones."


@checker("05.2", "(build seconds, recall@10 at nprobe=4) of IVF with nlist=256 on the corpus-shaped vectors, "
                 "then on uniformly random unit vectors, as two pairs")
def _ex_05_2(answer: Any) -> tuple[bool, str]:
    (build_shaped, recall_shaped), (build_random, recall_random) = ((float(a), float(b)) for a, b in answer)
    if not (0.0 <= recall_shaped <= 1.0 and 0.0 <= recall_random <= 1.0):
        return False, "recall@10 is a share of the true top 10, between 0 and 1: pass recall_at_k(found, truth)."
    if recall_random >= recall_shaped:
        return False, ("random directions form no clusters, so the lists nearest a query should hold fewer of its true "
                       "neighbours: same nlist and nprobe for both, and the truth from exact search over the random vectors?")
    return True, (f"recall@10 at nprobe=4: {recall_shaped:.3f} on corpus-shaped vectors, {recall_random:.3f} on random ones "
                  f"(built in {build_shaped:.1f} s and {build_random:.1f} s): IVF works because embeddings cluster.")


@checker("05.3", "((bytes, best recall) with pq_m=48, (bytes, best recall) with pq_m=96)")
def _ex_05_3(answer: Any) -> tuple[bool, str]:
    (size_48, recall_48), (size_96, recall_96) = ((float(a), float(b)) for a, b in answer)
    if size_96 <= size_48:
        return False, "96 sub-quantisers store 96 codes per vector instead of 48: the index should grow."
    if recall_96 < recall_48 - 0.01:
        return False, "finer codes should not lose recall: compare the best recall of each sweep, at the same nprobe values."
    return True, f"{size_96 / size_48:.1f}x the size for recall {recall_48:.3f} -> {recall_96:.3f}: PQ trades memory for accuracy."
