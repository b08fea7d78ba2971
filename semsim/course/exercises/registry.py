"""The registry every exercise checker joins, and the small helpers the checkers share."""
from __future__ import annotations

from typing import Any, Callable

Checker = Callable[[Any], tuple[bool, str]]
CHECKS: dict[str, tuple[str, Checker]] = {}


def checker(exercise: str, asks: str) -> Callable[[Checker], Checker]:
    """Register a function as the checker of ``exercise`` ("NN.k"); ``asks``: what the answer should be."""
    def register(fn: Checker) -> Checker:
        CHECKS[exercise] = (asks, fn)
        return fn
    return register


def close(value: Any, target: float, tol: float) -> bool:
    """True if ``value`` is a number within ``tol`` of ``target``."""
    try:
        return abs(float(value) - target) <= tol
    except (TypeError, ValueError):
        return False


def increasing(answer: Any, wrong: str, right: str) -> tuple[bool, str]:
    """Right when the second of two numbers is larger; ``right`` may use {low}, {high}, {gain}."""
    low, high = (float(x) for x in answer)
    if high <= low:
        return False, wrong
    return True, right.format(low=low, high=high, gain=high - low)


def positive_difference(answer: Any, not_positive: str, real: str, unclear: str) -> tuple[bool, str]:
    """Right when ``answer`` is (difference, lo, hi) of a paired bootstrap, in that order, with a
    positive difference; the message is ``real`` if the interval excludes zero, else ``unclear``
    (both may use {diff}, {lo}, {hi})."""
    diff, lo, hi = (float(x) for x in answer)
    if not lo <= diff <= hi:
        return False, "the difference should lie inside its own interval: pass (diff, lo, hi) in that order."
    if diff <= 0:
        return False, not_positive
    return True, (real if lo > 0 else unclear).format(diff=diff, lo=lo, hi=hi)
