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
    return True, f"all {expected} sentences indexed; now compare the three queries' results with the 4,000-sentence ones."


@checker("05.2", "(build seconds, recall@10 at nprobe=4) for nlist=256 and for nlist=1024, as two pairs")
def _ex_05_2(answer: Any) -> tuple[bool, str]:
    (build_256, recall_256), (build_1024, recall_1024) = answer
    if recall_1024 >= recall_256:
        return False, "with 4x more lists, nprobe=4 visits fewer candidates: recall should drop. Same nprobe for both?"
    return True, "more, smaller lists: each probe sees fewer vectors, so recall drops at the same nprobe."


@checker("05.3", "((bytes, best recall) with pq_m=48, (bytes, best recall) with pq_m=96)")
def _ex_05_3(answer: Any) -> tuple[bool, str]:
    (size_48, recall_48), (size_96, recall_96) = ((float(a), float(b)) for a, b in answer)
    if size_96 <= size_48:
        return False, "96 sub-quantisers store 96 codes per vector instead of 48: the index should grow."
    if recall_96 < recall_48 - 0.01:
        return False, "finer codes should not lose recall: compare the best recall of each sweep, at the same nprobe values."
    return True, f"{size_96 / size_48:.1f}x the size for recall {recall_48:.3f} -> {recall_96:.3f}: PQ trades memory for accuracy."
