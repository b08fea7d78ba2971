"""Checkers of notebook 07's exercises (bi-encoder vs cross-encoder)."""
from __future__ import annotations

from typing import Any

from .registry import checker, increasing


@checker("07.1", "(MRR of the bi-encoder, of the reranker, of the 50/50 combination) on the same queries")
def _ex_07_1(answer: Any) -> tuple[bool, str]:
    bi, cross, both = (float(x) for x in answer)
    if not all(0 <= x <= 1 for x in (bi, cross, both)):
        return False, "an MRR lies between 0 and 1."
    if both < 0.5 * min(bi, cross):
        return False, "the combination is far below both: sort by the combined score in descending order."
    verdict = "beats both" if both > max(bi, cross) else "does not beat both"
    return True, f"the combination {verdict} here; with intervals (notebook 08) decide whether the difference is real."


@checker("07.2", "(STS-B test Spearman of the one-epoch cross-encoder, of the three-epoch one)")
def _ex_07_2(answer: Any) -> tuple[bool, str]:
    return increasing(answer, "three epochs should raise the STS-B Spearman: did force=True retrain, and did you reload the model?",
                       "+{gain:.3f} Spearman; now compare it with the bi-encoder on STS-B and on retrieval.")
