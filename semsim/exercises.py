"""Check your answer to an exercise: ``check("01.1", answer)`` prints whether it is right.

Each checker knows what a right answer looks like (a number within a tolerance, a
relation that must hold) and says what to look at when it is not. Exercises whose answer
is an explanation rather than a value have no checker: their folded solution is the check.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

Checker = Callable[[Any], tuple[bool, str]]
_CHECKS: dict[str, tuple[str, Checker]] = {}


def _checker(exercise: str, asks: str) -> Callable[[Checker], Checker]:
    def register(fn: Checker) -> Checker:
        _CHECKS[exercise] = (asks, fn)
        return fn
    return register


def _close(value: Any, target: float, tol: float) -> bool:
    try:
        return abs(float(value) - target) <= tol
    except (TypeError, ValueError):
        return False


@_checker("01.1", "(cosine, euclidean, pearson) of x = [1, 0, 0, 0] and y = [0, 1, 0, 0]")
def _ex_01_1(answer: Any) -> tuple[bool, str]:
    cos, l2, r = answer
    if not _close(cos, 0.0, 1e-6):
        return False, "cosine: the vectors are orthogonal, so their dot product is 0."
    if not _close(l2, math.sqrt(2), 1e-3):
        return False, "Euclidean distance: sqrt((1-0)^2 + (0-1)^2) = sqrt(2)."
    if not _close(r, -1 / 3, 1e-3):
        return False, "Pearson: subtract each vector's mean (0.25) first, then take the cosine."
    return True, "cosine 0, distance sqrt(2), Pearson -1/3."


@_checker("01.2", "(jaccard, cosine) of your two sentences: Jaccard 0 and MiniLM cosine above 0.6")
def _ex_01_2(answer: Any) -> tuple[bool, str]:
    jac, cos = answer
    if not _close(jac, 0.0, 1e-9):
        return False, f"Jaccard is {float(jac):.2f}: small words such as 'a' and 'with' count as shared words too."
    if float(cos) <= 0.6:
        return False, f"cosine {float(cos):.2f}: keep the meaning closer (same event, other words)."
    return True, "no shared word, and the model still sees the same meaning."


@_checker("02.1", "the 7 Spearman values of mean pooling at layers 0..6 of MiniLM")
def _ex_02_1(answer: Any) -> tuple[bool, str]:
    rho = np.asarray(answer, dtype=float)
    if rho.shape != (7,):
        return False, f"expected 7 values (layers 0 to 6), got shape {rho.shape}."
    if int(np.argmax(rho)) < 5:
        return False, "the best layer should be one of the last two: check that you pool layer l for both sides."
    return True, f"best at layer {int(np.argmax(rho))}: training shaped the last layer's mean."


@_checker("02.2", "(Spearman, random-pair mean cosine) of the centred [CLS] vectors")
def _ex_02_2(answer: Any) -> tuple[bool, str]:
    spearman, random_mean = (float(x) for x in answer)
    if abs(random_mean) > 0.05:
        return False, f"the random-pair mean is {random_mean:.3f}: subtract the mean of *all* [CLS] vectors from both sides."
    if not 0 < spearman < 1:
        return False, "the Spearman correlation must lie between 0 and 1 here."
    return True, "centring removed the cone (random pairs near 0); compare the Spearman with the uncentred one."


@_checker("05.2", "(build seconds, recall@10 at nprobe=4) for nlist=256 and for nlist=1024, as two pairs")
def _ex_05_2(answer: Any) -> tuple[bool, str]:
    (build_256, recall_256), (build_1024, recall_1024) = answer
    if recall_1024 >= recall_256:
        return False, "with 4x more lists, nprobe=4 visits fewer candidates: recall should drop. Same nprobe for both?"
    return True, "more, smaller lists: each probe sees fewer vectors, so recall drops at the same nprobe."


@_checker("06.1", "recall on the test half at the threshold chosen with min_precision=1.0, and at the default one")
def _ex_06_1(answer: Any) -> tuple[bool, str]:
    strict, default = (float(x) for x in answer)
    if strict > default:
        return False, "a stricter threshold cannot answer more in-scope questions: check which threshold each came from."
    return True, "fewer wrong answers cost recall: the threshold is a business decision, made with these numbers."


@_checker("10.4", "recall@10 of the Milvus store built with index='FLAT'")
def _ex_10_4(answer: Any) -> tuple[bool, str]:
    if not _close(answer, 1.0, 0.011):
        return False, f"recall {float(answer):.3f}: a FLAT collection is exact; did you rebuild the store and re-add?"
    return True, "exact search finds the exact top 10 (up to ties)."


def exercises() -> dict[str, str]:
    """The exercises that have a checker, and what each expects as its answer."""
    return {name: asks for name, (asks, _) in sorted(_CHECKS.items())}


def check(exercise: str, answer: Any, quiet: bool = False) -> bool:
    """Check an answer; prints a verdict (unless ``quiet``) and returns True when it is right."""
    if exercise not in _CHECKS:
        raise KeyError(f"no checker for exercise {exercise!r}; checkers exist for {sorted(_CHECKS)}")
    asks, fn = _CHECKS[exercise]
    try:
        ok, why = fn(answer)
    except (TypeError, ValueError) as e:
        ok, why = False, f"the answer should be {asks} ({type(e).__name__}: {e})"
    if not quiet:
        print(("✔ right: " if ok else "✘ not yet: ") + why)
    return ok
