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
