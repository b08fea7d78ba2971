"""Checkers of notebook 07's exercises (bi-encoder vs cross-encoder)."""
from __future__ import annotations

from typing import Any

from .registry import checker


@checker("07.1", "(MRR of the bi-encoder, of the reranker, of the 50/50 combination) on the same queries")
def _ex_07_1(answer: Any) -> tuple[bool, str]:
    bi, cross, both = (float(x) for x in answer)
    if not all(0 <= x <= 1 for x in (bi, cross, both)):
        return False, "an MRR lies between 0 and 1."
    if both < 0.5 * min(bi, cross):
        return False, "the combination is far below both: sort by the combined score in descending order."
    verdict = "beats both" if both > max(bi, cross) else "does not beat both"
    return True, f"the combination {verdict} here; with intervals (notebook 08) decide whether the difference is real."


@checker("07.2", "(low, high): the 95% paired bootstrap interval of the three-epoch minus the one-epoch cross-encoder's "
                 "STS-B test Spearman, from paired_bootstrap_diff (its (difference, low, high) is accepted too)")
def _ex_07_2(answer: Any) -> tuple[bool, str]:
    try:
        values = [float(x) for x in answer]
    except (TypeError, ValueError):
        return False, "give the interval's two ends, (lo, hi), as paired_bootstrap_diff returns them."
    if len(values) == 3:
        diff, lo, hi = values
        if not lo <= diff <= hi:
            return False, "the difference lies inside its own percentile interval: pass (d, lo, hi) in that order."
    elif len(values) == 2:
        lo, hi = values
    else:
        return False, "give the interval's two ends, (lo, hi)."
    if not all(-2 <= x <= 2 for x in (lo, hi)):
        return False, "a difference of two Spearman correlations lies between -2 and 2."
    if lo > hi:
        return False, "the low end comes first: (lo, hi)."
    if lo == hi == 0:
        return False, "the two score lists are identical: did force=True retrain, and did you reload with load_reranker()?"
    if lo > 0:
        verdict = "the whole interval is above zero: three epochs measurably raised the STS-B Spearman here"
    elif hi < 0:
        verdict = "the whole interval is below zero: three epochs measurably lowered the STS-B Spearman here"
    else:
        verdict = "the interval contains zero: on this test the two models cannot be told apart"
    return True, f"{verdict}. Now compare the new model with the bi-encoder on STS-B and on retrieval."
