"""Checkers of notebook 08's exercises (evaluation on STS-B)."""
from __future__ import annotations

from typing import Any

from .registry import checker, positive_difference


@checker("08.1", "(diff, lo, hi) from paired_bootstrap_diff(mpnet cosines, MiniLM cosines, gold)")
def _ex_08_1(answer: Any) -> tuple[bool, str]:
    return positive_difference(
        answer, "mpnet should score higher than MiniLM on STS-B test: mpnet's cosines first, MiniLM's second.",
        "mpnet ahead by {diff:.3f}; the interval excludes 0: the difference is real.",
        "mpnet ahead by {diff:.3f}; the interval includes 0: not separable on these pairs.")


@checker("08.2", "(Pearson before, Pearson after, Spearman before, Spearman after) on the test split")
def _ex_08_2(answer: Any) -> tuple[bool, str]:
    p0, p1, s0, s1 = (float(x) for x in answer)
    if p1 <= p0:
        return False, "the isotonic map should raise Pearson on test: fit on validation cosines, apply to test cosines."
    if abs(s1 - s0) > 0.01:
        return False, "Spearman should barely move (a monotonic map only ties ranks): apply the fitted map, do not refit on test."
    return True, f"Pearson {p0:.3f} -> {p1:.3f}, Spearman {s0:.3f} -> {s1:.3f}: calibration changes scale, not order."
